import type { FakeClock } from '../protocol/common/clock';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import type { ByteTransport } from '../protocol/transport/types';

/**
 * A half-duplex serial line in virtual time, for link-efficiency figures: a chunk occupies
 * the line for 10 bits per byte at `baud` (8N1), and every change of direction costs
 * `turnaroundMs` (modem/RS-485 turnaround, meter reaction). Runs on a FakeClock, so a
 * transfer that takes minutes on a real 9,600-baud line is measured in milliseconds.
 */
export class VirtualLine {
  private freeAt = 0;
  private lastSender: 'a' | 'b' | undefined;
  readonly a: VirtualEnd;
  readonly b: VirtualEnd;
  /** Bytes carried per direction. */
  readonly bytes = { a: 0, b: 0 };

  constructor(
    readonly clock: FakeClock,
    readonly baud: number,
    readonly turnaroundMs: number,
  ) {
    this.a = new VirtualEnd(this, 'a');
    this.b = new VirtualEnd(this, 'b');
  }

  send(from: 'a' | 'b', bytes: Uint8Array): void {
    const now = this.clock.now();
    let start = Math.max(now, this.freeAt);
    if (this.lastSender !== undefined && this.lastSender !== from) start += this.turnaroundMs;
    this.lastSender = from;
    const end = start + (bytes.length * 10 * 1000) / this.baud;
    this.freeAt = end;
    this.bytes[from] += bytes.length;
    const to = from === 'a' ? this.b : this.a;
    const copy = bytes.slice();
    this.clock.setTimer(end - now, () => to.deliver(copy));
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
