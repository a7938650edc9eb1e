/**
 * Retention: what the HES already has is deleted once it is older than its data class's
 * retention; what it does not have yet is never deleted by age (the full-store policy of
 * db.ts / events.ts is what applies to unsent data).
 *
 * How a row is known to be sent: every write stores the data and the outbox message that
 * carries it in one transaction, with the same time (`received_at`, `read_at`, `at`,
 * `cleared_at` of the row = `created_at` of its message), and the uplink deletes a message
 * only once the HES has it. So a row written strictly before the oldest message still in
 * its stream's outbox has reached the HES: `sentBefore(stream)` is that time, one indexed
 * look-up (migration 010), taken again inside every batch's transaction. A clock that stepped
 * back can only make it smaller, i.e. prune less, never more.
 *
 * The work is small batches, each its own short write transaction, so the collector and the
 * uplink are never held for long; the caller lets other work run between batches.
 */
import { write, type Db } from './db';

/** Retention in ms; Infinity keeps for ever. */
export interface RetentionPolicy {
  /** Per stored profile (OBIS text as in profile_rows): its outbox stream and retention. */
  readonly profiles: ReadonlyMap<string, { readonly stream: string; readonly keepMs: number }>;
  /** The meters' event logs (meter_events) and the concentrator's own events. */
  readonly eventsMs: number;
  /** Cleared alarms (an open alarm is kept while it is open). */
  readonly alarmsMs: number;
  readonly registersMs: number;
  /** Ended jobs (reads, plans) with their per-meter results, from when they ended (optional: kept when absent). */
  readonly jobsMs?: number;
}

export interface PruneCounts {
  profileRows: number;
  meterEvents: number;
  events: number;
  alarms: number;
  registerValues: number;
  jobs: number;
}

export const PRUNE_BATCH = 500;

interface PairBatch {
  readonly meter: string;
  /** profile or log OBIS */
  readonly key: string;
  readonly cutoff: number;
  readonly sent: number;
  readonly limit: number;
}

export class Retention {
  private readonly oldestUnsent;
  private readonly pairs;
  private readonly profileBatch;
  private readonly meterEventBatch;
  private readonly registerBatch;
  private readonly eventBatch;
  private readonly alarmBatch;
  private readonly jobBatch;

  constructor(private readonly db: Db) {
    this.oldestUnsent = db.prepare<[string], { at: number | null }>('SELECT min(created_at) AS at FROM outbox WHERE stream = ?');
    this.pairs = db.prepare<[], { meter: string; profile: string }>('SELECT meter, profile FROM watermarks ORDER BY meter, profile');
    // The oldest `limit` rows of one meter's profile (primary key range); of these, the sent ones go.
    this.profileBatch = db.prepare<[PairBatch]>(
      `DELETE FROM profile_rows WHERE meter = @meter AND profile = @key AND received_at < @sent AND captured_at IN (
         SELECT captured_at FROM profile_rows WHERE meter = @meter AND profile = @key AND captured_at < @cutoff ORDER BY captured_at LIMIT @limit)`,
    );
    this.meterEventBatch = db.prepare<[PairBatch]>(
      `DELETE FROM meter_events WHERE meter = @meter AND log = @key AND received_at < @sent AND at IN (
         SELECT at FROM meter_events WHERE meter = @meter AND log = @key AND at < @cutoff ORDER BY at LIMIT @limit)`,
    );
    // read_at, at: the data's time is also its write time.
    this.registerBatch = db.prepare<[number, number]>(
      'DELETE FROM register_values WHERE (meter, obis, read_at) IN (SELECT meter, obis, read_at FROM register_values WHERE read_at < ? ORDER BY read_at LIMIT ?)',
    );
    this.eventBatch = db.prepare<[number, number]>('DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)');
    // An ended job goes with its job_meters (ON DELETE CASCADE) once its results are at the HES.
    this.jobBatch = db.prepare<[number, number]>(
      "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('done', 'cancelled', 'expired') AND finished_at < ? ORDER BY finished_at LIMIT ?)",
    );
    this.alarmBatch = db.prepare<[number, number, number]>(
      'DELETE FROM alarms WHERE id IN (SELECT id FROM alarms WHERE cleared_at IS NOT NULL AND cleared_at < ? AND raised_at < ? ORDER BY cleared_at LIMIT ?)',
    );
  }

