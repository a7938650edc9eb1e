import type { Clock, TimerHandle } from '../common/clock';
import { DcuError, ErrorCode, isDcuError } from '../common/errors';
import { toHex } from '../common/hex';
import { addressEquals, clientAddress, formatAddress, type HdlcAddress } from './address';
import type { HdlcControl } from './control';
import { encodeFrame, type HdlcFrame } from './frame';
import type { DisconnectReason, HdlcClientLinkOptions, LinkEvent, LinkState, LinkStats, SendApduOptions } from './link-types';
import {
  DEFAULT_HDLC_PARAMETERS,
  decodeHdlcParameters,
  encodeHdlcParameters,
  negotiateFromUa,
  type HdlcParameters,
} from './params';
import { HdlcSplitter } from './splitter';
import { DEFAULT_MAX_REASSEMBLY, LLC_REQUEST, LLC_RESPONSE, ReceiveWindow, SendWindow, stripLlc, withLlc, type Segment } from './window';

/** Largest APDU reassembled from the meter's segments when the options do not say. */
export const DEFAULT_MAX_APDU_SIZE = DEFAULT_MAX_REASSEMBLY - LLC_RESPONSE.length;

export type { DisconnectReason, HdlcClientLinkOptions, LinkEvent, LinkState, LinkStats, SendApduOptions } from './link-types';

/**
 * HDLC client (primary station, normal response mode) as a sans-IO state machine: bytes in
 * via receive(), bytes out via takeOutput(), events via takeEvent(); timers on the injected
 * Clock. The meter only speaks when polled, so every burst we send ends with the P bit and
 * one timer waits for the frame with the F bit.
 *
 * Several APDUs may share one transmission both ways (general block transfer streaming):
 * sendApdu(apdu, { expectAnswer: false }) holds an APDU back until the next one that expects
 * an answer (or poll()), then all go as consecutive I-frames up to the window, P on the last;
 * the meter may answer with several APDUs, each an 'apdu' event, the exchange ending at the
 * F bit. When the meter may hold more (the upper layer still expects blocks), poll() asks
 * for them with RR.
 */
export class HdlcClientLink {
  private readonly me: HdlcAddress;
  private readonly asked: HdlcParameters;
  private readonly clock: Clock;
  private readonly notifyFn: (() => void) | undefined;
  private readonly splitter = new HdlcSplitter();
  private readonly tx = new SendWindow();
  private readonly rx: ReceiveWindow;
  private readonly output: Uint8Array[] = [];
  private readonly events: LinkEvent[] = [];
  /** Transmissions waiting for the turn: the APDUs of each go in one burst. */
  private readonly pending: { readonly apdus: readonly Uint8Array[]; readonly expectAnswer: boolean }[] = [];
  /** APDUs held back for the next transmission (sent with expectAnswer: false). */
  private held: Uint8Array[] = [];
  private st: LinkState = 'disconnected';
  private negotiated: HdlcParameters = DEFAULT_HDLC_PARAMETERS;
  /** A request was sent and its response is not complete yet. */
  private awaitingResponse = false;
  private retryCount = 0;
  private busyCount = 0;
  private progressCount = 0;
  private responseTimer: TimerHandle | undefined;
  private busyTimer: TimerHandle | undefined;
  private interFrameTimer: TimerHandle | undefined;
  private inactivityTimer: TimerHandle | undefined;
  readonly stats: LinkStats = {
    framesIn: 0,
    framesOut: 0,
    ignored: 0,
    garbageBytes: 0,
    badFrames: 0,
    retransmissions: 0,
    timeouts: 0,
    retried: 0,
  };

  constructor(private readonly opts: HdlcClientLinkOptions) {
    this.me = clientAddress(opts.client);
    this.clock = opts.clock;
    this.notifyFn = opts.notify;
    this.asked = {
      maxInfoTx: opts.maxInfoTx ?? 2030,
      maxInfoRx: opts.maxInfoRx ?? 2030,
      windowTx: opts.windowTx ?? 7,
      windowRx: opts.windowRx ?? 7,
    };
    encodeHdlcParameters(this.asked); // validates ranges (throws EncodeInvalid)
    this.rx = new ReceiveWindow((opts.maxApduSize ?? DEFAULT_MAX_APDU_SIZE) + LLC_RESPONSE.length);
  }

