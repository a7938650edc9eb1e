/**
 * The replay guard of received pushes, persisted: per sender system title the next
 * invocation counter accepted, in `security_counters` under the key id `push-rx/<title>`
 * (disjoint from the counters we send with). A restart forgets nothing, so a recorded push
 * replayed after a reboot is still refused.
 */
import { write, type Db } from './db';

export interface PushReplayGuard {
  /** Accepts and records `counter` when it is above every counter accepted from `systemTitle`; false = replay. */
  accept(systemTitle: string, counter: number): boolean;
}

export class SqlitePushReplayGuard implements PushReplayGuard {
  private readonly select;
  private readonly upsert;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {
    this.select = db.prepare<[string], { high_water: number }>('SELECT high_water FROM security_counters WHERE key_id = ?');
    this.upsert = db.prepare<[string, number, number]>(
      `INSERT INTO security_counters (key_id, high_water, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key_id) DO UPDATE SET high_water = max(high_water, excluded.high_water), updated_at = excluded.updated_at`,
    );
  }

  accept(systemTitle: string, counter: number): boolean {
    const key = `push-rx/${systemTitle.toUpperCase()}`;
    return write(this.db, `the push counter of ${systemTitle}`, () => {
      const next = this.select.get(key)?.high_water ?? 0;
      if (counter < next) return false;
      this.upsert.run(key, counter + 1, this.now());
      return true;
    });
  }
}

/** In memory, for tests and tools without a store. */
export class MemoryPushReplayGuard implements PushReplayGuard {
  private readonly next = new Map<string, number>();

  accept(systemTitle: string, counter: number): boolean {
    const key = systemTitle.toUpperCase();
    if (counter < (this.next.get(key) ?? 0)) return false;
    this.next.set(key, counter + 1);
    return true;
  }
}
