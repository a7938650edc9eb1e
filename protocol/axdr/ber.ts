import { ByteReader, ByteWriter } from '../common/bytes';
import { DcuError, ErrorCode } from '../common/errors';

/**
 * The BER subset (X.690) that ACSE needs: identifiers (any class, low and high tag numbers),
 * definite lengths (short and long form, up to 4 length bytes), OBJECT IDENTIFIER, BIT STRING,
 * small INTEGER and octet/character strings. Indefinite lengths are refused: DLMS never uses
 * them. Every decode error is a DcuError naming the absolute byte offset.
 */

export type BerClass = 'universal' | 'application' | 'context' | 'private';

export interface BerTag {
  readonly cls: BerClass;
  readonly constructed: boolean;
  readonly number: number;
}

/** One decoded TLV. `offset` is the absolute offset of the identifier, `valueOffset` of the value. */
export interface BerElement {
  readonly tag: BerTag;
  readonly value: Uint8Array;
  readonly offset: number;
  readonly valueOffset: number;
}

export interface BerBitString {
  /** 0..7 bits of padding at the end of the last byte. */
  readonly unusedBits: number;
  readonly bytes: Uint8Array;
}

export const UniversalTag = {
  boolean: 1,
  integer: 2,
  bitString: 3,
  octetString: 4,
  null: 5,
  objectIdentifier: 6,
  graphicString: 25,
} as const;

const CLASS_BITS: Readonly<Record<BerClass, number>> = { universal: 0x00, application: 0x40, context: 0x80, private: 0xc0 };
const CLASSES: readonly BerClass[] = ['universal', 'application', 'context', 'private'];

/** Tag numbers above this (4 continuation bytes) are refused. */
export const MAX_BER_TAG_NUMBER = 0x0fffffff;

export const berTag = {
  universal: (number: number, constructed = false): BerTag => ({ cls: 'universal', constructed, number }),
  application: (number: number, constructed = false): BerTag => ({ cls: 'application', constructed, number }),
  context: (number: number, constructed = false): BerTag => ({ cls: 'context', constructed, number }),
};

export function sameTag(a: BerTag, b: BerTag): boolean {
  return a.cls === b.cls && a.constructed === b.constructed && a.number === b.number;
}

export function formatTag(t: BerTag): string {
  return `[${t.cls === 'context' ? '' : `${t.cls.toUpperCase()} `}${t.number}]${t.constructed ? ' constructed' : ''}`;
}

// ---------------------------------------------------------------- identifiers and lengths

export function writeBerTag(w: ByteWriter, tag: BerTag): void {
  const { number } = tag;
  if (!Number.isInteger(number) || number < 0 || number > MAX_BER_TAG_NUMBER) {
    throw new DcuError(ErrorCode.EncodeInvalid, `BER tag number ${number} out of range`);
  }
  const first = CLASS_BITS[tag.cls] | (tag.constructed ? 0x20 : 0);
  if (number < 0x1f) {
    w.u8(first | number);
    return;
  }
  w.u8(first | 0x1f);
  const groups: number[] = [];
  let n = number;
  do {
    groups.unshift(n & 0x7f);
    n = Math.floor(n / 128);
  } while (n > 0);
  groups.forEach((g, i) => w.u8(i < groups.length - 1 ? g | 0x80 : g));
}

