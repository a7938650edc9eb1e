import type { Aare, Aarq } from '../apdu/aarq';
import { describeDiagnostic } from '../apdu/acse-values';
import type { Conformance } from '../apdu/conformance';
import { conformance } from '../apdu/conformance';
import { describeConfirmedServiceError } from '../apdu/errors';
import { DLMS_VERSION, type InitiateRequest, type UserInformation } from '../apdu/initiate';
import { DcuError, ErrorCode } from '../common/errors';
import type { ClientOptions } from './options';

/** Everything a client may ask for; the AARE grants a subset and only that is used. */
export const PROPOSED_CONFORMANCE: Conformance = conformance(
  'general-block-transfer',
  'attribute0-supported-with-get',
  'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write',
  'block-transfer-with-action',
  'multiple-references',
  'data-notification',
  'selective-access',
  'get',
  'set',
  'action',
  'event-notification',
);

/** What the association settled on. */
export interface Negotiated {
  conformance: Conformance;
  /** Largest APDU the meter accepts from us. */
  serverMaxPduSize: number;
  /** What we told the meter we accept. */
  clientMaxPduSize: number;
  dlmsVersion: number;
  /** Meter system title, when it sent one. */
  serverSystemTitle?: Uint8Array;
}

/** The plain InitiateRequest this client proposes (with a dedicated key when given). */
/** PROPOSED_CONFORMANCE, without general-block-transfer when it is switched off. */
export function proposedConformance(gbt = true): Conformance {
  if (gbt) return PROPOSED_CONFORMANCE;
  const bits = new Set(PROPOSED_CONFORMANCE);
  bits.delete('general-block-transfer');
  return bits;
}

export function initiateRequest(maxPduSize: number, dedicatedKey?: Uint8Array, gbt = true): InitiateRequest {
  return {
    ...(dedicatedKey === undefined ? {} : { dedicatedKey }),
    responseAllowed: true,
    proposedDlmsVersion: DLMS_VERSION,
    proposedConformance: proposedConformance(gbt),
    clientMaxReceivePduSize: maxPduSize,
  };
}

/** What a secured AARQ adds: calling AP title, ciphered user-information, HLS challenge. */
export interface SecureAarqParts {
  /** Client system title (calling AP title). */
  systemTitle: Uint8Array;
  /** Context ln-ciphering (xDLMS APDUs ciphered) or plain ln. */
  ciphered: boolean;
  /** User-information as sent: a glo-initiate-request (raw) when ciphered. */
  userInformation: UserInformation;
  /** HLS challenge CtoS (calling authentication value). */
  ctos?: Uint8Array;
}

export function buildAarq(options: Pick<ClientOptions, 'authentication' | 'maxPduSize' | 'gbt'>, secure?: SecureAarqParts): Aarq {
  const auth = options.authentication;
  const userInformation: UserInformation = secure?.userInformation ?? {
    kind: 'initiate-request',
    request: initiateRequest(options.maxPduSize, undefined, options.gbt?.enabled !== false),
  };
  const base = {
    type: 'aarq' as const,
    applicationContext: secure?.ciphered === true ? ('ln-ciphering' as const) : ('ln' as const),
    ...(secure === undefined ? {} : { callingApTitle: secure.systemTitle }),
  };
  if (auth.mechanism === 'none') return { ...base, userInformation };
  if (auth.mechanism === 'low') {
    return { ...base, acseRequirements: { authentication: true }, mechanism: 'lls', callingAuthenticationValue: auth.password, userInformation };
  }
  const mechanism = auth.mechanism === 'high-gmac' ? 'hls-gmac' : 'hls-sha256';
  if (secure?.ctos === undefined) {
    throw new DcuError(ErrorCode.SecurityUnsupported, `${mechanism} association needs our system title and a challenge (security options)`);
  }
  return { ...base, acseRequirements: { authentication: true }, mechanism, callingAuthenticationValue: secure.ctos, userInformation };
}

/** Checks the AARE; returns what was negotiated or throws a typed association error. */
export function acceptAare(aare: Aare, options: Pick<ClientOptions, 'maxPduSize'>): Negotiated {
  if (aare.result !== 'accepted') {
    const diag = describeDiagnostic(aare.diagnostic);
    const authFailed = aare.diagnostic.source === 'acse-service-user' && (aare.diagnostic.value === 13 || aare.diagnostic.value === 14 || aare.diagnostic.value === 11 || aare.diagnostic.value === 12);
    let detail = '';
    if (aare.userInformation?.kind === 'confirmed-service-error') detail = ` (${describeConfirmedServiceError(aare.userInformation.error)})`;
    throw new DcuError(
      authFailed ? ErrorCode.AssociationAuthFailed : ErrorCode.AssociationRefused,
      `the meter refused the association: ${aare.result}, ${diag}${detail}`,
      { context: { result: aare.result, diagnostic: aare.diagnostic.value, source: aare.diagnostic.source } },
    );
  }
  const ui = aare.userInformation;
  if (ui?.kind !== 'initiate-response') {
    throw new DcuError(ErrorCode.AssociationRefused, `the meter accepted but sent no InitiateResponse (${ui?.kind ?? 'no user-information'})`);
  }
  const r = ui.response;
  const negotiated: Negotiated = {
    conformance: r.negotiatedConformance,
    // 0 would mean "no limit" in some stacks; treat it as the largest size we can express.
    serverMaxPduSize: r.serverMaxReceivePduSize === 0 ? 0xffff : r.serverMaxReceivePduSize,
    clientMaxPduSize: options.maxPduSize,
    dlmsVersion: r.negotiatedDlmsVersion,
  };
  if (aare.respondingApTitle) negotiated.serverSystemTitle = aare.respondingApTitle;
  return negotiated;
}
