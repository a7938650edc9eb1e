import fc from 'fast-check';
import { decodeData, encodeData, MAX_DATA_DEPTH } from '../../../protocol/axdr/codec';
import type { Data } from '../../../protocol/axdr/data';
import { bitString, bitStringToString, octets, structure, uint16, int8, enumValue, array } from '../../../protocol/axdr/data';
import { DcuError, ErrorCode, isDcuError } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { arbCompactArray, arbData } from '../../helpers/arbitraries';

const vectors: [string, Data][] = [
  ['00', { type: 'null' }],
  ['0301', { type: 'boolean', value: true }],
  ['0F80', { type: 'int8', value: -128 }],
  ['10FFFE', { type: 'int16', value: -2 }],
  ['05FFFFFFFF', { type: 'int32', value: -1 }],
  ['0600000100', { type: 'uint32', value: 256 }],
  ['1100', { type: 'uint8', value: 0 }],
  ['12FFFF', { type: 'uint16', value: 65535 }],
  ['1603', { type: 'enum', value: 3 }],
  ['0D12', { type: 'bcd', value: 0x12 }],
  ['14FFFFFFFFFFFFFFFF', { type: 'int64', value: -1n }],
  ['15FFFFFFFFFFFFFFFF', { type: 'uint64', value: 2n ** 64n - 1n }],
  ['173FC00000', { type: 'float32', value: 1.5 }],
  ['18C002000000000000', { type: 'float64', value: -2.25 }],
  ['0906000028 0000FF'.replace(/ /g, ''), octets(fromHex('0000280000FF'))],
  ['0A054775727578', { type: 'visible-string', value: 'Gurux' }],
  ['0C02C3A9', { type: 'utf8-string', value: 'é' }],
  ['040AF280', bitString('1111001010')],
  ['1A07EA0B1701', { type: 'date', value: { year: 2026, month: 11, day: 23, dayOfWeek: 1 } }],
  ['1B0A1EFFFF', { type: 'time', value: { hour: 10, minute: 30, second: null, hundredths: null } }],
  [
    '1907EA0B17010A1E0000FFC400',
    {
      type: 'date-time',
      value: { year: 2026, month: 11, day: 23, dayOfWeek: 1, hour: 10, minute: 30, second: 0, hundredths: 0, deviation: -60, clockStatus: 0 },
    },
  ],
  [
    '19FFFFFFFFFF0A1E00FF800000',
    {
      type: 'date-time',
      value: { year: null, month: null, day: null, dayOfWeek: null, hour: 10, minute: 30, second: 0, hundredths: null, deviation: null, clockStatus: 0 },
    },
  ],
  // Object list entry from the Gurux trace: {class 15, version 0, OBIS 0.0.40.0.0.255, access rights}
  ['020312000F11000906000028 0000FF'.replace(/ /g, ''), structure(uint16(15), { type: 'uint8', value: 0 }, octets(fromHex('0000280000FF')))],
  ['0202 0F FE 16 1E'.replace(/ /g, ''), structure(int8(-2), enumValue(30))],
  ['0100', array([])],
  // compact-array of structure{uint8, int16}: 2 rows
  [
    '13 02 02 11 10 06 01 0005 02 FFFF'.replace(/ /g, ''),
    {
      type: 'compact-array',
      element: { type: 'structure', elements: [{ type: 'uint8' }, { type: 'int16' }] },
      items: [structure({ type: 'uint8', value: 1 }, { type: 'int16', value: 5 }), structure({ type: 'uint8', value: 2 }, { type: 'int16', value: -1 })],
    },
  ],
];

describe('A-XDR Data codec', () => {
  it.each(vectors)('%s decodes and re-encodes', (hex, data) => {
    expect(decodeData(fromHex(hex))).toEqual(data);
    expect(toHex(encodeData(data))).toBe(hex.toUpperCase());
  });

  it('uses multi-byte lengths for long octet strings', () => {
    const d = octets(new Uint8Array(300));
    const enc = encodeData(d);
    expect(toHex(enc.subarray(0, 4))).toBe('0982012C');
    expect(decodeData(enc)).toEqual(d);
  });

  it('bit-string text helpers round-trip', () => {
    const d = bitString('1011001110');
    expect(d.type === 'bit-string' && bitStringToString(d)).toBe('1011001110');
  });

  it.each([
    ['', ErrorCode.DecodeTruncated],
    ['07', ErrorCode.DecodeBadTag],
    ['1200', ErrorCode.DecodeTruncated],
    ['0905AABB', ErrorCode.DecodeBadLength],
    ['0101000000', ErrorCode.DecodeTrailingBytes],
    ['0185FFFFFFFFFF', ErrorCode.DecodeBadLength],
    ['01FF', ErrorCode.DecodeBadLength],
    ['1300 01 00', ErrorCode.DecodeBadValue],
  ])('rejects %s with code %i', (hex, code) => {
    try {
      decodeData(fromHex(hex.replace(/ /g, '')));
      throw new Error('decoded');
    } catch (e) {
      expect(e).toBeInstanceOf(DcuError);
      expect((e as DcuError).code).toBe(code);
    }
  });

  it('refuses absurd nesting with a typed error instead of overflowing the stack', () => {
    const hex = '0101'.repeat(MAX_DATA_DEPTH + 5) + '00';
    expect(() => decodeData(fromHex(hex))).toThrow(DcuError);
  });

  it('property: decode(encode(x)) = x for any Data', () => {
    fc.assert(fc.property(arbData, (d) => expect(decodeData(encodeData(d))).toEqual(d)), { numRuns: 500 });
  });

  it('property: compact arrays round-trip', () => {
    fc.assert(fc.property(arbCompactArray, (d) => expect(decodeData(encodeData(d))).toEqual(d)), { numRuns: 200 });
  });

  it('property: random and mutated bytes give a value or a DcuError, nothing else', () => {
    const mutated = arbData.chain((d) => {
      const enc = encodeData(d);
      return fc.tuple(fc.nat({ max: Math.max(0, enc.length - 1) }), fc.integer({ min: 0, max: 255 }), fc.nat({ max: enc.length })).map(([i, b, cut]) => {
        const m = enc.slice(0, Math.max(1, cut));
        if (i < m.length) m[i] = b;
        return m;
      });
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (bytes) => {
        try {
          decodeData(bytes);
        } catch (e) {
          if (!isDcuError(e)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
