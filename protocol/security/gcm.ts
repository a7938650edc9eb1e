/**
 * Security suite 0 (AES-GCM-128, 12-byte tag) applied to an xDLMS payload.
 *
 *   protected = SC ‖ IC(4, BE) ‖ body
 *   IV        = system title of the SENDER (8) ‖ IC (4, BE)
 *   auth-enc: body = ciphertext ‖ tag,  AAD = SC ‖ AK
 *   enc:      body = ciphertext         (no tag, no AAD)
 *   auth:     body = plaintext ‖ tag,   AAD = SC ‖ AK ‖ plaintext (GMAC, nothing encrypted)
 *
 * Pure functions over node:crypto; keys never appear in error messages or contexts.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ByteReader, ByteWriter } from '../common/bytes';
import { DcuError, ErrorCode } from '../common/errors';
import { concatBytes } from '../common/hex';
import {
  type SecurityControl,
  type SecurityPolicy,
  decodeSecurityControl,
  encodeSecurityControl,
  policyOf,
  securityControlFor,
} from './security-control';

export const GCM_TAG_LENGTH = 12;
export const SUITE0_KEY_LENGTH = 16;
export const SYSTEM_TITLE_LENGTH = 8;
export const MAX_INVOCATION_COUNTER = 0xffffffff;
/** SC (1) + IC (4). */
export const SECURITY_HEADER_LENGTH = 5;

const EMPTY = new Uint8Array(0);

