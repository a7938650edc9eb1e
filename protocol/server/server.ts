/**
 * DlmsServer: the meter's application layer over a COSEM object model (LN referencing,
 * security suite 0: HLS-GMAC and ciphered service APDUs per client; HLS-SHA256 with or without
 * ciphering). One instance per logical
 * device; per-session state (association, long transfers, security) keyed by ServerSession.id;
 * security setup state (keys, counters) per security setup instance, across sessions.
 *
 * Errors outside the services (all as exception-response, never a thrown exception):
 *   GET/SET/ACTION before an association      → service-not-allowed / operation-not-possible
 *   service or variant not negotiated         → service-not-allowed / service-not-supported
 *   request longer than max receive PDU size  → service-not-allowed / pdu-too-long
 *   unknown tag, response or ciphered APDU    → service-unknown / service-not-supported
 *     (a ciphered APDU outside a ciphered association)
 *   ciphered request that does not decipher   → service-not-allowed / deciphering-error
 *   ciphered request with a replayed counter  → service-not-allowed / invocation-counter-error
 *                                               (carrying the last accepted counter)
 *   plain GET/SET/ACTION on a ciphered association, or anything but reply_to_HLS_authentication
 *     while HLS is pending                    → service-not-allowed / operation-not-possible
 * Answers to ciphered requests go back ciphered with the same key kind (glo-/ded-), except
 * exception-response which has no ciphered form.
 *   known request tag with a malformed body   → service-unknown / other-reason
 * A malformed AARQ is answered with an AARE rejected-permanent (acse-service-provider,
 * no-reason-given).
 *
 * General block transfer (when the conformance offers it and the client asked): a request
 * arriving as GBT blocks is reassembled (then deciphered, when ciphered) and its answer goes
 * back as GBT; a long answer to a plain request goes as GBT instead of GET/ACTION blocks.
 * See gbt.ts. GBT without an association → operation-not-possible; not negotiated →
 * service-not-supported; a reassembled request over 1 MiB → pdu-too-long.
 */
import { type Apdu, GENERAL_BLOCK_TRANSFER, decodeApdu, encodeApdu } from '../apdu';
import { AcseServiceProviderDiagnostic } from '../apdu/acse-values';
import type { ExceptionResponse, ExceptionServiceError, StateError } from '../apdu/errors';
import { DcuError, ErrorCode } from '../common/errors';
import { obisEquals, obisFromBytes } from '../cosem/obis';
import { cryptoRandom, isCipheredTag } from '../security';
import { handleAction } from './action';
import { associate } from './association';
import { AssociationLnObject, CURRENT_ASSOCIATION_OBIS } from './association-ln';
import type { ApduHandler, ServerSession } from './contract';
import { type GbtLimits, endExchange, newGbtState, onClientGbt, startResponse } from './gbt';
import { handleGet } from './get';
import type { ClientAssociationConfig, ServerObject } from './object';
import { InvocationCounterObject, SecuritySetupObject } from './security-objects';
import { mechanismId, replyToHls, type HlsSession } from './hls';
import { SecuritySetupState, cipherResponse, decipherRequest, type SecureSession } from './security-state';
import { type DlmsServerOptions, type ResolvedLimits, resolveLimits } from './options';
import { handleSet } from './set';
import { NOT_NEGOTIATED, type ServiceContext } from './service-context';
import type { Association, SessionState } from './state';

const REQUEST_TAGS: ReadonlySet<number> = new Set([0x60, 0x62, 0xc0, 0xc1, 0xc3]);

/** Largest answer a service builds when GBT carries it (the reassembly limit of a request, 1 MiB). */
const GBT_MAX_ANSWER = 1 << 20;

function exception(stateError: StateError, kind: Exclude<ExceptionServiceError['kind'], 'invocation-counter-error'>): ExceptionResponse {
  return { type: 'exception-response', stateError, serviceError: { kind } };
}

export class DlmsServer implements ApduHandler {
  private readonly sessions = new Map<string, SessionState>();
  private readonly limits: ResolvedLimits;
  private readonly secure = new Map<string, SecureSession>();
  /** HLS state (challenges, pass 3/4 pending) per session. */
  private readonly hls = new Map<string, HlsSession>();
  private readonly setups = new Map<number, SecuritySetupState>();
  /** Security setup and invocation counter objects of each instance. */
  private readonly securityObjects: ServerObject[] = [];
  /** The server's own current-association object (used when the model has none). */
  readonly associationObject: AssociationLnObject;

