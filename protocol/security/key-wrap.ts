/**
 * AES key wrap (RFC 3394) with the default IV A6A6A6A6A6A6A6A6 — the key transport of
 * security suite 0 (Security setup method key_transfer, "wrapped_key" with the master key
 * as KEK). KEK may be 16, 24 or 32 bytes; wrapped keys are multiples of 8 bytes, ≥ 16.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { DcuError, ErrorCode } from '../common/errors';

const DEFAULT_IV = Uint8Array.of(0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6);

function algorithm(kek: Uint8Array): string {
  switch (kek.length) {
    case 16:
      return 'aes-128-ecb';
    case 24:
      return 'aes-192-ecb';
    case 32:
      return 'aes-256-ecb';
    default:
      throw new DcuError(ErrorCode.SecurityBadKey, `key-encrypting key must be 16, 24 or 32 bytes, got ${kek.length}`, {
        context: { length: kek.length },
      });
  }
}

/** A ^= t (t as a 64-bit big-endian integer). */
function xorCounter(a: Uint8Array, t: number): void {
  let v = t;
  for (let k = 7; k >= 0 && v > 0; k--) {
    a[k] = (a[k] ?? 0) ^ (v & 0xff);
    v = Math.floor(v / 256);
  }
}

type BlockFn = (block: Uint8Array) => Uint8Array;

function blockCipher(kek: Uint8Array, decrypt: boolean): BlockFn {
  const alg = algorithm(kek);
  const c = decrypt ? createDecipheriv(alg, kek, null) : createCipheriv(alg, kek, null);
  c.setAutoPadding(false);
  return (block) => {
    const out = c.update(block);
    if (out.length !== 16) throw new DcuError(ErrorCode.Internal, `AES-ECB returned ${out.length} bytes for one block`);
    return Uint8Array.from(out);
  };
}

/** Wrap keyData (n × 8 bytes, n ≥ 2) under kek → (n + 1) × 8 bytes. */
export function wrapKey(kek: Uint8Array, keyData: Uint8Array): Uint8Array {
  if (keyData.length < 16 || keyData.length % 8 !== 0) {
    throw new DcuError(ErrorCode.EncodeInvalid, `key data to wrap must be a multiple of 8 bytes and at least 16, got ${keyData.length}`, {
      context: { length: keyData.length },
    });
  }
  const aes = blockCipher(kek, false);
  const n = keyData.length / 8;
  const a = DEFAULT_IV.slice();
  const r = keyData.slice();
  const b = new Uint8Array(16);
  for (let j = 0; j <= 5; j++) {
    for (let i = 1; i <= n; i++) {
      b.set(a, 0);
      b.set(r.subarray((i - 1) * 8, i * 8), 8);
      const out = aes(b);
      a.set(out.subarray(0, 8));
      xorCounter(a, n * j + i);
      r.set(out.subarray(8, 16), (i - 1) * 8);
    }
  }
  const result = new Uint8Array(keyData.length + 8);
  result.set(a, 0);
  result.set(r, 8);
  return result;
}

/** Unwrap; throws SecurityBadTag when the integrity check value does not match. */
export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array): Uint8Array {
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) {
    throw new DcuError(ErrorCode.DecodeBadLength, `wrapped key must be a multiple of 8 bytes and at least 24, got ${wrapped.length}`, {
      context: { length: wrapped.length },
    });
  }
  const aes = blockCipher(kek, true);
  const n = wrapped.length / 8 - 1;
  const a = wrapped.slice(0, 8);
  const r = wrapped.slice(8);
  const b = new Uint8Array(16);
  for (let j = 5; j >= 0; j--) {
    for (let i = n; i >= 1; i--) {
      xorCounter(a, n * j + i);
      b.set(a, 0);
      b.set(r.subarray((i - 1) * 8, i * 8), 8);
      const out = aes(b);
      a.set(out.subarray(0, 8));
      r.set(out.subarray(8, 16), (i - 1) * 8);
    }
  }
  let diff = 0;
  for (let k = 0; k < 8; k++) diff |= (a[k] ?? 0) ^ (DEFAULT_IV[k] ?? 0);
  if (diff !== 0) {
    throw new DcuError(ErrorCode.SecurityBadTag, 'key unwrap integrity check failed: wrong key-encrypting key or corrupted wrapped key');
  }
  return r;
}
