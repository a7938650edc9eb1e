/**
 * Retry pacing for meters that do not answer: a dead meter on a 9,600-baud PLC line costs
 * tens of seconds of line time per attempt (timeouts × retries), taken from the meters that
 * do answer. After consecutive failures a meter is tried again only after an exponentially
 * growing pause with jitter (so meters that failed together do not come back together),
 * capped; one success resets it. Pure: the caller brings time and randomness.
 */

export interface BackoffPolicy {
  /** First pause after a failure (default 15 min). */
  readonly baseMs: number;
  /** Longest pause (default 6 h). */
  readonly maxMs: number;
  /** ± this fraction of the pause (default 0.2). */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 15 * 60_000, maxMs: 6 * 3_600_000, jitter: 0.2 };

/** When a meter that has failed `failures` times in a row (≥ 1) may be tried again. */
export function nextAttemptAt(failures: number, now: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const pause = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  const spread = pause * policy.jitter * (2 * random() - 1);
  return now + Math.round(pause + spread);
}

/** Per-meter failure counts and next attempt times. */
export class MeterBackoff {
  private readonly state = new Map<string, { failures: number; notBefore: number }>();

  constructor(
    private readonly random: () => number,
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
  ) {}

  /** True when the meter may be tried now. */
  due(serial: string, now: number): boolean {
    const s = this.state.get(serial);
    return s === undefined || now >= s.notBefore;
  }

  failed(serial: string, now: number): number {
    const failures = (this.state.get(serial)?.failures ?? 0) + 1;
    const notBefore = nextAttemptAt(failures, now, this.random, this.policy);
    this.state.set(serial, { failures, notBefore });
    return notBefore;
  }

  succeeded(serial: string): void {
    this.state.delete(serial);
  }
}
