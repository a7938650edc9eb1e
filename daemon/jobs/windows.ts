/**
 * Daily time windows of a job ("22:00-06:00": nights only; a window may cross midnight),
 * evaluated in the concentrator's time zone (IANA name; DST follows the zone's rules).
 * Pure functions of an epoch, so a FakeClock drives them in tests.
 */
import { DcuError, ErrorCode } from '../../protocol/common/errors';

export interface DailyWindow {
  /** Minutes after local midnight, start inclusive, end exclusive (1440 = midnight). */
  readonly from: number;
  readonly to: number;
}

export function parseWindow(text: string): DailyWindow {
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text);
  if (!m) throw new DcuError(ErrorCode.Usage, `time window "${text}" is not HH:MM-HH:MM, e.g. "22:00-06:00"`);
  const from = Number(m[1]) * 60 + Number(m[2]);
  const to = Number(m[3]) * 60 + Number(m[4]);
  if (from >= 1440 || to > 1440 || from === to) throw new DcuError(ErrorCode.Usage, `time window "${text}" is empty or past 24:00`);
  return { from, to };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes after local midnight in `timeZone`. */
export function localMinutes(epochMs: number, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch (e) {
      throw new DcuError(ErrorCode.Config, `unknown time zone "${timeZone}"; use an IANA name such as Europe/Madrid or UTC`, { cause: e });
    }
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(epochMs));
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
}

function contains(w: DailyWindow, minute: number): boolean {
  return w.from < w.to ? minute >= w.from && minute < w.to : minute >= w.from || minute < w.to;
}

/** True when there are no windows, or `epochMs` falls in one of them. */
export function inWindows(epochMs: number, windows: readonly DailyWindow[], timeZone: string): boolean {
  if (windows.length === 0) return true;
  const minute = localMinutes(epochMs, timeZone);
  return windows.some((w) => contains(w, minute));
}

/** The first instant ≥ epochMs inside a window (to the minute); epochMs itself when inside. */
export function nextWindowStart(epochMs: number, windows: readonly DailyWindow[], timeZone: string): number {
  if (inWindows(epochMs, windows, timeZone)) return epochMs;
  const minute = localMinutes(epochMs, timeZone);
  const startOfMinute = epochMs - (epochMs % 60_000);
  // minutes until the nearest window start; DST shifts are absorbed by re-checking below
  const wait = Math.min(...windows.map((w) => (w.from - minute + 1440) % 1440 || 1440));
  let t = startOfMinute + wait * 60_000;
  for (let i = 0; i < 180 && !inWindows(t, windows, timeZone); i++) t += 60_000;
  return t;
}
