/**
 * The meter's side of association establishment: AARQ in, AARE out, and the association
 * kept for the session when accepted. No I/O, no clock; security state (counters, keys) is
 * lent by the server.
 *
 * Rejections (all rejected-permanent, diagnostic from the acse-service-user):
 *   fault hook rejectAssociations         → no-reason-given
 *   unknown client address                → no-reason-given
 *   SN context, or ln/ln-ciphering not matching the client's security policy
 *                                         → application-context-name-not-supported
 *   mechanism absent, client needs LLS/HLS → authentication-mechanism-name-required
 *   HLS-GMAC/-SHA256 without a CtoS of 8..64 bytes → authentication-required
 *   HLS/ciphering without an 8-byte calling AP title (or not the configured one)
 *                                         → calling-ap-title-not-recognized
 *   glo-initiate-request that does not decipher, or reuses an invocation counter
 *                                         → no-reason-given + confirmed-service-error
 *                                           (initiate, application-reference/deciphering-error)
 *   mechanism other than the configured   → authentication-mechanism-name-not-recognised
 *   LLS without a password                → authentication-required
 *   LLS with a wrong password             → authentication-failure
 * HLS-GMAC and HLS-SHA256 accept with diagnostic authentication-required, the meter's system
 * title and StoC (HLS-SHA256 also on a plain LN context without a security setup);
 * pass 3/4 (reply_to_HLS_authentication) follows. Ciphered contexts answer glo-initiate-response.
 * xDLMS problems (user-information missing or not an InitiateRequest, DLMS version < 6, no
 * common conformance, client PDU size too small) reject with no-reason-given and carry a
 * confirmed-service-error (initiate) in the user-information, as the Green Book describes.
 */
import type { Aare, Aarq } from '../apdu/aarq';
import { AcseServiceUserDiagnostic, type ApplicationContextName } from '../apdu/acse-values';
import { conformanceIntersection } from '../apdu/conformance';
import type { ConfirmedServiceError } from '../apdu/errors';
import { VAA_NAME_LN, decodeUserInformation, encodeUserInformation, type UserInformation } from '../apdu/initiate';
import { bytesEqual } from '../common/hex';
import { MAX_CHALLENGE_LENGTH, MIN_CHALLENGE_LENGTH, SYSTEM_TITLE_LENGTH, decipherApdu, describeCipheredTag, generateChallenge, type RandomSource } from '../security';
import type { ServerSession } from './contract';
import type { ClientAssociationConfig } from './object';
import { DLMS_VERSION, MIN_CLIENT_PDU_SIZE, type ResolvedLimits } from './options';
import type { HlsProof, HlsSession } from './hls';
import { cipherResponse, type SecureSession, type SecuritySetupState } from './security-state';
import type { Association } from './state';

export type AssociateOutcome =
  | { readonly accepted: true; readonly aare: Aare; readonly association: Association; readonly secure?: SecureSession; readonly hls?: HlsSession }
  | { readonly accepted: false; readonly aare: Aare };

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
  if (auth.mechanism === 'high-gmac' || auth.mechanism === 'high-sha256') {
    if (asked === 'none') return 'authentication-mechanism-name-required';
    const usable = auth.mechanism === 'high-gmac' ? asked === 'hls-gmac' && client.security !== undefined : asked === 'hls-sha256';
    if (!usable) return 'authentication-mechanism-name-not-recognised';
    const ctos = aarq.callingAuthenticationValue;
    if (ctos === undefined || ctos.length < MIN_CHALLENGE_LENGTH || ctos.length > MAX_CHALLENGE_LENGTH) return 'authentication-required';
    return undefined;
  }
  if (asked === 'none') return 'authentication-mechanism-name-required';
  if (asked !== 'lls') return 'authentication-mechanism-name-not-recognised';
  const password = aarq.callingAuthenticationValue;
  if (password === undefined) return 'authentication-required';
  return bytesEqual(password, auth.password) ? undefined : 'authentication-failure';
}

/** What the server lends associate() for security: the setup state per client, randomness. */
export interface SecurityServices {
  setupFor(client: ClientAssociationConfig): SecuritySetupState | undefined;
  readonly random: RandomSource;
}

const DECIPHERING_ERROR: ConfirmedServiceError = { type: 'confirmed-service-error', service: 'initiate', errorType: 'application-reference', value: 6 };

function rejectDeciphering(context: ApplicationContextName): AssociateOutcome {
  const out = reject(context, 'no-reason-given');
  return { accepted: false, aare: { ...out.aare, userInformation: { kind: 'confirmed-service-error', error: DECIPHERING_ERROR } } };
}

type SecureStart =
  | {
      readonly ok: true;
      readonly ui: UserInformation | undefined;
      readonly session?: SecureSession;
      readonly hls?: HlsSession;
      /** The meter's system title, sent as responding AP title. */
      readonly systemTitle?: Uint8Array;
    }
  | { readonly ok: false; readonly outcome: AssociateOutcome };

/**
 * Checks the security side of an AARQ: context against the client's policy, calling AP title,
 * and deciphers a glo-initiate-request (bad tag, wrong key or a replayed counter → AARE
 * rejected with confirmed-service-error application-reference/deciphering-error).
 */