  /**
   * Grows with every frame that moved the exchange on (new data in sequence, our frames
   * acknowledged, the link set up): by the bytes of a segment of an APDU still on its way, by
   * 1 otherwise (the layer above judges whether a whole APDU was worth anything). Garbage, frames
   * for others, repeats and out-of-sequence frames leave it alone, so a watchdog restarted
   * on it is not kept alive by a meter that talks without getting anywhere.
   */
  get progress(): number {
    return this.progressCount;
  }

  get state(): LinkState {
    return this.st;
  }

  /** Parameters in use (client view) once connected. */
  get params(): HdlcParameters {
    return this.negotiated;
  }

  /** True while a request is in flight or queued. */
  get busy(): boolean {
    return this.awaitingResponse || !this.tx.idle || this.pending.length > 0 || this.held.length > 0;
  }

  /** True when we hold the turn and nothing is in flight, queued or waiting for a busy meter. */
  private get idleTurn(): boolean {
    return (
      this.st === 'connected' &&
      !this.awaitingResponse &&
      this.tx.idle &&
      this.pending.length === 0 &&
      this.responseTimer === undefined &&
      this.busyTimer === undefined
    );
  }

  /** Queues an SNRM. A link that was connected is reset. */
  connect(): void {
    this.resetSequence();
    this.st = 'connecting';
    this.retryCount = 0;
    this.sendSnrm();
    this.flush();
  }

  /** Queues a DISC; the 'disconnected' event follows the UA or DM. No-op when disconnected. */
  disconnect(): void {
    if (this.st === 'disconnected') return;
    this.resetSequence();
    this.st = 'disconnecting';
    this.retryCount = 0;
    this.sendU('DISC');
    this.flush();
  }

  /**
   * Sends an APDU (the LLC header E6 E6 00 is prepended here). While a previous request
   * awaits its response, the APDU is queued. With `expectAnswer: false` it is held back and
   * goes in one transmission with the next APDU that expects an answer (or at poll()).
   * Throws LinkDisconnected when not connected.
   */
  sendApdu(apdu: Uint8Array, options: SendApduOptions = {}): void {
    if (this.st !== 'connected') {
      throw new DcuError(ErrorCode.LinkDisconnected, `HDLC link to ${formatAddress(this.opts.server)} is ${this.st}`, {
        context: { state: this.st },
      });
    }
    this.held.push(apdu);
    if (options.expectAnswer === false) return;
    this.release(true);
  }

  /**
   * Hands the turn to the meter: APDUs held back go now; otherwise, when nothing is in
   * flight, an RR asks the meter for APDUs it still holds (the rest of a multi-APDU answer
   * whose transmission ended at the window). Returns true when something was sent or queued.
   */
  poll(): boolean {
    if (this.st !== 'connected') return false;
    if (this.held.length > 0) {
      this.release(false);
      return true;
    }
    if (!this.idleTurn) return false;
    this.sendRr();
    this.flush();
    return true;
  }

  private release(expectAnswer: boolean): void {
    this.pending.push({ apdus: this.held, expectAnswer });
    this.held = [];
    this.startNextRequest();
    this.flush();
  }

  /** Feeds received bytes (any chunking). */
  receive(chunk: Uint8Array): void {
    for (const ev of this.splitter.push(chunk)) {
      if (ev.type === 'garbage') this.stats.garbageBytes += ev.bytes.length;
      else if (ev.type === 'error') this.stats.badFrames++;
      else this.onFrame(ev.frame);
    }
    this.armInterFrame();
    this.flush();
  }

  /** Next frame to write, or undefined. */
  takeOutput(): Uint8Array | undefined {
    return this.output.shift();
  }

  takeEvent(): LinkEvent | undefined {
    return this.events.shift();
  }

  /** Stops all timers (the owner is going away). */
  dispose(): void {
    this.cancelTimers();
    this.interFrameTimer?.cancel();
    this.interFrameTimer = undefined;
  }

  // ---- frame handling ----

