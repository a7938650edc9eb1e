import type { Clock, TimerHandle } from '../common/clock';
import { DcuError, ErrorCode } from '../common/errors';
import { addressEquals, clientAddress, formatAddress, type HdlcAddress, type ServerAddress } from './address';
import type { HdlcControl } from './control';
import { encodeFrame, type HdlcFrame } from './frame';
import {
  DEFAULT_HDLC_PARAMETERS,
  decodeHdlcParameters,
  encodeHdlcParameters,
  negotiateForUa,
  type HdlcParameters,
} from './params';
import { HdlcSplitter } from './splitter';
import { DEFAULT_MAX_REASSEMBLY, LLC_REQUEST, LLC_RESPONSE, ReceiveWindow, SendWindow, stripLlc, withLlc } from './window';

/**
 * HDLC meter side (secondary station, normal response mode) for the simulator, sans-IO.
 * Answers only frames for its own server address (several can share one line), speaks
 * only when polled, and hands complete APDUs to the server's handler as events.
 *
 * Answers queue in order (sendApdus: several APDUs for one request, e.g. a GBT stream) and
 * go out when the client polls: consecutive I-frames up to the window, F on the last; what
 * is left goes after the client's RR. Each I-frame without the S bit ends an APDU. The
 * event of a complete APDU is signalled (notify) before the next frame is read, so a handler
 * that answers from notify answers the APDUs of one transmission in order; the poll that
 * came with an APDU waits for that APDU's answer (sendApdus, possibly with nothing).
 */
export type SecondaryEvent =
  | { readonly type: 'connected'; readonly client: number; readonly params: HdlcParameters }
  /** A complete APDU from the client, LLC stripped. Answer with sendApdu() or sendApdus(). */
  | { readonly type: 'apdu'; readonly client: number; readonly apdu: Uint8Array }
  | { readonly type: 'disconnected'; readonly client: number; readonly reason: 'disc' | 'frmr' | 'inactivity' | 'snrm' };

export interface HdlcSecondaryOptions {
  readonly address: ServerAddress;
  /** The meter's own limits (meter view); each defaults to 128/128/1/1. */
  readonly limits?: Partial<HdlcParameters>;
  /** Which client addresses may connect (default: all). */
  readonly acceptClient?: (client: number) => boolean;
  /** Put the negotiated parameters in the UA (default true). */
  readonly uaParameters?: boolean;
  /**
   * Emulation knobs for meter quirks seen in the field: fill I-frames with at most this
   * many bytes (the reference meter in vectors/ sends 125 with max-info 128)…
   */
  readonly segmentSize?: number;
  /** …and repeat the parameter field in the UA that answers a DISC (it does that too). */
  readonly uaParametersOnDisc?: boolean;
  /**
   * Largest request APDU (LLC excluded) reassembled from a client's segments (default 65535):
   * a client that never ends its segments gets FRMR and loses the link, not our memory.
   */
  readonly maxApduSize?: number;
  /** With a clock, the link drops after this long without frames (default off). */
  readonly clock?: Clock;
  readonly inactivityTimeoutMs?: number;
  readonly notify?: () => void;
}

export class HdlcSecondaryLink {
  private readonly splitter = new HdlcSplitter();
  private readonly tx = new SendWindow();
  private readonly rx: ReceiveWindow;
  private readonly output: Uint8Array[] = [];
  private readonly events: SecondaryEvent[] = [];
  private readonly limits: HdlcParameters;
  private peer: HdlcAddress | undefined;
  private negotiated: HdlcParameters = DEFAULT_HDLC_PARAMETERS;
  /** An APDU went to the handler and its answer is not queued yet. */
  private handlerBusy = false;
  /** The poll that came with the last request is waiting for the handler's answer. */
  private pollHeld = false;
  private inactivity: TimerHandle | undefined;
  /** Frames seen for other stations on the line. */
  ignored = 0;