  /** Everything of `stream` written before this time has reached the HES (Infinity: the stream's outbox is empty). */
  sentBefore(stream: string): number {
    return this.oldestUnsent.get(stream)?.at ?? Number.POSITIVE_INFINITY;
  }

  /** sentBefore as an SQL integer bound. */
  private sent(stream: string): number {
    return Math.min(this.sentBefore(stream), Number.MAX_SAFE_INTEGER);
  }

  /**
   * One pass, as batches of at most ~`limit` rows, each in its own transaction; yields the
   * number deleted after each batch (the caller may pause there) and returns the totals.
   */
  *pass(policy: RetentionPolicy, now: number, limit = PRUNE_BATCH): Generator<number, PruneCounts, void> {
    const counts: PruneCounts = { profileRows: 0, meterEvents: 0, events: 0, alarms: 0, registerValues: 0, jobs: 0 };
    const finite = (ms: number): boolean => Number.isFinite(ms) && ms >= 0;
    // Each batch: delete up to `limit`, count it; stop the table when a batch was not full.
    const batches = function* (what: string, field: keyof PruneCounts, run: () => number, db: Db): Generator<number, void, void> {
      for (;;) {
        const n = write(db, `retention of ${what}`, run);
        counts[field] += n;
        yield n;
        if (n < limit) return;
      }
    };
    for (const { meter, profile } of this.pairs.all()) {
      const rule = policy.profiles.get(profile);
      if (rule !== undefined) {
        if (!finite(rule.keepMs)) continue;
        const cutoff = now - rule.keepMs;
        yield* batches(`${meter} ${profile}`, 'profileRows', () => this.profileBatch.run({ meter, key: profile, cutoff, sent: this.sent(rule.stream), limit }).changes, this.db);
      } else if (finite(policy.eventsMs)) {
        const cutoff = now - policy.eventsMs;
        yield* batches(`${meter} ${profile} events`, 'meterEvents', () => this.meterEventBatch.run({ meter, key: profile, cutoff, sent: this.sent('events'), limit }).changes, this.db);
      }
    }
    if (finite(policy.registersMs)) {
      yield* batches('register values', 'registerValues', () => this.registerBatch.run(Math.min(now - policy.registersMs, this.sent('registers')), limit).changes, this.db);
    }
    if (finite(policy.eventsMs)) {
      yield* batches('events', 'events', () => this.eventBatch.run(Math.min(now - policy.eventsMs, this.sent('events')), limit).changes, this.db);
    }
    if (finite(policy.alarmsMs)) {
      yield* batches(
        'alarms',
        'alarms',
        () => {
          const sent = this.sent('alarms');
          return this.alarmBatch.run(Math.min(now - policy.alarmsMs, sent), sent, limit).changes;
        },
        this.db,
      );
    }
    const jobsMs = policy.jobsMs;
    if (jobsMs !== undefined && finite(jobsMs)) {
      yield* batches('jobs', 'jobs', () => this.jobBatch.run(Math.min(now - jobsMs, this.sent('results')), limit).changes, this.db);
    }
    return counts;
  }

  /** Free pages left by deletions (auto_vacuum=INCREMENTAL keeps them until asked). */
  freePages(): number {
    return this.db.pragma('freelist_count', { simple: true }) as number;
  }

  /** Gives up to `pages` free pages back to the file system; returns how many are still free. */
  vacuumStep(pages: number): number {
    this.db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
    return this.freePages();
  }
}
