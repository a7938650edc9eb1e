import type { FakeClock } from '../protocol/common/clock';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import type { ByteTransport } from '../protocol/transport/types';

/** Optional line timing beyond the shared turnaround. */
export interface LineTiming {
  /** One-way propagation delay (modem, radio, terminal server), ms. Default 0. */
  latencyMs?: number;
  /** Reaction time per side before it answers (replaces turnaroundMs for that side). */
  turnaroundMs?: { a?: number; b?: number };
}

/**
 * A half-duplex serial line in virtual time, for link-efficiency figures: a chunk occupies
 * the line for 10 bits per byte at `baud` (8N1), and every change of direction costs
 * `turnaroundMs` (modem/RS-485 turnaround, meter reaction). Runs on a FakeClock, so a
 * transfer that takes minutes on a real 9,600-baud line is measured in milliseconds.
 * With `timing`, a chunk arrives latencyMs after its last byte left, each side has its own
 * reaction time, and a side may start sending only once the other side's last chunk arrived.
 */
export class VirtualLine {
  /** When each side may start sending (its own last chunk sent, the other's arrived). */
  private readonly freeAt = { a: 0, b: 0 };
  private lastSender: 'a' | 'b' | undefined;
  private readonly latencyMs: number;
  private readonly reaction: { a: number; b: number };
  readonly a: VirtualEnd;
  readonly b: VirtualEnd;
  /** Bytes carried per direction. */
  readonly bytes = { a: 0, b: 0 };
  /** Times side a started sending after side b (or first): request/answer round trips. */
  roundTrips = 0;

  constructor(
    readonly clock: FakeClock,
    readonly baud: number,
    readonly turnaroundMs: number,
    timing: LineTiming = {},
  ) {
    this.latencyMs = timing.latencyMs ?? 0;
    this.reaction = { a: timing.turnaroundMs?.a ?? turnaroundMs, b: timing.turnaroundMs?.b ?? turnaroundMs };
    this.a = new VirtualEnd(this, 'a');
    this.b = new VirtualEnd(this, 'b');
  }

  send(from: 'a' | 'b', bytes: Uint8Array): void {
    const now = this.clock.now();
    const to = from === 'a' ? 'b' : 'a';
    let start = Math.max(now, this.freeAt[from]);
    if (this.lastSender !== from) {
      if (this.lastSender !== undefined) start += this.reaction[from];
      if (from === 'a') this.roundTrips++;
    }
    this.lastSender = from;
    const end = start + (bytes.length * 10 * 1000) / this.baud;
    this.freeAt[from] = end;
    this.freeAt[to] = Math.max(this.freeAt[to], end + this.latencyMs);
    this.bytes[from] += bytes.length;
    const copy = bytes.slice();
    const target = to === 'a' ? this.a : this.b;
    this.clock.setTimer(end + this.latencyMs - now, () => target.deliver(copy));
  }
}

class VirtualEnd implements ByteTransport {
  isOpen = true;
  readonly description: string;
  private readonly listeners = new Set<(chunk: Uint8Array) => void>();

  constructor(
    private readonly line: VirtualLine,
    private readonly side: 'a' | 'b',
  ) {
    this.description = `virtual line ${side}`;
  }

  open(): Promise<void> {
    this.isOpen = true;
    return Promise.resolve();
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(new DcuError(ErrorCode.TransportClosed, 'virtual line closed'));
    this.line.send(this.side, bytes);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.isOpen = false;
    return Promise.resolve();
  }

  deliver(chunk: Uint8Array): void {
    if (this.isOpen) for (const l of this.listeners) l(chunk);
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onClose(): () => void {
    return () => undefined;
  }
}

/** Runs an async operation to completion on a FakeClock, jumping time to each next timer. */
export async function runVirtual<T>(clock: FakeClock, op: () => Promise<T>): Promise<T> {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  op().then(
    (v) => {
      state.done = true;
      state.value = v;
    },
    (e: unknown) => {
      state.done = true;
      state.error = e;
    },
  );
  const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
  const finished = (): boolean => state.done;
  while (!finished()) {
    await flush();
    if (finished()) break;
    const at = clock.nextTimerAt();
    if (at === undefined) {
      await flush();
      if (!finished() && clock.nextTimerAt() === undefined) throw new Error('virtual run stalled: no timer pending and the operation is not done');
      continue;
    }
    clock.advance(Math.max(0, at - clock.now()));
  }
  if (state.error !== undefined) throw state.error instanceof Error ? state.error : new Error('virtual run failed');
  return state.value as T;
}