function u8(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function checkKey(key: Uint8Array, what: string): void {
  if (key.length !== SUITE0_KEY_LENGTH) {
    throw new DcuError(
      ErrorCode.SecurityBadKey,
      `${what} must be ${SUITE0_KEY_LENGTH} bytes for security suite 0, got ${key.length}`,
      { context: { what, length: key.length } },
    );
  }
}

export function checkSystemTitle(systemTitle: Uint8Array, what = 'system title'): void {
  if (systemTitle.length !== SYSTEM_TITLE_LENGTH) {
    throw new DcuError(ErrorCode.EncodeInvalid, `${what} must be ${SYSTEM_TITLE_LENGTH} bytes, got ${systemTitle.length}`, {
      context: { what, length: systemTitle.length },
    });
  }
}

export function checkInvocationCounter(ic: number): void {
  if (!Number.isInteger(ic) || ic < 0 || ic > MAX_INVOCATION_COUNTER) {
    throw new DcuError(ErrorCode.SecurityCounterExhausted, `invocation counter ${ic} is not a 32-bit unsigned value`, {
      context: { invocationCounter: ic },
    });
  }
}

/** IV = system title (8) ‖ invocation counter (4, big-endian). */
export function buildIv(systemTitle: Uint8Array, invocationCounter: number): Uint8Array {
  checkSystemTitle(systemTitle);
  checkInvocationCounter(invocationCounter);
  return new ByteWriter(12).bytes(systemTitle).u32(invocationCounter).finish();
}

interface Sealed {
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
}

function gcmSeal(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Sealed {
  const cipher = createCipheriv('aes-128-gcm', key, iv, { authTagLength: GCM_TAG_LENGTH });
  cipher.setAAD(aad);
  const ciphertext = concatBytes([u8(cipher.update(plaintext)), u8(cipher.final())]);
  return { ciphertext, tag: Uint8Array.from(cipher.getAuthTag()) };
}

function gcmOpen(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, ic: number): Uint8Array {
  const decipher = createDecipheriv('aes-128-gcm', key, iv, { authTagLength: GCM_TAG_LENGTH });
  decipher.setAuthTag(tag);
  decipher.setAAD(aad);
  const head = u8(decipher.update(ciphertext));
  try {
    return concatBytes([head, u8(decipher.final())]);
  } catch (cause) {
    throw new DcuError(ErrorCode.SecurityBadTag, `GCM authentication tag mismatch (invocation counter ${ic}): wrong key, system title or tampered data`, {
      cause,
      context: { invocationCounter: ic },
    });
  }
}

/** Plain AES-128-CTR part of GCM without a tag (policy 'enc'): GCM keystream, tag ignored. */
function gcmCrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  // GCM encryption of P equals GCM "decryption" of P (same keystream): seal and drop the tag.
  return gcmSeal(key, iv, EMPTY, data).ciphertext;
}

export interface ProtectParams {
  readonly policy: SecurityPolicy;
  /** Block cipher key (global unicast, broadcast or dedicated — the caller chooses). */
  readonly blockKey: Uint8Array;
  readonly authKey: Uint8Array;
  /** System title of the sender. */
  readonly systemTitle: Uint8Array;
  readonly invocationCounter: number;
  readonly plaintext: Uint8Array;
  /** Set the broadcast-key bit in SC (blockKey must then be the broadcast key). */
  readonly broadcastKey?: boolean;
}

/** SC ‖ IC ‖ ciphertext-or-plaintext ‖ tag (tag absent for policy 'enc'). */
export function protect(p: ProtectParams): Uint8Array {
  if (p.policy === 'none') {
    throw new DcuError(ErrorCode.SecurityUnsupported, 'security policy none: nothing to protect, send the APDU unciphered');
  }
  checkKey(p.blockKey, 'block cipher key');
  checkKey(p.authKey, 'authentication key');
  const iv = buildIv(p.systemTitle, p.invocationCounter);
  const sc = encodeSecurityControl(securityControlFor(p.policy, { broadcastKey: p.broadcastKey ?? false }));
  const header = new ByteWriter(SECURITY_HEADER_LENGTH).u8(sc).u32(p.invocationCounter).finish();
  const scAk = concatBytes([Uint8Array.of(sc), p.authKey]);
  switch (p.policy) {
    case 'auth-enc': {
      const { ciphertext, tag } = gcmSeal(p.blockKey, iv, scAk, p.plaintext);
      return concatBytes([header, ciphertext, tag]);
    }
    case 'auth': {
      const { tag } = gcmSeal(p.blockKey, iv, concatBytes([scAk, p.plaintext]), EMPTY);
      return concatBytes([header, p.plaintext, tag]);
    }
    case 'enc':
      return concatBytes([header, gcmCrypt(p.blockKey, iv, p.plaintext)]);
  }
}

export interface UnprotectParams {
  readonly blockKey: Uint8Array;
  readonly authKey: Uint8Array;
  /** System title of the sender of `payload`. */
  readonly systemTitle: Uint8Array;
  /** SC ‖ IC ‖ body as produced by protect(). */
  readonly payload: Uint8Array;
  /** Offset of payload inside the enclosing APDU, for error messages. */
  readonly baseOffset?: number;
}

export interface Unprotected {
  readonly plaintext: Uint8Array;
  readonly securityControl: SecurityControl;
  readonly invocationCounter: number;
}

/** Split and check the security header (no crypto): SC and IC, plus the body. */
export function readSecurityHeader(payload: Uint8Array, baseOffset = 0): Unprotected & { readonly body: Uint8Array } {
  const r = new ByteReader(payload, 0, baseOffset);
  const scByte = r.u8('security control');
  const securityControl = decodeSecurityControl(scByte);
  const invocationCounter = r.u32('invocation counter');
  if (securityControl.compressed) {
    throw new DcuError(ErrorCode.SecurityUnsupported, `compressed ciphered APDUs are not supported (SC 0x${scByte.toString(16)} at byte ${baseOffset})`, {
      context: { offset: baseOffset, securityControl: scByte },
    });
  }
  if (securityControl.suite !== 0) {
    throw new DcuError(ErrorCode.SecurityUnsupported, `security suite ${securityControl.suite} is not supported, only suite 0 (SC at byte ${baseOffset})`, {
      context: { offset: baseOffset, suite: securityControl.suite },
    });
  }
  if (policyOf(securityControl) === 'none') {
    throw new DcuError(ErrorCode.SecurityUnsupported, `security control 0x${scByte.toString(16)} at byte ${baseOffset} asks for neither authentication nor encryption`, {
      context: { offset: baseOffset, securityControl: scByte },
    });
  }
  const body = r.rest();
  return { plaintext: EMPTY, securityControl, invocationCounter, body };
}

export function unprotect(p: UnprotectParams): Unprotected {
  const base = p.baseOffset ?? 0;
  const { securityControl, invocationCounter, body } = readSecurityHeader(p.payload, base);
  checkKey(p.blockKey, 'block cipher key');
  checkKey(p.authKey, 'authentication key');
  const iv = buildIv(p.systemTitle, invocationCounter);
  const scAk = concatBytes([p.payload.subarray(0, 1), p.authKey]);
  const policy = policyOf(securityControl);
  if (policy === 'enc') {
    return { plaintext: gcmCrypt(p.blockKey, iv, body), securityControl, invocationCounter };
  }
  if (body.length < GCM_TAG_LENGTH) {
    throw new DcuError(
      ErrorCode.DecodeTruncated,
      `truncated: need ${GCM_TAG_LENGTH} bytes of authentication tag at byte ${base + SECURITY_HEADER_LENGTH}, ${body.length} left`,
      { context: { offset: base + SECURITY_HEADER_LENGTH, need: GCM_TAG_LENGTH } },
    );
  }
  const data = body.subarray(0, body.length - GCM_TAG_LENGTH);
  const tag = body.subarray(body.length - GCM_TAG_LENGTH);
  if (policy === 'auth-enc') {
    return { plaintext: gcmOpen(p.blockKey, iv, scAk, data, tag, invocationCounter), securityControl, invocationCounter };
  }
  // 'auth': the data travelled in clear; the tag covers it through the AAD.
  gcmOpen(p.blockKey, iv, concatBytes([scAk, data]), EMPTY, tag, invocationCounter);
  return { plaintext: data.slice(), securityControl, invocationCounter };
}

export interface AuthTagParams {
  readonly blockKey: Uint8Array;
  readonly authKey: Uint8Array;
  readonly systemTitle: Uint8Array;
  readonly invocationCounter: number;
  /** Security control byte that goes into the AAD (0x10 for HLS-GMAC). */
  readonly securityControl: number;
  readonly data: Uint8Array;
}

/** GMAC: the 12-byte GCM tag over AAD = SC ‖ AK ‖ data with nothing encrypted. */
export function authTag(p: AuthTagParams): Uint8Array {
  checkKey(p.blockKey, 'block cipher key');
  checkKey(p.authKey, 'authentication key');
  const iv = buildIv(p.systemTitle, p.invocationCounter);
  return gcmSeal(p.blockKey, iv, concatBytes([Uint8Array.of(p.securityControl & 0xff), p.authKey, p.data]), EMPTY).tag;
}
