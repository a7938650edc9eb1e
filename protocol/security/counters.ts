/**
 * Invocation counters.
 *
 * Sending: a counter value must never be used twice with the same key, not even across a
 * crash. `reserve()` resolves only after the reservation is durable. FileCounterStore
 * persists a high-water mark `chunk` values ahead (one fsync per chunk, not per frame);
 * after a crash it resumes at the persisted mark, skipping at most `chunk` unused values.
 *
 * Receiving: ReplayGuard rejects a counter that does not strictly increase per key.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
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

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new DcuError(ErrorCode.InvalidValue, `cannot reserve ${n} counter values`, { context: { n } });
  }
}

function exhausted(keyId: string, next: number, n: number): DcuError {
  return new DcuError(
    ErrorCode.SecurityCounterExhausted,
    `invocation counter for ${keyId} exhausted: ${n} value(s) from ${next} pass ${MAX_COUNTER}; change the key`,
    { context: { keyId, next, n } },
  );
}

function checkAdvance(value: number): void {
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

export interface FileCounterStoreOptions {
  /** JSON file holding the high-water mark per key id. */
  readonly path: string;
  /** Values persisted ahead of use (default 100). */
  readonly chunk?: number;
}

interface Entry {
  /** Next value to hand out. */
  next: number;
  /** Persisted mark: every value below it may have been handed out before. */
  limit: number;
}

interface CounterFile {
  readonly version: 1;
  readonly counters: Record<string, number>;
}

function storageError(message: string, path: string, cause?: unknown): DcuError {
  return new DcuError(ErrorCode.Storage, message, { cause, context: { path } });
}

/** JSON-file store: temp file + fsync + rename, directory fsync, serialised operations. */
export class FileCounterStore implements InvocationCounterStore {
  private readonly path: string;
  private readonly chunk: number;
  private entries: Map<string, Entry> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: FileCounterStoreOptions) {
    this.path = options.path;
    this.chunk = options.chunk ?? 100;
    if (!Number.isInteger(this.chunk) || this.chunk < 0) {
      throw new DcuError(ErrorCode.Config, `counter chunk ${this.chunk} must be a non-negative integer`);
    }
  }

  reserve(keyId: string, n = 1): Promise<number> {
    checkCount(n);
    return this.serial(async () => {
      const entries = await this.load();
      const e = entries.get(keyId) ?? { next: 0, limit: 0 };
      const first = e.next;
      const end = first + n;
      if (end - 1 > MAX_COUNTER) throw exhausted(keyId, first, n);
      if (end > e.limit) {
        const limit = Math.min(end + this.chunk, MAX_COUNTER + 1);
        await this.persist(entries, keyId, limit);
        e.limit = limit;
      }
      e.next = end;
      entries.set(keyId, e);
      return first;
    });
  }

  advanceTo(keyId: string, value: number): Promise<void> {
    checkAdvance(value);
    return this.serial(async () => {
      const entries = await this.load();
      const e = entries.get(keyId) ?? { next: 0, limit: 0 };
      if (value > e.limit) {
        await this.persist(entries, keyId, value);
        e.limit = value;
      }
      e.next = Math.max(e.next, value);
      entries.set(keyId, e);
    });
  }

  peek(keyId: string): Promise<number> {
    return this.serial(async () => (await this.load()).get(keyId)?.next ?? 0);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<Map<string, Entry>> {
    if (this.entries) return this.entries;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.entries = new Map();
        return this.entries;
      }
      throw storageError(`cannot read invocation counter file ${this.path}`, this.path, e);
    }
    this.entries = parseCounterFile(text, this.path);
    return this.entries;
  }

  private async persist(entries: ReadonlyMap<string, Entry>, keyId: string, limit: number): Promise<void> {
    const counters: Record<string, number> = {};
    for (const [k, e] of entries) counters[k] = e.limit;
    counters[keyId] = limit;
    const body: CounterFile = { version: 1, counters };
    const tmp = `${this.path}.tmp-${process.pid}`;
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(body, null, 2)}\n`, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (e) {
      throw storageError(`cannot persist invocation counters to ${this.path}`, this.path, e);
    }
    await syncDirectory(dirname(this.path));
  }
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Not every platform/filesystem allows fsync on a directory; the file itself is synced.
  }
}

function parseCounterFile(text: string, path: string): Map<string, Entry> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    // Refuse rather than restart at 0: reusing counters would break GCM.
    throw storageError(`invocation counter file ${path} is not valid JSON; refusing to reuse counters`, path, e);
  }
  const counters = (parsed as { counters?: unknown } | null)?.counters;
  if (typeof counters !== 'object' || counters === null || Array.isArray(counters)) {
    throw storageError(`invocation counter file ${path} has no "counters" object`, path);
  }
  const out = new Map<string, Entry>();
  for (const [k, v] of Object.entries(counters as Record<string, unknown>)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_COUNTER + 1) {
      throw storageError(`invocation counter file ${path}: bad value for ${k}`, path);
    }
    out.set(k, { next: v, limit: v });
  }
  return out;
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
