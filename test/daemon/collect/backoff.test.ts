import { DEFAULT_BACKOFF, MeterBackoff, nextAttemptAt } from '../../../daemon/collect/backoff';

const MIN = 60_000;

describe('retry backoff for silent meters', () => {
  it('doubles from 15 min up to 6 h, with ±20 % jitter', () => {
    const mid = (): number => 0.5; // no jitter
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((n) => (nextAttemptAt(n, 0, mid) / MIN))).toEqual([15, 30, 60, 120, 240, 360, 360, 360]);
    expect(nextAttemptAt(1, 0, () => 0)).toBe(12 * MIN);
    expect(nextAttemptAt(1, 0, () => 0.999999)).toBeCloseTo(18 * MIN, -2);
    expect(DEFAULT_BACKOFF.maxMs).toBe(360 * MIN);
  });

  it('skips a failing meter until its time, and forgets it after a success', () => {
    const b = new MeterBackoff(() => 0.5);
    expect(b.due('A', 0)).toBe(true);
    expect(b.failed('A', 0)).toBe(15 * MIN);
    expect(b.due('A', 14 * MIN)).toBe(false);
    expect(b.due('A', 15 * MIN)).toBe(true);
    expect(b.failed('A', 15 * MIN)).toBe(45 * MIN);
    expect(b.due('B', 0)).toBe(true);
    b.succeeded('A');
    expect(b.due('A', 16 * MIN)).toBe(true);
  });
});
