/**
 * Association establishment, client side: AARQ/AARE for the plain, LLS and HLS-SHA256
 * contexts, the ciphered context with invocation-counter recovery, and HLS pass 3/4. Kept out
 * of DlmsClient (which does the services once associated); it reaches the link and the
 * services through the narrow AssociationHost the client hands it.
 */
import type { Apdu } from '../apdu';
import { encodeApdu } from '../apdu';
import type { Aare } from '../apdu/aarq';
import { encodeUserInformation, type UserInformation } from '../apdu/initiate';
import { ActionResult } from '../apdu/results';
import type { Data } from '../axdr/data';
import { DcuError, ErrorCode } from '../common/errors';
import type { Logger } from '../common/log';
import type { CosemRef } from '../cosem/classes';
import type { Obis } from '../cosem/obis';
import { ReplayGuard, generateChallenge } from '../security';
import { acceptAare, buildAarq, initiateRequest, type Negotiated } from './association';
import { exceptionError, unexpected } from './errors';
import { gmacProver, sha256ClientTitle, sha256Prover, type HlsProver } from './hls-auth';
import type { ClientOptions, ClientSecurity } from './options';
import { hlsChallenge, openSecureAare } from './secure-association';
import { SecureChannel } from './secure-channel';

const CURRENT_ASSOCIATION: Obis = [0, 0, 40, 0, 0, 255];

/** What establishment needs of the client: its options, the link, one ACTION, and where the result goes. */
export interface AssociationHost {
  readonly options: ClientOptions;
  readonly log: Logger;
  /** The meter's counters, across the associations of this client. */
  readonly guard: ReplayGuard;
  /** Sets up the link layer (SNRM/UA on HDLC). */
  connectLink(): Promise<void>;
  disconnectLink(): Promise<void>;
  /** One request APDU out, one answer APDU back, nothing ciphered by the channel. */
  exchangeRaw(request: Uint8Array, what: string): Promise<Apdu>;
  /** An ACTION on the association being opened (HLS pass 3). */
  action(ref: CosemRef, parameters: Data): Promise<{ result: ActionResult; returnValue?: { ok: true; data: Data } | { ok: false; result: number } }>;
  /** Runs fn under the association's overall deadline. */
  bounded<T>(what: string, fn: () => Promise<T>): Promise<T>;
  /** Reads the meter's invocation counter with the public client and moves the store above it. */
  syncCounter(sec: ClientSecurity): Promise<void>;
  /** The association is open (channel: the ciphering of service APDUs, when ciphered). */
  opened(negotiated: Negotiated, channel: SecureChannel | undefined): void;
  /** Nothing is associated (an HLS pass 3/4 failed). */
  closed(): void;
}

type SecureAttempt = { ok: true; negotiated: Negotiated } | { ok: false; error: DcuError };

/** Plain LN context: no security, LLS, or HLS-SHA256 without ciphering. */
export async function associatePlain(host: AssociationHost): Promise<Negotiated> {
  const options = host.options;
  const auth = options.authentication;
  if (auth.mechanism === 'high-gmac') {
    throw new DcuError(ErrorCode.SecurityUnsupported, 'HLS-GMAC needs the security options (system title, block key, authentication key, counter store)');
  }
  // HLS-SHA256 without ciphering: plain LN context, but our system title and CtoS go in the AARQ.
  const sha256 = auth.mechanism === 'high-sha256' ? { title: sha256ClientTitle(auth.systemTitle, undefined), secret: auth.secret } : undefined;
  await host.connectLink();
  const ctos = sha256 === undefined ? undefined : generateChallenge(16);
  const aarq =
    sha256 === undefined || ctos === undefined
      ? buildAarq(options)
      : buildAarq(options, {
          systemTitle: sha256.title,
          ciphered: false,
          userInformation: { kind: 'initiate-request', request: initiateRequest(options.maxPduSize, undefined, options.gbt?.enabled !== false) },
          ctos,
        });
  const answer = await host.exchangeRaw(encodeApdu(aarq), 'association request');
  if (answer.type === 'exception-response') throw exceptionError(answer);
  if (answer.type !== 'aare') throw unexpected('AARQ', answer.type);
  const negotiated = acceptAare(answer, options);
  host.opened(negotiated, undefined);
  if (sha256 !== undefined && ctos !== undefined) await hlsPass34(host, answer, ctos, sha256Prover(sha256.secret, sha256.title));
  host.log.debug({ conformance: [...negotiated.conformance], serverMaxPdu: negotiated.serverMaxPduSize }, 'associated');
  return negotiated;
}

/**
 * Secured association. Invocation counter recovery ('auto'): when the store has no counter
 * for this key yet, or the meter refuses our AARQ as undecipherable (or answers
 * invocation-counter-error), read the meter's invocation counter object with the public
 * client, continue at value + 1, and try once more. A second refusal is the keys' fault:
 * AssociationAuthFailed.
 */