  constructor(private readonly options: DlmsServerOptions) {
    this.limits = resolveLimits(options.limits);
    this.associationObject = new AssociationLnObject({
      association: (session) => this.sessions.get(session.id)?.association,
      objects: () => this.allObjects(),
      names: (session) => {
        const sec = this.secure.get(session.id);
        const mechanism = this.sessions.get(session.id)?.association?.mechanism ?? 'none';
        return { context: sec?.ciphered === true ? 3 : 1, mechanism: mechanismId(mechanism) };
      },
    });
    for (const c of options.clients) {
      const a = c.authentication;
      if (a.mechanism === 'high-sha256' && c.security === undefined && a.systemTitle?.length !== 8) {
        throw new DcuError(ErrorCode.Config, `client ${c.clientAddress}: HLS-SHA256 without a security setup needs the meter's 8-byte system title`, {
          context: { clientAddress: c.clientAddress },
        });
      }
    }
    for (const c of options.clients) {
      if (c.security === undefined) continue;
      const instance = c.security.instance ?? 0;
      if (this.setups.has(instance)) continue;
      const setup = new SecuritySetupState(c.security);
      this.setups.set(instance, setup);
      this.securityObjects.push(new SecuritySetupObject(setup), new InvocationCounterObject(setup));
    }
  }

  /** Security setup state of an instance (keys, counters), for tests and the simulator. */
  securitySetup(instance = 0): SecuritySetupState | undefined {
    return this.setups.get(instance);
  }

  private setupFor(client: ClientAssociationConfig): SecuritySetupState | undefined {
    return client.security === undefined ? undefined : this.setups.get(client.security.instance ?? 0);
  }

  handle(apdu: Uint8Array, session: ServerSession): Uint8Array | undefined {
    return this.handleBurst(apdu, session, 1)[0];
  }

  /**
   * Like handle(), for framings that can carry several answers to one request: a GBT
   * response streams up to the client's window (at most `burstLimit` APDUs now, the rest
   * when the client acknowledges).
   */
  handleBurst(apdu: Uint8Array, session: ServerSession, burstLimit = Number.POSITIVE_INFINITY): Uint8Array[] {
    try {
      if (apdu[0] === GENERAL_BLOCK_TRANSFER) return this.handleGbt(apdu, session, burstLimit);
      const answer = this.answer(apdu, session, false);
      if (answer === undefined) return [];
      const state = this.sessions.get(session.id);
      const association = state?.association;
      if (state === undefined || association === undefined || !association.conformance.has('general-block-transfer')) return [answer];
      const g = (state.gbt ??= newGbtState());
      endExchange(g);
      // A long answer to a plain request: GBT, one block first (the client's window is not known).
      if (answer.length <= association.maxSendPduSize) return [answer];
      return startResponse(g, answer, this.gbtLimits(association.maxSendPduSize, burstLimit), false);
    } catch (e) {
      // A bug or a model that returned something unencodable: still answer.
      this.options.onInternalError?.(e, session);
      return [encodeApdu(exception('service-not-allowed', 'other-reason'))];
    }
  }

  private gbtLimits(maxSend: number, burstLimit: number): GbtLimits {
    return { window: this.limits.gbtWindow, maxSend, burstLimit, maxIncoming: this.limits.maxReassembledBytes };
  }

  /** A GBT APDU: reassemble the request, answer it as a GBT stream, or go on with the stream. */
  private handleGbt(apdu: Uint8Array, session: ServerSession, burstLimit: number): Uint8Array[] {
    const state = this.sessions.get(session.id);
    const association = state?.association;
    if (state === undefined || association === undefined) return [encodeApdu(exception('service-not-allowed', 'operation-not-possible'))];
    if (!association.conformance.has('general-block-transfer')) return [encodeApdu(NOT_NEGOTIATED)];
    let g: Apdu;
    try {
      g = decodeApdu(apdu);
    } catch {
      return [encodeApdu(exception('service-unknown', 'other-reason'))];
    }
    if (g.type !== 'general-block-transfer') return [encodeApdu(exception('service-unknown', 'other-reason'))];
    const gbt = (state.gbt ??= newGbtState());
    const limits = this.gbtLimits(association.maxSendPduSize, burstLimit);
    const out = onClientGbt(gbt, g, limits);
    if (out.kind === 'send') return [...out.apdus];
    if (out.kind === 'too-long') return [encodeApdu(exception('service-not-allowed', 'pdu-too-long'))];
    const answer = this.answer(out.apdu, session, true);
    // The request was GBT, so the answer is too (even when it fits one APDU).
    return answer === undefined ? [] : startResponse(gbt, answer, limits, true);
  }

  /** One complete request APDU (plain or ciphered) → its complete answer. */
  private answer(apdu: Uint8Array, session: ServerSession, reassembled: boolean): Uint8Array | undefined {
    const sec = this.secure.get(session.id);
    const tag = apdu[0] ?? 0;
    if (sec?.ciphered === true && isCipheredTag(tag)) return this.handleCiphered(apdu, session, sec, reassembled);
    if (sec?.ciphered === true && REQUEST_TAGS.has(tag) && tag !== 0x60 && tag !== 0x62) {
      return encodeApdu(exception('service-not-allowed', 'operation-not-possible'));
    }
    if (reassembled && (tag === 0x60 || tag === 0x62)) return encodeApdu(exception('service-not-allowed', 'operation-not-possible'));
    const answer = this.dispatch(apdu, session, reassembled);
    return answer === undefined ? undefined : encodeApdu(answer);
  }

