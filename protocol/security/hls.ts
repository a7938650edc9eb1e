/**
 * High-level security authentication (pass 3 and 4 of the AARQ/AARE exchange).
 *
 * Mechanism 5 (HLS-GMAC): each side proves the key by answering the other's challenge
 *   f(challenge) = SC(0x10) ‖ IC(4) ‖ GMAC_tag(12)
 *   GMAC over AAD = SC ‖ AK ‖ challenge, IV = responder's system title ‖ IC, key = EK.
 * The client sends f(StoC) in Association LN method 1 (reply_to_HLS_authentication) and
 * checks the meter's answer f(CtoS) with the meter's system title.
 *
 * Mechanism 6 (HLS-SHA256):
 *   client → meter: SHA-256(secret ‖ ST-C ‖ ST-S ‖ StoC ‖ CtoS)
 *   meter → client: SHA-256(secret ‖ ST-S ‖ ST-C ‖ CtoS ‖ StoC)
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ByteReader, ByteWriter } from '../common/bytes';
import { DcuError, ErrorCode } from '../common/errors';
import { concatBytes } from '../common/hex';
import { GCM_TAG_LENGTH, authTag, checkSystemTitle } from './gcm';
import { SC_AUTHENTICATED } from './security-control';

/** Length of an HLS-GMAC reply: SC + IC + tag. */
export const HLS_GMAC_REPLY_LENGTH = 1 + 4 + GCM_TAG_LENGTH;
export const HLS_SHA256_REPLY_LENGTH = 32;
export const MIN_CHALLENGE_LENGTH = 8;
export const MAX_CHALLENGE_LENGTH = 64;

/** Injectable random source (tests pass a deterministic one). */
export type RandomSource = (length: number) => Uint8Array;

export const cryptoRandom: RandomSource = (length) => Uint8Array.from(randomBytes(length));

/** A challenge (CtoS or StoC) of 8..64 random bytes (default 16). */
export function generateChallenge(length = 16, random: RandomSource = cryptoRandom): Uint8Array {
  if (!Number.isInteger(length) || length < MIN_CHALLENGE_LENGTH || length > MAX_CHALLENGE_LENGTH) {
    throw new DcuError(ErrorCode.InvalidValue, `challenge length ${length} is outside ${MIN_CHALLENGE_LENGTH}..${MAX_CHALLENGE_LENGTH}`, {
      context: { length },
    });
  }
  const out = random(length);
  if (out.length !== length) {
    throw new DcuError(ErrorCode.Internal, `random source returned ${out.length} bytes, asked for ${length}`);
  }
  return out;
}

export interface HlsGmacParams {
  /** The OTHER side's challenge. */
  readonly challenge: Uint8Array;
  /** Own system title (the responder's). */
  readonly systemTitle: Uint8Array;
  readonly invocationCounter: number;
  readonly blockKey: Uint8Array;
  readonly authKey: Uint8Array;
}

/** f(challenge) = SC(0x10) ‖ IC ‖ GMAC tag(12). */
export function hlsGmacResponse(p: HlsGmacParams): Uint8Array {
  const tag = authTag({
    blockKey: p.blockKey,
    authKey: p.authKey,
    systemTitle: p.systemTitle,
    invocationCounter: p.invocationCounter,
    securityControl: SC_AUTHENTICATED,
    data: p.challenge,
  });
  return new ByteWriter(HLS_GMAC_REPLY_LENGTH).u8(SC_AUTHENTICATED).u32(p.invocationCounter).bytes(tag).finish();
}

export interface VerifyHlsGmacParams {
  /** The reply received: SC ‖ IC ‖ tag. */
  readonly response: Uint8Array;
  /** Own challenge that the peer answered. */
  readonly challenge: Uint8Array;
  /** The peer's system title. */
  readonly systemTitle: Uint8Array;
  readonly blockKey: Uint8Array;
  readonly authKey: Uint8Array;
}

