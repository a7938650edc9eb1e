/**
 * `dcu firmware campaign status ID --watch`: follows a campaign until it ends. On a terminal
 * the view (per-meter progress bars, bytes, counts) is redrawn every second; otherwise (a
 * pipe, a log file) one line is printed per meter whose state, progress, attempts or reason
 * changed, and with --json one status document (NDJSON) whenever it changed. The daemon may
 * restart meanwhile (the campaign resumes): the watch waits for it up to `giveUpMs`.
 * Exit 0 when every meter ended OK, 5 (ExitCode.meter) when one ended KO, 2 refused (no such
 * campaign), 3 the daemon stayed unreachable.
 */
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { ExitCode, exitCodeFor } from '../common/exit-codes';

type Doc = Record<string, unknown>;

export interface WatchOptions {
  /** One status document (fw-campaign-status), or a DcuError: command layer = refused, else not reachable. */
  readonly fetch: () => Promise<Doc>;
  readonly tty: boolean;
  readonly json: boolean;
  readonly intervalMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  /** Terminal size (tty): the view keeps within it. */
  readonly rows?: number;
  readonly columns?: number;
  /** The daemon unreachable this long in a row: give up (exit 3). Default 60 s. */
  readonly giveUpMs?: number;
}

export interface WatchIo {
  /** A line (a newline is added). */
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Raw text for the terminal redraw (no newline added). */
  readonly write: (text: string) => void;
}

interface MeterDoc {
  meter: string;
  state: string;
  progress: number;
  attempts: number;
  reason: string | null;
  detail: string | null;
  line?: string;
  bytes?: BytesDoc;
}
interface BytesDoc {
  imageBytes: number;
  imageBytesSent: number;
  ratio: number;
  lineBytesSent: number;
  lineBytesReceived: number;
  overheadBytes: number;
}

const BAR = 20;
const meters = (s: Doc): MeterDoc[] => (s.meters as MeterDoc[] | undefined) ?? [];

/** 12.0 kB, 1.25 MB: byte counts for people. */
export function kb(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

/** "image 36.0 kB sent of 36.0 kB (×1.000, goal ≤ 1.1), overhead 15.2 kB (0.42 per image byte)". */
export function bytesText(b: BytesDoc | undefined): string {
  if (b === undefined) return '';
  const per = b.imageBytesSent > 0 ? ` (${(b.overheadBytes / b.imageBytesSent).toFixed(2)} per image byte)` : '';
  return `image ${kb(b.imageBytesSent)} sent of ${kb(b.imageBytes)} (×${b.ratio.toFixed(3)}, goal ≤ 1.1), overhead ${kb(b.overheadBytes)}${per}`;
}

function meterLine(m: MeterDoc): string {
  const filled = Math.round((Math.max(0, Math.min(100, m.progress)) / 100) * BAR);
  const b = m.bytes === undefined ? '' : `  img ${kb(m.bytes.imageBytesSent)} ×${m.bytes.ratio.toFixed(2)}  ovh ${kb(m.bytes.overheadBytes)}`;
  const why = m.reason !== null ? `  ${m.reason}` : m.state === 'OK' && m.detail !== null ? '  WARN' : '';
  return `${m.meter.padEnd(12)} ${m.state.padEnd(12)} [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${String(m.progress).padStart(3)} %  att ${m.attempts}${b}${why}`;
}

const counts = (s: Doc): string => Object.entries((s.counts as Record<string, number> | undefined) ?? {}).map(([k, n]) => `${n} ${k}`).join(', ');
const header = (s: Doc): string => `${String(s.campaign)}  image ${String(s.image)}  ${String(s.state)}  deadline ${String(s.deadline)}`;
const lineTexts = (s: Doc): string[] => ((s.lines as { line: string; meters: number; bytes: BytesDoc }[] | undefined) ?? []).map((l) => `${l.line}: ${l.meters} meter(s), ${bytesText(l.bytes)}`);

/** The terminal view: header, counts, the meters that matter most first (working, KO, others), lines. */
export function frame(s: Doc, at: string, rows = 40, columns = 120): string[] {
  const rank = (m: MeterDoc): number => (m.state === 'OK' ? 3 : m.state === 'KO' ? 1 : m.state === 'queued' ? 2 : 0);
  const all = [...meters(s)].sort((a, b) => rank(a) - rank(b) || a.meter.localeCompare(b.meter));
  const lines = lineTexts(s);
  const room = Math.max(3, rows - 4 - lines.length);
  const shown = all.length <= room ? all : all.slice(0, room - 1);
  const out = [`${header(s)}  ${at}`, counts(s), ...shown.map(meterLine), ...(shown.length < all.length ? [`… ${all.length - shown.length} more meter(s)`] : []), ...lines];
  return out.map((l) => (l.length > columns ? l.slice(0, columns - 1) : l));
}

const keyOf = (m: MeterDoc): string => `${m.state}|${m.progress}|${m.attempts}|${m.reason ?? ''}`;

/** Follows the campaign until it is over; resolves with the exit code. */
export async function watchCampaign(o: WatchOptions, io: WatchIo): Promise<number> {
  const seen = new Map<string, string>();
  let drawn = 0;
  let lastJson = '';
  let downSince: number | undefined;
  const giveUp = o.giveUpMs ?? 60_000;
  for (;;) {
    let s: Doc;
    try {
      s = await o.fetch();
      if (downSince !== undefined && !o.tty && !o.json) io.out(`${new Date(o.now()).toISOString()}  the daemon answers again`);
      downSince = undefined;
    } catch (e) {
      const err = e instanceof DcuError ? e : new DcuError(ErrorCode.TransportOpenFailed, e instanceof Error ? e.message : String(e));
      if (err.layer === 'command' || err.layer === 'association') {
        io.err(err.message);
        return exitCodeFor(err);
      }
      const now = o.now();
      drawn = 0; // a message went to the terminal: the next view starts below it
      if (downSince === undefined) {
        downSince = now;
        if (!o.json) io.err(`${err.message}; waiting for it (up to ${Math.round(giveUp / 1000)} s)`);
      } else if (now - downSince >= giveUp) {
        io.err(err.message);
        return ExitCode.transport;
      }
      await o.sleep(o.intervalMs);
      continue;
    }
    const over = s.state !== 'running';
    const at = new Date(o.now()).toISOString();
    if (o.json) {
      const text = JSON.stringify(s);
      if (text !== lastJson) io.out(text);
      lastJson = text;
    } else if (o.tty) {
      const view = frame(s, at, o.rows, o.columns);
      io.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ''}${view.join('\n')}\n`);
      drawn = view.length;
    } else {
      if (seen.size === 0) io.out(`${header(s)}: ${meters(s).length} meter(s)`);
      for (const m of meters(s)) {
        const key = keyOf(m);
        if (seen.get(m.meter) === key) continue;
        seen.set(m.meter, key);
        const why = m.reason !== null ? `  ${m.reason}: ${m.detail ?? ''}` : m.detail !== null && m.detail.startsWith('WARN') ? `  ${m.detail}` : '';
        io.out(`${at}  ${m.meter}  ${m.state}  ${m.progress} %  attempts ${m.attempts}${m.bytes === undefined ? '' : `  image sent ${kb(m.bytes.imageBytesSent)}`}${why}`);
      }
      if (over) {
        io.out(`${at}  campaign ${String(s.state)}: ${counts(s)}`);
        for (const l of lineTexts(s)) io.out(l);
      }
    }
    if (over) return meters(s).some((m) => m.state === 'KO') ? ExitCode.meter : ExitCode.ok;
    await o.sleep(o.intervalMs);
  }
}