function startSecure(aarq: Aarq, client: ClientAssociationConfig, services: SecurityServices | undefined): SecureStart {
  const ctx = aarq.applicationContext;
  const setup = services?.setupFor(client);
  const wantsCipher = setup !== undefined && setup.policy !== 'none';
  if (ctx === 'ln-ciphering' ? !wantsCipher : wantsCipher) return { ok: false, outcome: reject(ctx, 'application-context-name-not-supported') };
  const auth = client.authentication;
  const hls = auth.mechanism === 'high-gmac' || auth.mechanism === 'high-sha256';
  if (services === undefined || (!hls && !wantsCipher)) return { ok: true, ui: aarq.userInformation };
  // The meter's system title: the security setup's, else (HLS-SHA256 without ciphering) the configured one.
  const systemTitle = setup?.systemTitle ?? (auth.mechanism === 'high-sha256' ? auth.systemTitle : undefined);
  // Only HLS-SHA256 configured without a system title gets here: the meter cannot take part.
  if (systemTitle === undefined) return { ok: false, outcome: reject(ctx, 'no-reason-given') };
  setup?.applyPendingKeys();
  const title = aarq.callingApTitle;
  if (title?.length !== SYSTEM_TITLE_LENGTH || (setup?.clientSystemTitle !== undefined && !bytesEqual(title, setup.clientSystemTitle))) {
    return { ok: false, outcome: reject(ctx, 'calling-ap-title-not-recognized') };
  }
  let ui = aarq.userInformation;
  let dedicatedKey: Uint8Array | undefined;
  if (wantsCipher) {
    if (ui?.kind !== 'raw') return { ok: false, outcome: rejectDeciphering(ctx) };
    const kind = describeCipheredTag(ui.bytes[0] ?? 0);
    if (kind?.general !== false || kind.keyKind !== 'global' || kind.plainTag !== 0x01) return { ok: false, outcome: rejectDeciphering(ctx) };
    try {
      const out = decipherApdu(ui.bytes, { blockKey: setup.blockKey, authKey: setup.authKey, peerSystemTitle: title });
      if (!setup.acceptClientCounter(out.invocationCounter)) return { ok: false, outcome: rejectDeciphering(ctx) };
      ui = decodeUserInformation(out.apdu);
    } catch {
      return { ok: false, outcome: rejectDeciphering(ctx) };
    }
    if (ui.kind === 'initiate-request' && ui.request.dedicatedKey !== undefined) dedicatedKey = ui.request.dedicatedKey;
  }
  let session: SecureSession | undefined;
  if (setup !== undefined) {
    setup.lastClientSystemTitle = title;
    session = {
      setup,
      blockKey: setup.blockKey,
      authKey: setup.authKey,
      ciphered: wantsCipher,
      clientSystemTitle: title,
      ...(dedicatedKey === undefined ? {} : { dedicatedKey }),
    };
  }
  const ctos = aarq.callingAuthenticationValue;
  let hlsSession: HlsSession | undefined;
  if (hls && ctos !== undefined) {
    const proof: HlsProof | undefined =
      auth.mechanism === 'high-sha256' ? { kind: 'hls-sha256', secret: auth.secret } : session === undefined ? undefined : { kind: 'hls-gmac', secure: session };
    if (proof === undefined) return { ok: false, outcome: reject(ctx, 'authentication-mechanism-name-not-recognised') };
    hlsSession = { proof, ctos, stoc: generateChallenge(16, services.random), clientSystemTitle: title, serverSystemTitle: systemTitle, pending: true };
  }
  return {
    ok: true,
    ui,
    systemTitle,
    ...(session === undefined ? {} : { session }),
    ...(hlsSession === undefined ? {} : { hls: hlsSession }),
  };
}

export function associate(
  aarq: Aarq,
  session: ServerSession,
  clients: readonly ClientAssociationConfig[],
  limits: ResolvedLimits,
  rejectAll: boolean,
  services?: SecurityServices,
): AssociateOutcome {
  const ctx = aarq.applicationContext;
  if (rejectAll) return reject(ctx, 'no-reason-given');
  if (ctx !== 'ln' && ctx !== 'ln-ciphering') return reject('ln', 'application-context-name-not-supported');
  const client = clients.find((c) => c.clientAddress === session.clientAddress);
  if (client === undefined) return reject(ctx, 'no-reason-given');
  const authError = authenticate(aarq, client);
  if (authError !== undefined) return reject(ctx, authError);
  const secure = startSecure(aarq, client, services);
  if (!secure.ok) return secure.outcome;

  const ui = secure.ui;
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
    mechanism: secure.hls?.proof.kind ?? (client.authentication.mechanism === 'low' ? 'lls' : 'none'),
  };
  const initiate: UserInformation = {
    kind: 'initiate-response',
    response: {
      negotiatedDlmsVersion: DLMS_VERSION,
      negotiatedConformance: granted,
      serverMaxReceivePduSize: limits.maxReceivePduSize,
      vaaName: VAA_NAME_LN,
    },
  };
  const sec = secure.session;
  let userInformation: UserInformation = initiate;
  if (sec?.ciphered === true) {
    const bytes = cipherResponse(encodeUserInformation(initiate), sec, 'global');
    if (bytes === undefined) return reject(ctx, 'no-reason-given', 'other');
    userInformation = { kind: 'raw', bytes };
  }
  const hls = secure.hls;
  const aare: Aare = {
    type: 'aare',
    applicationContext: ctx,
    result: 'accepted',
    diagnostic: { source: 'acse-service-user', value: AcseServiceUserDiagnostic[hls === undefined ? 'null' : 'authentication-required'] },
    ...(secure.systemTitle === undefined ? {} : { respondingApTitle: secure.systemTitle }),
    ...(hls === undefined ? {} : { acseRequirements: { authentication: true }, mechanism: hls.proof.kind, respondingAuthenticationValue: hls.stoc }),
    userInformation,
  };
  return { accepted: true, aare, association, ...(sec === undefined ? {} : { secure: sec }), ...(hls === undefined ? {} : { hls }) };
}
