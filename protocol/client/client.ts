import type { Apdu } from '../apdu';
import { decodeApdu, encodeApdu } from '../apdu';
import type { ActionRequest, ActionResponse } from '../apdu/action';
import type { AccessSelection, MethodDescriptor } from '../apdu/descriptors';
import type { GetRequest, GetResponse } from '../apdu/get';
import { invokeIdAndPriority, type InvokeIdAndPriority } from '../apdu/invoke';
import { ActionResult, DataAccessResult } from '../apdu/results';
import type { SetRequest, SetResponse } from '../apdu/set';
import { decodeData, encodeData } from '../axdr/codec';
import type { Data } from '../axdr/data';
import { systemClock } from '../common/clock';
import { DcuError, ErrorCode, isDcuError } from '../common/errors';
import { concatBytes } from '../common/hex';
import { nullLogger, type Logger } from '../common/log';
import type { CosemRef } from '../cosem/classes';
import { isSerialTransport, type ByteTransport } from '../transport/types';
import { ReplayGuard, isCipheredTag } from '../security';
import type { Negotiated } from './association';
import { counterValue } from './secure-association';
import { associatePlain, associateSecure, type AssociationHost } from './associate';
import { CIPHER_OVERHEAD, SecureChannel } from './secure-channel';
import { LinkDriver } from './driver';
import { GENERAL_BLOCK_TRANSFER_TAG, GbtChannel, type GbtIo, type GbtParams, nextOrSilence } from './gbt';
import { dataAccessError, exceptionError, serviceError, unexpected } from './errors';
import { createClientLink } from './links';
import { DEFAULT_CLIENT_OPTIONS, DEFAULT_GBT_WINDOW, DEFAULT_HDLC, type ClientOptions, type ClientSecurity, type Framing } from './options';
import { DEFAULT_MAX_REASSEMBLED_BYTES } from './options';
import { Deadline, fixedPlan, planDeadline } from './deadline';
import { attributeDescriptor, decodeGetDataResults, methodDescriptor, toGetOutcome, type ActionOutcome, type GetOutcome } from './outcomes';

export type { ActionOutcome, GetOutcome } from './outcomes';

export type ClientOptionsInput = Partial<Omit<ClientOptions, 'hdlc'>> & { framing: Framing; hdlc?: Partial<ClientOptions['hdlc']> };

/** Largest reassembled answer accepted from a meter by default (a hostile block stream cannot eat memory; limits.maxReassembledBytes). */
export const MAX_REASSEMBLED_BYTES = DEFAULT_MAX_REASSEMBLED_BYTES;

/** Blocks in a row that bring no data (and are not the last) before the meter is deemed stuck. */
const MAX_EMPTY_BLOCKS = 4;

/** Plain answers that must arrive ciphered on a ciphered association (GET/SET/ACTION responses). */
const SERVICE_RESPONSE_TAGS: ReadonlySet<number> = new Set([0xc4, 0xc5, 0xc7]);

/** Default invocation counter object (Data, attribute 2) of security setup 0. */
const DEFAULT_COUNTER_OBIS = [0, 0, 43, 1, 0, 255] as const;

/** Bytes of a SET/ACTION block request besides the block's raw data (tag, choice, invoke, descriptor, flags, number, length). */
const BLOCK_OVERHEAD = 24;

/**
 * One association with one meter. Open with connect(), then get/set/action; release() ends
 * the association and the link (the transport stays open for the next association on a
 * shared line); close() also closes the transport.
 */
export class DlmsClient {
  readonly options: ClientOptions;
  private driver: LinkDriver;
  private readonly log: Logger;
  private invokeCounter = 0;
  private negotiatedValue: Negotiated | undefined;
  /** Ciphers service APDUs while a ciphered association is open. */
  private channel: SecureChannel | undefined;
  /** The meter's counters, across the associations of this client. */
  private readonly guard: ReplayGuard;
  /** General block transfer state of the current association. */
  private gbt: GbtChannel;
  /** Overall deadline of the request or association in progress. */
  private deadline: Deadline | undefined;
  private readonly host: AssociationHost;

