import { DcuError, ErrorCode } from './errors';

/**
 * Bounds-checked big-endian reader. Every failure is a DcuError naming the byte offset
 * and what was being read, so a malformed frame never escapes as a RangeError.
 */
export class ByteReader {
  private pos: number;
  private dataView: DataView | undefined;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    /** Offset added to positions in error messages (position inside the enclosing frame). */
    readonly baseOffset = 0,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw new DcuError(
        ErrorCode.DecodeTruncated,
        `truncated: need ${n} byte(s) for ${what} at byte ${this.baseOffset + this.pos}, ${this.remaining} left`,
        { context: { offset: this.baseOffset + this.pos, need: n, what } },
      );
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.bytes[this.pos++] ?? 0;
  }

  peekU8(what = 'u8'): number {
    this.need(1, what);
    return this.bytes[this.pos] ?? 0;
  }

  i8(what = 'i8'): number {
    const v = this.u8(what);
    return v >= 0x80 ? v - 0x100 : v;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const b = this.bytes;
    const v = ((b[this.pos] ?? 0) << 8) | (b[this.pos + 1] ?? 0);
    this.pos += 2;
    return v;
  }

  i16(what = 'i16'): number {
    const v = this.u16(what);
    return v >= 0x8000 ? v - 0x10000 : v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view().getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  i32(what = 'i32'): number {
    this.need(4, what);
    const v = this.view().getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.view().getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  i64(what = 'i64'): bigint {
    this.need(8, what);
    const v = this.view().getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }

  f32(what = 'float32'): number {
    this.need(4, what);
    const v = this.view().getFloat32(this.pos);
    this.pos += 4;
    return v;
  }

  f64(what = 'float64'): number {
    this.need(8, what);
    const v = this.view().getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /** A view (no copy) of the next n bytes. */
  take(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A copy of the next n bytes (safe to keep after the input buffer is reused). */
  copy(n: number, what = 'bytes'): Uint8Array {
    return this.take(n, what).slice();
  }

  rest(): Uint8Array {
    return this.take(this.remaining);
  }

  skip(n: number, what = 'bytes'): void {
    this.need(n, what);
    this.pos += n;
  }

  /**
   * A-XDR length: < 0x80 one byte, else 0x8n then n big-endian bytes. By default a length
   * larger than what is left is refused (it counts bytes); pass bounded=false for counts of
   * other units (bits of a bit-string).
   */
  length(what = 'length', bounded = true): number {
    const start = this.pos;
    const first = this.u8(what);
    let v = first;
    if (first >= 0x80) {
      const n = first & 0x7f;
      if (n === 0 || n > 4) {
        throw new DcuError(ErrorCode.DecodeBadLength, `bad ${what} encoding 0x${first.toString(16)} at byte ${this.baseOffset + start}`, {
          context: { offset: this.baseOffset + start },
        });
      }
      v = 0;
      for (let i = 0; i < n; i++) v = v * 256 + this.u8(what);
    }
    if (bounded && v > this.remaining) {
      throw new DcuError(
        ErrorCode.DecodeBadLength,
        `${what} ${v} at byte ${this.baseOffset + start} exceeds the ${this.remaining} byte(s) left`,
        { context: { offset: this.baseOffset + start, length: v, remaining: this.remaining } },
      );
    }
    return v;
  }

  /** Length followed by that many bytes (copied). */
  lengthPrefixed(what = 'octets'): Uint8Array {
    const n = this.length(`${what} length`);
    return this.copy(n, what);
  }

  /** Throw if anything is left: a decoder that consumed less than its input found garbage. */
  expectEnd(what = 'message'): void {
    if (!this.atEnd) {
      throw new DcuError(
        ErrorCode.DecodeTrailingBytes,
        `${this.remaining} unexpected trailing byte(s) after ${what} at byte ${this.baseOffset + this.pos}`,
        { context: { offset: this.baseOffset + this.pos, remaining: this.remaining } },
      );
    }
  }

  /** One DataView per reader, made on first use (a view per read was most of a u32's cost). */
  private view(): DataView {
    this.dataView ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.dataView;
  }
}

/** Growable big-endian writer. */
export class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initial = 64) {
    this.buf = new Uint8Array(Math.max(16, initial));
  }

  get size(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  i8(v: number): this {
    return this.u8(v < 0 ? v + 0x100 : v);
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  i16(v: number): this {
    return this.u16(v < 0 ? v + 0x10000 : v);
  }

  u32(v: number): this {
    this.ensure(4);
    new DataView(this.buf.buffer).setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }

  i32(v: number): this {
    this.ensure(4);
    new DataView(this.buf.buffer).setInt32(this.pos, v | 0);
    this.pos += 4;
    return this;
  }

  u64(v: bigint): this {
    this.ensure(8);
    new DataView(this.buf.buffer).setBigUint64(this.pos, BigInt.asUintN(64, v));
    this.pos += 8;
    return this;
  }

  i64(v: bigint): this {
    this.ensure(8);
    new DataView(this.buf.buffer).setBigInt64(this.pos, BigInt.asIntN(64, v));
    this.pos += 8;
    return this;
  }

  f32(v: number): this {
    this.ensure(4);
    new DataView(this.buf.buffer).setFloat32(this.pos, v);
    this.pos += 4;
    return this;
  }

  f64(v: number): this {
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.pos, v);
    this.pos += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** A-XDR length encoding. */
  length(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`bad length ${n}`);
    if (n < 0x80) return this.u8(n);
    if (n <= 0xff) return this.u8(0x81).u8(n);
    if (n <= 0xffff) return this.u8(0x82).u16(n);
    if (n <= 0xffffff) return this.u8(0x83).u8(n >>> 16).u16(n & 0xffff);
    return this.u8(0x84).u32(n);
  }

  lengthPrefixed(b: Uint8Array): this {
    return this.length(b.length).bytes(b);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