  private onFrame(f: HdlcFrame): void {
    if (!addressEquals(f.dest, this.me) || !addressEquals(f.src, this.opts.server)) {
      this.stats.ignored++;
      return;
    }
    this.stats.framesIn++;
    this.touch();
    const c = f.control;
    if (c.kind === 'UI') {
      this.events.push({ type: 'ui', info: f.info });
      return;
    }
    switch (this.st) {
      case 'connecting':
        if (c.kind === 'UA') this.onUa(f);
        else if (c.kind === 'DM' || c.kind === 'FRMR') this.remoteDisconnect(c.kind, f.info, 'refused the SNRM');
        return;
      case 'disconnecting':
        if (c.kind === 'UA' || c.kind === 'DM' || c.kind === 'FRMR') this.toDisconnected('local');
        return;
      case 'connected':
        this.onConnectedFrame(f, c);
        return;
      case 'disconnected':
        this.stats.ignored++;
        return;
    }
  }

  private onUa(f: HdlcFrame): void {
    let ua: HdlcParameters;
    try {
      ua = decodeHdlcParameters(f.info);
    } catch (e) {
      this.fail(
        new DcuError(ErrorCode.FramingProtocol, `meter ${formatAddress(this.opts.server)} sent a UA with bad parameters`, {
          cause: e,
          context: { info: toHex(f.info) },
        }),
        'failed',
      );
      return;
    }
    this.negotiated = negotiateFromUa(this.asked, ua);
    this.stopResponseTimer();
    this.advance(1);
    this.st = 'connected';
    this.events.push({ type: 'connected', params: this.negotiated });
    this.startNextRequest();
  }

  private onConnectedFrame(f: HdlcFrame, c: HdlcControl): void {
    switch (c.kind) {
      case 'DM':
      case 'FRMR':
        this.remoteDisconnect(c.kind, f.info, 'dropped the link');
        return;
      case 'I': {
        if (this.tx.ack(c.nr)) this.advance(1);
        if (f.info.length > this.negotiated.maxInfoRx) {
          this.fail(
            new DcuError(ErrorCode.FramingProtocol, `I-frame of ${f.info.length} bytes exceeds the negotiated ${this.negotiated.maxInfoRx}`, {
              context: { length: f.info.length },
            }),
            'failed',
          );
          return;
        }
        const r = this.rx.accept(c.ns, f.info, f.segmented);
        if (r.kind === 'too-long') {
          this.fail(
            new DcuError(
              ErrorCode.FramingTooLong,
              `meter ${formatAddress(this.opts.server)} sent an APDU of over ${r.limit - LLC_RESPONSE.length} bytes in segments: more than the limit (raise maxApduSize if the meter is right)`,
              { context: { bytes: r.bytes, limit: r.limit } },
            ),
            'failed',
          );
          return;
        }
        if (r.kind === 'accepted') {
          // Bytes count while an APDU is on its way (segments); a whole APDU counts once.
          this.advance(f.segmented ? Math.max(1, f.info.length) : 1);
          if (r.complete !== undefined) this.deliver(r.complete);
        }
        if (c.pf) this.onFinal(r.kind === 'accepted' ? 'data' : 'loss');
        else if (r.kind === 'accepted') this.restartResponseTimer(); // repeats do not keep the wait alive
        return;
      }
      case 'RR':
      case 'RNR':
        if (this.tx.ack(c.nr)) this.advance(1);
        if (c.pf) this.onFinal(c.kind === 'RNR' ? 'busy' : 'ready');
        return;
      default:
        return; // UA (late answer to a repeated SNRM), SNRM, DISC: nothing to do
    }
  }

  /** The meter handed the turn back (F bit). Decide what to send next. */
  private onFinal(what: 'data' | 'loss' | 'busy' | 'ready'): void {
    this.stopResponseTimer();
    this.busyTimer?.cancel();
    this.busyTimer = undefined;
    if (what === 'busy') {
      this.scheduleBusyPoll();
      return;
    }
    if (this.tx.outstanding > 0) {
      // The meter's N(R) says frames from there on were lost: go back N.
      if (this.countRetry('the meter did not receive all I-frames')) this.retried(this.sendSegments(this.tx.retransmit(), true));
      return;
    }
    if (this.tx.hasQueued) {
      this.sendSegments(this.tx.sendNew(this.negotiated.windowTx), false);
      return;
    }
    if (what === 'loss' || this.rx.inProgress) {
      // Ask for the next segment, or for a retransmission from V(R).
      if (what === 'data') this.sendRr();
      else if (this.countRetry('I-frames from the meter were lost or repeated')) {
        this.sendRr();
        this.retried(1);
      }
      return;
    }
    if (this.awaitingResponse && what === 'ready') {
      this.scheduleBusyPoll(); // request acknowledged, response not ready: poll again later
      return;
    }
    this.startNextRequest();
  }