  constructor(
    private readonly transport: ByteTransport,
    input: ClientOptionsInput,
  ) {
    this.options = {
      ...DEFAULT_CLIENT_OPTIONS,
      clock: systemClock,
      logger: nullLogger,
      ...input,
      hdlc: { ...DEFAULT_HDLC, ...input.hdlc },
    };
    this.log = this.options.logger;
    this.guard = this.options.security?.replayGuard ?? new ReplayGuard();
    this.gbt = new GbtChannel(this.log);
    this.driver = this.attach();
    this.host = this.makeHost();
  }

  private attach(): LinkDriver {
    const link = createClientLink(this.options, () => {
      driver.pump();
    });
    const driver = new LinkDriver(this.transport, link, this.options.clock, this.log, () => this.deadline);
    return driver;
  }

  private get maxReassembled(): number {
    return this.options.limits?.maxReassembledBytes ?? DEFAULT_MAX_REASSEMBLED_BYTES;
  }

  /** Runs fn under an overall deadline (see ClientLimits); nested calls (the HLS reply inside connect) run under the outer one. */
  private async bounded<T>(what: string, kind: 'request' | 'association', fn: () => Promise<T>): Promise<T> {
    if (this.deadline !== undefined) return fn();
    const d = new Deadline(this.options.clock, what, planDeadline(kind, this.options, this.transport, this.exchangeTimeoutMs));
    this.deadline = d;
    try {
      return await fn();
    } finally {
      if (this.deadline === d) this.deadline = undefined;
    }
  }

  get negotiated(): Negotiated {
    if (!this.negotiatedValue) throw new DcuError(ErrorCode.AssociationNotOpen, 'no association: call connect() first');
    return this.negotiatedValue;
  }

  get isAssociated(): boolean {
    return this.negotiatedValue !== undefined;
  }

  /** Baud rate of a serial line (undefined on TCP/UDP): what a request's transfer time follows. */
  get lineBaudRate(): number | undefined {
    return isSerialTransport(this.transport) ? this.transport.settings.baudRate : undefined;
  }

  /** Silence watchdog for one exchange: the link retries per frame within it. */
  private get exchangeTimeoutMs(): number {
    return this.options.responseTimeoutMs * (this.options.retries + 1) + 500;
  }

  /** Opens the transport if needed, sets up the link, and associates (AARQ/AARE, HLS when asked). */
  async connect(): Promise<Negotiated> {
    if (this.options.security !== undefined) return this.connectNow();
    return this.bounded('association', 'association', () => this.connectNow());
  }

  private async connectNow(): Promise<Negotiated> {
    if (!this.transport.isOpen) await this.transport.open();
    this.gbt = new GbtChannel(this.log);
    const sec = this.options.security;
    return sec === undefined ? associatePlain(this.host) : associateSecure(this.host, sec);
  }

  /** What association establishment (associate.ts) reaches of this client. */
  private makeHost(): AssociationHost {
    return {
      options: this.options,
      log: this.log,
      guard: this.guard,
      connectLink: () => this.driver.connect(this.exchangeTimeoutMs),
      disconnectLink: () => this.driver.disconnect(this.options.responseTimeoutMs),
      exchangeRaw: (request, what) => this.exchangeRaw(request, what),
      action: (ref, parameters) => this.action(ref, parameters),
      bounded: (what, fn) => this.bounded(what, 'association', fn),
      syncCounter: (sec) => this.syncCounter(sec),
      opened: (negotiated, channel) => {
        this.negotiatedValue = negotiated;
        this.channel = channel;
      },
      closed: () => {
        this.negotiatedValue = undefined;
        this.channel = undefined;
      },
    };
  }

  /** Reads 0.0.43.1.x.255 as the public client on the same line and moves the store above it. */
  private async syncCounter(sec: ClientSecurity): Promise<void> {
    this.driver.detach();
    const rest: ClientOptions = { ...this.options };
    delete rest.security;
    const pub = new DlmsClient(this.transport, { ...rest, clientAddress: sec.publicClientAddress ?? 16, authentication: { mechanism: 'none' } });
    try {
      await pub.connect();
      const value = counterValue(await pub.getValue({ classId: 1, obis: sec.counterObis ?? [...DEFAULT_COUNTER_OBIS], index: 2 }));
      await sec.counterStore.advanceTo(sec.counterKeyId, Math.min(value + 1, 0x1_0000_0000));
      this.log.info({ keyId: sec.counterKeyId, meterCounter: value }, 'invocation counter read from the meter');
    } finally {
      await pub.detach();
      this.driver = this.attach();
    }
  }

