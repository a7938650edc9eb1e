/**
 * A meter that associates properly and then misbehaves, as the client's ByteTransport: the
 * client writes requests into it and it answers on the injected clock. Used by the client
 * tests (test/protocol/client/hostile.test.ts) and by `npm run fuzz`.
 *
 * The association is answered by a real DlmsServer with one register; from the first request
 * after the AARE on, the chosen behaviour takes over. HDLC is spoken by a deliberately small
 * secondary station of its own (max info 128, window 1) so it can send what a real one never
 * would: endless segments, frames out of turn.
 */
import { encodeApdu, decodeApdu, type Apdu } from '../../protocol/apdu';
import { invokeIdAndPriority } from '../../protocol/apdu/invoke';
import type { Clock, TimerHandle } from '../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { concatBytes } from '../../protocol/common/hex';
import type { HdlcAddress } from '../../protocol/hdlc/address';
import type { HdlcControl } from '../../protocol/hdlc/control';
import { encodeFrame } from '../../protocol/hdlc/frame';
import { encodeHdlcParameters } from '../../protocol/hdlc/params';
import { HdlcSplitter } from '../../protocol/hdlc/splitter';
import type { DlmsServer } from '../../protocol/server';
import type { ByteTransport } from '../../protocol/transport/types';
import { encodeWrapper } from '../../protocol/wrapper/codec';
import { WrapperSplitter } from '../../protocol/wrapper/splitter';
import { createFuzzServer, FUZZ_OBIS } from './model';

export const HOSTILE_BEHAVIOURS = [
  /** Answers nothing and streams random bytes, one chunk per tick, for ever. */
  'garbage',
  /** HDLC: answers with I-frames that all carry the S bit, one per poll, for ever. Wrapper: a maximal frame dribbled byte by byte. */
  'endless-segments',
  /** GET answered with-datablock: empty blocks, never the last, block numbers in sequence. */
  'empty-get-blocks',
  /** GET answered with 64-byte blocks in sequence that never end. */
  'endless-get-blocks',
  /** GBT: block 1 again and again (on every acknowledgement and every tick). */
  'duplicate-gbt',
  /** GBT: empty blocks with rising numbers, never the last. */
  'empty-gbt',
  /** Answers with another invoke id, again on every tick. */
  'stale-answers',
  /** HDLC: RNR to every poll. */
  'busy',
  /** HDLC: RR (nothing new acknowledged) to every poll, never the answer. */
  'ready-no-answer',
  /** Real answers, randomly mutated, duplicated, cut or salted with garbage (fuzzing). */
  'mutate',
] as const;

export type HostileBehaviour = (typeof HOSTILE_BEHAVIOURS)[number];

export const HOSTILE_REGISTER_OBIS = FUZZ_OBIS.register;

export interface HostileMeterOptions {
  readonly framing: 'hdlc' | 'wrapper';
  readonly behaviour: HostileBehaviour;
  readonly clock: Clock;
  /** Random source in [0, 1) (seeded by the fuzz runner). */
  readonly random: () => number;
  /** Period of the meter's unsolicited talk (default 10 ms). */
  readonly tickMs?: number;
  /** Random bytes per tick of 'garbage' (default 64; a flood makes `00 01` pseudo-headers common). */
  readonly garbageBytes?: number;
  /** Hostile from the first byte instead of after the association. */
  readonly hostileFromStart?: boolean;
}

const LLC_RESPONSE = [0xe6, 0xe7, 0x00];
const MAX_INFO = 128;

export class HostileMeter implements ByteTransport {
  readonly description: string;
  isOpen = false;
  /** Bytes sent to the client, and frames/APDUs answered. */
  readonly stats = { bytesOut: 0, requests: 0 };
  private readonly dataListeners = new Set<(chunk: Uint8Array) => void>();
  private readonly closeListeners = new Set<(error?: DcuError) => void>();
  private readonly server: DlmsServer;
  private readonly session = { id: 'hostile', clientAddress: 16 };
  private readonly hdlcIn = new HdlcSplitter();
  private readonly wrapperIn = new WrapperSplitter();
  private armed: boolean;
  private ticker: TimerHandle | undefined;
  // HDLC state (window 1)
  private vs = 0;
  private vr = 0;
  private rxParts: Uint8Array[] = [];
  private outgoing: { info: Uint8Array; segmented: boolean }[] = [];
  private peer: { me: HdlcAddress; client: HdlcAddress } | undefined;
  // behaviour state
  private blockNumber = 0;
  private lastAnswer: Uint8Array | undefined;
  private invokeId = 1;
  private wrapperPorts = { meter: 1, client: 16 };

  constructor(private readonly opts: HostileMeterOptions) {
    this.description = `hostile meter (${opts.framing}, ${opts.behaviour})`;
    this.armed = opts.hostileFromStart === true;
    const gbt = opts.behaviour === 'duplicate-gbt' || opts.behaviour === 'empty-gbt' || (opts.behaviour === 'mutate' && opts.random() < 0.5);
    this.server = createFuzzServer(opts.clock, gbt);
  }

