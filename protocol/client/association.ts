import type { Aare, Aarq } from '../apdu/aarq';
import { describeDiagnostic } from '../apdu/acse-values';
import type { Conformance } from '../apdu/conformance';
import { conformance } from '../apdu/conformance';
import { describeConfirmedServiceError } from '../apdu/errors';
import { DLMS_VERSION } from '../apdu/initiate';
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

export function buildAarq(options: Pick<ClientOptions, 'authentication' | 'maxPduSize'>): Aarq {
  const auth = options.authentication;
  const initiate = {
    kind: 'initiate-request' as const,
    request: {
      responseAllowed: true,
      proposedDlmsVersion: DLMS_VERSION,
      proposedConformance: PROPOSED_CONFORMANCE,
      clientMaxReceivePduSize: options.maxPduSize,
    },
  };
  if (auth.mechanism === 'none') return { type: 'aarq', applicationContext: 'ln', userInformation: initiate };
  if (auth.mechanism === 'low') {
    return {
      type: 'aarq',
      applicationContext: 'ln',
      acseRequirements: { authentication: true },
      mechanism: 'lls',
      callingAuthenticationValue: auth.password,
      userInformation: initiate,
    };
  }
  throw new DcuError(ErrorCode.SecurityUnsupported, 'HLS-GMAC association needs the security options (system title, keys)');
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