  private nextInvoke(): InvokeIdAndPriority {
    this.invokeCounter = (this.invokeCounter + 1) & 0x0f;
    return invokeIdAndPriority(this.invokeCounter);
  }

  private async exchangeRaw(request: Uint8Array, what: string): Promise<Apdu> {
    const bytes = await this.driver.exchange(request, this.exchangeTimeoutMs);
    return this.decodeAnswer(bytes, what);
  }

  /** Ciphers a plain request when a ciphered association is open. */
  private async protect(plain: Uint8Array): Promise<Uint8Array> {
    return this.channel === undefined ? plain : this.channel.protect(plain);
  }

  private decodeAnswer(bytes: Uint8Array, what: string): Apdu {
    let plain = bytes;
    const tag = bytes[0] ?? 0;
    if (isCipheredTag(tag)) {
      if (this.channel === undefined) throw new DcuError(ErrorCode.SecurityUnsupported, `ciphered answer (tag 0x${tag.toString(16)}) to ${what} on an unciphered association`);
      plain = this.channel.unprotect(bytes).apdu;
    } else if (this.channel !== undefined && SERVICE_RESPONSE_TAGS.has(tag)) {
      throw new DcuError(ErrorCode.SecurityUnsupported, `plain answer (tag 0x${tag.toString(16)}) to ${what} on a ciphered association`);
    }
    try {
      return decodeApdu(plain);
    } catch (e) {
      if (isDcuError(e)) {
        throw new DcuError(e.code, `malformed answer to ${what}: ${e.message}`, { cause: e, context: e.context });
      }
      throw e;
    }
  }

  /**
   * Sends a confirmed request and returns the answer with the same invoke id. Stale answers
   * (another invoke id) and unsolicited notifications are skipped; exception and
   * confirmed-service-error answers become typed errors.
   */
  private async request(apdu: Apdu, invoke: InvokeIdAndPriority, what: string): Promise<Apdu> {
    const plain = encodeApdu(apdu);
    const bytes = await this.protect(plain);
    let answer = this.decodeAnswer(await this.send(bytes, what), what);
    for (;;) {
      if (answer.type === 'exception-response') {
        const sec = this.options.security;
        if (answer.serviceError.kind === 'invocation-counter-error' && sec !== undefined) {
          await sec.counterStore.advanceTo(sec.counterKeyId, Math.min(answer.serviceError.invocationCounter + 1, 0x1_0000_0000));
        }
        throw exceptionError(answer);
      }
      if (answer.type === 'confirmed-service-error') throw serviceError(answer);
      if (answer.type === 'data-notification' || answer.type === 'event-notification') {
        this.log.info({ type: answer.type }, 'unsolicited notification while waiting for an answer');
      } else if ('invoke' in answer && answer.invoke.invokeId !== invoke.invokeId) {
        this.log.debug({ expected: invoke.invokeId, got: answer.invoke.invokeId }, 'answer with another invoke id skipped');
      } else {
        return answer;
      }
      answer = this.decodeAnswer(await this.reassemble(await this.driver.nextApdu(this.exchangeTimeoutMs)), what);
    }
  }

  /** GBT is granted and not switched off. */
  private get gbtOn(): boolean {
    return this.options.gbt?.enabled !== false && this.negotiated.conformance.has('general-block-transfer');
  }

  private gbtParams(): GbtParams {
    const streaming = this.driver.canStream;
    // HDLC retransmits frames itself: there one wait covers the whole exchange.
    const blocksCanBeLost = streaming && this.options.framing !== 'hdlc';
    return {
      window: this.options.gbt?.window ?? DEFAULT_GBT_WINDOW,
      streaming,
      maxPdu: this.negotiated.serverMaxPduSize,
      timeoutMs: blocksCanBeLost ? this.options.responseTimeoutMs : this.exchangeTimeoutMs,
      retries: blocksCanBeLost ? this.options.retries : 0,
      maxBytes: this.maxReassembled,
    };
  }

