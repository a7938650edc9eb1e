/**
 * Small seeded PRNG (mulberry32) so fault injection is repeatable: the same seed gives the
 * same dropped and corrupted frames. Not for cryptography.
 */
export interface Rng {
  /** Uniform in [0, 1) (a function property: it may be passed on alone). */
  readonly next: () => number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => p > 0 && next() < p,
  };
}

/** A seed for a named sub-stream (e.g. one per meter), so streams do not interfere. */
export function deriveSeed(seed: number, key: string | number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  const s = String(key);
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}
