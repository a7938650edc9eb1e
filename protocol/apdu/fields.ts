import type { ByteReader, ByteWriter } from '../common/bytes';
import { DcuError, ErrorCode } from '../common/errors';

/** Small shared helpers for the xDLMS A-XDR codecs: range checks on encode, OPTIONAL fields. */

export function checkUint(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new DcuError(ErrorCode.EncodeInvalid, `${what} must be an integer 0..${max}, got ${value}`, { context: { what } });
  }
  return value;
}

export function checkInt(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DcuError(ErrorCode.EncodeInvalid, `${what} must be an integer ${min}..${max}, got ${value}`, { context: { what } });
  }
  return value;
}

export function checkLength(bytes: Uint8Array, length: number, what: string): Uint8Array {
  if (bytes.length !== length) {
    throw new DcuError(ErrorCode.EncodeInvalid, `${what} must be ${length} bytes, got ${bytes.length}`, { context: { what } });
  }
  return bytes;
}

/** A-XDR OPTIONAL: 00 absent, 01 present followed by the value. */
export function readOptional<T>(r: ByteReader, what: string, read: (r: ByteReader) => T): T | undefined {
  const at = r.baseOffset + r.offset;
  const flag = r.u8(`${what} presence flag`);
  if (flag === 0) return undefined;
  if (flag !== 1) throw badValue(at, `${what} presence flag 0x${hex2(flag)} (expected 00 or 01)`);
  return read(r);
}

export function writeOptional<T>(w: ByteWriter, value: T | undefined, write: (w: ByteWriter, v: T) => void): void {
  if (value === undefined) {
    w.u8(0);
  } else {
    w.u8(1);
    write(w, value);
  }
}

/** A-XDR BOOLEAN: 00 false, anything else true (encoded as 01). */
export function readBoolean(r: ByteReader, what: string): boolean {
  return r.u8(what) !== 0;
}

/** SEQUENCE OF: A-XDR count, then the elements. */
export function readSequence<T>(r: ByteReader, what: string, read: (r: ByteReader) => T): T[] {
  const n = r.length(`${what} count`);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(read(r));
  return out;
}

export function writeSequence<T>(w: ByteWriter, items: readonly T[], write: (w: ByteWriter, v: T) => void): void {
  w.length(items.length);
  for (const item of items) write(w, item);
}

export function badValue(offset: number, what: string): DcuError {
  return new DcuError(ErrorCode.DecodeBadValue, `bad ${what} at byte ${offset}`, { context: { offset } });
}

export function badTag(offset: number, tag: number, what: string): DcuError {
  return new DcuError(ErrorCode.DecodeBadTag, `unknown ${what} 0x${hex2(tag)} at byte ${offset}`, { context: { offset, tag } });
}

export function hex2(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}

/** Reverse lookup for const tables of numeric codes. */
export function invert<K extends string>(table: Readonly<Record<K, number>>): ReadonlyMap<number, K> {
  return new Map((Object.keys(table) as K[]).map((k) => [table[k], k]));
}

/** Consume the APDU tag byte, which the dispatcher has already peeked. */
export function expectApduTag(r: ByteReader, tag: number, what: string): void {
  const at = r.baseOffset + r.offset;
  const got = r.u8(`${what} tag`);
  if (got !== tag) {
    throw new DcuError(ErrorCode.DecodeBadTag, `expected ${what} tag 0x${hex2(tag)}, got 0x${hex2(got)} at byte ${at}`, {
      context: { offset: at, tag: got },
    });
  }
}
