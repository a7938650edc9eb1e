import type { Clock, TimerHandle } from '../common/clock';
import { DcuError, ErrorCode, isDcuError } from '../common/errors';
import { toHex } from '../common/hex';
import type { Logger } from '../common/log';
import type { ByteTransport } from '../transport/types';
import type { Deadline } from './deadline';
import type { ClientLink, LinkEvent } from './link';

/**
 * A ClientLink as the driver uses it: it may also hold APDUs back for one transmission
 * (all but the last block of a GBT burst) and ask the meter for more answers (HDLC: RR).
 */
export interface DriverLink extends ClientLink {
  sendApdu(apdu: Uint8Array, options?: { readonly expectAnswer?: boolean }): void;
  /** Hands the turn to the meter when nothing is in flight, so it sends what it still holds. */
  poll?(): void;
  /**
   * Grows when the link moves on (bytes of new data in sequence); garbage and repeats leave it
   * alone. Without it every received chunk counts as progress.
   */
  readonly progress?: number;
}

/** APDUs received and not asked for yet beyond which the meter is flooding us. */
const MAX_INBOX = 256;

interface Waiter {
  kind: 'connected' | 'apdu' | 'disconnected';
  resolve: (value: Uint8Array | undefined) => void;
  reject: (error: DcuError) => void;
  timer: TimerHandle;
  timeoutMs: number;
  what: string;
}

/**
 * Binds a sans-IO link to a byte transport: received bytes go into the link, the link's
 * output goes to the transport in order, and link events resolve whoever waits for them.
 * The only place in the client where bytes and promises meet.
 */
export class LinkDriver {
  private waiter: Waiter | undefined;
  private readonly inbox: Uint8Array[] = [];
  private writing: Promise<void> = Promise.resolve();
  private failure: DcuError | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private lastProgress = 0;
  /** Frame hex is built only when trace is on (it cost ~2 % of a collection's CPU at info level). */
  private readonly traceFrames: boolean;

  constructor(
    private readonly transport: ByteTransport,
    private readonly link: DriverLink,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Overall deadline of the request or association in progress, if any (the client's). */
    private readonly currentDeadline: () => Deadline | undefined = () => undefined,
  ) {
    this.traceFrames = logger.isLevelEnabled?.('trace') ?? true;
    this.unsubscribe.push(
      transport.onData((chunk) => {
        if (this.traceFrames) this.logger.trace({ rx: toHex(chunk, ' ') }, 'rx');
        this.link.receive(chunk);
        // The timeout is a silence watchdog: a long answer that keeps coming is fine, noise is not.
        const progress = this.link.progress;
        const moved = progress === undefined ? chunk.length : progress - this.lastProgress;
        if (progress !== undefined) this.lastProgress = Math.max(this.lastProgress, progress);
        if (moved > 0) {
          this.currentDeadline()?.linkProgress(moved);
          if (this.waiter) this.arm(this.waiter);
        }
        this.pump();
      }),
      transport.onClose((error) => {
        this.fail(error ?? new DcuError(ErrorCode.TransportClosed, `${transport.description} closed`));
      }),
    );
  }

  /** Called by the link (through its notify hook) and after every input. */
  pump(): void {
    for (let out = this.link.takeOutput(); out; out = this.link.takeOutput()) {
      const bytes = out;
      if (this.traceFrames) this.logger.trace({ tx: toHex(bytes, ' ') }, 'tx');
      this.writing = this.writing
        .then(() => this.transport.write(bytes))
        .catch((e: unknown) => {
          this.fail(isDcuError(e) ? e : new DcuError(ErrorCode.TransportWriteFailed, `write to ${this.transport.description} failed`, { cause: e }));
        });
    }
    for (let ev = this.link.takeEvent(); ev; ev = this.link.takeEvent()) this.dispatch(ev);
  }

  private dispatch(ev: LinkEvent): void {
    switch (ev.type) {
      case 'apdu':
        if (this.waiter?.kind === 'apdu') this.settle(undefined, ev.apdu);
        else if (this.inbox.length < MAX_INBOX) this.inbox.push(ev.apdu);
        else this.fail(new DcuError(ErrorCode.FramingProtocol, `the meter sent over ${MAX_INBOX} APDUs nobody asked for on ${this.transport.description}: it floods the link`));
        return;
      case 'connected':
        if (this.waiter?.kind === 'connected') this.settle(undefined, undefined);
        return;
      case 'disconnected':
        if (this.waiter?.kind === 'disconnected') this.settle(undefined, undefined);
        else this.fail(new DcuError(ErrorCode.LinkDisconnected, `the meter closed the link on ${this.transport.description}`));
        return;
      case 'error':
        if (ev.fatal) this.fail(ev.error);
        else this.logger.debug({ code: ev.error.code, err: ev.error.message }, 'link recovered from an error');
        return;
    }
  }

  private settle(error: DcuError | undefined, value: Uint8Array | undefined): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    w.timer.cancel();
    if (error) w.reject(error);
    else w.resolve(value);
  }

