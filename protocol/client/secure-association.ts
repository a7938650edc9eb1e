/**
 * The security-specific steps of association establishment (client side), kept out of
 * DlmsClient so each is testable on its own:
 *
 *   AARQ  ln-ciphering, calling AP title = our system title, mechanism hls-gmac or hls-sha256, CtoS,
 *         user-information = glo-initiate-request (InitiateRequest ciphered with the GUEK)
 *   AARE  decipher glo-initiate-response with the meter's system title (responding AP title),
 *         expect "authentication required" + StoC
 *   pass 3/4: Association LN method 1 with f(StoC); the return value is the meter's f(CtoS)
 *         (per mechanism: hls-auth.ts).
 */
import type { Aare } from '../apdu/aarq';
import { AcseServiceUserDiagnostic } from '../apdu/acse-values';
import { decodeUserInformation, type UserInformation } from '../apdu/initiate';
import type { Data } from '../axdr/data';
import { DcuError, ErrorCode } from '../common/errors';
import { SYSTEM_TITLE_LENGTH, isCipheredTag } from '../security';
import type { SecureChannel } from './secure-channel';

/** ServiceError application-reference value 6: the meter could not decipher the request. */
const DECIPHERING_ERROR = 6;

export type OpenedAare =
  | { readonly ok: true; readonly aare: Aare }
  /** The meter could not decipher our AARQ: wrong keys or system title, or a stale invocation counter. */
  | { readonly ok: false; readonly error: DcuError };

function decipheringRefusal(ui: UserInformation | undefined): boolean {
  return ui?.kind === 'confirmed-service-error' && ui.error.errorType === 'application-reference' && ui.error.value === DECIPHERING_ERROR;
}

/**
 * Learns the meter's system title and deciphers the AARE user-information. A ciphered AARQ
 * answered with a plain InitiateResponse is refused (no silent downgrade).
 */
export function openSecureAare(aare: Aare, channel: SecureChannel): OpenedAare {
  const title = aare.respondingApTitle;
  if (title !== undefined) {
    if (title.length !== SYSTEM_TITLE_LENGTH) {
      throw new DcuError(ErrorCode.DecodeBadValue, `responding AP title is ${title.length} bytes, expected a ${SYSTEM_TITLE_LENGTH}-byte system title`);
    }
    channel.serverSystemTitle = title;
  }
  let ui = aare.userInformation;
  const wasCiphered = ui?.kind === 'raw' && isCipheredTag(ui.bytes[0] ?? 0);
  if (ui?.kind === 'raw' && wasCiphered) {
    try {
      ui = decodeUserInformation(channel.unprotect(ui.bytes).apdu);
    } catch (e) {
      // A refusal we cannot read is still a refusal; an accepted AARE must decipher.
      if (aare.result === 'accepted') throw e;
      ui = undefined;
    }
  }
  const rest: { -readonly [K in keyof Aare]: Aare[K] } = { ...aare };
  delete rest.userInformation;
  const opened: Aare = ui === undefined ? rest : { ...rest, userInformation: ui };
  if (aare.result !== 'accepted' && decipheringRefusal(ui)) {
    return {
      ok: false,
      error: new DcuError(
        ErrorCode.AssociationAuthFailed,
        'the meter could not decipher the AARQ: wrong block or authentication key, wrong system title, or an invocation counter the meter already saw',
        { context: { diagnostic: aare.diagnostic.value } },
      ),
    };
  }
  if (aare.result === 'accepted' && channel.ciphered && !wasCiphered) {
    throw new DcuError(ErrorCode.SecurityUnsupported, `the meter answered a ciphered AARQ with a plain InitiateResponse (policy ${channel.policy})`);
  }
  return { ok: true, aare: opened };
}

/**
 * The meter's challenge StoC and system title of an accepted HLS AARE (diagnostic must be
 * authentication-required); `label` names the mechanism in messages.
 */
export function hlsChallenge(aare: Aare, label: string): { readonly stoc: Uint8Array; readonly serverSystemTitle: Uint8Array } {
  const d = aare.diagnostic;
  if (d.source !== 'acse-service-user' || d.value !== AcseServiceUserDiagnostic['authentication-required']) {
    throw new DcuError(ErrorCode.AssociationAuthFailed, `the meter accepted the ${label} AARQ without asking for authentication (diagnostic ${d.value}): it is not checking our credentials`);
  }
  const stoc = aare.respondingAuthenticationValue;
  if (stoc === undefined || stoc.length < 8 || stoc.length > 64) {
    throw new DcuError(ErrorCode.AssociationAuthFailed, `the meter sent no usable challenge StoC (${stoc === undefined ? 'none' : `${stoc.length} bytes`})`);
  }
  const title = aare.respondingApTitle;
  if (title?.length !== SYSTEM_TITLE_LENGTH) {
    throw new DcuError(
      ErrorCode.AssociationAuthFailed,
      `the meter sent no ${SYSTEM_TITLE_LENGTH}-byte system title (responding AP title ${title === undefined ? 'absent' : `of ${title.length} bytes`}): ${label} cannot verify it`,
    );
  }
  return { stoc, serverSystemTitle: title };
}

/** The invocation counter object's value as a number (uint8..uint64). */
export function counterValue(d: Data): number {
  switch (d.type) {
    case 'uint8':
    case 'uint16':
    case 'uint32':
      return d.value;
    case 'uint64':
      if (d.value <= 0xffffffffn) return Number(d.value);
      break;
    default:
      break;
  }
  throw new DcuError(ErrorCode.DecodeBadValue, `invocation counter object holds ${d.type}, expected an unsigned integer up to 2^32-1`);
}
