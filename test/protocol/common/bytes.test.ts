import { ByteReader, ByteWriter } from '../../../protocol/common/bytes';
import { DcuError, ErrorCode, isDecodingError } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';

describe('ByteReader / ByteWriter', () => {
  it('round-trips fixed-width big-endian integers', () => {
    const w = new ByteWriter(2).u8(1).i8(-2).u16(0x1234).i16(-3).u32(0xdeadbeef).i32(-4).u64(2n ** 63n).i64(-5n).f32(1.5).f64(-2.25);
    const r = new ByteReader(w.finish());
    expect([r.u8(), r.i8(), r.u16(), r.i16(), r.u32(), r.i32(), r.u64(), r.i64(), r.f32(), r.f64()]).toEqual([
      1, -2, 0x1234, -3, 0xdeadbeef, -4, 2n ** 63n, -5n, 1.5, -2.25,
    ]);
    expect(r.atEnd).toBe(true);
  });

  it.each([
    [0, '00'],
    [0x7f, '7F'],
    [0x80, '8180'],
    [0x1da, '8201DA'],
    [0x123456, '83123456'],
  ])('encodes length %i as %s', (n, hex) => {
    expect(toHex(new ByteWriter().length(n).finish())).toBe(hex);
  });

  it('names the offset when truncated', () => {
    const r = new ByteReader(fromHex('0102'));
    r.u8();
    try {
      r.u32('block number');
      throw new Error('no throw');
    } catch (e) {
      expect(isDecodingError(e)).toBe(true);
      expect((e as DcuError).code).toBe(ErrorCode.DecodeTruncated);
      expect((e as DcuError).message).toContain('block number at byte 1');
    }
  });

  it('rejects a length larger than the input', () => {
    expect(() => new ByteReader(fromHex('820100AA')).length()).toThrow(DcuError);
  });
});
