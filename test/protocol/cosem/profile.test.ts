import fc from 'fast-check';
import { decodeData, encodeData } from '../../../protocol/axdr/codec';
import type { Data } from '../../../protocol/axdr/data';
import { array, nullData, octets, structure, uint16, uint32, uint8, int64 } from '../../../protocol/axdr/data';
import { encodeDateTimeOctets, epochToDateTime } from '../../../protocol/axdr/datetime';
import { DcuError, ErrorCode, isDcuError } from '../../../protocol/common/errors';
import { bytesEqual } from '../../../protocol/common/hex';
import { captureKey, decodeCaptureObjects, encodeCaptureObjects } from '../../../protocol/cosem/capture-object';
import type { CaptureObject } from '../../../protocol/cosem/capture-object';
import { parseObis } from '../../../protocol/cosem/obis';
import { decodeProfileBuffer, nullRegularClocks } from '../../../protocol/cosem/profile';
import { decodeScalerUnit, Unit } from '../../../protocol/cosem/units';
import { arbData } from '../../helpers/arbitraries';
import { getResponseData } from './trace';

const [, , captureBytes, bufferBytes] = getResponseData('ln-hdlc-lls-clock-profile.log');
if (captureBytes === undefined || bufferBytes === undefined) throw new Error('LLS trace lacks the profile responses');

const CLOCK: CaptureObject = { classId: 8, obis: parseObis('0.0.1.0.0.255'), attributeIndex: 2, dataIndex: 0 };
const ENERGY: CaptureObject = { classId: 3, obis: parseObis('1.0.1.8.0.255'), attributeIndex: 2, dataIndex: 0 };
const STATUS: CaptureObject = { classId: 1, obis: parseObis('0.0.96.10.1.255'), attributeIndex: 2, dataIndex: 0 };

const T0 = Date.UTC(2026, 10, 23, 14, 0, 0);
const clockCell = (ms: number): Data => octets(encodeDateTimeOctets(epochToDateTime(ms, { hundredths: false })));

describe('load profile from the ln-hdlc-lls-clock-profile trace', () => {
  const captureObjects = decodeCaptureObjects(decodeData(captureBytes));

  it('decodes the capture objects (clock, register 1.1.21.25.0.255) and re-encodes them', () => {
    expect(captureObjects).toEqual([
      { classId: 8, obis: [0, 0, 1, 0, 0, 255], attributeIndex: 2, dataIndex: 0 },
      { classId: 3, obis: [1, 1, 21, 25, 0, 255], attributeIndex: 2, dataIndex: 0 },
    ]);
    expect(bytesEqual(encodeData(encodeCaptureObjects(captureObjects)), captureBytes)).toBe(true);
  });

  it('decodes the five buffer rows with timestamps and values', () => {
    const rows = decodeProfileBuffer(decodeData(bufferBytes), captureObjects);
    expect(rows.map((r) => [r.entry, new Date(r.timestamp ?? 0).toISOString(), r.rebuilt, r.cells[1]?.value])).toEqual([
      [1, '2026-11-23T14:34:10.000Z', false, 26],
      [2, '2026-11-23T14:34:20.000Z', false, 68],
      [3, '2026-11-23T14:34:30.000Z', false, 110],
      [4, '2026-11-23T14:34:40.000Z', false, 152],
      [5, '2026-11-23T14:34:50.000Z', false, 197],
    ]);
    expect(rows[0]?.cells[1]?.raw).toEqual(uint16(26));
  });

  it('scales with the register scaler_unit', () => {
    const scalers = { [captureKey(captureObjects[1] as CaptureObject)]: { scaler: -1, unit: Unit.V } };
    const rows = decodeProfileBuffer(decodeData(bufferBytes), captureObjects, { scalers });
    expect(rows[0]?.cells[1]).toMatchObject({ value: 2.6, decimal: '2.6', unit: 35, unitSymbol: 'V' });
    expect(rows[0]?.cells[0]?.value).toBeUndefined();
  });
});