  private get gbtIo(): GbtIo {
    return {
      send: (apdu, more) => {
        this.driver.send(apdu, more);
      },
      next: (timeoutMs) => nextOrSilence((ms) => this.driver.nextApdu(ms), timeoutMs),
      progress: (bytes) => this.deadline?.progress(bytes),
      retried: () => this.options.onRetry?.(1),
    };
  }

  /**
   * Sends one complete (protected) request and returns the complete answer bytes. With GBT
   * granted, a request longer than the meter's PDU goes as GBT blocks; on a link that can
   * stream every request does, so the meter can stream long answers in our window at once.
   */
  private async send(bytes: Uint8Array, what: string): Promise<Uint8Array> {
    const limit = this.negotiated.serverMaxPduSize;
    if (this.gbtOn && (bytes.length > limit || this.driver.canStream)) return this.gbt.exchange(bytes, this.gbtIo, this.gbtParams());
    if (bytes.length > limit) {
      throw new DcuError(ErrorCode.EncodeInvalid, `${what}: request of ${bytes.length} bytes exceeds the meter's max PDU of ${limit}`);
    }
    return this.reassemble(await this.driver.exchange(bytes, this.exchangeTimeoutMs));
  }

  /** An answer that starts a GBT stream (to a plain request) is received whole. */
  private async reassemble(bytes: Uint8Array): Promise<Uint8Array> {
    if (bytes[0] !== GENERAL_BLOCK_TRANSFER_TAG || !this.isAssociated) return bytes;
    if (!this.gbtOn) throw new DcuError(ErrorCode.MeterUnsupported, 'the meter answered with general-block-transfer, which this association did not negotiate');
    const first = this.decodeAnswer(bytes, 'general block transfer');
    if (first.type !== 'general-block-transfer') throw unexpected('general block transfer', first.type);
    return this.gbt.receive(first, this.gbtIo, this.gbtParams());
  }

  // ------------------------------------------------------------------ GET

  /** Reads one attribute, reassembling block transfers. */
  async get(ref: CosemRef, access?: AccessSelection): Promise<GetOutcome> {
    return this.bounded(`GET ${ref.classId}:${ref.obis.join('.')}:${ref.index}`, 'request', () => this.getNow(ref, access));
  }

  private async getNow(ref: CosemRef, access?: AccessSelection): Promise<GetOutcome> {
    const invoke = this.nextInvoke();
    const req: GetRequest = access
      ? { type: 'get-request', kind: 'normal', invoke, attribute: attributeDescriptor(ref), access }
      : { type: 'get-request', kind: 'normal', invoke, attribute: attributeDescriptor(ref) };
    const answer = await this.request(req, invoke, 'GET');
    return this.finishGet(this.asGetResponse(answer), invoke);
  }

  /** Reads one attribute and throws MeterDataAccess when the meter refuses. */
  async getValue(ref: CosemRef, access?: AccessSelection): Promise<Data> {
    const outcome = await this.get(ref, access);
    if (!outcome.ok) throw dataAccessError(outcome.result, `GET ${ref.classId}:${ref.obis.join('.')}:${ref.index}`);
    return outcome.data;
  }

  /** The meter granted multiple references: getWithList() is one request. */
  get canGetWithList(): boolean {
    return this.negotiated.conformance.has('multiple-references');
  }

  /**
   * Reads several attributes (each with its own selective access if any) in one request when
   * the meter allows it, else one by one.
   */
  async getWithList(refs: readonly (CosemRef & { readonly access?: AccessSelection })[]): Promise<GetOutcome[]> {
    return this.bounded(`GET with list of ${refs.length}`, 'request', () => this.getWithListNow(refs));
  }

  private async getWithListNow(refs: readonly (CosemRef & { readonly access?: AccessSelection })[]): Promise<GetOutcome[]> {
    if (refs.length === 0) return [];
    if (refs.length === 1 || !this.canGetWithList) {
      const out: GetOutcome[] = [];
      for (const r of refs) out.push(await this.get(r, r.access));
      return out;
    }
    const invoke = this.nextInvoke();
    const req: GetRequest = {
      type: 'get-request',
      kind: 'with-list',
      invoke,
      attributes: refs.map((r) => (r.access === undefined ? { attribute: attributeDescriptor(r) } : { attribute: attributeDescriptor(r), access: r.access })),
    };
    const answer = this.asGetResponse(await this.request(req, invoke, 'GET with list'));
    if (answer.kind === 'with-list') {
      if (answer.results.length !== refs.length) throw unexpected('GET with list', `${answer.results.length} results for ${refs.length} attributes`);
      return answer.results.map(toGetOutcome);
    }
    if (answer.kind === 'with-datablock') {
      // The list answer came in blocks: reassemble, then it is a sequence of Get-Data-Results.
      const blocks = await this.readBlocks(answer, invoke);
      if (!blocks.ok) return refs.map(() => blocks);
      const results = decodeGetDataResults(blocks.raw);
      if (results.length !== refs.length) throw unexpected('GET with list', `${results.length} results for ${refs.length} attributes`);
      return results.map(toGetOutcome);
    }
    throw unexpected('GET with list', `get-response ${answer.kind}`);
  }

