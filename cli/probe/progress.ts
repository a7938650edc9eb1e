/**
 * Progress of an image transfer for `dcu probe … flash`, three ways: a bar redrawn in place
 * on a terminal (percent, bytes, rate, ETA), a plain line per 10 % when the output is a
 * file or a pipe (a field log), and one JSON line per step with --json. Rate and ETA count
 * only the bytes of this session (a resumed transfer starts with the bytes already there).
 */
import type { Clock } from '../../protocol/common/clock';

export type ProgressMode = 'tty' | 'lines' | 'json';

export interface ProgressSnapshot {
  /** Bytes on the meter (from earlier sessions and this one). */
  bytes: number;
  totalBytes: number;
  blocksSent: number;
  blocksToSend: number;
  percent: number;
  /** Bytes per second in this session (0 before the first block). */
  rateBps: number;
  /** Seconds left at that rate, undefined before the first block. */
  etaS?: number;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatDuration(s: number): string {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

const BAR = 24;

/** The in-place bar: `[#########...............]  38 %  97.5 KiB / 256.0 KiB  1.1 KiB/s  ETA 2:24`. */
export function renderBar(p: ProgressSnapshot): string {
  const filled = Math.min(BAR, Math.floor((p.percent / 100) * BAR));
  const eta = p.etaS === undefined ? 'ETA --:--' : `ETA ${formatDuration(p.etaS)}`;
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${String(Math.floor(p.percent)).padStart(3)} %  ${formatBytes(p.bytes)} / ${formatBytes(p.totalBytes)}  ${formatBytes(Math.round(p.rateBps))}/s  ${eta}`;
}

export class TransferProgress {
  private readonly startedAt: number;
  private blocksSent = 0;
  private sessionBytes = 0;
  private lastDecile: number;
  private lastDraw = -Infinity;
  /** Longest bar drawn: a shorter one is padded so no characters of the last one remain. */
  private width = 0;

  constructor(
    private readonly mode: ProgressMode,
    /** Writes text as is (the bar uses \r; lines end with \n). */
    private readonly write: (text: string) => void,
    private readonly clock: Clock,
    private readonly totalBytes: number,
    private readonly blocksToSend: number,
    /** Bytes already on the meter when this session starts. */
    private bytes: number,
  ) {
    this.startedAt = clock.now();
    this.lastDecile = Math.floor(this.percent() / 10);
  }

  private percent(): number {
    return this.totalBytes === 0 ? 100 : (this.bytes / this.totalBytes) * 100;
  }

  snapshot(): ProgressSnapshot {
    const elapsedS = (this.clock.now() - this.startedAt) / 1000;
    const rateBps = elapsedS > 0 ? this.sessionBytes / elapsedS : 0;
    const left = this.totalBytes - this.bytes;
    return {
      bytes: this.bytes,
      totalBytes: this.totalBytes,
      blocksSent: this.blocksSent,
      blocksToSend: this.blocksToSend,
      percent: Math.round(this.percent() * 10) / 10,
      rateBps: Math.round(rateBps),
      ...(rateBps > 0 ? { etaS: Math.round(left / rateBps) } : left === 0 ? { etaS: 0 } : {}),
    };
  }

  /** One block of `length` bytes acknowledged by the meter. */
  block(blockNumber: number, length: number): void {
    this.blocksSent++;
    this.sessionBytes += length;
    this.bytes = Math.min(this.totalBytes, this.bytes + length);
    const p = this.snapshot();
    switch (this.mode) {
      case 'json':
        this.write(`${JSON.stringify({ event: 'progress', block: blockNumber, ...p })}\n`);
        return;
      case 'lines': {
        const decile = Math.floor(this.percent() / 10);
        if (decile === this.lastDecile) return;
        this.lastDecile = decile;
        this.write(`${decile * 10} %  ${formatBytes(p.bytes)} / ${formatBytes(p.totalBytes)}  ${formatBytes(p.rateBps)}/s${p.etaS === undefined ? '' : `  ETA ${formatDuration(p.etaS)}`}\n`);
        return;
      }
      case 'tty': {
        // At most 10 redraws a second: a terminal over a slow SSH session is a line too.
        const now = this.clock.now();
        if (now - this.lastDraw < 100 && this.blocksSent < this.blocksToSend) return;
        this.lastDraw = now;
        const bar = renderBar(p);
        this.width = Math.max(this.width, bar.length);
        this.write(`\r${bar.padEnd(this.width)}`);
        return;
      }
    }
  }

  /** Ends the bar's line (the next output starts on a fresh one). */
  end(): void {
    if (this.mode === 'tty' && this.lastDraw !== -Infinity) this.write('\n');
  }
}
