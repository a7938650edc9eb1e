/**
 * Ciphered xDLMS APDUs (IEC 62056-5-3 xDLMS-APDU CHOICE):
 *
 *   service-specific glo-/ded-:  tag ‖ len ‖ SC ‖ IC ‖ body
 *   general-glo (0xDB) / general-ded (0xDC):
 *                                tag ‖ len(8) ‖ system title ‖ len ‖ SC ‖ IC ‖ body
 *
 * glo- uses the global unicast (or broadcast) key, ded- the dedicated key from the AARQ.
 * The service-specific tag is derived from the plain APDU's tag; APDUs without one
 * (data-notification, exception-response, general-block-transfer) need general ciphering.
 */
import { ByteReader, ByteWriter } from '../common/bytes';
import { DcuError, ErrorCode, isDcuError } from '../common/errors';
import { SECURITY_HEADER_LENGTH, SYSTEM_TITLE_LENGTH, checkSystemTitle, protect, unprotect } from './gcm';
import type { SecurityControl, SecurityPolicy } from './security-control';

export const GENERAL_GLO_CIPHERING = 0xdb;
export const GENERAL_DED_CIPHERING = 0xdc;

export type CipherKeyKind = 'global' | 'dedicated';

/** Plain tag → [glo tag, ded tag]. Values from the xDLMS-APDU ASN.1 ([33]…[88], [200]…[215]). */
const SERVICE_SPECIFIC: ReadonlyMap<number, readonly [number, number]> = new Map<number, readonly [number, number]>([
  [0x01, [0x21, 0x41]], // initiateRequest
  [0x05, [0x25, 0x45]], // readRequest (SN)
  [0x06, [0x26, 0x46]], // writeRequest (SN)
  [0x08, [0x28, 0x48]], // initiateResponse
  [0x0c, [0x2c, 0x4c]], // readResponse (SN)
  [0x0d, [0x2d, 0x4d]], // writeResponse (SN)
  [0x0e, [0x2e, 0x4e]], // confirmedServiceError
  [0x16, [0x36, 0x56]], // unconfirmedWriteRequest (SN)
  [0x18, [0x38, 0x58]], // informationReportRequest (SN)
  [0xc0, [0xc8, 0xd0]], // get-request
  [0xc1, [0xc9, 0xd1]], // set-request
  [0xc2, [0xca, 0xd2]], // event-notification-request
  [0xc3, [0xcb, 0xd3]], // action-request
  [0xc4, [0xcc, 0xd4]], // get-response
  [0xc5, [0xcd, 0xd5]], // set-response
  [0xc7, [0xcf, 0xd7]], // action-response
]);

interface CipheredKind {
  readonly plainTag?: number;
  readonly keyKind: CipherKeyKind;
  readonly general: boolean;
}

const BY_CIPHERED_TAG: ReadonlyMap<number, CipheredKind> = (() => {
  const m = new Map<number, CipheredKind>();
  for (const [plainTag, [glo, ded]] of SERVICE_SPECIFIC) {
    m.set(glo, { plainTag, keyKind: 'global', general: false });
    m.set(ded, { plainTag, keyKind: 'dedicated', general: false });
  }
  m.set(GENERAL_GLO_CIPHERING, { keyKind: 'global', general: true });
  m.set(GENERAL_DED_CIPHERING, { keyKind: 'dedicated', general: true });
  return m;
})();

/** The service-specific ciphered tag for a plain APDU tag, or undefined when there is none. */
export function cipheredTagFor(plainTag: number, keyKind: CipherKeyKind = 'global'): number | undefined {
  const pair = SERVICE_SPECIFIC.get(plainTag);
  return pair === undefined ? undefined : keyKind === 'global' ? pair[0] : pair[1];
}

/** What a ciphered tag is: plain tag it wraps (service-specific only), key kind, general or not. */
export function describeCipheredTag(tag: number): CipheredKind | undefined {
  return BY_CIPHERED_TAG.get(tag);
}

export function isCipheredTag(tag: number): boolean {
  return BY_CIPHERED_TAG.has(tag);
}

export interface CipherContext {
  readonly policy: SecurityPolicy;
  /** Own (sender's) system title. */
  readonly systemTitle: Uint8Array;
  readonly invocationCounter: number;
  /** Global unicast encryption key (GUEK). */
  readonly blockKey: Uint8Array;
  readonly authKey: Uint8Array;
  /** Session key from the AARQ; required when keyKind is 'dedicated'. */
  readonly dedicatedKey?: Uint8Array;
  /** Global broadcast key; used instead of blockKey when given and keyKind is 'broadcast'. */
  readonly broadcastKey?: Uint8Array;
  /** Which key protects the APDU (default 'global'). */
  readonly keyKind?: CipherKeyKind | 'broadcast';
  /** Use general-glo/ded-ciphering (carries the system title) instead of the service-specific tag. */
  readonly general?: boolean;
}

function pickKey(kind: CipherKeyKind | 'broadcast', keys: { blockKey: Uint8Array; dedicatedKey?: Uint8Array; broadcastKey?: Uint8Array }): Uint8Array {
  if (kind === 'global') return keys.blockKey;
  const key = kind === 'dedicated' ? keys.dedicatedKey : keys.broadcastKey;
  if (key === undefined) {
    throw new DcuError(ErrorCode.SecurityBadKey, `no ${kind} key configured for this association`, { context: { keyKind: kind } });
  }
  return key;
}