  private asGetResponse(a: Apdu): GetResponse {
    if (a.type !== 'get-response') throw unexpected('GET', a.type);
    return a;
  }

  private async finishGet(first: GetResponse, invoke: InvokeIdAndPriority): Promise<GetOutcome> {
    if (first.kind === 'normal') return toGetOutcome(first.result);
    const blocks = await this.readBlocks(first, invoke);
    return blocks.ok ? { ok: true, data: decodeData(blocks.raw) } : blocks;
  }

  /** The raw data of a with-datablock answer: asks for the next block until the last. */
  private async readBlocks(first: GetResponse, invoke: InvokeIdAndPriority): Promise<{ ok: true; raw: Uint8Array } | { ok: false; result: DataAccessResult }> {
    if (first.kind !== 'with-datablock') throw unexpected('GET', `get-response ${first.kind}`);
    const parts: Uint8Array[] = [];
    let total = 0;
    let expected = 1;
    let empty = 0;
    let answer: GetResponse = first;
    for (;;) {
      if (answer.kind !== 'with-datablock') throw unexpected('GET (block transfer)', `get-response ${answer.kind}`);
      if (answer.result.kind === 'error') return { ok: false, result: answer.result.error };
      if (answer.blockNumber !== expected) {
        throw new DcuError(ErrorCode.MeterBlockSequence, `block ${answer.blockNumber} arrived where block ${expected} was expected`, {
          context: { expected, got: answer.blockNumber },
        });
      }
      parts.push(answer.result.raw);
      total += answer.result.raw.length;
      empty = answer.result.raw.length > 0 ? 0 : empty + 1;
      this.blockArrived(answer.result.raw.length, answer.lastBlock, empty, total, 'GET');
      if (answer.lastBlock) break;
      const next: GetRequest = { type: 'get-request', kind: 'next', invoke, blockNumber: expected };
      answer = this.asGetResponse(await this.request(next, invoke, 'GET next block'));
      expected++;
    }
    return { ok: true, raw: concatBytes(parts) };
  }

  /**
   * Book-keeping of one answer block: data earns deadline time; the total stays within the
   * reassembly limit; `emptyInRow` empty blocks in a row (not the last) mean a stuck meter.
   */
  private blockArrived(bytes: number, last: boolean, emptyInRow: number, total: number, what: string): void {
    const limit = this.maxReassembled;
    if (total > limit) {
      throw new DcuError(ErrorCode.DecodeBadLength, `${what} block transfer over ${limit} bytes refused (limits.maxReassembledBytes)`, { context: { total, limit } });
    }
    if (bytes > 0) {
      this.deadline?.progress(bytes);
      return;
    }
    if (!last && emptyInRow >= MAX_EMPTY_BLOCKS) {
      throw new DcuError(ErrorCode.MeterBlockSequence, `${what} block transfer: the meter sent ${emptyInRow} empty blocks in a row without finishing`, {
        context: { emptyInRow },
      });
    }
  }

  // ------------------------------------------------------------------ SET

  /** Writes one attribute; a value larger than the meter's PDU goes out in blocks. */
  async set(ref: CosemRef, value: Data, access?: AccessSelection): Promise<DataAccessResult> {
    return this.bounded(`SET ${ref.classId}:${ref.obis.join('.')}:${ref.index}`, 'request', () => this.setNow(ref, value, access));
  }

