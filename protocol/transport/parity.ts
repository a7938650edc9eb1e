/**
 * Software parity for 7-bit characters sent as 8N1. A 7E1 (or 7O1) character and an 8N1
 * character are both 10 bits on the wire (start, 8 bits, stop), the 8th bit being the parity
 * bit. So a port left at 8N1 can speak 7E1 by setting bit 7 to the parity of the low 7 bits
 * on transmit and checking/removing it on receive. IEC 62056-21 mode E uses this to change
 * between 7E1 and 8N1 without reopening the port (the OS binding can only change the baud
 * rate of an open port).
 */

export type EmulatedParity = 'even' | 'odd';

function parityBit(byte: number, parity: EmulatedParity): number {
  let v = byte & 0x7f;
  v ^= v >> 4;
  v ^= v >> 2;
  v ^= v >> 1;
  const odd = v & 1; // 1 when the low 7 bits hold an odd number of ones
  return parity === 'even' ? odd : odd ^ 1;
}

/** Returns a copy with bit 7 of each byte set to the parity bit of its low 7 bits. */
export function addParity(bytes: Uint8Array, parity: EmulatedParity): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = (bytes[i] ?? 0) & 0x7f;
    out[i] = b | (parityBit(b, parity) << 7);
  }
  return out;
}

export interface StrippedParity {
  /** 7-bit characters whose parity was right. */
  readonly bytes: Uint8Array;
  /** How many characters had a wrong parity bit and were dropped (as the OS does with IGNPAR). */
  readonly errors: number;
}

export function stripParity(bytes: Uint8Array, parity: EmulatedParity): StrippedParity {
  const out = new Uint8Array(bytes.length);
  let n = 0;
  let errors = 0;
  for (const b of bytes) {
    if (b >> 7 === parityBit(b, parity)) out[n++] = b & 0x7f;
    else errors++;
  }
  return { bytes: out.subarray(0, n), errors };
}