/** Wrap a plain xDLMS APDU. The first byte of plainApdu selects the service-specific tag. */
export function cipherApdu(plainApdu: Uint8Array, ctx: CipherContext): Uint8Array {
  const kind = ctx.keyKind ?? 'global';
  const tagKind: CipherKeyKind = kind === 'dedicated' ? 'dedicated' : 'global';
  const plainTag = plainApdu[0];
  if (plainTag === undefined) throw new DcuError(ErrorCode.EncodeInvalid, 'cannot cipher an empty APDU');
  const protectedBytes = protect({
    policy: ctx.policy,
    blockKey: pickKey(kind, ctx),
    authKey: ctx.authKey,
    systemTitle: ctx.systemTitle,
    invocationCounter: ctx.invocationCounter,
    plaintext: plainApdu,
    broadcastKey: kind === 'broadcast',
  });
  const w = new ByteWriter(protectedBytes.length + 16);
  if (ctx.general === true) {
    checkSystemTitle(ctx.systemTitle);
    w.u8(tagKind === 'global' ? GENERAL_GLO_CIPHERING : GENERAL_DED_CIPHERING).lengthPrefixed(ctx.systemTitle);
  } else {
    const tag = cipheredTagFor(plainTag, tagKind);
    if (tag === undefined) {
      throw new DcuError(
        ErrorCode.SecurityUnsupported,
        `APDU tag 0x${plainTag.toString(16)} has no service-specific ciphered form; use general ciphering`,
        { context: { plainTag } },
      );
    }
    w.u8(tag);
  }
  return w.lengthPrefixed(protectedBytes).finish();
}

export interface DecipherContext {
  /** Global unicast encryption key. */
  readonly blockKey: Uint8Array;
  readonly authKey: Uint8Array;
  readonly dedicatedKey?: Uint8Array;
  readonly broadcastKey?: Uint8Array;
  /** Sender's system title; required for service-specific tags (general ciphering carries it). */
  readonly peerSystemTitle?: Uint8Array;
}

export interface Deciphered {
  /** The plain xDLMS APDU. */
  readonly apdu: Uint8Array;
  /** Ciphered tag it arrived in. */
  readonly tag: number;
  readonly keyKind: CipherKeyKind;
  readonly general: boolean;
  /** Sender's system title as carried by general ciphering. */
  readonly systemTitle?: Uint8Array;
  readonly invocationCounter: number;
  readonly securityControl: SecurityControl;
}

/** Unwrap a ciphered APDU. Any malformed or unauthentic input ends in a DcuError. */
export function decipherApdu(bytes: Uint8Array, ctx: DecipherContext): Deciphered {
  try {
    return decipherUnchecked(bytes, ctx);
  } catch (e) {
    if (isDcuError(e)) throw e;
    throw new DcuError(ErrorCode.DecodeBadValue, `cannot decipher APDU: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function decipherUnchecked(bytes: Uint8Array, ctx: DecipherContext): Deciphered {
  const r = new ByteReader(bytes);
  const tag = r.u8('ciphered APDU tag');
  const kind = BY_CIPHERED_TAG.get(tag);
  if (kind === undefined) {
    throw new DcuError(ErrorCode.DecodeBadTag, `expected a ciphered APDU tag at byte 0, got 0x${tag.toString(16)}`, {
      context: { offset: 0, tag },
    });
  }
  let systemTitle: Uint8Array | undefined;
  if (kind.general) {
    const at = r.offset;
    systemTitle = r.lengthPrefixed('system title');
    if (systemTitle.length !== SYSTEM_TITLE_LENGTH) {
      throw new DcuError(ErrorCode.DecodeBadLength, `system title at byte ${at} is ${systemTitle.length} bytes, expected ${SYSTEM_TITLE_LENGTH}`, {
        context: { offset: at, length: systemTitle.length },
      });
    }
  }
  const contentLength = r.length('ciphered content length');
  const contentOffset = r.offset;
  if (contentLength < SECURITY_HEADER_LENGTH) {
    throw new DcuError(ErrorCode.DecodeBadLength, `ciphered content of ${contentLength} bytes at byte ${contentOffset} is shorter than SC ‖ IC`, {
      context: { offset: contentOffset, length: contentLength },
    });
  }
  const content = r.take(contentLength, 'ciphered content');
  r.expectEnd('ciphered APDU');
  const sender = systemTitle ?? ctx.peerSystemTitle;
  if (sender === undefined) {
    throw new DcuError(ErrorCode.SecurityUnsupported, `peer system title unknown: cannot build the IV for tag 0x${tag.toString(16)}`, {
      context: { tag },
    });
  }
  const scByte = content[0] ?? 0;
  const broadcast = (scByte & 0x40) !== 0;
  const blockKey = pickKey(broadcast ? 'broadcast' : kind.keyKind, ctx);
  const out = unprotect({ blockKey, authKey: ctx.authKey, systemTitle: sender, payload: content, baseOffset: contentOffset });
  if (kind.plainTag !== undefined && out.plaintext[0] !== kind.plainTag) {
    throw new DcuError(
      ErrorCode.DecodeBadTag,
      `ciphered tag 0x${tag.toString(16)} must wrap APDU tag 0x${kind.plainTag.toString(16)}, got 0x${(out.plaintext[0] ?? 0).toString(16)}`,
      { context: { tag, expected: kind.plainTag } },
    );
  }
  const result = {
    apdu: out.plaintext,
    tag,
    keyKind: kind.keyKind,
    general: kind.general,
    invocationCounter: out.invocationCounter,
    securityControl: out.securityControl,
  };
  return systemTitle === undefined ? result : { ...result, systemTitle };
}