  constructor(private readonly opts: HdlcSecondaryOptions) {
    this.limits = { ...DEFAULT_HDLC_PARAMETERS, ...opts.limits };
    this.rx = new ReceiveWindow((opts.maxApduSize ?? DEFAULT_MAX_REASSEMBLY - LLC_REQUEST.length) + LLC_REQUEST.length);
  }

  get connected(): boolean {
    return this.peer !== undefined;
  }

  /** Parameters in use (meter view). */
  get params(): HdlcParameters {
    return this.negotiated;
  }

  receive(chunk: Uint8Array): void {
    for (const ev of this.splitter.push(chunk)) {
      if (ev.type !== 'frame') continue;
      const before = this.events.length;
      this.onFrame(ev.frame);
      // A complete APDU is handled before the next frame (the poll may come with that one).
      if (this.events.length > before) this.flush();
    }
    this.flush();
  }

  /** Queues the answer to the last APDU (LLC E6 E7 00 is prepended here). */
  sendApdu(apdu: Uint8Array): void {
    this.sendApdus([apdu]);
  }

  /**
   * Queues the answers to the last APDU, in order, each as its own APDU (LLC E6 E7 00
   * prepended): a GBT stream gives several, an unconfirmed request or a GBT block that needs
   * no answer yet gives none. They go out when the client polls, up to the window per
   * transmission; APDUs still queued are kept when the next request or poll arrives.
   */
  sendApdus(apdus: readonly Uint8Array[]): void {
    if (this.peer === undefined) {
      throw new DcuError(ErrorCode.LinkDisconnected, `meter ${formatAddress(this.opts.address)}: no HDLC connection`);
    }
    this.handlerBusy = false;
    const size = Math.min(this.negotiated.maxInfoTx, this.opts.segmentSize ?? Infinity);
    for (const apdu of apdus) this.tx.load(withLlc(LLC_RESPONSE, apdu), size);
    if (this.pollHeld) {
      this.pollHeld = false;
      this.answerPoll(this.peer);
    }
    this.flush();
  }

  /** Segments queued or sent and not yet acknowledged by the client. */
  get queuedFrames(): number {
    return this.tx.outstanding + this.tx.queued;
  }

  takeOutput(): Uint8Array | undefined {
    return this.output.shift();
  }

  takeEvent(): SecondaryEvent | undefined {
    return this.events.shift();
  }

  dispose(): void {
    this.inactivity?.cancel();
  }

  private onFrame(f: HdlcFrame): void {
    if (!addressEquals(f.dest, this.opts.address) || f.src.size !== 1) {
      this.ignored++;
      return;
    }
    const from = f.src;
    const c = f.control;
    if (c.kind === 'SNRM') {
      this.onSnrm(from, f.info);
      return;
    }
    if (this.peer === undefined || !addressEquals(this.peer, from)) {
      if (c.kind === 'DISC' || ((c.kind === 'I' || c.kind === 'RR' || c.kind === 'RNR') && c.pf)) this.emit(from, { kind: 'DM', pf: true });
      return;
    }
    this.touch();
    switch (c.kind) {
      case 'DISC':
        this.emit(from, { kind: 'UA', pf: true }, this.opts.uaParametersOnDisc === true ? encodeHdlcParameters(this.negotiated) : undefined);
        this.drop('disc');
        return;
      case 'I': {
        this.tx.ack(c.nr);
        if (f.info.length > this.negotiated.maxInfoRx) {
          this.frmr(from, c, 0x04); // Y: information field too long
          return;
        }
        const r = this.rx.accept(c.ns, f.info, f.segmented);
        if (r.kind === 'too-long') {
          this.frmr(from, c, 0x04); // Y: the APDU is longer than we take
          return;
        }
        if (r.kind === 'accepted' && r.complete !== undefined) {
          const apdu = stripLlc(LLC_REQUEST, r.complete);
          if (apdu === undefined) {
            this.frmr(from, c, 0x01); // W: not an APDU we understand
            return;
          }
          this.handlerBusy = true;
          if (c.pf) this.pollHeld = true;
          this.events.push({ type: 'apdu', client: from.logical, apdu });
          return;
        }
        if (c.pf) this.answerPoll(from);
        return;
      }
      case 'RR':
      case 'RNR':
        this.tx.ack(c.nr);
        if (c.pf) this.answerPoll(from);
        return;
      default:
        return;
    }
  }