function authFailed(message: string, context: Record<string, number> = {}): DcuError {
  return new DcuError(ErrorCode.AssociationAuthFailed, message, { context });
}

/**
 * Check the peer's HLS-GMAC reply. Returns the peer's invocation counter (feed it to a
 * ReplayGuard); throws AssociationAuthFailed when it does not prove the key.
 */
export function verifyHlsGmac(p: VerifyHlsGmacParams): { readonly invocationCounter: number } {
  if (p.response.length !== HLS_GMAC_REPLY_LENGTH) {
    throw authFailed(`HLS-GMAC reply is ${p.response.length} bytes, expected ${HLS_GMAC_REPLY_LENGTH}`, { length: p.response.length });
  }
  const r = new ByteReader(p.response);
  const sc = r.u8('security control');
  if (sc !== SC_AUTHENTICATED) {
    throw authFailed(`HLS-GMAC reply security control 0x${sc.toString(16)} at byte 0, expected 0x10`, { offset: 0, securityControl: sc });
  }
  const invocationCounter = r.u32('invocation counter');
  const received = r.take(GCM_TAG_LENGTH, 'GMAC tag');
  const expected = authTag({
    blockKey: p.blockKey,
    authKey: p.authKey,
    systemTitle: p.systemTitle,
    invocationCounter,
    securityControl: sc,
    data: p.challenge,
  });
  if (!timingSafeEqual(received, expected)) {
    throw authFailed(`HLS-GMAC reply does not verify (invocation counter ${invocationCounter}): wrong key or system title`, {
      invocationCounter,
    });
  }
  return { invocationCounter };
}

export interface HlsSha256Params {
  /** The HLS secret (password) shared with the meter. */
  readonly secret: Uint8Array;
  readonly clientSystemTitle: Uint8Array;
  readonly serverSystemTitle: Uint8Array;
  /** Client-to-server challenge (AARQ calling-authentication-value). */
  readonly ctos: Uint8Array;
  /** Server-to-client challenge (AARE responding-authentication-value). */
  readonly stoc: Uint8Array;
}

function sha256(parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(createHash('sha256').update(concatBytes(parts)).digest());
}

function checkTitles(p: HlsSha256Params): void {
  checkSystemTitle(p.clientSystemTitle, 'client system title');
  checkSystemTitle(p.serverSystemTitle, 'server system title');
}

/** Client's proof f(StoC) = SHA-256(secret ‖ ST-C ‖ ST-S ‖ StoC ‖ CtoS). */
export function hlsSha256ClientResponse(p: HlsSha256Params): Uint8Array {
  checkTitles(p);
  return sha256([p.secret, p.clientSystemTitle, p.serverSystemTitle, p.stoc, p.ctos]);
}

/** Meter's proof f(CtoS) = SHA-256(secret ‖ ST-S ‖ ST-C ‖ CtoS ‖ StoC). */
export function hlsSha256ServerResponse(p: HlsSha256Params): Uint8Array {
  checkTitles(p);
  return sha256([p.secret, p.serverSystemTitle, p.clientSystemTitle, p.ctos, p.stoc]);
}

/** Client side: check the meter's f(CtoS); throws AssociationAuthFailed. */
export function verifyHlsSha256ServerResponse(p: HlsSha256Params & { readonly response: Uint8Array }): void {
  const expected = hlsSha256ServerResponse(p);
  if (p.response.length !== expected.length || !timingSafeEqual(p.response, expected)) {
    throw authFailed('HLS-SHA256 reply does not verify: wrong secret, system title or challenge');
  }
}

/** Meter side: check the client's f(StoC); throws AssociationAuthFailed. */
export function verifyHlsSha256ClientResponse(p: HlsSha256Params & { readonly response: Uint8Array }): void {
  const expected = hlsSha256ClientResponse(p);
  if (p.response.length !== expected.length || !timingSafeEqual(p.response, expected)) {
    throw authFailed('HLS-SHA256 reply does not verify: wrong secret, system title or challenge');
  }
}