export function readBerTag(r: ByteReader): BerTag {
  const at = r.baseOffset + r.offset;
  const first = r.u8('BER tag');
  const cls = CLASSES[first >>> 6] ?? 'universal';
  const constructed = (first & 0x20) !== 0;
  let number = first & 0x1f;
  if (number === 0x1f) {
    number = 0;
    for (let i = 0; ; i++) {
      const b = r.u8('BER tag number');
      if ((i === 0 && b === 0x80) || i >= 4) {
        throw new DcuError(ErrorCode.DecodeBadTag, `bad BER high tag number at byte ${at}`, { context: { offset: at } });
      }
      number = number * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  return { cls, constructed, number };
}

export function writeBerLength(w: ByteWriter, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new DcuError(ErrorCode.EncodeInvalid, `BER length ${n} out of range`);
  }
  if (n < 0x80) w.u8(n);
  else if (n <= 0xff) w.u8(0x81).u8(n);
  else if (n <= 0xffff) w.u8(0x82).u16(n);
  else if (n <= 0xffffff) w.u8(0x83).u8(n >>> 16).u16(n & 0xffff);
  else w.u8(0x84).u32(n);
}

/** Definite length; refuses the indefinite form and lengths beyond the bytes left. */
export function readBerLength(r: ByteReader): number {
  const at = r.baseOffset + r.offset;
  const first = r.u8('BER length');
  let n = first;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) {
      const what = count === 0 ? 'indefinite BER length (not used by DLMS)' : `BER length with ${count} length bytes`;
      throw new DcuError(ErrorCode.DecodeBadLength, `${what} at byte ${at}`, { context: { offset: at } });
    }
    n = 0;
    for (let i = 0; i < count; i++) n = n * 256 + r.u8('BER length');
  }
  if (n > r.remaining) {
    throw new DcuError(ErrorCode.DecodeBadLength, `BER length ${n} at byte ${at} exceeds the ${r.remaining} byte(s) left`, {
      context: { offset: at, length: n, remaining: r.remaining },
    });
  }
  return n;
}

// ---------------------------------------------------------------- elements

export function writeBerElement(w: ByteWriter, tag: BerTag, value: Uint8Array): void {
  writeBerTag(w, tag);
  writeBerLength(w, value.length);
  w.bytes(value);
}

export function encodeBerElement(tag: BerTag, value: Uint8Array): Uint8Array {
  const w = new ByteWriter(value.length + 8);
  writeBerElement(w, tag, value);
  return w.finish();
}

/** Read one TLV at the reader's position (the value is a view, not a copy). */
export function readBerElement(r: ByteReader): BerElement {
  const offset = r.baseOffset + r.offset;
  const tag = readBerTag(r);
  const length = readBerLength(r);
  const valueOffset = r.baseOffset + r.offset;
  return { tag, value: r.take(length, `value of BER ${formatTag(tag)}`), offset, valueOffset };
}

/** Exactly one TLV; trailing bytes are an error. `baseOffset` positions errors in the enclosing frame. */
export function decodeBerElement(bytes: Uint8Array, baseOffset = 0): BerElement {
  const r = new ByteReader(bytes, 0, baseOffset);
  const e = readBerElement(r);
  r.expectEnd(`BER ${formatTag(e.tag)}`);
  return e;
}

/** The TLVs inside a constructed element's value. */
export function readBerChildren(parent: BerElement): BerElement[] {
  const r = new ByteReader(parent.value, 0, parent.valueOffset);
  const out: BerElement[] = [];
  while (!r.atEnd) out.push(readBerElement(r));
  return out;
}

/** The single TLV inside an EXPLICIT tag, which must carry `expected`. */
export function readExplicit(parent: BerElement, expected: BerTag, what: string): BerElement {
  const inner = decodeBerElement(parent.value, parent.valueOffset);
  expectTag(inner, expected, what);
  return inner;
}

export function expectTag(e: BerElement, expected: BerTag, what: string): void {
  if (!sameTag(e.tag, expected)) {
    throw new DcuError(
      ErrorCode.DecodeBadTag,
      `${what}: expected BER ${formatTag(expected)}, got ${formatTag(e.tag)} at byte ${e.offset}`,
      { context: { offset: e.offset, expected: formatTag(expected), got: formatTag(e.tag) } },
    );
  }
}

/** `tag(outer) { tag(inner) value }` — the EXPLICIT wrapping used throughout ACSE. */
export function encodeExplicit(outer: BerTag, inner: BerTag, value: Uint8Array): Uint8Array {
  return encodeBerElement(outer, encodeBerElement(inner, value));
}

// ---------------------------------------------------------------- content encodings

