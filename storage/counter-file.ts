/**
 * Durable invocation counters for `dcu probe`: a small JSON file. A high-water mark is
 * persisted `chunk` values ahead (temp file, fsync, rename: one write per chunk, not per
 * frame); after a crash the store resumes at the persisted mark, skipping at most `chunk`
 * unused values and never reusing one. The daemon will keep counters in SQLite behind the
 * same InvocationCounterStore contract.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { checkCount, exhausted, checkAdvance,  MAX_COUNTER, type InvocationCounterStore } from '../protocol/security/counters';

export interface FileCounterStoreOptions {
  /** JSON file holding the high-water mark per key id. */
  readonly path: string;
  /** Values persisted ahead of use (default 100). */
  readonly chunk?: number;
}

export interface Entry {
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
    try {
      await writeFileAtomic(this.path, `${JSON.stringify(body, null, 2)}\n`);
    } catch (e) {
      throw storageError(`cannot persist invocation counters to ${this.path}`, this.path, e);
    }
  }
}

export function parseCounterFile(text: string, path: string): Map<string, Entry> {
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

