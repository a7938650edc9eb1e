import type { ByteReader } from '../common/bytes';

/**
 * Ciphered APDUs are carried raw: this layer only recognises them and checks their outer
 * length so protocol/security can decipher them. Tags (xDLMS-APDU CHOICE):
 * glo-/ded- service-specific (initiate, SN services, confirmed-service-error, GET/SET/ACTION,
 * event-notification), general-glo (DB), general-ded (DC), general-ciphering (DD) and
 * general-signing (DF).
 */
export interface CipheredApdu {
  readonly type: 'ciphered';
  readonly tag: number;
  /** The whole APDU, tag included, as received. */
  readonly bytes: Uint8Array;
}

export const GENERAL_GLO_CIPHERING = 0xdb;
export const GENERAL_DED_CIPHERING = 0xdc;
export const GENERAL_CIPHERING = 0xdd;
export const GENERAL_SIGNING = 0xdf;

const SERVICE_SPECIFIC = [
  // glo-: initiate-request/response, SN read/write, confirmed-service-error, SN unconfirmed write, information report
  0x21, 0x25, 0x26, 0x28, 0x2c, 0x2d, 0x2e, 0x36, 0x38,
  // ded-
  0x41, 0x45, 0x46, 0x48, 0x4c, 0x4d, 0x4e, 0x56, 0x58,
  // glo- get/set/event/action request, get/set/action response
  0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xcf,
  // ded-
  0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd7,
];

const SERVICE_SPECIFIC_SET: ReadonlySet<number> = new Set(SERVICE_SPECIFIC);

export function isCipheredApduTag(tag: number): boolean {
  return SERVICE_SPECIFIC_SET.has(tag) || tag === GENERAL_GLO_CIPHERING || tag === GENERAL_DED_CIPHERING || tag === GENERAL_CIPHERING || tag === GENERAL_SIGNING;
}

/** Reads one ciphered APDU (outer structure checked, contents untouched). */
export function readCipheredApdu(r: ByteReader): CipheredApdu {
  const start = r.offset;
  const tag = r.u8('ciphered APDU tag');
  if (tag === GENERAL_GLO_CIPHERING || tag === GENERAL_DED_CIPHERING) {
    r.lengthPrefixed('system title');
    r.lengthPrefixed('ciphered content');
  } else if (tag === GENERAL_CIPHERING || tag === GENERAL_SIGNING) {
    // Several nested fields; protocol/security parses them. Take the rest of the input.
    r.rest();
  } else {
    r.lengthPrefixed('ciphered content');
  }
  return { type: 'ciphered', tag, bytes: r.bytes.slice(start, r.offset) };
}