  open(): Promise<void> {
    this.isOpen = true;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.isOpen = false;
    this.ticker?.cancel();
    this.ticker = undefined;
    return Promise.resolve();
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onClose(listener: (error?: DcuError) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(new DcuError(ErrorCode.TransportClosed, `${this.description} is closed`));
    const copy = bytes.slice();
    // The meter reads after the write returned, as from a real line.
    queueMicrotask(() => {
      if (this.isOpen) this.fromClient(copy);
    });
    return Promise.resolve();
  }

  /** Stops the ticker (the test is over). */
  dispose(): void {
    this.ticker?.cancel();
    this.ticker = undefined;
  }

  // ---- to the client ----

  private toClient(bytes: Uint8Array): void {
    if (!this.isOpen || bytes.length === 0) return;
    this.stats.bytesOut += bytes.length;
    const copy = bytes.slice();
    queueMicrotask(() => {
      if (this.isOpen) for (const l of this.dataListeners) l(copy);
    });
  }

  private randomBytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => Math.floor(this.opts.random() * 256));
  }

  private startTicker(fn: () => void): void {
    if (this.ticker !== undefined) return;
    const tick = (): void => {
      this.ticker = this.opts.clock.setTimer(this.opts.tickMs ?? 10, () => {
        if (!this.isOpen) return;
        fn();
        tick();
      });
    };
    tick();
  }

  // ---- from the client ----

  private fromClient(bytes: Uint8Array): void {
    if (this.opts.framing === 'wrapper') {
      for (const item of this.wrapperIn.push(bytes)) {
        if (item.type !== 'frame') continue;
        this.wrapperPorts = { meter: item.frame.destination, client: item.frame.source };
        for (const a of this.onApdu(item.frame.apdu)) this.sendApdu(a);
      }
      return;
    }
    for (const ev of this.hdlcIn.push(bytes)) {
      if (ev.type !== 'frame') continue;
      const f = ev.frame;
      this.peer = { me: f.dest, client: f.src };
      this.onHdlcFrame(f.control, f.info, f.segmented);
    }
  }

  private onHdlcFrame(c: HdlcControl, info: Uint8Array, segmented: boolean): void {
    switch (c.kind) {
      case 'SNRM':
        this.vs = this.vr = 0;
        this.rxParts = [];
        this.outgoing = [];
        this.emit({ kind: 'UA', pf: true }, encodeHdlcParameters({ maxInfoTx: MAX_INFO, maxInfoRx: MAX_INFO, windowTx: 1, windowRx: 1 }));
        return;
      case 'DISC':
        this.emit({ kind: 'UA', pf: true });
        this.dispose();
        return;
      case 'I': {
        if (c.ns === this.vr) {
          this.vr = (this.vr + 1) % 8;
          this.rxParts.push(info);
          if (!segmented) {
            const whole = concatBytes(this.rxParts);
            this.rxParts = [];
            const apdu = whole.subarray(3); // LLC E6 E6 00
            for (const a of this.onApdu(apdu)) this.queueApdu(a);
          }
        }
        if (c.pf) this.answerPoll();
        return;
      }
      case 'RR':
      case 'RNR':
        if (c.pf) this.answerPoll();
        return;
      default:
        return;
    }
  }

  private answerPoll(): void {
    const b = this.opts.behaviour;
    if (this.armed && b === 'busy') return this.emit({ kind: 'RNR', nr: this.vr, pf: true });
    if (this.armed && b === 'ready-no-answer') return this.emit({ kind: 'RR', nr: this.vr, pf: true });
    if (this.armed && b === 'endless-segments' && this.outgoing.length === 0) {
      this.outgoing.push({ info: this.randomBytes(MAX_INFO), segmented: true });
    }
    const next = this.outgoing.shift();
    if (next === undefined) return this.emit({ kind: 'RR', nr: this.vr, pf: true });
    this.emit({ kind: 'I', ns: this.vs, nr: this.vr, pf: true }, next.info, next.segmented);
    this.vs = (this.vs + 1) % 8;
  }

  private emit(control: HdlcControl, info: Uint8Array = new Uint8Array(0), segmented = false): void {
    if (this.peer === undefined) return;
    const frame = encodeFrame({ dest: this.peer.client, src: this.peer.me, control, segmented, info });
    this.toClient(this.opts.behaviour === 'mutate' && this.armed ? this.mutate(frame) : frame);
  }

  /** HDLC: segments the APDU (LLC first) for the next polls. */
  private queueApdu(apdu: Uint8Array): void {
    const payload = concatBytes([Uint8Array.from(LLC_RESPONSE), apdu]);
    for (let at = 0; at < payload.length; at += MAX_INFO) {
      this.outgoing.push({ info: payload.subarray(at, at + MAX_INFO), segmented: at + MAX_INFO < payload.length });
    }
  }

  /** Sends an APDU at once (wrapper), or as an I-frame out of turn (HDLC, a talking meter). */
  private sendApdu(apdu: Uint8Array): void {
    if (this.opts.framing === 'wrapper') {
      const frame = encodeWrapper({ source: this.wrapperPorts.meter, destination: this.wrapperPorts.client, apdu });
      this.toClient(this.opts.behaviour === 'mutate' && this.armed ? this.mutate(frame) : frame);
      return;
    }
    const payload = concatBytes([Uint8Array.from(LLC_RESPONSE), apdu]);
    if (payload.length > MAX_INFO) return;
    this.emit({ kind: 'I', ns: this.vs, nr: this.vr, pf: false }, payload, false);
    this.vs = (this.vs + 1) % 8;
  }

  // ---- behaviours ----

  /** The answers to one request APDU. */
  private onApdu(apdu: Uint8Array): Uint8Array[] {
    this.stats.requests++;
    const legit = (): Uint8Array[] => this.server.handleBurst(apdu, this.session);
    if (!this.armed) {
      if (apdu[0] === 0x60 || apdu[0] === 0x62) return legit(); // AARQ, RLRQ
      this.armed = true;
    }
    const request = safeDecode(apdu);
    if (request?.type === 'rlrq') return legit();
    const inner = request?.type === 'general-block-transfer' ? safeDecode(request.data) : request;
    if (inner !== undefined && 'invoke' in inner) this.invokeId = inner.invoke.invokeId;
    switch (this.opts.behaviour) {
      case 'garbage':
        this.startTicker(() => this.toClient(this.randomBytes(this.opts.garbageBytes ?? 64)));
        return [];
      case 'endless-segments':
        if (this.opts.framing === 'wrapper') this.dribbleMaximalFrame();
        return [];
      case 'empty-get-blocks':
      case 'endless-get-blocks':
        return [this.getBlock(this.opts.behaviour === 'empty-get-blocks' ? 0 : 64)];
      case 'duplicate-gbt': {
        const block = gbt(1, false, false, new Uint8Array(16).fill(0xaa));
        this.startTicker(() => this.sendApdu(block));
        return [block];
      }
      case 'empty-gbt':
        this.startTicker(() => this.sendApdu(gbt(++this.blockNumber, true, false, new Uint8Array(0))));
        return [gbt(++this.blockNumber, false, false, new Uint8Array(0))];
      case 'stale-answers': {
        const stale = (): Uint8Array =>
          encodeApdu({ type: 'get-response', kind: 'normal', invoke: invokeIdAndPriority((this.invokeId + 5) % 16), result: { kind: 'data', data: { type: 'uint32', value: 1 } } });
        this.startTicker(() => this.sendApdu(stale()));
        return [stale()];
      }
      case 'busy':
      case 'ready-no-answer':
        return [];
      case 'mutate': {
        const answers = legit();
        this.lastAnswer = answers[0] ?? this.lastAnswer;
        if (this.opts.random() < 0.2 && this.lastAnswer !== undefined) answers.push(this.lastAnswer);
        return answers;
      }
    }
  }

  private getBlock(size: number): Uint8Array {
    this.blockNumber++;
    const apdu: Apdu = {
      type: 'get-response',
      kind: 'with-datablock',
      invoke: invokeIdAndPriority(this.invokeId),
      lastBlock: false,
      blockNumber: this.blockNumber,
      result: { kind: 'raw', raw: new Uint8Array(size).fill(0x11) },
    };
    return encodeApdu(apdu);
  }

  private dribbleMaximalFrame(): void {
    const header = encodeWrapper({ source: this.wrapperPorts.meter, destination: this.wrapperPorts.client, apdu: new Uint8Array(0) });
    header[6] = 0xff;
    header[7] = 0xff;
    this.toClient(header);
    this.startTicker(() => this.toClient(Uint8Array.of(0xc4)));
  }

  /** Random damage to one frame: flips, cuts, repeats, garbage before or after. */
  private mutate(frame: Uint8Array): Uint8Array {
    const r = this.opts.random;
    const out = Array.from(frame);
    const roll = r();
    if (roll < 0.3) {
      const flips = 1 + Math.floor(r() * 3);
      for (let i = 0; i < flips; i++) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
    } else if (roll < 0.4) {
      out.length = Math.floor(r() * out.length);
    } else if (roll < 0.5) {
      out.push(...frame);
    } else if (roll < 0.6) {
      out.unshift(...this.randomBytes(1 + Math.floor(r() * 16)));
    } else if (roll < 0.65) {
      return new Uint8Array(0);
    }
    return Uint8Array.from(out);
  }
}

function gbt(blockNumber: number, streaming: boolean, lastBlock: boolean, data: Uint8Array): Uint8Array {
  return encodeApdu({ type: 'general-block-transfer', lastBlock, streaming, window: 1, blockNumber, blockNumberAck: 0, data });
}

function safeDecode(bytes: Uint8Array): Apdu | undefined {
  try {
    return decodeApdu(bytes);
  } catch {
    return undefined;
  }
}
