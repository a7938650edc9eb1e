/**
 * What both meter-side stations (HDLC: station.ts, wrapper: wrapper-station.ts) share: the
 * logger and session hook options, and the one policy for a handler that breaks its contract
 * and throws. A throwing handler never takes the station down: the error is logged and
 * counted, the request is answered as the protocol allows, and the station keeps serving:
 *
 *   AARQ (60)                              → AARE rejected-permanent (acse-service-provider,
 *                                            no-reason-given), as for a malformed AARQ
 *   GET/SET/ACTION, ciphered (glo-/ded-/   → exception-response service-not-allowed /
 *   general-) and GBT requests               other-reason (it has no ciphered form)
 *   anything else (RLRQ, unconfirmed, …)   → no answer (HDLC answers the poll with RR)
 *
 * A throwing release() or session hook is logged and ignored.
 */
import { encodeApdu, type Apdu } from '../apdu';
import { AcseServiceProviderDiagnostic } from '../apdu/acse-values';
import type { Logger } from '../common/log';
import type { HdlcParameters } from '../hdlc/params';
import type { ApduHandler, ServerSession } from './contract';

/** A session starts (SNRM accepted, first wrapper frame of a client) or ends (DISC, timeout, close). */
export type StationSessionEvent =
  | { readonly type: 'opened'; readonly session: ServerSession; readonly params?: HdlcParameters }
  | { readonly type: 'closed'; readonly session: ServerSession; readonly reason: string };

export interface StationCommonOptions {
  readonly handler: ApduHandler;
  /** Session starts/ends, handler errors (default: silent). Frames are not logged here. */
  readonly log?: Logger;
  /** Called when a session opens or closes (after the handler's release()). */
  readonly onSession?: (event: StationSessionEvent) => void;
  /** Prefix of session ids (default '<framing>-N'): name it after the line or connection. */
  readonly name?: string;
}

/** Counters a station keeps (for tests and the simulator's statistics). */
export interface StationStats {
  /** Complete APDUs handed to the handler. */
  requests: number;
  /** Times the handler threw (each answered per the policy above). */
  handlerErrors: number;
}

let stationCounter = 0;

/** A default, process-unique station name. */
export function nextStationName(framing: string): string {
  return `${framing}-${++stationCounter}`;
}

/** xDLMS request tags answered with exception-response when the handler throws. */
const SERVICE_REQUEST_TAGS: ReadonlySet<number> = new Set([
  0xc0, 0xc1, 0xc3, // get, set, action
  0xc8, 0xc9, 0xcb, // glo-get, glo-set, glo-action
  0xd0, 0xd1, 0xd3, // ded-get, ded-set, ded-action
  0xdb, 0xdc, // general-glo-ciphering, general-ded-ciphering
  0xe0, // general-block-transfer
]);

/** The answer the protocol allows to a request whose handler threw (see the table above). */
export function answerToFailedRequest(apdu: Uint8Array): Uint8Array | undefined {
  const tag = apdu[0];
  if (tag === undefined) return undefined;
  let answer: Apdu | undefined;
  if (tag === 0x60) {
    answer = {
      type: 'aare',
      applicationContext: 'ln',
      result: 'rejected-permanent',
      diagnostic: { source: 'acse-service-provider', value: AcseServiceProviderDiagnostic['no-reason-given'] },
    };
  } else if (SERVICE_REQUEST_TAGS.has(tag)) {
    answer = { type: 'exception-response', stateError: 'service-not-allowed', serviceError: { kind: 'other-reason' } };
  }
  return answer === undefined ? undefined : encodeApdu(answer);
}

/** Calls the handler for one complete request: every answer in order (a GBT stream gives several), never throws. */
export function answerRequest(
  handler: ApduHandler,
  apdu: Uint8Array,
  session: ServerSession,
  log: Logger,
  stats: StationStats,
): readonly Uint8Array[] {
  stats.requests++;
  try {
    if (handler.handleBurst !== undefined) return handler.handleBurst(apdu, session);
    const answer = handler.handle(apdu, session);
    return answer === undefined ? [] : [answer];
  } catch (err) {
    stats.handlerErrors++;
    const answer = answerToFailedRequest(apdu);
    log.error(
      { err, session: session.id, client: session.clientAddress, tag: apdu[0], answered: answer !== undefined },
      'meter handler threw (its contract says it must not): request answered as the protocol allows, station keeps serving; a bug in the meter model',
    );
    return answer === undefined ? [] : [answer];
  }
}

/** release() and the session hook, neither allowed to throw through the station. */
export function closeSession(opts: StationCommonOptions, session: ServerSession, reason: string, log: Logger): void {
  try {
    opts.handler.release(session);
  } catch (err) {
    log.error({ err, session: session.id }, 'meter handler threw in release(): ignored; a bug in the meter model');
  }
  log.debug({ session: session.id, client: session.clientAddress, reason }, 'session closed');
  notifySession(opts, { type: 'closed', session, reason }, log);
}

export function openSession(opts: StationCommonOptions, session: ServerSession, log: Logger, params?: HdlcParameters): void {
  log.debug({ session: session.id, client: session.clientAddress, ...(params === undefined ? {} : { params }) }, 'session opened');
  notifySession(opts, params === undefined ? { type: 'opened', session } : { type: 'opened', session, params }, log);
}

function notifySession(opts: StationCommonOptions, event: StationSessionEvent, log: Logger): void {
  try {
    opts.onSession?.(event);
  } catch (err) {
    log.error({ err, session: event.session.id }, 'station session hook threw: ignored');
  }
}
