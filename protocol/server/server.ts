/**
 * DlmsServer: the meter's application layer over a COSEM object model (LN referencing,
 * no ciphering yet). One instance per logical device; per-session state (association,
 * long transfers) keyed by ServerSession.id.
 *
 * Errors outside the services (all as exception-response, never a thrown exception):
 *   GET/SET/ACTION before an association      → service-not-allowed / operation-not-possible
 *   service or variant not negotiated         → service-not-allowed / service-not-supported
 *   request longer than max receive PDU size  → service-not-allowed / pdu-too-long
 *   unknown tag, response or ciphered APDU    → service-unknown / service-not-supported
 *   known request tag with a malformed body   → service-unknown / other-reason
 * A malformed AARQ is answered with an AARE rejected-permanent (acse-service-provider,
 * no-reason-given).
 */
import { type Apdu, decodeApdu, encodeApdu } from '../apdu';
import { AcseServiceProviderDiagnostic } from '../apdu/acse-values';
import type { ExceptionResponse, ExceptionServiceError, StateError } from '../apdu/errors';
import { obisFromBytes } from '../cosem/obis';
import { handleAction } from './action';
import { associate } from './association';
import { AssociationLnObject, CURRENT_ASSOCIATION_OBIS } from './association-ln';
import type { ApduHandler, ServerSession } from './contract';
import { handleGet } from './get';
import type { ServerObject } from './object';
import { type DlmsServerOptions, type ResolvedLimits, resolveLimits } from './options';
import { handleSet } from './set';
import type { ServiceContext } from './service-context';
import type { Association, SessionState } from './state';

const REQUEST_TAGS: ReadonlySet<number> = new Set([0x60, 0x62, 0xc0, 0xc1, 0xc3]);

function exception(stateError: StateError, kind: Exclude<ExceptionServiceError['kind'], 'invocation-counter-error'>): ExceptionResponse {
  return { type: 'exception-response', stateError, serviceError: { kind } };
}

export class DlmsServer implements ApduHandler {
  private readonly sessions = new Map<string, SessionState>();
  private readonly limits: ResolvedLimits;
  /** The server's own current-association object (used when the model has none). */
  readonly associationObject: AssociationLnObject;

  constructor(private readonly options: DlmsServerOptions) {
    this.limits = resolveLimits(options.limits);
    this.associationObject = new AssociationLnObject({
      association: (session) => this.sessions.get(session.id)?.association,
      objects: () => this.allObjects(),
    });
  }

  handle(apdu: Uint8Array, session: ServerSession): Uint8Array | undefined {
    try {
      const answer = this.dispatch(apdu, session);
      return answer === undefined ? undefined : encodeApdu(answer);
    } catch (e) {
      // A bug or a model that returned something unencodable: still answer.
      this.options.onInternalError?.(e, session);
      return encodeApdu(exception('service-not-allowed', 'other-reason'));
    }
  }

  release(session: ServerSession): void {
    this.sessions.delete(session.id);
  }

  /** The session's association, if established (for tests, logs, the simulator). */
  association(session: ServerSession): Association | undefined {
    return this.sessions.get(session.id)?.association;
  }

  /** Objects as object_list shows them: the current association first, then the model's. */
  allObjects(): readonly ServerObject[] {
    const own = this.options.model.find(15, CURRENT_ASSOCIATION_OBIS);
    return own === undefined ? [this.associationObject, ...this.options.model.objects()] : this.options.model.objects();
  }

  private find(classId: number, instanceId: Uint8Array): ServerObject | undefined {
    if (instanceId.length !== 6) return undefined;
    const obis = obisFromBytes(instanceId);
    const o = this.options.model.find(classId, obis);
    if (o !== undefined) return o;
    const a = this.associationObject;
    return classId === a.classId && obis.every((v, i) => v === a.obis[i]) ? a : undefined;
  }

  private dispatch(bytes: Uint8Array, session: ServerSession): Apdu | undefined {
    let apdu: Apdu;
    try {
      apdu = decodeApdu(bytes);
    } catch {
      const tag = bytes[0];
      if (tag === 0x60) {
        return {
          type: 'aare',
          applicationContext: 'ln',
          result: 'rejected-permanent',
          diagnostic: { source: 'acse-service-provider', value: AcseServiceProviderDiagnostic['no-reason-given'] },
        };
      }
      return tag !== undefined && REQUEST_TAGS.has(tag) ? exception('service-unknown', 'other-reason') : exception('service-unknown', 'service-not-supported');
    }

    const state = this.sessions.get(session.id) ?? {};
    if (apdu.type === 'aarq') {
      const out = associate(apdu, session, this.options.clients, this.limits, this.options.faults?.rejectAssociations === true);
      this.sessions.set(session.id, out.accepted ? { association: out.association } : {});
      return out.aare;
    }
    if (apdu.type === 'rlrq') {
      this.sessions.delete(session.id);
      return { type: 'rlre', reason: 0 };
    }
    if (apdu.type !== 'get-request' && apdu.type !== 'set-request' && apdu.type !== 'action-request') {
      return exception('service-unknown', 'service-not-supported');
    }
    const association = state.association;
    if (association === undefined) return exception('service-not-allowed', 'operation-not-possible');
    if (bytes.length > this.limits.maxReceivePduSize) return exception('service-not-allowed', 'pdu-too-long');
    if (!(apdu.type === 'get-request' && apdu.kind === 'next')) delete state.longGet;

    const ctx: ServiceContext = {
      state,
      association,
      request: { session, clientAddress: session.clientAddress, now: this.options.clock.now() },
      find: (classId, instanceId) => this.find(classId, instanceId),
    };
    switch (apdu.type) {
      case 'get-request':
        return handleGet(apdu, ctx);
      case 'set-request':
        return handleSet(apdu, ctx);
      case 'action-request':
        return handleAction(apdu, ctx);
    }
  }
}