  private fail(error: DcuError): void {
    this.failure ??= error;
    this.settle(error, undefined);
  }

  private wait(kind: Waiter['kind'], timeoutMs: number, what: string): Promise<Uint8Array | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new DcuError(ErrorCode.Internal, `${what} while another exchange is in progress`));
    const deadline = this.currentDeadline();
    if (deadline?.expired === true) return Promise.reject(deadline.error());
    if (kind === 'apdu') {
      const queued = this.inbox.shift();
      if (queued) return Promise.resolve(queued);
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { kind, resolve, reject, timer: { cancel: () => undefined }, timeoutMs, what };
      this.waiter = w;
      this.arm(w);
      // Waiting with nothing in flight: the meter may still hold APDUs of a streamed answer.
      if (kind === 'apdu') this.link.poll?.();
      this.pump();
    });
  }

  private arm(w: Waiter): void {
    w.timer.cancel();
    const deadline = this.currentDeadline();
    const remaining = deadline?.remainingMs();
    const ms = remaining === undefined ? w.timeoutMs : Math.min(w.timeoutMs, remaining);
    // A timer cut short by the deadline is the deadline's, even when it fires a millisecond
    // before the clock says so (node's timers and Date.now() are different clocks).
    const deadlineFirst = remaining !== undefined && remaining < w.timeoutMs;
    w.timer = this.clock.setTimer(ms, () => {
      if (this.waiter !== w) return;
      this.waiter = undefined;
      if (deadline !== undefined && (deadlineFirst || deadline.expired)) {
        w.reject(deadline.error());
        return;
      }
      w.reject(
        new DcuError(ErrorCode.Timeout, `no answer from the meter within ${w.timeoutMs} ms (${w.what}) on ${this.transport.description}`, {
          context: { timeoutMs: w.timeoutMs },
        }),
      );
    });
  }

  async connect(timeoutMs: number): Promise<void> {
    this.link.connect();
    await this.wait('connected', timeoutMs, 'link set-up');
  }

  /** True when APDUs may be sent without waiting for an answer in between (GBT streaming). */
  get canStream(): boolean {
    return this.link.canStream;
  }

  /**
   * Sends one APDU without waiting (a GBT block in a stream); answers come through nextApdu().
   * `more`: further APDUs of the same burst follow, no answer is expected to this one (HDLC
   * holds it back and sends the burst in one transmission, poll bit on the last frame).
   */
  send(apdu: Uint8Array, more = false): void {
    if (this.failure) throw this.failure;
    this.link.sendApdu(apdu, more ? { expectAnswer: false } : undefined);
    this.pump();
  }

  /** Sends one APDU and waits for the next APDU from the meter. */
  async exchange(apdu: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    this.link.sendApdu(apdu);
    return this.nextApdu(timeoutMs);
  }

  async nextApdu(timeoutMs: number): Promise<Uint8Array> {
    const v = await this.wait('apdu', timeoutMs, 'response');
    if (!v) throw new DcuError(ErrorCode.Internal, 'empty APDU from link');
    return v;
  }

  /** Ends the link; a meter that does not answer the disconnect is not an error worth raising. */
  async disconnect(timeoutMs: number): Promise<void> {
    if (this.failure) return;
    this.link.disconnect();
    try {
      await this.wait('disconnected', timeoutMs, 'disconnect');
    } catch (e) {
      this.logger.debug({ err: (e as Error).message }, 'disconnect not confirmed');
    }
    await this.writing;
  }

  /** True once the transport failed or the link broke; the association cannot continue. */
  get broken(): DcuError | undefined {
    return this.failure;
  }

  detach(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe.length = 0;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.timer.cancel();
      w.reject(new DcuError(ErrorCode.TransportClosed, 'connection closed while waiting'));
    }
  }
}