  private onSnrm(from: HdlcAddress, info: Uint8Array): void {
    if (this.opts.acceptClient && !this.opts.acceptClient(from.logical)) {
      this.emit(from, { kind: 'DM', pf: true });
      return;
    }
    let asked: HdlcParameters;
    try {
      asked = decodeHdlcParameters(info);
    } catch {
      this.emit(from, { kind: 'FRMR', pf: true }, Uint8Array.of(0x93, 0, 0x01));
      return;
    }
    if (this.peer !== undefined) this.drop('snrm');
    const withParams = this.opts.uaParameters !== false;
    // Without parameters in the UA both sides fall back to the defaults.
    this.negotiated = withParams ? negotiateForUa(asked, this.limits) : DEFAULT_HDLC_PARAMETERS;
    this.peer = from;
    this.tx.reset();
    this.rx.reset();
    this.handlerBusy = false;
    this.pollHeld = false;
    const ua = withParams ? encodeHdlcParameters(this.negotiated) : new Uint8Array(0);
    this.emit(from, { kind: 'UA', pf: true }, ua);
    this.touch();
    this.events.push({ type: 'connected', client: from.logical, params: this.negotiated });
  }

  /** We hold the turn: send what is due, the last frame with F. */
  private answerPoll(to: HdlcAddress): void {
    this.pollHeld = false; // whatever we answer now consumes the turn
    const burst = this.tx.outstanding > 0 ? this.tx.retransmit() : this.tx.sendNew(this.negotiated.windowTx);
    if (burst.length > 0) {
      burst.forEach((s, i) => {
        this.emit(to, { kind: 'I', ns: s.ns, nr: this.rx.vr, pf: i === burst.length - 1 }, s.info, s.segmented);
      });
      return;
    }
    this.emit(to, { kind: this.handlerBusy && !this.rx.inProgress ? 'RNR' : 'RR', nr: this.rx.vr, pf: true });
  }

  private frmr(to: HdlcAddress, c: HdlcControl, reason: number): void {
    const rejected = c.kind === 'I' ? (c.nr << 5) | (c.pf ? 0x10 : 0) | (c.ns << 1) : 0;
    this.emit(to, { kind: 'FRMR', pf: true }, Uint8Array.of(rejected, (this.rx.vr << 5) | (this.tx.vs << 1), reason));
    this.drop('frmr');
  }

  private drop(reason: 'disc' | 'frmr' | 'inactivity' | 'snrm'): void {
    const peer = this.peer;
    this.peer = undefined;
    this.tx.reset();
    this.rx.reset();
    this.handlerBusy = false;
    this.pollHeld = false;
    this.inactivity?.cancel();
    this.inactivity = undefined;
    if (peer !== undefined) this.events.push({ type: 'disconnected', client: peer.logical, reason });
  }

  private emit(to: HdlcAddress, control: HdlcControl, info: Uint8Array = new Uint8Array(0), segmented = false): void {
    this.output.push(encodeFrame({ dest: clientAddress(to.logical), src: this.opts.address, control, segmented, info }));
  }

  private touch(): void {
    const clock = this.opts.clock;
    const ms = this.opts.inactivityTimeoutMs ?? 0;
    this.inactivity?.cancel();
    this.inactivity = undefined;
    if (clock === undefined || ms <= 0) return;
    this.inactivity = clock.setTimer(ms, () => {
      this.inactivity = undefined;
      this.drop('inactivity');
      this.flush();
    });
  }

  private flush(): void {
    if (this.output.length > 0 || this.events.length > 0) this.opts.notify?.();
  }
}
