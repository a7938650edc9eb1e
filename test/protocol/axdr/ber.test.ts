import fc from 'fast-check';
import {
  berTag,
  decodeBerElement,
  decodeBerInteger,
  decodeBitString,
  decodeOid,
  encodeBerElement,
  encodeBerInteger,
  encodeBitString,
  encodeOid,
  readBerChildren,
  readExplicit,
} from '../../../protocol/axdr/ber';
import { ErrorCode, isDcuError } from '../../../protocol/common/errors';
import { expectDcuError as expectDcu } from '../../helpers/dcu-error';
import { fromHex, toHex } from '../../../protocol/common/hex';

describe('BER identifiers and lengths', () => {
  it('encodes and decodes the DLMS application context name A1 09 06 07 ...', () => {
    const bytes = fromHex('A1 09 06 07 60 85 74 05 08 01 01');
    const e = decodeBerElement(bytes);
    expect(e.tag).toEqual({ cls: 'context', constructed: true, number: 1 });
    const oid = readExplicit(e, berTag.universal(6), 'ctx');
    expect(oid.valueOffset).toBe(4);
    expect(decodeOid(oid.value)).toEqual([2, 16, 756, 5, 8, 1, 1]);
    expect(toHex(encodeBerElement(berTag.context(1, true), encodeBerElement(berTag.universal(6), encodeOid([2, 16, 756, 5, 8, 1, 1]))))).toBe(toHex(bytes));
  });

  it('handles high tag numbers: 5F 1F is [APPLICATION 31] (xDLMS conformance)', () => {
    const bytes = fromHex('5F 1F 04 00 00 1E 1D');
    const e = decodeBerElement(bytes);
    expect(e.tag).toEqual({ cls: 'application', constructed: false, number: 31 });
    expect(decodeBitString(e.value)).toEqual({ unusedBits: 0, bytes: fromHex('001E1D') });
    expect(toHex(encodeBerElement(berTag.application(31), e.value))).toBe(toHex(bytes));
    expect(toHex(encodeBerElement(berTag.context(200), new Uint8Array(0)))).toBe('9F814800');
    expect(decodeBerElement(fromHex('9F814800')).tag.number).toBe(200);
  });

  it('uses short and long definite lengths', () => {
    for (const n of [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x1234]) {
      const enc = encodeBerElement(berTag.universal(4), new Uint8Array(n));
      const e = decodeBerElement(enc);
      expect(e.value.length).toBe(n);
      expect(e.valueOffset).toBe(n < 0x80 ? 2 : n <= 0xff ? 3 : 4);
    }
  });

  it('parses the children of a constructed element with absolute offsets', () => {
    const aare = fromHex('61 0C A2 03 02 01 00 A3 05 A1 03 02 01 0E');
    const kids = readBerChildren(decodeBerElement(aare));
    expect(kids.map((k) => [k.tag.number, k.offset])).toEqual([
      [2, 2],
      [3, 7],
    ]);
  });

  it('refuses truncation, indefinite and oversized lengths, trailing bytes', () => {
    expectDcu(() => decodeBerElement(new Uint8Array(0)), ErrorCode.DecodeTruncated, 0);
    expectDcu(() => decodeBerElement(fromHex('A1')), ErrorCode.DecodeTruncated, 1);
    expectDcu(() => decodeBerElement(fromHex('A1 80 00 00')), ErrorCode.DecodeBadLength, 1);
    expectDcu(() => decodeBerElement(fromHex('A1 85 00 00 00 00 01')), ErrorCode.DecodeBadLength, 1);
    expectDcu(() => decodeBerElement(fromHex('A1 05 01 02')), ErrorCode.DecodeBadLength, 1);
    expectDcu(() => decodeBerElement(fromHex('A1 82 01')), ErrorCode.DecodeTruncated);
    expectDcu(() => decodeBerElement(fromHex('04 01 00 FF')), ErrorCode.DecodeTrailingBytes, 3);
    expectDcu(() => decodeBerElement(fromHex('1F 80 01 00')), ErrorCode.DecodeBadTag, 0);
    expectDcu(() => decodeBerElement(fromHex('1F FF FF FF FF 01 00')), ErrorCode.DecodeBadTag, 0);
    expectDcu(() => readExplicit(decodeBerElement(fromHex('A1 03 04 01 00')), berTag.universal(6), 'ctx'), ErrorCode.DecodeBadTag, 2);
  });
});

describe('BER content encodings', () => {
  it('OBJECT IDENTIFIER round trip and errors', () => {
    expect(toHex(encodeOid([2, 16, 756, 5, 8, 2, 5]))).toBe('60857405080205');
    expect(decodeOid(fromHex('2A 86 48 86 F7 0D'))).toEqual([1, 2, 840, 113549]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.nat(), { maxLength: 6 }), (a, b, rest) => {
        expect(decodeOid(encodeOid([a, b, ...rest]))).toEqual([a, b, ...rest]);
      }),
    );
    expectDcu(() => decodeOid(new Uint8Array(0), 5), ErrorCode.DecodeBadLength, 5);
    expectDcu(() => decodeOid(fromHex('60 85'), 10), ErrorCode.DecodeTruncated, 11);
    expectDcu(() => decodeOid(fromHex('60 80 01')), ErrorCode.DecodeBadValue, 1);
    expectDcu(() => encodeOid([3, 1]), ErrorCode.EncodeInvalid);
  });

  it('BIT STRING: ACSE requirements 07 80', () => {
    expect(decodeBitString(fromHex('07 80'))).toEqual({ unusedBits: 7, bytes: fromHex('80') });
    expect(toHex(encodeBitString({ unusedBits: 7, bytes: fromHex('80') }))).toBe('0780');
    expectDcu(() => decodeBitString(new Uint8Array(0), 3), ErrorCode.DecodeTruncated, 3);
    expectDcu(() => decodeBitString(fromHex('08 00')), ErrorCode.DecodeBadValue);
    expectDcu(() => encodeBitString({ unusedBits: 8, bytes: new Uint8Array(1) }), ErrorCode.EncodeInvalid);
  });

  it('INTEGER: minimal two’s complement', () => {
    const cases: Array<[number, string]> = [
      [0, '00'],
      [14, '0E'],
      [127, '7F'],
      [128, '0080'],
      [-1, 'FF'],
      [-128, '80'],
      [-129, 'FF7F'],
      [65535, '00FFFF'],
    ];
    for (const [n, hex] of cases) {
      expect(toHex(encodeBerInteger(n))).toBe(hex);
      expect(decodeBerInteger(fromHex(hex))).toBe(n);
    }
    fc.assert(fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (n) => decodeBerInteger(encodeBerInteger(n)) === n));
    expectDcu(() => decodeBerInteger(new Uint8Array(0)), ErrorCode.DecodeBadLength);
    expectDcu(() => decodeBerInteger(new Uint8Array(5)), ErrorCode.DecodeBadLength);
  });

  it('random bytes end only in an element or a DcuError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        try {
          const e = decodeBerElement(b);
          if (e.tag.constructed) readBerChildren(e);
        } catch (err) {
          if (!isDcuError(err)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