  private deliver(payload: Uint8Array): void {
    const apdu = stripLlc(LLC_RESPONSE, payload) ?? stripLlc(LLC_REQUEST, payload);
    this.awaitingResponse = false;
    if (apdu === undefined) {
      this.events.push({
        type: 'error',
        error: new DcuError(ErrorCode.FramingProtocol, 'APDU from the meter lacks the LLC header E6 E7 00 at byte 0', {
          context: { offset: 0, head: toHex(payload.subarray(0, 3)) },
        }),
      });
      return;
    }
    this.events.push({ type: 'apdu', apdu });
  }

  private remoteDisconnect(kind: 'DM' | 'FRMR', info: Uint8Array, what: string): void {
    this.fail(
      new DcuError(ErrorCode.LinkDisconnected, `meter ${formatAddress(this.opts.server)} ${what} (${kind})`, {
        context: { frame: kind, info: toHex(info) },
      }),
      'remote',
    );
  }

  // ---- sending ----

  private startNextRequest(): void {
    if (this.st !== 'connected' || this.awaitingResponse || !this.tx.idle || this.responseTimer !== undefined) return;
    const batch = this.pending.shift();
    if (batch === undefined) return;
    this.awaitingResponse = batch.expectAnswer;
    for (const apdu of batch.apdus) this.tx.load(withLlc(LLC_REQUEST, apdu), this.negotiated.maxInfoTx);
    this.sendSegments(this.tx.sendNew(this.negotiated.windowTx), false);
  }

  /** Returns the number of frames sent. */
  private sendSegments(segments: readonly Segment[], again: boolean): number {
    segments.forEach((s, i) => {
      const pf = i === segments.length - 1;
      if (again) this.stats.retransmissions++;
      this.emit({ kind: 'I', ns: s.ns, nr: this.rx.vr, pf }, s.info, s.segmented);
    });
    this.startResponseTimer();
    return segments.length;
  }

  private sendRr(): void {
    this.emit({ kind: 'RR', nr: this.rx.vr, pf: true });
    this.startResponseTimer();
  }

  private sendSnrm(): void {
    const info = this.opts.snrmParameters === false ? new Uint8Array(0) : encodeHdlcParameters(this.asked);
    this.emit({ kind: 'SNRM', pf: true }, info);
    this.startResponseTimer();
  }

  private sendU(kind: 'DISC'): void {
    this.emit({ kind, pf: true });
    this.startResponseTimer();
  }

  private emit(control: HdlcControl, info: Uint8Array = new Uint8Array(0), segmented = false): void {
    this.output.push(encodeFrame({ dest: this.opts.server, src: this.me, control, segmented, info }));
    this.stats.framesOut++;
    this.touch();
  }

  // ---- timers and failure ----

  private startResponseTimer(): void {
    this.stopResponseTimer();
    this.responseTimer = this.clock.setTimer(this.opts.responseTimeoutMs ?? 3000, () => {
      this.responseTimer = undefined;
      this.onResponseTimeout();
      this.flush();
    });
  }

  private restartResponseTimer(): void {
    if (this.responseTimer !== undefined) this.startResponseTimer();
  }

  private stopResponseTimer(): void {
    this.responseTimer?.cancel();
    this.responseTimer = undefined;
  }

  private onResponseTimeout(): void {
    this.stats.timeouts++;
    if (!this.countRetry(`no answer from meter ${formatAddress(this.opts.server)} within ${this.opts.responseTimeoutMs ?? 3000} ms`)) return;
    this.splitter.reset();
    switch (this.st) {
      case 'connecting':
        this.sendSnrm();
        break;
      case 'disconnecting':
        this.sendU('DISC');
        break;
      case 'connected':
        this.sendRr(); // the answer tells what the meter has and has not received
        break;
      case 'disconnected':
        return;
    }
    this.retried(1);
  }