describe('decodeProfileBuffer', () => {
  const cols = [CLOCK, STATUS, ENERGY];

  it('rebuilds null clock cells from the previous timestamp + capture_period', () => {
    const buffer = array([
      structure(clockCell(T0), uint8(0), uint32(1000)),
      structure(nullData(), uint8(0x80), uint32(1010)),
      structure(nullData(), uint8(0), uint32(1025)),
      structure(clockCell(T0 + 3600_000), uint8(0), uint32(1100)),
      structure(nullData(), uint8(0), uint32(1111)),
    ]);
    const rows = decodeProfileBuffer(buffer, cols, { capturePeriod: 900, scalers: new Map([[captureKey(ENERGY), { scaler: 0, unit: Unit.Wh }]]) });
    expect(rows.map((r) => [r.timestamp === null ? null : (r.timestamp - T0) / 60_000, r.rebuilt, r.status, r.cells[2]?.value])).toEqual([
      [0, false, 0, 1000],
      [15, true, 0x80, 1010],
      [30, true, 0, 1025],
      [60, false, 0, 1100],
      [75, true, 0, 1111],
    ]);
    expect(rows[1]?.cells[2]?.unitSymbol).toBe('Wh');
  });

  it('accepts a compact-array buffer', () => {
    const buffer: Data = {
      type: 'compact-array',
      element: { type: 'structure', elements: [{ type: 'octet-string' }, { type: 'uint8' }, { type: 'uint32' }] },
      items: [structure(clockCell(T0), uint8(0), uint32(7))],
    };
    const again = decodeData(encodeData(buffer));
    expect(decodeProfileBuffer(again, cols).map((r) => [r.timestamp, r.cells[2]?.value])).toEqual([[T0, 7]]);
  });

  it('leaves the timestamp null when it cannot be rebuilt', () => {
    const rows = decodeProfileBuffer(array([structure(nullData(), uint8(0), uint32(1)), structure(clockCell(T0), uint8(0), uint32(2)), structure(nullData(), uint8(0), uint32(3))]), cols);
    expect(rows.map((r) => r.timestamp)).toEqual([null, T0, null]);
  });

  it('reads a date-time tag-25 clock cell and applies the deviation convention', () => {
    const dt = { ...epochToDateTime(T0, { hundredths: false }), deviation: 60 };
    const buffer = array([structure({ type: 'date-time', value: dt }, uint8(0), uint32(1))]);
    expect(decodeProfileBuffer(buffer, cols)[0]?.timestamp).toBe(T0 + 3600_000);
    expect(decodeProfileBuffer(buffer, cols, { convention: 'inverted' })[0]?.timestamp).toBe(T0 - 3600_000);
  });

  it('keeps 64-bit counters exact in the decimal form', () => {
    const rows = decodeProfileBuffer(array([structure(clockCell(T0), uint8(0), int64(9007199254740993n))]), cols, {
      scalers: { [captureKey(ENERGY)]: { scaler: -3, unit: Unit.Wh } },
    });
    expect(rows[0]?.cells[2]?.decimal).toBe('9007199254740.993');
  });

  it('names the row that has fewer columns', () => {
    const buffer = array([structure(clockCell(T0), uint8(0), uint32(1)), structure(clockCell(T0), uint32(2))]);
    let err: unknown;
    try {
      decodeProfileBuffer(buffer, cols);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DcuError);
    expect((err as DcuError).code).toBe(ErrorCode.DecodeBadValue);
    expect((err as DcuError).message).toBe('profile buffer row 2: has 2 column(s), capture_objects lists 3');
    expect((err as DcuError).context.row).toBe(2);
  });

  it('rejects a clock cell that is not a date-time, naming row and column', () => {
    expect(() => decodeProfileBuffer(array([structure(uint32(5), uint8(0), uint32(1))]), cols)).toThrow('profile buffer row 1 column 1');
    expect(() => decodeProfileBuffer(array([structure(octets(new Uint8Array(12).fill(0xff)), uint8(0), uint32(1))]), cols)).not.toThrow();
    expect(() => decodeProfileBuffer(array([uint8(1)]), cols)).toThrow(DcuError);
    expect(() => decodeProfileBuffer(uint8(1), cols)).toThrow(DcuError);
  });
});

describe('nullRegularClocks (server side)', () => {
  it('nulls clocks that follow the period, and the client rebuilds them', () => {
    const rows = [0, 15, 30, 60].map((m, i) => structure(clockCell(T0 + m * 60_000), uint8(0), uint32(i)));
    const sent = nullRegularClocks(rows, [CLOCK, STATUS, ENERGY], 900);
    expect(sent.map((r) => (r.type === 'structure' ? r.items[0]?.type : '?'))).toEqual(['octet-string', 'null', 'null', 'octet-string']);
    const decoded = decodeProfileBuffer(array(sent), [CLOCK, STATUS, ENERGY], { capturePeriod: 900 });
    expect(decoded.map((r) => ((r.timestamp ?? 0) - T0) / 60_000)).toEqual([0, 15, 30, 60]);
  });
});

describe('robustness', () => {
  it('random Data through capture objects, buffers and scaler_unit only ever fails with DcuError', () => {
    fc.assert(
      fc.property(arbData, arbData, (a, b) => {
        for (const f of [() => decodeCaptureObjects(a), () => decodeProfileBuffer(a, decodeCaptureObjectsOr(b)), () => decodeScalerUnit(a)]) {
          try {
            f();
          } catch (e) {
            expect(isDcuError(e)).toBe(true);
          }
        }
      }),
    );
  });
});

function decodeCaptureObjectsOr(d: Data): CaptureObject[] {
  try {
    return decodeCaptureObjects(d);
  } catch {
    return [CLOCK, ENERGY];
  }
}