  private async setNow(ref: CosemRef, value: Data, access?: AccessSelection): Promise<DataAccessResult> {
    const invoke = this.nextInvoke();
    const attribute = attributeDescriptor(ref);
    const normal: SetRequest = access
      ? { type: 'set-request', kind: 'normal', invoke, attribute, access, value }
      : { type: 'set-request', kind: 'normal', invoke, attribute, value };
    const limit = this.negotiated.serverMaxPduSize;
    if (encodeApdu(normal).length + this.overhead <= limit || this.gbtOn) return this.setResult(await this.request(normal, invoke, 'SET'), 'SET');
    if (!this.negotiated.conformance.has('block-transfer-with-set-or-write')) {
      throw new DcuError(ErrorCode.MeterUnsupported, `the value needs block transfer (larger than the meter's ${limit}-byte PDU) and the meter did not grant block-transfer-with-set`);
    }
    const raw = encodeData(value);
    const size = Math.max(16, limit - BLOCK_OVERHEAD - this.overhead - (access ? encodeData(access.parameters).length + 2 : 0));
    let blockNumber = 1;
    for (let at = 0; ; at += size, blockNumber++) {
      const chunk = raw.subarray(at, Math.min(raw.length, at + size));
      const lastBlock = at + size >= raw.length;
      const block = { lastBlock, blockNumber, raw: chunk };
      const req: SetRequest =
        blockNumber === 1
          ? access
            ? { type: 'set-request', kind: 'with-first-datablock', invoke, attribute, access, block }
            : { type: 'set-request', kind: 'with-first-datablock', invoke, attribute, block }
          : { type: 'set-request', kind: 'with-datablock', invoke, block };
      const answer = await this.request(req, invoke, `SET block ${blockNumber}`);
      if (answer.type !== 'set-response') throw unexpected('SET block', answer.type);
      if (lastBlock || answer.kind !== 'datablock') return this.setResult(answer, 'SET last block');
      if (answer.blockNumber !== blockNumber) {
        throw new DcuError(ErrorCode.MeterBlockSequence, `the meter acknowledged SET block ${answer.blockNumber}, we sent ${blockNumber}`);
      }
      this.deadline?.progress(chunk.length);
    }
  }

  /** Bytes ciphering adds to a request. */
  private get overhead(): number {
    return this.channel === undefined ? 0 : CIPHER_OVERHEAD;
  }

  private setResult(a: Apdu, what: string): DataAccessResult {
    if (a.type !== 'set-response') throw unexpected(what, a.type);
    const r: SetResponse = a;
    if (r.kind === 'normal' || r.kind === 'last-datablock') return r.result;
    throw unexpected(what, `set-response ${r.kind}`);
  }

  // ------------------------------------------------------------------ ACTION

  /** Invokes a method; large parameters go out in blocks, large return values come back in blocks. */
  async action(ref: CosemRef, parameters?: Data): Promise<ActionOutcome> {
    return this.bounded(`ACTION ${ref.classId}:${ref.obis.join('.')}:${ref.index}`, 'request', () => this.actionNow(ref, parameters));
  }

  private async actionNow(ref: CosemRef, parameters?: Data): Promise<ActionOutcome> {
    const invoke = this.nextInvoke();
    const method = methodDescriptor(ref);
    const normal: ActionRequest = parameters
      ? { type: 'action-request', kind: 'normal', invoke, method, parameters }
      : { type: 'action-request', kind: 'normal', invoke, method };
    const limit = this.negotiated.serverMaxPduSize;
    let answer: ActionResponse;
    if (encodeApdu(normal).length + this.overhead <= limit || !parameters || this.gbtOn) {
      answer = this.asActionResponse(await this.request(normal, invoke, 'ACTION'));
    } else {
      if (!this.negotiated.conformance.has('block-transfer-with-action')) {
        throw new DcuError(ErrorCode.MeterUnsupported, `the parameters need block transfer (larger than the meter's ${limit}-byte PDU) and the meter did not grant block-transfer-with-action`);
      }
      answer = await this.actionInBlocks(invoke, method, encodeData(parameters), limit);
    }
    return this.finishAction(answer, invoke);
  }

  private asActionResponse(a: Apdu): ActionResponse {
    if (a.type !== 'action-response') throw unexpected('ACTION', a.type);
    return a;
  }