  /** Frames just sent again after a timeout or a reported loss. */
  private retried(frames: number): void {
    if (frames <= 0) return;
    this.stats.retried += frames;
    this.opts.onRetried?.(frames);
  }

  /** Counts one retry; when they are exhausted, fails the link and returns false. */
  private countRetry(why: string): boolean {
    this.retryCount++;
    const max = this.opts.retries ?? 3;
    if (this.retryCount <= max) return true;
    if (this.st === 'disconnecting') {
      this.toDisconnected('local');
      return false;
    }
    this.fail(
      new DcuError(ErrorCode.LinkRetriesExhausted, `HDLC ${this.st}: ${why}; ${max} retries exhausted`, {
        context: { server: formatAddress(this.opts.server), client: this.opts.client, state: this.st, retries: max },
      }),
      'failed',
    );
    return false;
  }

  /** Something moved on: retries and busy polls count again from zero (an RR alone does not). */
  private advance(amount: number): void {
    this.retryCount = 0;
    this.busyCount = 0;
    this.progressCount += amount;
  }

  private scheduleBusyPoll(): void {
    this.busyCount++;
    if (this.busyCount > (this.opts.maxBusyPolls ?? 20)) {
      this.fail(
        new DcuError(ErrorCode.LinkRetriesExhausted, `meter ${formatAddress(this.opts.server)} stayed busy (RNR, or RR without its answer) for ${this.busyCount - 1} polls: raise maxBusyPolls for a slow meter`, {
          context: { server: formatAddress(this.opts.server) },
        }),
        'failed',
      );
      return;
    }
    this.busyTimer?.cancel();
    this.busyTimer = this.clock.setTimer(this.opts.busyPollMs ?? 500, () => {
      this.busyTimer = undefined;
      if (this.st === 'connected') this.sendRr();
      this.flush();
    });
  }

  private armInterFrame(): void {
    const ms = this.opts.interFrameTimeoutMs ?? 500;
    this.interFrameTimer?.cancel();
    this.interFrameTimer = undefined;
    if (ms <= 0 || !this.splitter.inFrame) return;
    this.interFrameTimer = this.clock.setTimer(ms, () => {
      this.interFrameTimer = undefined;
      this.stats.garbageBytes += this.splitter.buffered;
      this.splitter.reset();
    });
  }

  /** Restarts the inactivity timer (any frame sent or received for this link). */
  private touch(): void {
    const ms = this.opts.inactivityTimeoutMs ?? 120_000;
    this.inactivityTimer?.cancel();
    this.inactivityTimer = undefined;
    if (ms <= 0 || this.st === 'disconnected') return;
    this.inactivityTimer = this.clock.setTimer(ms, () => {
      this.inactivityTimer = undefined;
      if (this.st === 'disconnected') return;
      this.toDisconnected('inactivity');
      this.flush();
    });
  }

  private fail(error: DcuError, reason: DisconnectReason): void {
    this.events.push({ type: 'error', error });
    this.toDisconnected(reason);
  }

  private toDisconnected(reason: DisconnectReason): void {
    const was = this.st;
    this.st = 'disconnected';
    this.resetSequence();
    this.pending.length = 0;
    this.held = [];
    this.cancelTimers();
    if (was !== 'disconnected') this.events.push({ type: 'disconnected', reason });
  }

  private resetSequence(): void {
    this.tx.reset();
    this.rx.reset();
    this.awaitingResponse = false;
    this.busyCount = 0;
    this.stopResponseTimer();
    this.busyTimer?.cancel();
    this.busyTimer = undefined;
  }

  private cancelTimers(): void {
    this.stopResponseTimer();
    this.busyTimer?.cancel();
    this.busyTimer = undefined;
    this.inactivityTimer?.cancel();
    this.inactivityTimer = undefined;
  }

  private flush(): void {
    if (this.output.length > 0 || this.events.length > 0) {
      try {
        this.notifyFn?.();
      } catch (e) {
        if (!isDcuError(e)) throw e;
        this.events.push({ type: 'error', error: e });
      }
    }
  }
}
