/**
 * A simulated serial line (RS-485 bus, PLC/RF modem) with many meters. The line owns the
 * meter-side port: it cuts received bytes into HDLC frames, hands each frame to the meter
 * whose physical/logical address it carries (others stay silent), and writes the answer
 * after the turnaround latency (+ jitter + fault delay), paced at the emulated baud rate.
 * One transmitter per line: exactly one meter talks at a time.
 */
import type { Clock } from '../protocol/common/clock';
import { concatBytes } from '../protocol/common/hex';
import type { Logger } from '../protocol/common/log';
import { nullLogger } from '../protocol/common/log';
import type { HdlcParameters } from '../protocol/hdlc/params';
import type { ByteTransport } from '../protocol/transport/types';
import { PacedTransmitter } from './pacing';
import type { Rng } from './prng';
import { HdlcRouter, type RouterStats } from './router';
import type { MeterSlot } from './slot';

export interface SimLineOptions {
  /** For logs and session ids, e.g. "line0". */
  readonly name: string;
  /** The meter side of the line (e.g. SerialTransport on the pty end the client does not open). */
  readonly transport: ByteTransport;
  readonly slots: readonly MeterSlot[];
  /** Link time (real time in the simulator, FakeClock in tests). */
  readonly clock: Clock;
  /** Emulated baud rate (8N1); 0 = no pacing. */
  readonly baud: number;
  /** Turnaround: silence between the end of a request and the start of the answer. */
  readonly latencyMs: number;
  /** Pacing granularity (default 10 ms; Infinity: each answer whole once it has left, for virtual lines). */
  readonly tickMs?: number;
  /** Uniform extra 0..jitterMs added to each turnaround. */
  readonly jitterMs?: number;
  /** Draws the jitter (seeded for repeatable runs). */
  readonly rng: Rng;
  readonly hdlcLimits?: Partial<HdlcParameters>;
  readonly inactivityTimeoutMs?: number;
  readonly log?: Logger;
}

export interface SimLineStats extends RouterStats {
  answers: number;
  /** Bytes the meters' side read from the line (every request byte, whoever it was for). */
  bytesIn: number;
  bytesOut: number;
  writeErrors: number;
}

export class SimLine {
  private readonly router: HdlcRouter;
  private readonly tx: PacedTransmitter;
  private readonly log: Logger;
  private unsubscribe: (() => void)[] = [];
  private answers = 0;
  private bytesIn = 0;
  private writeErrors = 0;

  constructor(private readonly opts: SimLineOptions) {
    this.log = opts.log ?? nullLogger;
    this.router = new HdlcRouter(opts.slots, {
      clock: opts.clock,
      where: opts.name,
      log: this.log,
      ...(opts.hdlcLimits === undefined ? {} : { limits: opts.hdlcLimits }),
      ...(opts.inactivityTimeoutMs === undefined ? {} : { inactivityTimeoutMs: opts.inactivityTimeoutMs }),
    });
    this.tx = new PacedTransmitter({
      clock: opts.clock,
      baud: opts.baud,
      ...(opts.tickMs === undefined ? {} : { tickMs: opts.tickMs }),
      write: (b) => opts.transport.write(b),
      onError: (e) => {
        this.writeErrors++;
        this.log.warn({ line: opts.name, err: e instanceof Error ? e.message : String(e) }, 'write to line failed');
      },
    });
  }

  get name(): string {
    return this.opts.name;
  }

  get slots(): readonly MeterSlot[] {
    return this.opts.slots;
  }

  get stats(): SimLineStats {
    return { ...this.router.stats, answers: this.answers, bytesIn: this.bytesIn, bytesOut: this.tx.bytesSent, writeErrors: this.writeErrors };
  }

  /** Opens the port and starts answering. */
  async start(): Promise<void> {
    const t = this.opts.transport;
    this.unsubscribe.push(
      t.onData((chunk) => this.onData(chunk)),
      t.onClose((err) => {
        if (err !== undefined) this.log.error({ line: this.opts.name, err: err.message }, 'line port closed');
        this.router.resetAll();
        this.tx.clear();
      }),
    );
    if (!t.isOpen) await t.open();
  }

  /** Stops answering, drops every link and closes the port. */
  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    this.tx.clear();
    this.router.dispose();
    await this.opts.transport.close();
  }

  /** A meter speaks first (an unsolicited UI frame): queued behind any answer on the wire. */
  pushFrame(frame: Uint8Array): Promise<void> {
    return this.tx.send(frame, 0);
  }

  private onData(chunk: Uint8Array): void {
    this.bytesIn += chunk.length;
    for (const answer of this.router.push(chunk)) {
      const jitter = this.opts.jitterMs !== undefined && this.opts.jitterMs > 0 ? this.opts.rng.int(this.opts.jitterMs + 1) : 0;
      const delay = this.opts.latencyMs + jitter + answer.slot.faults.extraLatencyMs;
      this.answers++;
      void this.tx.send(concatBytes(answer.frames), delay);
    }
  }
}
