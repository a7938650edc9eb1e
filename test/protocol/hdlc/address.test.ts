import fc from 'fast-check';
import {
  addressEquals,
  clientAddress,
  decodeAddress,
  encodeAddress,
  serverAddress,
  type HdlcAddress,
} from '../../../protocol/hdlc/address';
import { ErrorCode, isDcuError } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';

describe('HDLC addresses', () => {
  it.each<[HdlcAddress, string]>([
    [clientAddress(16), '21'],
    [clientAddress(1), '03'],
    [serverAddress(1), '03'],
    [serverAddress(1, 17), '02 23'],
    [serverAddress(1, 0x3fff, 4), '00 02 FE FF'],
    [serverAddress(1, 145), '00 02 02 23'],
    [serverAddress(0x3fff, 1, 4), 'FE FE 00 03'],
  ])('encodes %j as %s and back', (addr, hex) => {
    expect(toHex(encodeAddress(addr), ' ')).toBe(hex);
    const d = decodeAddress(fromHex(hex));
    expect(d.length).toBe(addr.size);
    expect(addressEquals(d.address, addr)).toBe(true);
  });

  it('rejects out-of-range parts with EncodeInvalid', () => {
    for (const a of [clientAddress(128), serverAddress(1, 128, 2), serverAddress(0x4000, 1, 4), clientAddress(-1)]) {
      expect(() => encodeAddress(a)).toThrow(expect.objectContaining({ code: ErrorCode.EncodeInvalid }));
    }
  });

  it('rejects 3-byte and over-long addresses with FramingBadAddress', () => {
    expect(() => decodeAddress(fromHex('02 02 03'))).toThrow(expect.objectContaining({ code: ErrorCode.FramingBadAddress }));
    expect(() => decodeAddress(fromHex('02 02 02 02 02'))).toThrow(expect.objectContaining({ code: ErrorCode.FramingBadAddress }));
  });

  it('reports a truncated address', () => {
    expect(() => decodeAddress(fromHex('02'))).toThrow(expect.objectContaining({ code: ErrorCode.DecodeTruncated }));
  });

  it('round-trips any valid address (property)', () => {
    const arb = fc.oneof(
      fc.integer({ min: 0, max: 127 }).map((l) => serverAddress(l)),
      fc.tuple(fc.integer({ min: 0, max: 127 }), fc.integer({ min: 0, max: 127 })).map(([l, p]) => serverAddress(l, p, 2)),
      fc.tuple(fc.integer({ min: 0, max: 0x3fff }), fc.integer({ min: 0, max: 0x3fff })).map(([l, p]) => serverAddress(l, p, 4)),
    );
    fc.assert(
      fc.property(arb, (a) => {
        const d = decodeAddress(encodeAddress(a));
        return addressEquals(d.address, a) && d.length === a.size;
      }),
    );
  });

  it('never throws anything but DcuError on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6 }), (b) => {
        try {
          decodeAddress(b);
        } catch (e) {
          if (!isDcuError(e)) throw e;
        }
      }),
    );
  });
});
