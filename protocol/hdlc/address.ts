import { DcuError, ErrorCode } from '../common/errors';

/**
 * HDLC extended addresses (IEC 62056-46 §6.4.2): 7 address bits per byte, bit 0 set on the
 * last byte only. The client address is 1 byte; the server address is 1, 2 or 4 bytes and
 * carries the upper (logical device) and lower (physical device) address. On a multi-drop
 * line the physical address selects the meter.
 */
export interface HdlcAddress {
  /** Upper HDLC address: logical device (server) or the client address (1-byte addresses). */
  readonly logical: number;
  /** Lower HDLC address: physical device; absent for 1-byte addresses. */
  readonly physical?: number;
  readonly size: 1 | 2 | 4;
}

export type ServerAddress = HdlcAddress;

/** Public client 16 → {logical: 16, size: 1} (HDLC byte 0x21). */
export function clientAddress(addr: number): HdlcAddress {
  return { logical: addr, size: 1 };
}

/**
 * Server address with the smallest size that holds both parts: 1 byte when no physical
 * address is given, 2 bytes when both fit in 7 bits, else 4 bytes.
 */
export function serverAddress(logical: number, physical?: number, size?: 1 | 2 | 4): ServerAddress {
  if (physical === undefined) return { logical, size: size ?? 1 };
  const s = size ?? (logical < 0x80 && physical < 0x80 ? 2 : 4);
  return { logical, physical, size: s };
}

export function addressEquals(a: HdlcAddress, b: HdlcAddress): boolean {
  return a.size === b.size && a.logical === b.logical && (a.physical ?? 0) === (b.physical ?? 0);
}

export function formatAddress(a: HdlcAddress): string {
  return a.size === 1 ? `${a.logical}` : `${a.logical}/${a.physical ?? 0}`;
}

function invalid(msg: string, a: HdlcAddress): DcuError {
  return new DcuError(ErrorCode.EncodeInvalid, `HDLC address ${formatAddress(a)} (size ${a.size}): ${msg}`, {
    context: { logical: a.logical, physical: a.physical, size: a.size },
  });
}

function checkRange(v: number, bits: number, what: string, a: HdlcAddress): void {
  if (!Number.isInteger(v) || v < 0 || v >= 1 << bits) throw invalid(`${what} must be 0..${(1 << bits) - 1}`, a);
}

/** Encodes an address; throws EncodeInvalid when a part does not fit its size. */
export function encodeAddress(a: HdlcAddress): Uint8Array {
  switch (a.size) {
    case 1:
      checkRange(a.logical, 7, 'logical', a);
      if (a.physical !== undefined) throw invalid('a 1-byte address has no physical part', a);
      return Uint8Array.of(((a.logical << 1) | 1) & 0xff);
    case 2: {
      const p = a.physical ?? 0;
      checkRange(a.logical, 7, 'logical', a);
      checkRange(p, 7, 'physical', a);
      return Uint8Array.of((a.logical << 1) & 0xff, ((p << 1) | 1) & 0xff);
    }
    case 4: {
      const p = a.physical ?? 0;
      checkRange(a.logical, 14, 'logical', a);
      checkRange(p, 14, 'physical', a);
      return Uint8Array.of(
        (a.logical >>> 6) & 0xfe,
        (a.logical << 1) & 0xfe,
        (p >>> 6) & 0xfe,
        ((p << 1) | 1) & 0xff,
      );
    }
  }
}

/** Length (1, 2 or 4) of the address starting at bytes[offset], or undefined if incomplete. */
export function addressLength(bytes: Uint8Array, offset: number, end = bytes.length): number | undefined {
  for (let i = 0; i < 4; i++) {
    if (offset + i >= end) return undefined;
    if (((bytes[offset + i] ?? 0) & 1) === 1) {
      const n = i + 1;
      if (n === 3) {
        throw new DcuError(ErrorCode.FramingBadAddress, `HDLC address of 3 bytes at byte ${offset} (expected 1, 2 or 4)`, {
          context: { offset },
        });
      }
      return n;
    }
  }
  throw new DcuError(ErrorCode.FramingBadAddress, `HDLC address longer than 4 bytes at byte ${offset} (no end bit)`, {
    context: { offset },
  });
}

/** Decodes the address at bytes[offset]; returns it with its length. */
export function decodeAddress(bytes: Uint8Array, offset = 0, end = bytes.length): { address: HdlcAddress; length: number } {
  const n = addressLength(bytes, offset, end);
  if (n === undefined) {
    throw new DcuError(ErrorCode.DecodeTruncated, `truncated HDLC address at byte ${offset}`, { context: { offset } });
  }
  const b = (i: number): number => (bytes[offset + i] ?? 0) >>> 1;
  switch (n) {
    case 1:
      return { address: { logical: b(0), size: 1 }, length: 1 };
    case 2:
      return { address: { logical: b(0), physical: b(1), size: 2 }, length: 2 };
    default:
      return { address: { logical: (b(0) << 7) | b(1), physical: (b(2) << 7) | b(3), size: 4 }, length: 4 };
  }
}
