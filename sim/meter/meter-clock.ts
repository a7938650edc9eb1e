/**
 * The meter's own time: the injected clock (true time, maybe accelerated) seen through a
 * crystal that drifts by `driftPpm`, from a base pair (true instant, meter instant) moved by
 * SET time and shift_time. Also the date-time Data the meter sends.
 */
import type { Data } from '../../protocol/axdr/data';
import type { DeviationConvention } from '../../protocol/axdr/datetime';
import { encodeDateTimeOctets, epochToDateTime } from '../../protocol/axdr/datetime';
import type { Clock } from '../../protocol/common/clock';

/** Meter time = meterAt + (true − trueAt) × (1 + ppm / 10⁶). */
export interface ClockBase {
  readonly trueAt: number;
  readonly meterAt: number;
}

export class MeterClock {
  private base: ClockBase;

  constructor(
    private readonly clock: Clock,
    private readonly driftPpm: number,
    base?: ClockBase,
  ) {
    const now = clock.now();
    this.base = base ?? { trueAt: now, meterAt: now };
  }

  /** Meter time at a true instant. */
  at(trueMs: number): number {
    return Math.round(this.base.meterAt + (trueMs - this.base.trueAt) * (1 + this.driftPpm / 1e6));
  }

  /** Meter time now. */
  now(): number {
    return this.at(this.clock.now());
  }

  /** True time now (the injected clock): what measurements follow. */
  trueNow(): number {
    return this.clock.now();
  }

  /** SET time: the meter now reads `meterMs`. */
  set(meterMs: number): void {
    this.base = { trueAt: this.clock.now(), meterAt: Math.round(meterMs) };
  }

  /** shift_time: moves the meter time by `ms`. */
  shift(ms: number): void {
    this.set(this.now() + ms);
  }

  snapshot(): ClockBase {
    return { ...this.base };
  }

  restore(base: ClockBase): void {
    this.base = { ...base };
  }
}

export interface DateTimeStyle {
  /** Blue-Book minutes (UTC = local + deviation). */
  readonly deviation: number;
  readonly convention: DeviationConvention;
}

/** octet-string(12) date-time of an instant as the meter writes it (no hundredths, status 0). */
export function dateTimeData(epochMs: number, style: DateTimeStyle, clockStatus = 0): Data {
  const dt = epochToDateTime(epochMs, { deviation: style.deviation, convention: style.convention, hundredths: false, clockStatus });
  return { type: 'octet-string', value: encodeDateTimeOctets(dt) };
}
