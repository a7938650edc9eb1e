/**
 * HLS pass 3/4 on the client side, per mechanism: what we answer to the meter's challenge
 * StoC (sent through Association LN method 1, reply_to_HLS_authentication) and how we check
 * the meter's answer f(CtoS) (the method's return value).
 *
 *   HLS-GMAC (5):   f(StoC) = SC ‖ IC ‖ GMAC tag, with a freshly reserved invocation counter.
 *   HLS-SHA256 (6): f(StoC) = SHA-256(secret ‖ ST-C ‖ ST-S ‖ StoC ‖ CtoS); the meter answers
 *                   SHA-256(secret ‖ ST-S ‖ ST-C ‖ CtoS ‖ StoC). No keys or counters needed.
 *
 * The secret and keys never reach a message or a logger.
 */
import type { MechanismName } from '../apdu/acse-values';
import { DcuError, ErrorCode } from '../common/errors';
import { bytesEqual } from '../common/hex';
import { hlsSha256ClientResponse, verifyHlsGmac, verifyHlsSha256ServerResponse } from '../security';
import type { SecureChannel } from './secure-channel';

/** What one exchange of pass 3/4 knows. */
export interface HlsExchange {
  readonly ctos: Uint8Array;
  readonly stoc: Uint8Array;
  /** The meter's system title (responding AP title of the AARE). */
  readonly serverSystemTitle: Uint8Array;
}

export interface HlsProver {
  /** Mechanism name in the AARQ. */
  readonly mechanism: Extract<MechanismName, 'hls-gmac' | 'hls-sha256'>;
  /** For messages: "HLS-GMAC" / "HLS-SHA256". */
  readonly label: string;
  /** What a refusal of our reply most likely means. */
  readonly refusalHint: string;
  /** f(StoC). */
  reply(x: HlsExchange): Promise<Uint8Array>;
  /** Checks the meter's f(CtoS); throws AssociationAuthFailed. */
  verify(response: Uint8Array, x: HlsExchange): void;
}

/** HLS-GMAC with the channel's keys and counters. */
export function gmacProver(channel: SecureChannel): HlsProver {
  return {
    mechanism: 'hls-gmac',
    label: 'HLS-GMAC',
    refusalHint: 'wrong authentication or block key',
    reply: (x) => channel.hlsReply(x.stoc),
    verify(response, x) {
      // Not fed to the replay guard: f(CtoS) is bound to our fresh challenge, and the meter may
      // compute it with a counter below the one of the ciphered response that carries it.
      verifyHlsGmac({ response, challenge: x.ctos, systemTitle: x.serverSystemTitle, blockKey: channel.security.blockKey, authKey: channel.security.authKey });
    },
  };
}

/** HLS-SHA256 with the shared secret and our system title. */
export function sha256Prover(secret: Uint8Array, clientSystemTitle: Uint8Array): HlsProver {
  const params = (x: HlsExchange): Parameters<typeof hlsSha256ClientResponse>[0] => ({
    secret,
    clientSystemTitle,
    serverSystemTitle: x.serverSystemTitle,
    ctos: x.ctos,
    stoc: x.stoc,
  });
  return {
    mechanism: 'hls-sha256',
    label: 'HLS-SHA256',
    refusalHint: 'wrong HLS secret or system title',
    reply: (x) => Promise.resolve(hlsSha256ClientResponse(params(x))),
    verify(response, x) {
      verifyHlsSha256ServerResponse({ ...params(x), response });
    },
  };
}

/** Our system title for HLS-SHA256: the security options' or, without them, the authentication's. */
export function sha256ClientTitle(optionTitle: Uint8Array | undefined, securityTitle: Uint8Array | undefined): Uint8Array {
  const title = securityTitle ?? optionTitle;
  if (title === undefined) {
    throw new DcuError(ErrorCode.SecurityUnsupported, 'HLS-SHA256 needs our system title (authentication.systemTitle, or the security options)');
  }
  if (title.length !== 8) throw new DcuError(ErrorCode.InvalidValue, `client system title is ${title.length} bytes, expected 8`, { context: { length: title.length } });
  if (optionTitle !== undefined && securityTitle !== undefined && !bytesEqual(optionTitle, securityTitle)) {
    throw new DcuError(ErrorCode.InvalidValue, 'authentication.systemTitle differs from security.systemTitle: give it once');
  }
  return title;
}