  private handleCiphered(apdu: Uint8Array, session: ServerSession, sec: SecureSession, reassembled: boolean): Uint8Array | undefined {
    const d = decipherRequest(apdu, sec);
    if (!d.ok) return encodeApdu(d.answer);
    const answer = this.dispatch(d.plain, session, reassembled);
    if (answer === undefined) return undefined;
    const plain = encodeApdu(answer);
    if (answer.type === 'exception-response') return plain;
    return cipherResponse(plain, sec, d.keyKind) ?? encodeApdu(exception('service-not-allowed', 'other-reason'));
  }

  release(session: ServerSession): void {
    this.sessions.delete(session.id);
    this.secure.delete(session.id);
    this.hls.delete(session.id);
  }

  /** The session's association, if established (for tests, logs, the simulator). */
  association(session: ServerSession): Association | undefined {
    return this.sessions.get(session.id)?.association;
  }

  /** The server's own objects the model does not replace: current association, security setups, counters. */
  private ownObjects(): ServerObject[] {
    return [this.associationObject, ...this.securityObjects].filter((o) => this.options.model.find(o.classId, o.obis) === undefined);
  }

  /** Objects as object_list shows them: the current association first, then the model's, then security objects. */
  allObjects(): readonly ServerObject[] {
    const own = this.ownObjects();
    const assoc = own.filter((o) => o === this.associationObject);
    return [...assoc, ...this.options.model.objects(), ...own.filter((o) => o !== this.associationObject)];
  }

  private find(classId: number, instanceId: Uint8Array): ServerObject | undefined {
    if (instanceId.length !== 6) return undefined;
    const obis = obisFromBytes(instanceId);
    const o = this.options.model.find(classId, obis);
    if (o !== undefined) return o;
    return this.ownObjects().find((x) => x.classId === classId && obisEquals(x.obis, obis));
  }

  private dispatch(bytes: Uint8Array, session: ServerSession, reassembled = false): Apdu | undefined {
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
      const out = associate(apdu, session, this.options.clients, this.limits, this.options.faults?.rejectAssociations === true, {
        setupFor: (c) => this.setupFor(c),
        random: this.options.random ?? cryptoRandom,
      });
      this.sessions.set(session.id, out.accepted ? { association: out.association } : {});
      if (out.accepted && out.secure !== undefined) this.secure.set(session.id, out.secure);
      else this.secure.delete(session.id);
      if (out.accepted && out.hls !== undefined) this.hls.set(session.id, out.hls);
      else this.hls.delete(session.id);
      return out.aare;
    }
    if (apdu.type === 'rlrq') {
      this.sessions.delete(session.id);
      this.secure.delete(session.id);
      this.hls.delete(session.id);
      return { type: 'rlre', reason: 0 };
    }
    if (apdu.type !== 'get-request' && apdu.type !== 'set-request' && apdu.type !== 'action-request') {
      return exception('service-unknown', 'service-not-supported');
    }
    const association = state.association;
    if (association === undefined) return exception('service-not-allowed', 'operation-not-possible');
    if (!reassembled && bytes.length > this.limits.maxReceivePduSize) return exception('service-not-allowed', 'pdu-too-long');
    const hls = this.hls.get(session.id);
    if (hls?.pending === true) return this.hlsPass3(apdu, hls);
    if (!(apdu.type === 'get-request' && apdu.kind === 'next')) delete state.longGet;

    const ctx: ServiceContext = {
      state,
      // With GBT the answer is split below the service: services build it whole.
      association: association.conformance.has('general-block-transfer') ? { ...association, maxSendPduSize: GBT_MAX_ANSWER } : association,
      request: { session, clientAddress: session.clientAddress, now: this.options.clock.now() },
      find: (classId, instanceId) => this.find(classId, instanceId),
      maxReassembledBytes: this.limits.maxReassembledBytes,
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

  /** While HLS is pending only reply_to_HLS_authentication (Association LN method 1) is served. */
  private hlsPass3(apdu: Apdu, hls: HlsSession): Apdu {
    if (apdu.type !== 'action-request' || apdu.kind !== 'normal') return exception('service-not-allowed', 'operation-not-possible');
    const m = apdu.method;
    if (m.classId !== 15 || m.methodId !== 1 || m.instanceId.length !== 6 || !obisEquals(obisFromBytes(m.instanceId), CURRENT_ASSOCIATION_OBIS)) {
      return exception('service-not-allowed', 'operation-not-possible');
    }
    const out = replyToHls(hls, apdu.parameters);
    return {
      type: 'action-response',
      kind: 'normal',
      invoke: apdu.invoke,
      outcome: out.returnValue === undefined ? { result: out.result } : { result: out.result, returnParameters: { kind: 'data', data: out.returnValue } },
    };
  }
}
