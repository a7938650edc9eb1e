/**
 * Injected time. Protocol and scheduler code never call Date.now() or setTimeout directly:
 * they take a Clock, so tests run on FakeClock and the simulator can run time accelerated.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Run fn once after ms milliseconds of this clock's time. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
};

/** Sleep on a clock (resolves when the clock's timer fires). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(ms, resolve));
}

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Deterministic clock for tests: time moves only when advance() is called. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer: PendingTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Time of the earliest pending timer, if any (lets a driver jump straight to it). */
  nextTimerAt(): number | undefined {
    let at: number | undefined;
    for (const x of this.timers) if (!x.cancelled && (at === undefined || x.at < at)) at = x.at;
    return at;
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }

  /** Move time forward, firing due timers in order (timers set by callbacks fire too). */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((x) => !x.cancelled);
      let next: PendingTimer | undefined;
      for (const x of this.timers) {
        if (x.at <= target && (!next || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x;
      }
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.t = target;
  }

  /** Advance and let promise continuations run between timer firings. */
  async advanceAsync(ms: number, step = ms): Promise<void> {
    let left = ms;
    while (left > 0) {
      const d = Math.min(step, left);
      this.advance(d);
      left -= d;
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
  }
}

/**
 * A clock that runs `speed` times faster than the system clock from a chosen start
 * (used by the simulator to run meter time accelerated). Timers are scaled down.
 */
export class ScaledClock implements Clock {
  private readonly realStart: number;

  constructor(
    private readonly start: number,
    private readonly speed = 1,
    private readonly base: Clock = systemClock,
  ) {
    this.realStart = base.now();
  }

  now(): number {
    return this.start + (this.base.now() - this.realStart) * this.speed;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    return this.base.setTimer(ms / this.speed, fn);
  }
}