/** OBJECT IDENTIFIER content octets. */
export function encodeOid(components: readonly number[]): Uint8Array {
  const [a, b, ...rest] = components;
  if (a === undefined || b === undefined || a > 2 || (a < 2 && b > 39)) {
    throw new DcuError(ErrorCode.EncodeInvalid, `bad OBJECT IDENTIFIER ${components.join('.')}`);
  }
  const w = new ByteWriter(16);
  for (const c of [a * 40 + b, ...rest]) {
    if (!Number.isSafeInteger(c) || c < 0) throw new DcuError(ErrorCode.EncodeInvalid, `bad OBJECT IDENTIFIER arc ${c}`);
    const groups: number[] = [];
    let n = c;
    do {
      groups.unshift(n % 128);
      n = Math.floor(n / 128);
    } while (n > 0);
    groups.forEach((g, i) => w.u8(i < groups.length - 1 ? g | 0x80 : g));
  }
  return w.finish();
}

/** Components of an OBJECT IDENTIFIER from its content octets. */
export function decodeOid(content: Uint8Array, offset = 0): number[] {
  if (content.length === 0) {
    throw new DcuError(ErrorCode.DecodeBadLength, `empty OBJECT IDENTIFIER at byte ${offset}`, { context: { offset } });
  }
  const arcs: number[] = [];
  let v = 0;
  let groups = 0;
  for (let i = 0; i < content.length; i++) {
    const b = content[i] ?? 0;
    if (groups === 0 && b === 0x80) {
      throw new DcuError(ErrorCode.DecodeBadValue, `non-minimal OBJECT IDENTIFIER arc at byte ${offset + i}`, { context: { offset: offset + i } });
    }
    v = v * 128 + (b & 0x7f);
    groups++;
    if (groups > 7) {
      throw new DcuError(ErrorCode.DecodeBadValue, `OBJECT IDENTIFIER arc too large at byte ${offset + i}`, { context: { offset: offset + i } });
    }
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0;
      groups = 0;
    }
  }
  if (groups !== 0) {
    throw new DcuError(ErrorCode.DecodeTruncated, `OBJECT IDENTIFIER ends inside an arc at byte ${offset + content.length - 1}`, {
      context: { offset: offset + content.length - 1 },
    });
  }
  const first = arcs.shift() ?? 0;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...arcs];
}

export function encodeBitString(bits: BerBitString): Uint8Array {
  const { unusedBits, bytes } = bits;
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new DcuError(ErrorCode.EncodeInvalid, `bad BIT STRING padding ${unusedBits}`);
  }
  const out = new Uint8Array(bytes.length + 1);
  out[0] = unusedBits;
  out.set(bytes, 1);
  return out;
}

export function decodeBitString(content: Uint8Array, offset = 0): BerBitString {
  const unusedBits = content[0];
  if (unusedBits === undefined) {
    throw new DcuError(ErrorCode.DecodeTruncated, `empty BIT STRING at byte ${offset}`, { context: { offset } });
  }
  if (unusedBits > 7 || (content.length === 1 && unusedBits !== 0)) {
    throw new DcuError(ErrorCode.DecodeBadValue, `bad BIT STRING padding ${unusedBits} at byte ${offset}`, { context: { offset } });
  }
  return { unusedBits, bytes: content.slice(1) };
}

/** INTEGER content (two's complement, minimal), for the small values ACSE uses. */
export function encodeBerInteger(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
    throw new DcuError(ErrorCode.EncodeInvalid, `BER INTEGER ${n} out of range`);
  }
  const out: number[] = [];
  let v = n;
  for (;;) {
    const byte = v & 0xff;
    out.unshift(byte);
    v = v >> 8;
    if ((v === 0 && (byte & 0x80) === 0) || (v === -1 && (byte & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

export function decodeBerInteger(content: Uint8Array, offset = 0): number {
  if (content.length === 0 || content.length > 4) {
    throw new DcuError(ErrorCode.DecodeBadLength, `BER INTEGER of ${content.length} byte(s) at byte ${offset} (expected 1..4)`, {
      context: { offset },
    });
  }
  let v = (content[0] ?? 0) >= 0x80 ? -1 : 0;
  for (const b of content) v = v * 256 + b;
  // The sign was folded in by starting at -1: (-1 * 256 + b) keeps two's complement meaning.
  return v;
}
