import { DcuError, ErrorCode } from '../protocol/common/errors';

/**
 * Date-times typed by a technician (`--from`, `--to`, `clock --set`). One rule everywhere:
 * with a UTC offset (`Z`, `+01:00`, `+0100`) the offset is used; without one the machine's
 * local zone applies (the TZ environment variable, as for `date`), and the output says so.
 */
export interface TypedInstant {
  /** Epoch milliseconds. */
  readonly ms: number;
  /** Offset from UTC in minutes at that instant (+60 for UTC+01:00). */
  readonly offsetMinutes: number;
  /** True when the text carried no offset and the local zone was applied. */
  readonly local: boolean;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

const EXAMPLES = 'e.g. 2026-11-23T00:00 (local time), 2026-11-23T00:00Z or 2026-11-23T01:00+01:00';

/** The machine's zone name (TZ, else the system's), for messages. */
export function localZoneName(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function parseTypedInstant(text: string, flag: string): TypedInstant {
  const m = ISO.exec(text.trim());
  const bad = (): DcuError => new DcuError(ErrorCode.Usage, `${flag} takes an ISO date-time, ${EXAMPLES}; got "${text}"`, { context: { flag } });
  if (!m) throw bad();
  const num = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]));
  const [year, month, day, hour, minute, second] = [num(1), num(2), num(3), num(4), num(5), num(6)];
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) throw bad();
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) throw bad(); // 31 November
  const zone = m[8];
  if (zone === undefined) {
    const ms = new Date(year, month - 1, day, hour, minute, second, millis).getTime();
    const offsetMinutes = -new Date(ms).getTimezoneOffset();
    return { ms, offsetMinutes: offsetMinutes === 0 ? 0 : offsetMinutes, local: true };
  }
  const offsetMinutes = zone.toUpperCase() === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  return { ms: Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000, offsetMinutes, local: false };
}

const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');

/** ISO text of an instant at an offset: 2026-11-23T00:00:00+01:00. */
export function formatAtOffset(ms: number, offsetMinutes: number): string {
  const t = new Date(ms + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const base = `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
  return `${base}${sign}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
}

/** How an instant was understood, for the output: `2026-11-23T00:00:00+01:00 (local time, Europe/Berlin)`. */
export function describeInstant(i: TypedInstant): string {
  return `${formatAtOffset(i.ms, i.offsetMinutes)}${i.local ? ` (no offset given: local time, ${localZoneName()})` : ''}`;
}

/** --from/--to: both or neither, and from not after to — checked before the port opens. */
export function parseRange(from: string | undefined, to: string | undefined): { from: TypedInstant; to: TypedInstant } | undefined {
  if (from === undefined && to === undefined) return undefined;
  if (from === undefined || to === undefined) throw new DcuError(ErrorCode.Usage, '--from and --to go together');
  const range = { from: parseTypedInstant(from, '--from'), to: parseTypedInstant(to, '--to') };
  if (range.from.ms > range.to.ms) {
    throw new DcuError(ErrorCode.Usage, `--from ${describeInstant(range.from)} is later than --to ${describeInstant(range.to)}: swap them`);
  }
  return range;
}
