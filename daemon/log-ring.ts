/**
 * The daemon's recent log lines, kept in memory for `dcu logs` (API and local socket): a
 * bounded ring (lines and bytes) fed by a tee on pino's output, so journald/stdout get every
 * line as before. Each line is stored parsed and scrubbed once more of anything named like a
 * key, password, secret or token (pino's path redaction stops two levels down), so `dcu logs`
 * never shows key material even if a caller logged it by mistake.
 */
import { redactKeys } from '../protocol/security/redact';
import { systemClock } from '../protocol/common/clock';

export type LogLine = Readonly<Record<string, unknown>> & { readonly level: number; readonly time: number };

export const LOG_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LogLevelName = keyof typeof LOG_LEVELS;
export const isLogLevelName = (s: unknown): s is LogLevelName => typeof s === 'string' && s in LOG_LEVELS;

const TOKEN_NAME = /(token|authorization)$/i;

function scrub(o: Record<string, unknown>): Record<string, unknown> {
  const out = redactKeys(o);
  for (const k of Object.keys(out)) if (TOKEN_NAME.test(k)) out[k] = '[REDACTED]';
  return out;
}

export interface LogQuery {
  /** Epoch ms: only lines at or after. */
  readonly since?: number;
  /** Least level. */
  readonly level?: LogLevelName;
  /** The newest `limit` lines that match. */
  readonly limit?: number;
}

export class LogRing {
  private lines: { line: LogLine; bytes: number }[] = [];
  private bytes = 0;
  private readonly listeners = new Set<(l: LogLine) => void>();
  /** Off until the daemon asks for the ring: a CLI process pays one check per line. */
  enabled = false;

  constructor(
    readonly maxLines = 2000,
    readonly maxBytes = 1024 * 1024,
    /** Stamps a line that came without pino's `time` (wall time, as pino's own). */
    private readonly now: () => number = () => systemClock.now(),
  ) {}

  /** One pino output chunk (one or more JSON lines). */
  push(chunk: string): void {
    if (!this.enabled) return;
    for (const text of chunk.split('\n')) {
      if (text === '') continue;
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch {
        o = { level: LOG_LEVELS.info, time: this.now(), msg: text };
      }
      if (o === null || typeof o !== 'object' || Array.isArray(o)) continue;
      const doc = scrub(o as Record<string, unknown>);
      const line = { ...doc, level: typeof doc.level === 'number' ? doc.level : LOG_LEVELS.info, time: typeof doc.time === 'number' ? doc.time : this.now() } as LogLine;
      this.lines.push({ line, bytes: text.length });
      this.bytes += text.length;
      while (this.lines.length > this.maxLines || (this.bytes > this.maxBytes && this.lines.length > 1)) this.bytes -= this.lines.shift()?.bytes ?? 0;
      for (const l of this.listeners) l(line);
    }
  }

  /** Kept lines that match, oldest first. */
  query(q: LogQuery = {}): LogLine[] {
    const min = q.level === undefined ? 0 : LOG_LEVELS[q.level];
    const found = this.lines.map((x) => x.line).filter((l) => l.level >= min && (q.since === undefined || l.time >= q.since));
    return q.limit === undefined ? found : found.slice(-q.limit);
  }

  /** Every new line at or above `level` from now on; returns the unsubscribe. */
  follow(level: LogLevelName | undefined, listener: (l: LogLine) => void): () => void {
    const min = level === undefined ? 0 : LOG_LEVELS[level];
    const l = (line: LogLine): void => {
      if (line.level >= min) listener(line);
    };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get size(): number {
    return this.lines.length;
  }
}
