/**
 * The meter's side of association establishment: AARQ in, AARE out, and the association
 * kept for the session when accepted. Pure: no I/O, no clock.
 *
 * Rejections (all rejected-permanent, diagnostic from the acse-service-user):
 *   fault hook rejectAssociations         → no-reason-given
 *   unknown client address                → no-reason-given
 *   context other than LN (SN, ciphering) → application-context-name-not-supported
 *   mechanism absent, client needs LLS    → authentication-mechanism-name-required
 *   mechanism other than the configured   → authentication-mechanism-name-not-recognised
 *   LLS without a password                → authentication-required
 *   LLS with a wrong password             → authentication-failure
 * xDLMS problems (user-information missing or not an InitiateRequest, DLMS version < 6, no
 * common conformance, client PDU size too small) reject with no-reason-given and carry a
 * confirmed-service-error (initiate) in the user-information, as the Green Book describes.
 */
import type { Aare, Aarq } from '../apdu/aarq';
import { AcseServiceUserDiagnostic, type ApplicationContextName } from '../apdu/acse-values';
import { conformanceIntersection } from '../apdu/conformance';
import type { ConfirmedServiceError } from '../apdu/errors';
import { VAA_NAME_LN } from '../apdu/initiate';
import { bytesEqual } from '../common/hex';
import type { ServerSession } from './contract';
import type { ClientAssociationConfig } from './object';
import { DLMS_VERSION, MIN_CLIENT_PDU_SIZE, type ResolvedLimits } from './options';
import type { Association } from './state';

export type AssociateOutcome = { readonly accepted: true; readonly aare: Aare; readonly association: Association } | { readonly accepted: false; readonly aare: Aare };

type UserDiagnostic = keyof typeof AcseServiceUserDiagnostic;

/** Initiate-error values (ServiceError initiate). */
const InitiateError = { other: 0, 'dlms-version-too-low': 1, 'incompatible-conformance': 2, 'pdu-size-too-short': 3 } as const;

function reject(context: ApplicationContextName, why: UserDiagnostic, initiateError?: keyof typeof InitiateError): AssociateOutcome {
  const error: ConfirmedServiceError | undefined =
    initiateError === undefined ? undefined : { type: 'confirmed-service-error', service: 'initiate', errorType: 'initiate', value: InitiateError[initiateError] };
  const aare: Aare = {
    type: 'aare',
    applicationContext: context,
    result: 'rejected-permanent',
    diagnostic: { source: 'acse-service-user', value: AcseServiceUserDiagnostic[why] },
    ...(error === undefined ? {} : { userInformation: { kind: 'confirmed-service-error', error } }),
  };
  return { accepted: false, aare };
}

function authenticate(aarq: Aarq, client: ClientAssociationConfig): UserDiagnostic | undefined {
  const asked = aarq.mechanism ?? 'none';
  const auth = client.authentication;
  if (auth.mechanism === 'none') return asked === 'none' ? undefined : 'authentication-mechanism-name-not-recognised';
  if (auth.mechanism === 'high-gmac') {
    // HLS (pass 3/4 through Association LN method 1) is not implemented yet: refuse cleanly.
    return asked === 'none' ? 'authentication-mechanism-name-required' : 'authentication-mechanism-name-not-recognised';
  }
  if (asked === 'none') return 'authentication-mechanism-name-required';
  if (asked !== 'lls') return 'authentication-mechanism-name-not-recognised';
  const password = aarq.callingAuthenticationValue;
  if (password === undefined) return 'authentication-required';
  return bytesEqual(password, auth.password) ? undefined : 'authentication-failure';
}

export function associate(
  aarq: Aarq,
  session: ServerSession,
  clients: readonly ClientAssociationConfig[],
  limits: ResolvedLimits,
  rejectAll: boolean,
): AssociateOutcome {
  const ctx = aarq.applicationContext;
  if (rejectAll) return reject(ctx, 'no-reason-given');
  if (ctx !== 'ln') return reject('ln', 'application-context-name-not-supported');
  const client = clients.find((c) => c.clientAddress === session.clientAddress);
  if (client === undefined) return reject(ctx, 'no-reason-given');
  const authError = authenticate(aarq, client);
  if (authError !== undefined) return reject(ctx, authError);

  const ui = aarq.userInformation;
  if (ui?.kind !== 'initiate-request') return reject(ctx, 'no-reason-given', 'other');
  const req = ui.request;
  if (req.proposedDlmsVersion < DLMS_VERSION) return reject(ctx, 'no-reason-given', 'dlms-version-too-low');
  const granted = conformanceIntersection(req.proposedConformance, limits.conformance);
  if (granted.size === 0) return reject(ctx, 'no-reason-given', 'incompatible-conformance');
  const clientMax = req.clientMaxReceivePduSize === 0 ? 0xffff : req.clientMaxReceivePduSize;
  if (clientMax < MIN_CLIENT_PDU_SIZE) return reject(ctx, 'no-reason-given', 'pdu-size-too-short');

  const association: Association = {
    session,
    client,
    conformance: granted,
    clientMaxReceivePduSize: clientMax,
    maxSendPduSize: Math.min(clientMax, limits.maxSendPduSize),
    mechanism: client.authentication.mechanism === 'low' ? 'lls' : 'none',
  };
  const aare: Aare = {
    type: 'aare',
    applicationContext: ctx,
    result: 'accepted',
    diagnostic: { source: 'acse-service-user', value: AcseServiceUserDiagnostic.null },
    userInformation: {
      kind: 'initiate-response',
      response: {
        negotiatedDlmsVersion: DLMS_VERSION,
        negotiatedConformance: granted,
        serverMaxReceivePduSize: limits.maxReceivePduSize,
        vaaName: VAA_NAME_LN,
      },
    },
  };
  return { accepted: true, aare, association };
}
