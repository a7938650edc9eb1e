import { ByteReader, ByteWriter } from '../common/bytes';
import { DcuError, ErrorCode } from '../common/errors';
import { readDateTime, writeDateTime } from './codec';
import type { CosemDateTime, Data } from './data';

/**
 * Deviation sign convention. The Blue Book says UTC = local + deviation (CET sends -60);
 * many meters send the opposite (+60 for CET). It is a per-meter setting.
 */
export type DeviationConvention = 'blue-book' | 'inverted';

export interface DateTimeOptions {
  convention?: DeviationConvention;
  /** Blue-Book minutes used when the meter leaves the deviation unspecified (default 0 = UTC). */
  defaultDeviation?: number;
}

export const CLOCK_STATUS = {
  invalid: 0x01,
  doubtful: 0x02,
  differentBase: 0x04,
  invalidStatus: 0x08,
  dst: 0x80,
} as const;

/** Blue-Book deviation (minutes, UTC = local + dev) from what the meter sent. */
export function blueBookDeviation(sent: number, convention: DeviationConvention = 'blue-book'): number {
  return convention === 'inverted' ? -sent : sent;
}

/**
 * Epoch milliseconds of a fully specified date-time, or null when a date or time field is
 * unspecified (wildcards cannot be a point in time).
 */
export function dateTimeToEpoch(dt: CosemDateTime, options: DateTimeOptions = {}): number | null {
  const { year, month, day, hour, minute, second } = dt;
  if (year === null || month === null || day === null || hour === null || minute === null || second === null) return null;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const hundredths = dt.hundredths === null || dt.hundredths > 99 ? 0 : dt.hundredths;
  const dev = dt.deviation === null ? (options.defaultDeviation ?? 0) : blueBookDeviation(dt.deviation, options.convention);
  const localAsUtc = Date.UTC(year, month - 1, day, hour, minute, second, hundredths * 10);
  return localAsUtc + dev * 60_000;
}

/**
 * dateTimeToEpoch(decodeDateTimeOctets(bytes at `at`)) without building the date-time: the
 * clock column of a profile is read once per row. Same result for every 12 bytes.
 */
export function dateTimeOctetsToEpoch(b: Uint8Array, options: DateTimeOptions = {}, at = 0): number | null {
  if (at < 0 || at + 12 > b.length) {
    throw new DcuError(ErrorCode.DecodeTruncated, `a date-time is 12 bytes, ${Math.max(0, b.length - at)} left at byte ${at}`, { context: { offset: at } });
  }
  const year = ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
  const month = b[at + 2] ?? 0;
  const day = b[at + 3] ?? 0;
  const hour = b[at + 5] ?? 0;
  const minute = b[at + 6] ?? 0;
  const second = b[at + 7] ?? 0;
  // 0xFF (unspecified) fails these ranges too.
  if (year === 0xffff || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const h = b[at + 8] ?? 0;
  const sent = ((b[at + 9] ?? 0) << 8) | (b[at + 10] ?? 0);
  const dev = sent === 0x8000 ? (options.defaultDeviation ?? 0) : blueBookDeviation(sent >= 0x8000 ? sent - 0x10000 : sent, options.convention);
  return localAsUtc(year, month, day, hour, minute, second, h > 99 ? 0 : h) + dev * 60_000;
}

// Date.UTC of the last calendar day seen: a profile's rows share a handful of days.
let lastDayKey = -1;
let lastDayMs = 0;

/**
 * Date.UTC(year, month - 1, day, hour, minute, second, hundredths × 10) for integer fields
 * already checked to be in range (so the sum equals what Date.UTC computes).
 */
function localAsUtc(year: number, month: number, day: number, hour: number, minute: number, second: number, hundredths: number): number {
  const key = year * 512 + month * 32 + day;
  if (key !== lastDayKey) {
    lastDayMs = Date.UTC(year, month - 1, day);
    lastDayKey = key;
  }
  return lastDayMs + hour * 3_600_000 + minute * 60_000 + second * 1000 + hundredths * 10;
}

/** Date-time for an instant, expressed in local time of the given Blue-Book deviation. */
export function epochToDateTime(
  epochMs: number,
  options: { deviation?: number; clockStatus?: number | null; convention?: DeviationConvention; hundredths?: boolean } = {},
): CosemDateTime {
  const dev = options.deviation ?? 0;
  const local = new Date(epochMs - dev * 60_000);
  const weekday = local.getUTCDay();
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    dayOfWeek: weekday === 0 ? 7 : weekday,
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    hundredths: options.hundredths === false ? null : Math.floor(local.getUTCMilliseconds() / 10),
    deviation: options.convention === 'inverted' ? -dev : dev,
    clockStatus: options.clockStatus === undefined ? 0 : options.clockStatus,
  };
}

/** Date-times usually travel as octet-string(12). */
export function encodeDateTimeOctets(dt: CosemDateTime): Uint8Array {
  const w = new ByteWriter(12);
  writeDateTime(w, dt);
  return w.finish();
}

export function decodeDateTimeOctets(bytes: Uint8Array): CosemDateTime {
  if (bytes.length !== 12) {
    throw new DcuError(ErrorCode.DecodeBadLength, `a date-time is 12 bytes, got ${bytes.length}`, { context: { length: bytes.length } });
  }
  return readDateTime(new ByteReader(bytes));
}

/** A date-time from Data: date-time (tag 25) or octet-string(12); otherwise undefined. */
export function dataAsDateTime(d: Data): CosemDateTime | undefined {
  if (d.type === 'date-time') return d.value;
  if (d.type === 'octet-string' && d.value.length === 12) return decodeDateTimeOctets(d.value);
  return undefined;
}

/** ISO-8601 text of a date-time in its own offset, with wildcards shown as '*'. */
export function formatDateTime(dt: CosemDateTime, convention: DeviationConvention = 'blue-book'): string {
  const p = (v: number | null, n: number): string => (v === null ? '*'.repeat(n) : String(v).padStart(n, '0'));
  let text = `${p(dt.year, 4)}-${p(dt.month, 2)}-${p(dt.day, 2)}T${p(dt.hour, 2)}:${p(dt.minute, 2)}:${p(dt.second, 2)}`;
  if (dt.hundredths !== null && dt.hundredths !== 0) text += `.${String(dt.hundredths).padStart(2, '0')}`;
  if (dt.deviation !== null) {
    const offset = -blueBookDeviation(dt.deviation, convention); // local = UTC + offset
    if (offset === 0) text += 'Z';
    else {
      const a = Math.abs(offset);
      text += `${offset > 0 ? '+' : '-'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
    }
  }
  return text;
}
