/**
 * Seeded randomness for the fuzz runner: every input is a pure function of (seed, index), so a
 * failure is reproduced from those two numbers alone.
 */
import { createRng } from '../../sim/prng';

/** mulberry32 (the simulator's seeded PRNG): small, fast, good enough to pick mutations. Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  return createRng(seed).next;
}

/** The random source of input `index` under `seed`. */
export function inputRng(seed: number, index: number): Rng {
  return new Rng(mulberry32(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)));
}

const INTERESTING = [0x00, 0x01, 0x02, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xfe, 0xff] as const;

export class Rng {
  constructor(readonly next: () => number) {}

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const v = items[this.int(items.length)];
    if (v === undefined) throw new Error('pick from an empty list');
    return v;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /**
   * 1..4 mutations of a valid input: byte flips, interesting values (length and count bytes
   * such as 0x80, 0x84, 0xFF), inserted and deleted runs, repeated slices, cuts, and splices
   * with another valid input.
   */
  mutate(input: Uint8Array, other?: Uint8Array): Uint8Array {
    let b = Array.from(input);
    const rounds = 1 + this.int(4);
    for (let k = 0; k < rounds; k++) {
      const at = this.int(b.length + 1);
      switch (this.int(8)) {
        case 0:
          if (b.length > 0) b[Math.min(at, b.length - 1)] = this.int(256);
          break;
        case 1:
          if (b.length > 0) b[Math.min(at, b.length - 1)] = this.pick(INTERESTING);
          break;
        case 2:
          b.splice(at, 0, ...this.bytes(1 + this.int(8)));
          break;
        case 3:
          b.splice(at, 1 + this.int(8));
          break;
        case 4: {
          const len = 1 + this.int(16);
          const from = this.int(Math.max(1, b.length));
          const slice = b.slice(from, from + len);
          const times = 1 + this.int(4);
          for (let i = 0; i < times; i++) b.splice(at, 0, ...slice);
          break;
        }
        case 5:
          b.length = Math.min(b.length, at);
          break;
        case 6:
          if (other !== undefined) b = [...b.slice(0, at), ...Array.from(other.subarray(this.int(other.length + 1)))];
          break;
        default:
          if (b.length > 0) {
            const i = Math.min(at, b.length - 1);
            b[i] = (b[i] ?? 0) ^ (1 << this.int(8));
          }
          break;
      }
    }
    return Uint8Array.from(b);
  }
}
