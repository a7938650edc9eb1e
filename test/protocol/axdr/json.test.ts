import fc from 'fast-check';
import type { Data } from '../../../protocol/axdr/data';
import { dataFromJson, dataToJson, parseDataJson } from '../../../protocol/axdr/json';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { arbData } from '../../helpers/arbitraries';

describe('Data JSON notation', () => {
  it('reads the documented forms', () => {
    expect(parseDataJson('{"uint16": 5}')).toEqual({ type: 'uint16', value: 5 });
    expect(parseDataJson('{"octet-string": "0000010000FF"}')).toMatchObject({ type: 'octet-string' });
    expect(parseDataJson('{"structure": [{"int8": -1}, {"enum": 30}]}')).toEqual({
      type: 'structure',
      items: [
        { type: 'int8', value: -1 },
        { type: 'enum', value: 30 },
      ],
    });
    expect(parseDataJson('{"int64": "-9007199254740993"}')).toEqual({ type: 'int64', value: -9007199254740993n });
    expect(parseDataJson('7')).toEqual({ type: 'uint8', value: 7 });
    expect(parseDataJson('true')).toEqual({ type: 'boolean', value: true });
  });

  it('writes non-finite floats as strings, since JSON numbers cannot hold them', () => {
    expect(dataToJson({ type: 'float64', value: Number.POSITIVE_INFINITY })).toEqual({ float64: 'Infinity' });
    expect(parseDataJson('{"float32": "-Infinity"}')).toEqual({ type: 'float32', value: Number.NEGATIVE_INFINITY });
    expect(parseDataJson('{"float64": "NaN"}')).toEqual({ type: 'float64', value: NaN });
  });

  it('reads an ISO date-time with offset as a Blue-Book deviation', () => {
    const d = parseDataJson('{"date-time": "2026-11-23T10:30:00+01:00"}');
    expect(d).toEqual({
      type: 'date-time',
      value: { year: 2026, month: 11, day: 23, dayOfWeek: 1, hour: 10, minute: 30, second: 0, hundredths: 0, deviation: -60, clockStatus: 0 },
    });
    expect(dataToJson(d)).toEqual({ 'date-time': '2026-11-23T10:30:00+01:00' });
  });

  it.each(['{"uint8": 300}', '{"nope": 1}', '{"a":1,"b":2}', 'not json', '{"octet-string": "XYZ"}', '{"bit-string": "102"}', '"text"'])(
    'rejects %s with a typed InvalidValue error',
    (text) => {
      try {
        parseDataJson(text);
        throw new Error('parsed');
      } catch (e) {
        expect(e).toBeInstanceOf(DcuError);
        expect((e as DcuError).code).toBe(ErrorCode.InvalidValue);
      }
    },
  );

  it('property: dataFromJson(dataToJson(x)) = x (JSON text in between)', () => {
    const noCompact = arbData.filter(function noCompactArray(d: Data): boolean {
      return d.type === 'compact-array' ? false : d.type === 'array' || d.type === 'structure' ? d.items.every(noCompactArray) : true;
    });
    fc.assert(
      fc.property(noCompact, (d) => {
        const text = JSON.stringify(dataToJson(d));
        const back = dataFromJson(JSON.parse(text));
        // float -0 and date-time text may normalise; compare via their JSON forms
        expect(JSON.stringify(dataToJson(back))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});
