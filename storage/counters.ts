/**
 * Invocation counters in SQLite, behind the same InvocationCounterStore contract as the
 * probe's file store (storage/counter-file.ts) and with the same guarantee: a high-water
 * mark `chunk` values ahead is committed (synchronous=FULL) before any value below it is
 * handed out, so a crash or power cut can skip values but never reuse one.
 * `importCounterFile` carries the counters of a probe's JSON file over (the higher mark wins).
 */
import { readFileSync } from 'node:fs';
import { checkAdvance, checkCount, exhausted, MAX_COUNTER, type InvocationCounterStore } from '../protocol/security/counters';
import type { Clock } from '../protocol/common/clock';
import { parseCounterFile } from './counter-file';
import { write, type Db } from './db';

interface Entry {
  next: number;
  limit: number;
}

/** Raises a key's persisted mark (never lowers it): (key_id, high_water, updated_at). */
function raiseMark(db: Db) {
  return db.prepare<[string, number, number]>(
    `INSERT INTO security_counters (key_id, high_water, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (key_id) DO UPDATE SET high_water = max(high_water, excluded.high_water), updated_at = excluded.updated_at`,
  );
}

export class SqliteCounterStore implements InvocationCounterStore {
  private readonly entries = new Map<string, Entry>();
  private readonly select;
  private readonly upsert;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly chunk = 100,
  ) {
    this.select = db.prepare<[string], { high_water: number }>('SELECT high_water FROM security_counters WHERE key_id = ?');
    this.upsert = raiseMark(db);
  }

  private entry(keyId: string): Entry {
    let e = this.entries.get(keyId);
    if (e === undefined) {
      const mark = this.select.get(keyId)?.high_water ?? 0;
      e = { next: mark, limit: mark };
      this.entries.set(keyId, e);
    }
    return e;
  }

  private persist(keyId: string, limit: number): void {
    write(this.db, `the invocation counter of ${keyId}`, () => this.upsert.run(keyId, limit, this.clock.now()));
  }

  reserve(keyId: string, n = 1): Promise<number> {
    try {
      checkCount(n);
      const e = this.entry(keyId);
      const first = e.next;
      const end = first + n;
      if (end - 1 > MAX_COUNTER) throw exhausted(keyId, first, n);
      if (end > e.limit) {
        const limit = Math.min(end + this.chunk, MAX_COUNTER + 1);
        this.persist(keyId, limit);
        e.limit = limit;
      }
      e.next = end;
      return Promise.resolve(first);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  advanceTo(keyId: string, value: number): Promise<void> {
    try {
      checkAdvance(value);
      const e = this.entry(keyId);
      if (value > e.limit) {
        this.persist(keyId, value);
        e.limit = value;
      }
      e.next = Math.max(e.next, value);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  peek(keyId: string): Promise<number> {
    return Promise.resolve(this.entry(keyId).next);
  }
}

/**
 * Carries a probe's counter file into the store; returns how many key ids were imported.
 * Idempotent: the higher of the two marks is kept, so importing twice never lowers one.
 */
export function importCounterFile(db: Db, path: string, clock: Clock): number {
  const entries = parseCounterFile(readFileSync(path, 'utf8'), path);
  const upsert = raiseMark(db);
  write(db, `counters imported from ${path}`, () => {
    for (const [keyId, e] of entries) upsert.run(keyId, e.limit, clock.now());
  });
  return entries.size;
}
