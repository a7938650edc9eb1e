/**
 * Profile rows computed on demand from a capture schedule: entry n of the schedule is captured
 * at timeOf(n) (meter time) and its row is a pure function of that instant. Nothing is
 * stored, so a 5,760-entry load profile costs nothing until it is read.
 */
import type { Data } from '../../protocol/axdr/data';
import type { CaptureObject } from '../../protocol/cosem/capture-object';
import type { RequestContext } from '../../protocol/server/object';
import type { ProfileSource } from './profile-object';

/** Capture instants numbered by an absolute integer n (e.g. quarter hours since the epoch). */
export interface Schedule {
  timeOf(n: number): number;
  /** The largest n with timeOf(n) ≤ t. */
  indexAtOrBefore(t: number): number;
}

/** Every `periodS` seconds, aligned on the local time of `deviation` (Blue-Book minutes). */
export function regularSchedule(periodS: number, deviation: number): Schedule {
  const p = periodS * 1000;
  const offset = deviation * 60_000;
  return {
    timeOf: (n) => offset + n * p,
    indexAtOrBefore: (t) => Math.floor((t - offset) / p),
  };
}

/** Midnight (local) of the first day of each month; n = months since 1970-01. */
export function monthlySchedule(deviation: number): Schedule {
  const offset = deviation * 60_000;
  return {
    timeOf: (n) => Date.UTC(1970 + Math.floor(n / 12), ((n % 12) + 12) % 12, 1) + offset,
    indexAtOrBefore: (t) => {
      const local = new Date(t - offset);
      return (local.getUTCFullYear() - 1970) * 12 + local.getUTCMonth();
    },
  };
}

export interface ScheduledSourceOptions {
  readonly captureObjects: readonly CaptureObject[];
  readonly periodS: number;
  readonly depth: number;
  /** The schedule for the meter's current time zone. */
  readonly schedule: () => Schedule;
  /** Meter time of a request. */
  readonly meterNow: (ctx: RequestContext) => number;
  /** The cells (capture-object order) of the row captured at meter instant t. */
  readonly row: (t: number) => Data[];
}

export class ScheduledSource implements ProfileSource {
  readonly captureObjects: readonly CaptureObject[];
  readonly periodS: number;
  readonly depth: number;

  constructor(private readonly o: ScheduledSourceOptions) {
    this.captureObjects = o.captureObjects;
    this.periodS = o.periodS;
    this.depth = o.depth;
  }

  /** Absolute schedule numbers of the oldest and newest entries at this request. */
  window(ctx: RequestContext): { schedule: Schedule; oldest: number; newest: number } {
    const schedule = this.o.schedule();
    const newest = schedule.indexAtOrBefore(this.o.meterNow(ctx));
    return { schedule, oldest: newest - this.depth + 1, newest };
  }

  entriesInUse(): number {
    return this.depth;
  }

  rowsByEntry(ctx: RequestContext, from: number, to: number): Data[] {
    const { schedule, oldest } = this.window(ctx);
    return this.rows(schedule, oldest + from, oldest + to - 1);
  }

  rowsByTime(ctx: RequestContext, from: number | null, to: number | null): Data[] {
    const { schedule, oldest, newest } = this.window(ctx);
    let first = oldest;
    if (from !== null) {
      const k = schedule.indexAtOrBefore(from);
      first = Math.max(first, schedule.timeOf(k) < from ? k + 1 : k);
    }
    const last = to === null ? newest : Math.min(newest, schedule.indexAtOrBefore(to));
    return this.rows(schedule, first, last);
  }

  private rows(schedule: Schedule, first: number, last: number): Data[] {
    const out: Data[] = [];
    for (let n = first; n <= last; n++) out.push({ type: 'structure', items: this.o.row(schedule.timeOf(n)) });
    return out;
  }
}
