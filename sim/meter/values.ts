/**
 * The meter's measurements as pure functions of (serial seed, instant): the same meter read
 * at the same instant always gives the same numbers, so tests and the fleet's checks can
 * predict every reading.
 *
 * Consumption power follows a daily shape (UTC hours) with two harmonics,
 *   P(h) = k · (1 + a·cos(2π(h − φ1)/24) + b·cos(4π(h − φ2)/24)),  a + b < 1 so P > 0,
 * and energy counters are its closed-form integral from ENERGY_EPOCH plus a per-meter start
 * value: strictly increasing, O(1) at any instant. Meters with PV export during the day
 * (half a sine from 06:00 to 18:00). Reactive energy follows active import (+R) or a small
 * constant rate (−R).
 */
import { createRng, deriveSeed } from '../prng';
import type { SimMeterSpec } from '../types';

/** Counters start at their per-meter initial value on 2024-01-01T00:00Z and grow from there. */
export const ENERGY_EPOCH = Date.UTC(2024, 0, 1);

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const TAU = 2 * Math.PI;

/** Per-meter constants derived from the seed. */
export interface LoadParams {
  /** Mean consumption, W. */
  readonly meanPowerW: number;
  readonly a: number;
  readonly b: number;
  /** Hours of the first / second harmonic's peak (UTC). */
  readonly phi1: number;
  readonly phi2: number;
  /** PV peak export, W (0 = no PV). */
  readonly pvPeakW: number;
  /** −R rate, var. */
  readonly reactiveExportVar: number;
  /** Share of +A drawn as +R. */
  readonly reactiveRatio: number;
  /** Counter values at ENERGY_EPOCH, Wh / varh. */
  readonly start: EnergyReadings;
  /** Supply voltage offset from 230 V, V. */
  readonly voltageOffsetV: number;
  readonly voltagePhaseH: number;
}

export interface EnergyReadings {
  /** +A, Wh (1.0.1.8.0.255). */
  readonly activeImport: number;
  /** −A, Wh (1.0.2.8.0.255). */
  readonly activeExport: number;
  /** +R, varh (1.0.3.8.0.255). */
  readonly reactiveImport: number;
  /** −R, varh (1.0.4.8.0.255). */
  readonly reactiveExport: number;
}

export interface InstantReadings {
  /** L1 voltage, V (1.0.32.7.0.255). */
  readonly voltageV: number;
  /** L1 current, A (1.0.31.7.0.255). */
  readonly currentA: number;
  /** +P active power, W (1.0.1.7.0.255). */
  readonly activePowerW: number;
}

type SeedSource = Pick<SimMeterSpec, 'seed' | 'serial'>;

export function loadParams(spec: SeedSource): LoadParams {
  const r = createRng(deriveSeed(spec.seed, `energy:${spec.serial}`));
  const meanPowerW = 150 + Math.round(r.next() * 1350);
  const a = 0.2 + r.next() * 0.4;
  const b = 0.05 + r.next() * 0.2;
  const phi1 = 17 + r.next() * 3;
  const phi2 = 6 + r.next() * 3;
  const hasPv = r.chance(0.35);
  const pvPeakW = hasPv ? 1000 + Math.round(r.next() * 3000) : 0;
  return {
    meanPowerW,
    a,
    b,
    phi1,
    phi2,
    pvPeakW,
    reactiveExportVar: 5 + Math.round(r.next() * 25),
    reactiveRatio: 0.2 + r.next() * 0.2,
    start: {
      activeImport: r.int(2_000_000),
      activeExport: hasPv ? r.int(500_000) : 0,
      reactiveImport: r.int(400_000),
      reactiveExport: r.int(50_000),
    },
    voltageOffsetV: r.next() * 6 - 3,
    voltagePhaseH: r.next() * 24,
  };
}

/** Consumption power at hour-of-day h (UTC), W. */
function consumptionW(p: LoadParams, h: number): number {
  return p.meanPowerW * (1 + p.a * Math.cos((TAU * (h - p.phi1)) / 24) + p.b * Math.cos((2 * TAU * (h - p.phi2)) / 24));
}

/** ∫₀ʰ consumption dh, Wh. */
function consumptionWh(p: LoadParams, h: number): number {
  const s1 = (x: number): number => Math.sin((TAU * (x - p.phi1)) / 24);
  const s2 = (x: number): number => Math.sin((2 * TAU * (x - p.phi2)) / 24);
  return p.meanPowerW * (h + ((p.a * 24) / TAU) * (s1(h) - s1(0)) + ((p.b * 24) / (2 * TAU)) * (s2(h) - s2(0)));
}

/** ∫₀ʰ pv dh, Wh. */
function pvWh(p: LoadParams, h: number): number {
  if (h <= 6) return 0;
  const x = Math.min(h, 18) - 6;
  return ((p.pvPeakW * 12) / Math.PI) * (1 - Math.cos((Math.PI * x) / 12));
}

/** Whole days and hour-of-day since ENERGY_EPOCH (instants before it count as the epoch). */
function split(epochMs: number): { days: number; hours: number; totalHours: number } {
  const elapsed = Math.max(0, Math.floor(epochMs) - ENERGY_EPOCH);
  const days = Math.floor(elapsed / DAY_MS);
  const hours = (elapsed - days * DAY_MS) / HOUR_MS;
  return { days, hours, totalHours: elapsed / HOUR_MS };
}

/** Energy counters of a meter with these parameters at an instant (whole Wh / varh). */
export function energyWith(p: LoadParams, epochMs: number): EnergyReadings {
  const { days, hours, totalHours } = split(epochMs);
  const imported = days * 24 * p.meanPowerW + consumptionWh(p, hours);
  const exported = days * ((p.pvPeakW * 24) / Math.PI) + pvWh(p, hours);
  return {
    activeImport: Math.floor(p.start.activeImport + imported),
    activeExport: Math.floor(p.start.activeExport + exported),
    reactiveImport: Math.floor(p.start.reactiveImport + imported * p.reactiveRatio),
    reactiveExport: Math.floor(p.start.reactiveExport + totalHours * p.reactiveExportVar),
  };
}

/** Energy counters of `spec`'s meter at an instant: the function tests predict readings with. */
export function energyAt(spec: SeedSource, epochMs: number): EnergyReadings {
  return energyWith(loadParams(spec), epochMs);
}

/** Instantaneous values (voltage with a slow daily wobble, current = P / U). */
export function instantWith(p: LoadParams, epochMs: number, connected = true): InstantReadings {
  const { hours } = split(epochMs);
  const voltageV = 230 + p.voltageOffsetV + 3 * Math.sin((TAU * (hours - p.voltagePhaseH)) / 24);
  if (!connected) return { voltageV, currentA: 0, activePowerW: 0 };
  // +P is the power the +A counter integrates.
  const activePowerW = consumptionW(p, hours);
  return { voltageV, currentA: activePowerW / voltageV, activePowerW };
}

export function instantAt(spec: SeedSource, epochMs: number, connected = true): InstantReadings {
  return instantWith(loadParams(spec), epochMs, connected);
}
