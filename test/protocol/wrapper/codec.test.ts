import fc from 'fast-check';
import { DcuError, ErrorCode, isDcuError } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { decodeWrapper, decodeWrapperHeader, encodeWrapper } from '../../../protocol/wrapper/codec';

// GET-request for the clock (class 8, 0.0.1.0.0.255, attribute 2) from public client 16 to logical device 1.
const GET_CLOCK = 'C001C100080000010000FF0200';
const GET_CLOCK_WRAPPED = '0001001000010' + '00D' + GET_CLOCK;

function codeOf(fn: () => unknown): number | string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return isDcuError(e) ? e.code : `not a DcuError: ${String(e)}`;
  }
}

describe('wrapper codec', () => {
  it('encodes a GET request byte for byte', () => {
    expect(toHex(encodeWrapper({ source: 16, destination: 1, apdu: fromHex(GET_CLOCK) }))).toBe(GET_CLOCK_WRAPPED);
  });

  it('decodes it back', () => {
    const f = decodeWrapper(fromHex(GET_CLOCK_WRAPPED));
    expect(f.source).toBe(16);
    expect(f.destination).toBe(1);
    expect(toHex(f.apdu)).toBe(GET_CLOCK);
  });

  it('encodes an empty APDU and the largest ports', () => {
    expect(toHex(encodeWrapper({ source: 0xffff, destination: 0, apdu: new Uint8Array(0) }))).toBe('0001FFFF00000000');
  });

  it('rejects a bad version naming the offset', () => {
    try {
      decodeWrapper(fromHex('0002001000010000'));
      throw new Error('no throw');
    } catch (e) {
      expect(e).toBeInstanceOf(DcuError);
      const d = e as DcuError;
      expect(d.code).toBe(ErrorCode.FramingBadFormat);
      expect(d.message).toContain('0x0002');
      expect(d.message).toContain('byte 0');
    }
  });

  it('rejects a truncated header and a truncated APDU', () => {
    expect(codeOf(() => decodeWrapper(fromHex('00010010')))).toBe(ErrorCode.DecodeTruncated);
    expect(codeOf(() => decodeWrapper(fromHex('000100100001000DC001')))).toBe(ErrorCode.DecodeTruncated);
  });

  it('rejects trailing bytes', () => {
    expect(codeOf(() => decodeWrapper(fromHex(GET_CLOCK_WRAPPED + '00')))).toBe(ErrorCode.DecodeTrailingBytes);
  });

  it('rejects a length over the limit before reading the body', () => {
    expect(codeOf(() => decodeWrapperHeader(fromHex('000100100001FFFF'), 0, 1024))).toBe(ErrorCode.FramingTooLong);
    expect(codeOf(() => decodeWrapper(fromHex('0001001000010010' + '00'.repeat(16)), 8))).toBe(ErrorCode.FramingTooLong);
  });

  it('refuses to encode what does not fit', () => {
    expect(codeOf(() => encodeWrapper({ source: 0x10000, destination: 1, apdu: new Uint8Array(0) }))).toBe(
      ErrorCode.EncodeInvalid,
    );
    expect(codeOf(() => encodeWrapper({ source: 1, destination: -1, apdu: new Uint8Array(0) }))).toBe(
      ErrorCode.EncodeInvalid,
    );
    expect(codeOf(() => encodeWrapper({ source: 1, destination: 1, apdu: new Uint8Array(0x10000) }))).toBe(
      ErrorCode.FramingTooLong,
    );
  });

  it('round-trips any frame (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ maxLength: 600 }),
        (source, destination, apdu) => {
          const back = decodeWrapper(encodeWrapper({ source, destination, apdu }));
          expect(back).toEqual({ source, destination, apdu });
        },
      ),
    );
  });

  it('throws only DcuError on random input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, validHeader) => {
        const input = validHeader && bytes.length >= 2 ? Uint8Array.from([0, 1, ...bytes.subarray(2)]) : bytes;
        try {
          decodeWrapper(input);
        } catch (e) {
          expect(e).toBeInstanceOf(DcuError);
        }
      }),
    );
  });
});