  private async actionInBlocks(invoke: InvokeIdAndPriority, method: MethodDescriptor, raw: Uint8Array, limit: number): Promise<ActionResponse> {
    const size = Math.max(16, limit - BLOCK_OVERHEAD - this.overhead);
    for (let at = 0, blockNumber = 1; ; at += size, blockNumber++) {
      const lastBlock = at + size >= raw.length;
      const block = { lastBlock, blockNumber, raw: raw.subarray(at, Math.min(raw.length, at + size)) };
      const req: ActionRequest =
        blockNumber === 1 ? { type: 'action-request', kind: 'with-first-pblock', invoke, method, block } : { type: 'action-request', kind: 'with-pblock', invoke, block };
      const answer = this.asActionResponse(await this.request(req, invoke, `ACTION block ${blockNumber}`));
      if (lastBlock || answer.kind !== 'next-pblock') return answer;
      if (answer.blockNumber !== blockNumber) {
        throw new DcuError(ErrorCode.MeterBlockSequence, `the meter acknowledged ACTION block ${answer.blockNumber}, we sent ${blockNumber}`);
      }
      this.deadline?.progress(block.raw.length);
    }
  }

  private async finishAction(first: ActionResponse, invoke: InvokeIdAndPriority): Promise<ActionOutcome> {
    if (first.kind === 'normal') {
      const o = first.outcome;
      return o.returnParameters ? { result: o.result, returnValue: toGetOutcome(o.returnParameters) } : { result: o.result };
    }
    if (first.kind !== 'with-pblock') throw unexpected('ACTION', `action-response ${first.kind}`);
    // Return parameters in blocks: concatenate, they encode a Data value.
    const parts: Uint8Array[] = [];
    let total = 0;
    let empty = 0;
    let answer: ActionResponse = first;
    for (;;) {
      if (answer.kind !== 'with-pblock') throw unexpected('ACTION (block transfer)', `action-response ${answer.kind}`);
      parts.push(answer.block.raw);
      total += answer.block.raw.length;
      empty = answer.block.raw.length > 0 ? 0 : empty + 1;
      this.blockArrived(answer.block.raw.length, answer.block.lastBlock, empty, total, 'ACTION');
      if (answer.block.lastBlock) break;
      const next: ActionRequest = { type: 'action-request', kind: 'next-pblock', invoke, blockNumber: answer.block.blockNumber };
      answer = this.asActionResponse(await this.request(next, invoke, 'ACTION next block'));
    }
    return { result: ActionResult.success, returnValue: { ok: true, data: decodeData(concatBytes(parts)) } };
  }

  // ------------------------------------------------------------------ release

  /** Ends the association (RLRQ) and the link. A meter that does not answer RLRQ is tolerated. */
  async release(): Promise<void> {
    // RLRQ and link disconnect get one response timeout each, as a silent meter always had, but
    // as a fixed deadline: a meter that keeps a frame on its way (bytes dribbled) restarted the
    // silence watchdog for ever, and a command that already reported its error never ended.
    const previous = this.deadline;
    this.deadline = new Deadline(this.options.clock, 'release', fixedPlan(2 * this.options.responseTimeoutMs));
    try {
      await this.releaseNow();
    } finally {
      this.deadline = previous;
    }
  }

  private async releaseNow(): Promise<void> {
    if (this.negotiatedValue && !this.driver.broken) {
      try {
        const answer = await this.driver.exchange(encodeApdu({ type: 'rlrq', reason: 0 }), this.options.responseTimeoutMs);
        // Any 0x63 means released, even when its BER is off (seen in the wild).
        if (answer[0] !== 0x63) this.log.debug({ tag: answer[0] }, 'release answered with something else');
      } catch (e) {
        this.log.debug({ err: (e as Error).message }, 'release not confirmed');
      }
    }
    this.negotiatedValue = undefined;
    this.channel = undefined;
    await this.driver.disconnect(this.options.responseTimeoutMs);
  }

  /** Release, then stop listening on the transport and leave it open (another client takes the line). */
  async detach(): Promise<void> {
    try {
      if (this.transport.isOpen) await this.release();
    } finally {
      this.driver.detach();
    }
  }

  /** Release, then close the transport. Safe to call more than once. */
  async close(): Promise<void> {
    try {
      if (this.transport.isOpen) await this.release();
    } finally {
      this.driver.detach();
      await this.transport.close();
    }
  }
}
