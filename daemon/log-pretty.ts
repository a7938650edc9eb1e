/**
 * pino's JSON lines as text a technician reads at a terminal (`dcu probe --verbose` when
 * stderr is a TTY): `10:30:00.123 TRACE meter=… frame out  hex=7EA0…`. When stderr is piped
 * the JSON stays as it is, for tools. No dependency: one line in, one line out.
 */
const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Readonly<Record<number, string>> = { 10: '\x1b[90m', 20: '\x1b[36m', 30: '\x1b[32m', 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[35m' };
const RESET = '\x1b[0m';
/** Fields every line has; the rest follow as key=value. */
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

function valueText(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return v === undefined ? 'undefined' : JSON.stringify(v);
}

function clockText(time: unknown): string {
  if (typeof time !== 'number') return '--:--:--.---';
  const d = new Date(time);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** One pino JSON line as text; a line that is not JSON passes through unchanged. */
export function prettyLine(line: string, colour = false): string {
  let o: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    o = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = typeof o['level'] === 'number' ? o['level'] : 30;
  const label = LEVELS[level] ?? String(level);
  const fields = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${valueText(v)}`)
    .join(' ');
  const head = colour ? `${COLOURS[level] ?? ''}${label}${RESET}` : label;
  const msg = typeof o['msg'] === 'string' ? o['msg'] : '';
  return `${clockText(o['time'])} ${head} ${msg}${fields === '' ? '' : `  ${fields}`}`;
}

/** A pino destination that writes each JSON line as text to `out` (stderr by default). */
export function prettyDestination(write: (text: string) => void = (t) => process.stderr.write(t), colour = true): { write(chunk: string): void } {
  let rest = '';
  return {
    write(chunk: string): void {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) if (l !== '') write(`${prettyLine(l, colour)}\n`);
    },
  };
}
