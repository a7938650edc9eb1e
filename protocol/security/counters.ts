/**
 * Invocation counters.
 *
 * Sending: a counter value must never be used twice with the same key, not even across a
 * crash. `reserve()` resolves only after the reservation is durable. The durable store
 * (storage/counter-file.ts, a file for `dcu probe`; SQLite in the daemon) persists a
 * high-water mark ahead of use; this module holds the contract and the in-memory store.
 *
 * Receiving: ReplayGuard rejects a counter that does not strictly increase per key.
 */
import { DcuError, ErrorCode } from '../common/errors';

/** Largest invocation counter (32-bit unsigned). */
export const MAX_COUNTER = 0xffffffff;

export interface InvocationCounterStore {
  /**
   * Reserve n consecutive values (default 1) for keyId and return the first.
   * Resolves only once the reservation survives a crash.
   */
  reserve(keyId: string, n?: number): Promise<number>;
  /** Never hand out a value below `value` again (e.g. the meter expects a higher counter). */
  advanceTo(keyId: string, value: number): Promise<void>;
  /** The value the next reserve() would return, without reserving it. */
  peek(keyId: string): Promise<number>;
}

export function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new DcuError(ErrorCode.InvalidValue, `cannot reserve ${n} counter values`, { context: { n } });
  }
}

export function exhausted(keyId: string, next: number, n: number): DcuError {
  return new DcuError(
    ErrorCode.SecurityCounterExhausted,
    `invocation counter for ${keyId} exhausted: ${n} value(s) from ${next} pass ${MAX_COUNTER}; change the key`,
    { context: { keyId, next, n } },
  );
}

export function checkAdvance(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_COUNTER + 1) {
    throw new DcuError(ErrorCode.InvalidValue, `counter value ${value} is not a 32-bit unsigned value`, { context: { value } });
  }
}

/** In-memory store for tests and throw-away sessions. */
export class MemoryCounterStore implements InvocationCounterStore {
  private readonly next = new Map<string, number>();

  constructor(initial: Readonly<Record<string, number>> = {}) {
    for (const [k, v] of Object.entries(initial)) this.next.set(k, v);
  }

  reserve(keyId: string, n = 1): Promise<number> {
    checkCount(n);
    const first = this.next.get(keyId) ?? 0;
    if (first + n - 1 > MAX_COUNTER) return Promise.reject(exhausted(keyId, first, n));
    this.next.set(keyId, first + n);
    return Promise.resolve(first);
  }

  advanceTo(keyId: string, value: number): Promise<void> {
    checkAdvance(value);
    this.next.set(keyId, Math.max(this.next.get(keyId) ?? 0, value));
    return Promise.resolve();
  }

  peek(keyId: string): Promise<number> {
    return Promise.resolve(this.next.get(keyId) ?? 0);
  }
}

/** Rejects received invocation counters that do not strictly increase (per key id). */
export class ReplayGuard {
  private readonly last = new Map<string, number>();

  constructor(initial: Readonly<Record<string, number>> = {}) {
    for (const [k, v] of Object.entries(initial)) this.last.set(k, v);
  }

  /** Throws SecurityReplay unless ic is above the last accepted value; records nothing. */
  check(keyId: string, ic: number): void {
    const last = this.last.get(keyId);
    if (last !== undefined && ic <= last) {
      throw new DcuError(ErrorCode.SecurityReplay, `replayed or stale invocation counter ${ic} for ${keyId}: last accepted was ${last}`, {
        context: { keyId, invocationCounter: ic, last },
      });
    }
  }

  /** check() then record. Call after the frame authenticated, so a forged frame cannot advance it. */
  accept(keyId: string, ic: number): void {
    this.check(keyId, ic);
    this.last.set(keyId, ic);
  }

  lastAccepted(keyId: string): number | undefined {
    return this.last.get(keyId);
  }

  forget(keyId: string): void {
    this.last.delete(keyId);
  }
}
