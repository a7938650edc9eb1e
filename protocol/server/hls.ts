/**
 * The meter's side of HLS pass 3/4 (reply_to_HLS_authentication, Association LN method 1):
 * check the client's f(StoC), answer f(CtoS).
 *
 *   HLS-GMAC (mechanism 5):   GMAC with the security setup's keys; the meter's reply uses its
 *                             own next invocation counter.
 *   HLS-SHA256 (mechanism 6): SHA-256 over the shared secret, both system titles and both
 *                             challenges; no keys, no counters (works on a plain LN context).
 *
 * Secrets and keys never go into results.
 */
import { ActionResult } from '../apdu/results';
import type { Data } from '../axdr/data';
import { isDcuError } from '../common/errors';
import { hlsGmacResponse, hlsSha256ServerResponse, verifyHlsGmac, verifyHlsSha256ClientResponse } from '../security';
import type { SecureSession } from './security-state';

export type HlsProof =
  | { readonly kind: 'hls-gmac'; readonly secure: SecureSession }
  | { readonly kind: 'hls-sha256'; readonly secret: Uint8Array };

/** HLS state of one association. */
export interface HlsSession {
  readonly proof: HlsProof;
  /** The client's challenge (AARQ calling-authentication-value) and ours (AARE responding-authentication-value). */
  readonly ctos: Uint8Array;
  readonly stoc: Uint8Array;
  readonly clientSystemTitle: Uint8Array;
  readonly serverSystemTitle: Uint8Array;
  /** Pass 3/4 not done yet: only reply_to_HLS_authentication is allowed. */
  pending: boolean;
}

export interface HlsReply {
  readonly result: ActionResult;
  readonly returnValue?: Data;
}

/** f(CtoS) when `reply` proves the client's knowledge; undefined when it does not verify. */
function prove(h: HlsSession, reply: Uint8Array): Uint8Array | 'counter-exhausted' | undefined {
  try {
    if (h.proof.kind === 'hls-sha256') {
      const p = { secret: h.proof.secret, clientSystemTitle: h.clientSystemTitle, serverSystemTitle: h.serverSystemTitle, ctos: h.ctos, stoc: h.stoc };
      verifyHlsSha256ClientResponse({ ...p, response: reply });
      return hlsSha256ServerResponse(p);
    }
    const s = h.proof.secure;
    verifyHlsGmac({ response: reply, challenge: h.stoc, systemTitle: h.clientSystemTitle, blockKey: s.blockKey, authKey: s.authKey });
    const invocationCounter = s.setup.nextCounter();
    if (invocationCounter === undefined) return 'counter-exhausted';
    return hlsGmacResponse({ challenge: h.ctos, systemTitle: h.serverSystemTitle, invocationCounter, blockKey: s.blockKey, authKey: s.authKey });
  } catch (e) {
    if (isDcuError(e)) return undefined;
    throw e;
  }
}

/** reply_to_HLS_authentication: check f(StoC), answer f(CtoS); the association opens on success. */
export function replyToHls(h: HlsSession, parameters: Data | undefined): HlsReply {
  if (!h.pending) return { result: ActionResult.readWriteDenied };
  if (parameters?.type !== 'octet-string') return { result: ActionResult.typeUnmatched };
  const answer = prove(h, parameters.value);
  if (answer === undefined) return { result: ActionResult.readWriteDenied };
  if (answer === 'counter-exhausted') return { result: ActionResult.otherReason };
  h.pending = false;
  return { result: ActionResult.success, returnValue: { type: 'octet-string', value: answer } };
}

/** mechanism_id of an association's authentication (Association LN attribute 6). */
export function mechanismId(mechanism: 'none' | 'lls' | 'hls-gmac' | 'hls-sha256'): number {
  return mechanism === 'lls' ? 1 : mechanism === 'hls-gmac' ? 5 : mechanism === 'hls-sha256' ? 6 : 0;
}
