/**
 * Emulated line speed. A pty moves bytes as fast as the kernel can, whatever baud rate is
 * set, so the simulator paces its answers itself: bytes leave at baud / bitsPerChar per
 * second (8N1 = 10 bits per character), in small chunks, after a turnaround delay. One
 * transmitter per line and one burst at a time: the line is half duplex.
 */
import { sleep, type Clock } from '../protocol/common/clock';

/** Bits on the wire per character: start + 8 data + stop (8N1). */
export const BITS_PER_CHAR_8N1 = 10;

/** Milliseconds one character takes on the wire. */
export function charTimeMs(baud: number, bitsPerChar = BITS_PER_CHAR_8N1): number {
  return baud > 0 && Number.isFinite(baud) ? (bitsPerChar * 1000) / baud : 0;
}

/** Milliseconds `length` bytes take on the wire. */
export function transmitTimeMs(length: number, baud: number, bitsPerChar = BITS_PER_CHAR_8N1): number {
  return length * charTimeMs(baud, bitsPerChar);
}

export interface PacedTransmitterOptions {
  readonly clock: Clock;
  /** Emulated baud rate; 0 or Infinity = no pacing. */
  readonly baud: number;
  readonly bitsPerChar?: number;
  /**
   * Granularity of the pacing (default 10 ms): bytes are written in chunks this long, each
   * once its last byte has left. Infinity writes a burst whole when it has left (virtual lines:
   * the same line time, far fewer timer steps).
   */
  readonly tickMs?: number;
  readonly write: (bytes: Uint8Array) => Promise<void>;
  /** A write failed (port vanished); the burst is abandoned. */
  readonly onError?: (e: unknown) => void;
}

interface Burst {
  readonly bytes: Uint8Array;
  readonly delayMs: number;
  readonly done: () => void;
}

export class PacedTransmitter {
  private readonly queue: Burst[] = [];
  private running = false;
  private generation = 0;
  /** Bytes written since creation. */
  bytesSent = 0;

  constructor(private readonly opts: PacedTransmitterOptions) {}

  /** True while a burst is waiting or on the wire. */
  get busy(): boolean {
    return this.running || this.queue.length > 0;
  }

  /** Queues a burst: after delayMs of silence its bytes go out at the line speed. Resolves once sent (or dropped). */
  send(bytes: Uint8Array, delayMs = 0): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ bytes, delayMs: Math.max(0, delayMs), done: resolve });
      if (!this.running) void this.run();
    });
  }

  /** Drops bursts not yet started and stops the one on the wire (power cut, stop). */
  clear(): void {
    this.generation++;
    for (const b of this.queue.splice(0)) b.done();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let burst = this.queue.shift(); burst !== undefined; burst = this.queue.shift()) {
        const gen = this.generation;
        try {
          if (burst.delayMs > 0) await sleep(this.opts.clock, burst.delayMs);
          if (gen === this.generation) await this.transmit(burst.bytes, gen);
        } catch (e) {
          this.opts.onError?.(e);
        } finally {
          burst.done();
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async transmit(bytes: Uint8Array, gen: number): Promise<void> {
    const { clock } = this.opts;
    const perChar = charTimeMs(this.opts.baud, this.opts.bitsPerChar);
    if (perChar === 0) {
      await this.opts.write(bytes);
      this.bytesSent += bytes.length;
      return;
    }
    const tick = this.opts.tickMs ?? 10;
    const chunk = Math.max(1, Math.floor(tick / perChar));
    const start = clock.now();
    for (let at = 0; at < bytes.length && gen === this.generation; at += chunk) {
      const part = bytes.subarray(at, Math.min(bytes.length, at + chunk));
      // A chunk reaches the other end once its last byte has left: start + (bytes so far) ×
      // char time, rounded up to whole milliseconds (clocks tell integer epoch ms; a FakeClock
      // would otherwise drift into fractions the concentrator's SQLite store refuses as times).
      const due = Math.ceil(start + (at + part.length) * perChar - clock.now());
      if (due > 0) await sleep(clock, due);
      if (gen !== this.generation) break;
      await this.opts.write(part);
      this.bytesSent += part.length;
    }
  }
}