export async function associateSecure(host: AssociationHost, sec: ClientSecurity): Promise<Negotiated> {
  const sync = sec.counterSync ?? 'auto';
  // HLS-SHA256 on a plain context uses no invocation counter at all.
  const usesCounters = sec.policy !== 'none' || host.options.authentication.mechanism === 'high-gmac';
  let synced = false;
  if (usesCounters && (sync === 'always' || (sync === 'auto' && (await sec.counterStore.peek(sec.counterKeyId)) === 0))) {
    await host.syncCounter(sec);
    synced = true;
  }
  const attempt = (): Promise<SecureAttempt> =>
    host.bounded('secured association', async () => {
      await host.connectLink();
      return secureAttempt(host, sec);
    });
  const first = await attempt();
  if (first.ok) return first.negotiated;
  if (synced || sync === 'never' || !usesCounters) throw first.error;
  host.log.info({ keyId: sec.counterKeyId }, 'meter refused the AARQ: reading its invocation counter and retrying once');
  await host.disconnectLink();
  await host.syncCounter(sec);
  const second = await attempt();
  if (second.ok) return second.negotiated;
  throw second.error;
}

async function secureAttempt(host: AssociationHost, sec: ClientSecurity): Promise<SecureAttempt> {
  const options = host.options;
  const channel = new SecureChannel({ ...sec, replayGuard: host.guard });
  const auth = options.authentication;
  const prover: HlsProver | undefined =
    auth.mechanism === 'high-gmac' ? gmacProver(channel) : auth.mechanism === 'high-sha256' ? sha256Prover(auth.secret, sha256ClientTitle(auth.systemTitle, sec.systemTitle)) : undefined;
  const ctos = prover === undefined ? undefined : generateChallenge(16, channel.random);
  const initiate: UserInformation = { kind: 'initiate-request', request: initiateRequest(options.maxPduSize, channel.dedicatedKey, options.gbt?.enabled !== false) };
  const userInformation: UserInformation = channel.ciphered ? { kind: 'raw', bytes: await channel.protect(encodeUserInformation(initiate), 'global') } : initiate;
  const aarq = buildAarq(options, { systemTitle: sec.systemTitle, ciphered: channel.ciphered, userInformation, ...(ctos === undefined ? {} : { ctos }) });
  const answer = await host.exchangeRaw(encodeApdu(aarq), 'association request');
  if (answer.type === 'exception-response') {
    const error = exceptionError(answer);
    if (answer.serviceError.kind !== 'invocation-counter-error') throw error;
    await sec.counterStore.advanceTo(sec.counterKeyId, Math.min(answer.serviceError.invocationCounter + 1, 0x1_0000_0000));
    return { ok: false, error };
  }
  if (answer.type !== 'aare') throw unexpected('AARQ', answer.type);
  const opened = openSecureAare(answer, channel);
  if (!opened.ok) return opened;
  const negotiated = acceptAare(opened.aare, options);
  host.opened(negotiated, channel.ciphered ? channel : undefined);
  if (prover !== undefined && ctos !== undefined) await hlsPass34(host, opened.aare, ctos, prover);
  host.log.debug(
    { conformance: [...negotiated.conformance], serverMaxPdu: negotiated.serverMaxPduSize, policy: sec.policy, dedicated: channel.dedicatedKey !== undefined },
    'associated (secured)',
  );
  return { ok: true, negotiated };
}

/**
 * HLS pass 3/4: f(StoC) through reply_to_HLS_authentication, then the meter's f(CtoS)
 * checked. Any failure leaves no association behind (AssociationAuthFailed for a refusal
 * or an answer that does not verify).
 */
async function hlsPass34(host: AssociationHost, aare: Aare, ctos: Uint8Array, prover: HlsProver): Promise<void> {
  try {
    const { stoc, serverSystemTitle } = hlsChallenge(aare, prover.label);
    const x = { ctos, stoc, serverSystemTitle };
    const outcome = await host.action({ classId: 15, obis: CURRENT_ASSOCIATION, index: 1 }, { type: 'octet-string', value: await prover.reply(x) });
    if (outcome.result !== ActionResult.success) {
      throw new DcuError(ErrorCode.AssociationAuthFailed, `the meter refused our ${prover.label} reply (action result ${outcome.result}): ${prover.refusalHint}`, {
        context: { result: outcome.result },
      });
    }
    const rv = outcome.returnValue;
    if (rv?.ok !== true || rv.data.type !== 'octet-string') {
      const what = rv === undefined ? 'nothing' : rv.ok ? rv.data.type : `data-access-result ${rv.result}`;
      throw new DcuError(ErrorCode.AssociationAuthFailed, `the meter answered reply_to_HLS_authentication without f(CtoS) (${what})`);
    }
    prover.verify(rv.data.value, x);
  } catch (e) {
    host.closed();
    throw e;
  }
}
