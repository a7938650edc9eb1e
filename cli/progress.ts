/**
 * One progress line on stderr for whatever takes more than a second (reads, plans followed,
 * exports, uploads): `read [########------------] 3/8 meters  12 s`, or a count without a
 * total (`export 1.2 MB, 10234 rows  3 s`). Only on a terminal (stderr a TTY, not --json,
 * TERM not dumb, DCU_NO_PROGRESS unset); it appears once the work has lasted `delayMs`, is
 * redrawn in place at most every `throttleMs` (and each second for the elapsed time), and is
 * wiped before anything else is printed (`above`), at the end (`finish`), on exit and on
 * Ctrl-C. No dependency: a carriage return and "erase line" are all it takes. (`dcu probe
 * flash` keeps its own richer bar with rate and ETA, probe/progress.ts; bytes read the same.)
 */
import { systemClock, type Clock, type TimerHandle } from '../protocol/common/clock';
import { formatBytes } from './probe/progress';

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  readonly stream?: ProgressStream;
  readonly clock?: Clock;
  /** False: every call is a no-op (not a TTY, --json). Default: the stream is a TTY. */
  readonly enabled?: boolean;
  readonly delayMs?: number;
  readonly throttleMs?: number;
  /** Hook process exit and SIGINT to wipe the line (off in unit tests). */
  readonly hookProcess?: boolean;
}

export interface ProgressState {
  readonly done: number;
  readonly total?: number;
  /** What is counted: "meters", "bytes" (shown as kB/MB), … */
  readonly unit: string;
  /** Extra words after the count (e.g. "10234 rows"). */
  readonly detail?: string;
}

const ERASE = '\r\x1b[2K';
const BAR = 20;


/** The text of one progress line (no escape codes), cut to `width`. */
export function progressText(label: string, s: ProgressState, elapsedMs: number, width = 80): string {
  const count = s.unit === 'bytes' ? (s.total === undefined ? formatBytes(s.done) : `${formatBytes(s.done)}/${formatBytes(s.total)}`) : s.total === undefined ? `${s.done} ${s.unit}` : `${s.done}/${s.total} ${s.unit}`;
  let bar = '';
  if (s.total !== undefined && s.total > 0) {
    const full = Math.max(0, Math.min(BAR, Math.floor((s.done / s.total) * BAR)));
    bar = ` [${'#'.repeat(full)}${'-'.repeat(BAR - full)}]`;
  }
  const text = `${label}${bar} ${count}${s.detail === undefined ? '' : `, ${s.detail}`}  ${Math.floor(elapsedMs / 1000)} s`;
  return text.length < width ? text : `${text.slice(0, Math.max(0, width - 2))}…`;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly clock: Clock;
  private readonly enabled: boolean;
  private readonly started: number;
  private readonly delayMs: number;
  private readonly throttleMs: number;
  private state: ProgressState = { done: 0, unit: '' };
  private shown = false;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private timer: TimerHandle | undefined;
  private finished = false;
  private readonly unhook: () => void = () => undefined;

  constructor(
    private readonly label: string,
    o: ProgressOptions = {},
  ) {
    this.stream = o.stream ?? process.stderr;
    this.clock = o.clock ?? systemClock;
    this.enabled = o.enabled ?? this.stream.isTTY === true;
    this.delayMs = o.delayMs ?? 1000;
    this.throttleMs = o.throttleMs ?? 100;
    this.started = this.clock.now();
    if (!this.enabled) return;
    this.schedule(this.delayMs);
    if (o.hookProcess !== false) {
      const onExit = (): void => this.wipe();
      const onSigint = (): void => {
        this.wipe();
        process.exit(130);
      };
      process.once('exit', onExit);
      process.once('SIGINT', onSigint);
      this.unhook = () => {
        process.off('exit', onExit);
        process.off('SIGINT', onSigint);
      };
    }
  }

  get active(): boolean {
    return this.enabled && !this.finished;
  }

  update(s: ProgressState): void {
    if (!this.active) return;
    this.state = s;
    if (this.clock.now() - this.started < this.delayMs) return; // the timer set at the start draws it
    if (this.clock.now() - this.lastDraw >= this.throttleMs) this.draw();
    else this.schedule(this.throttleMs - (this.clock.now() - this.lastDraw));
  }

  /** Prints something (a result line on stdout) without a half-drawn bar in the way. */
  above(print: () => void): void {
    if (!this.shown) {
      print();
      return;
    }
    this.stream.write(ERASE);
    print();
    this.draw();
  }

  /** Wipes the line and stops; later calls do nothing. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.wipe();
    this.unhook();
  }

  private wipe(): void {
    if (!this.shown) return;
    this.stream.write(ERASE);
    this.shown = false;
  }

  private schedule(ms: number): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = undefined;
      if (this.active) this.draw();
    });
  }

  private draw(): void {
    const now = this.clock.now();
    const columns = this.stream.columns ?? 0; // 0 when the terminal does not say (script, some serial consoles)
    this.stream.write(`${ERASE}${progressText(this.label, this.state, now - this.started, columns > 0 ? columns : 80)}`);
    this.shown = true;
    this.lastDraw = now;
    // the elapsed seconds move on while nothing else does
    this.schedule(1000 - ((now - this.started) % 1000));
  }
}

/** The progress line of a command: on when stderr is a terminal, off with --json, TERM=dumb or DCU_NO_PROGRESS. */
export function progressFor(label: string, o: { json?: boolean | undefined; env: NodeJS.ProcessEnv }): Progress {
  const enabled = process.stderr.isTTY && o.json !== true && o.env.TERM !== 'dumb' && (o.env.DCU_NO_PROGRESS ?? '') === '';
  return new Progress(label, { enabled });
}
