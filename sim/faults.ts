/**
 * Fault injection for the simulated links, per line or per meter, deterministic by seed:
 * lost frames, corrupted frames, silent periods, slow answers, refused associations and
 * power cuts. Times are milliseconds since the fleet started (on the line's clock).
 */
import type { Clock, TimerHandle } from '../protocol/common/clock';
import type { Rng } from './prng';

/** Unreachable from fromMs to toMs (ms since start). */
export interface SilentWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

/** Unreachable for forMs every everyMs, the first time at offsetMs (default everyMs - forMs). */
export interface SilentRecurring {
  readonly everyMs: number;
  readonly forMs: number;
  readonly offsetMs?: number;
}

export type SilentPeriod = SilentWindow | SilentRecurring;

export interface FaultSpec {
  /** Probability that a frame is lost, each direction (request never arrives / answer never leaves). */
  readonly lossProbability?: number;
  /** Probability that an answer frame has one byte flipped (the client sees a bad FCS/HCS). */
  readonly corruptProbability?: number;
  /** Added to the turnaround latency of every answer. */
  readonly extraLatencyMs?: number;
  readonly silent?: readonly SilentPeriod[];
  /** Passed to the meter: it refuses every association. */
  readonly rejectAssociations?: boolean;
  /** Power cuts at these times (ms since start). */
  readonly powerCutsAtMs?: readonly number[];
  /** A power cut every this many ms. */
  readonly powerCutEveryMs?: number;
  /** The meter stays silent this long after a power cut while it restarts (default 0). */
  readonly powerOutageMs?: number;
}

export const NO_FAULTS: FaultSpec = {};

/** Later specs override earlier ones field by field; silent periods and power cuts add up. */
export function mergeFaults(...specs: readonly (FaultSpec | undefined)[]): FaultSpec {
  let out: FaultSpec = {};
  for (const s of specs) {
    if (s === undefined) continue;
    out = {
      ...out,
      ...s,
      silent: [...(out.silent ?? []), ...(s.silent ?? [])],
      powerCutsAtMs: [...(out.powerCutsAtMs ?? []), ...(s.powerCutsAtMs ?? [])],
    };
  }
  return out;
}

export function hasFaults(spec: FaultSpec): boolean {
  return (
    (spec.lossProbability ?? 0) > 0 ||
    (spec.corruptProbability ?? 0) > 0 ||
    (spec.extraLatencyMs ?? 0) > 0 ||
    (spec.silent?.length ?? 0) > 0 ||
    spec.rejectAssociations === true ||
    (spec.powerCutsAtMs?.length ?? 0) > 0 ||
    (spec.powerCutEveryMs ?? 0) > 0
  );
}

/** True when `t` ms after start falls in one of the silent periods. */
export function isSilentAt(periods: readonly SilentPeriod[] | undefined, t: number): boolean {
  for (const p of periods ?? []) {
    if ('fromMs' in p) {
      if (t >= p.fromMs && t < p.toMs) return true;
      continue;
    }
    if (p.everyMs <= 0 || p.forMs <= 0) continue;
    const offset = p.offsetMs ?? p.everyMs - p.forMs;
    if (t < offset) continue;
    if ((t - offset) % p.everyMs < p.forMs) return true;
  }
  return false;
}

export interface FaultStats {
  lostIn: number;
  lostOut: number;
  corrupted: number;
  silenced: number;
  powerCuts: number;
}

/** Applies one meter's faults to its frames. Draws from its own PRNG stream, in frame order. */
export class FaultInjector {
  readonly stats: FaultStats = { lostIn: 0, lostOut: 0, corrupted: 0, silenced: 0, powerCuts: 0 };
  private outageUntil = -Infinity;

  constructor(
    readonly spec: FaultSpec,
    private readonly rng: Rng,
    private readonly clock: Clock,
    private readonly startMs: number,
  ) {}

  get extraLatencyMs(): number {
    return this.spec.extraLatencyMs ?? 0;
  }

  /** Milliseconds since the fleet started. */
  elapsed(): number {
    return this.clock.now() - this.startMs;
  }

  /** Should an incoming frame be ignored? (silent period, restart after a power cut, or lost) */
  dropIncoming(): boolean {
    const now = this.clock.now();
    if (now < this.outageUntil || isSilentAt(this.spec.silent, now - this.startMs)) {
      this.stats.silenced++;
      return true;
    }
    if (this.rng.chance(this.spec.lossProbability ?? 0)) {
      this.stats.lostIn++;
      return true;
    }
    return false;
  }

  /** The answer frame as it reaches the line: unchanged, corrupted, or undefined when lost. */
  outgoing(frame: Uint8Array): Uint8Array | undefined {
    if (this.rng.chance(this.spec.lossProbability ?? 0)) {
      this.stats.lostOut++;
      return undefined;
    }
    if (frame.length > 2 && this.rng.chance(this.spec.corruptProbability ?? 0)) {
      this.stats.corrupted++;
      const bad = frame.slice();
      const at = 1 + this.rng.int(frame.length - 2); // never a flag: the frame stays delimited
      bad[at] = (bad[at] ?? 0) ^ (1 + this.rng.int(255));
      return bad;
    }
    return frame;
  }

  /**
   * Unreachable from now for `ms`, power untouched: a silent period that starts (and, with 0,
   * ends) when a test decides. It replaces the outage in course, if any.
   */
  silenceFor(ms: number): void {
    this.outageUntil = this.clock.now() + ms;
  }

  /** Records a power cut now: silent for powerOutageMs. */
  powerCut(): void {
    this.stats.powerCuts++;
    this.outageUntil = this.clock.now() + (this.spec.powerOutageMs ?? 0);
  }
}

/** Arms the power-cut timers of a spec; `cut` runs at each. Returns a cancel function. */
export function schedulePowerCuts(spec: FaultSpec, clock: Clock, startMs: number, cut: () => void): () => void {
  const timers: TimerHandle[] = [];
  let recurring: TimerHandle | undefined;
  let stopped = false;
  for (const at of spec.powerCutsAtMs ?? []) {
    timers.push(clock.setTimer(startMs + at - clock.now(), cut));
  }
  const every = spec.powerCutEveryMs ?? 0;
  const arm = (): void => {
    recurring = clock.setTimer(every, () => {
      if (stopped) return;
      cut();
      arm();
    });
  };
  if (every > 0) arm();
  return () => {
    stopped = true;
    recurring?.cancel();
    for (const t of timers.splice(0)) t.cancel();
  };
}
