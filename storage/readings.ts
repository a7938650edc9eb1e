/**
 * Profile readings in SQLite. `storeProfileRows` is the one write of a collection step:
 * the rows (inserted once; a row already stored is left as it was), the watermark and the
 * outbox message carrying the new rows — one transaction, so a crash leaves either all of
 * it or none, and a retried read never duplicates data.
 */
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { write, type Db } from './db';
import { Outbox } from './outbox';

export interface StoredColumn {
  /** `class:obis:attribute` of the captured object. */
  readonly capture: string;
  readonly unit?: string;
}

export interface StoredRow {
  readonly capturedAt: number;
  readonly status?: number;
  /** Exact decimal per column (null: not numeric / not present). */
  readonly cells: readonly (string | null)[];
}

export interface ProfileBatch {
  readonly meter: string;
  readonly profile: string;
  /** Outbox stream (data class), e.g. 'load-profile'. */
  readonly stream: string;
  readonly columns: readonly StoredColumn[];
  readonly rows: readonly StoredRow[];
  /** The read covered every capture time up to here (rows, or gaps the meter has). */
  readonly collectedTo: number;
}

export interface StoreResult {
  readonly inserted: number;
  readonly duplicates: number;
  /** seq of the outbox message, when new rows were stored. */
  readonly seq?: number;
}

export interface MeterEvent {
  /** Meter time of the event, epoch ms. */
  readonly at: number;
  readonly code: number;
}

export interface EventBatch {
  readonly meter: string;
  /** OBIS of the event log. */
  readonly log: string;
  readonly events: readonly MeterEvent[];
  readonly collectedTo: number;
  /** Name of an event code, for the HES message (the code always goes too). */
  readonly name: (code: number) => string;
}

export interface RegisterReading {
  readonly name: string;
  readonly obis: string;
  /** Exact decimal after the scaler. */
  readonly value: string;
  readonly unit: string;
}

export class ReadingsStore {
  private readonly insertRow;
  private readonly upsertColumns;
  private readonly selectMark;
  private readonly upsertMark;
  private readonly outbox;
  private readonly insertEvent;
  private readonly insertRegister;

  constructor(private readonly db: Db) {
    this.insertRow = db.prepare<[string, string, number, number | null, string, number]>(
      'INSERT OR IGNORE INTO profile_rows (meter, profile, captured_at, status, cells, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.upsertColumns = db.prepare<[string, string, string, number]>(
      `INSERT INTO profile_columns (meter, profile, columns, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (meter, profile) DO UPDATE SET columns = excluded.columns, updated_at = excluded.updated_at WHERE columns <> excluded.columns`,
    );
    this.selectMark = db.prepare<[string, string], { collected_to: number }>('SELECT collected_to FROM watermarks WHERE meter = ? AND profile = ?');
    this.upsertMark = db.prepare<[string, string, number, number]>(
      `INSERT INTO watermarks (meter, profile, collected_to, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (meter, profile) DO UPDATE SET collected_to = max(collected_to, excluded.collected_to), updated_at = excluded.updated_at`,
    );
    this.outbox = new Outbox(db);
    this.insertRegister = db.prepare<[string, string, string, number, string, string]>(
      'INSERT OR IGNORE INTO register_values (meter, name, obis, read_at, value, unit) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertEvent = db.prepare<[string, string, number, number, number]>('INSERT OR IGNORE INTO meter_events (meter, log, at, code, received_at) VALUES (?, ?, ?, ?, ?)');
  }

  /** Up to where a profile has been collected, or undefined for a new one. */
  watermark(meter: string, profile: string): number | undefined {
    return this.selectMark.get(meter, profile)?.collected_to;
  }

  storeProfileRows(batch: ProfileBatch, now: number): StoreResult {
    const mark = this.watermark(batch.meter, batch.profile);
    if (mark !== undefined && batch.collectedTo < mark) {
      throw new DcuError(ErrorCode.Internal, `watermark of ${batch.meter} ${batch.profile} would go back from ${mark} to ${batch.collectedTo}`);
    }
    return write(this.db, `${batch.rows.length} rows of ${batch.meter} ${batch.profile}`, () => {
      this.upsertColumns.run(batch.meter, batch.profile, JSON.stringify(batch.columns), now);
      const fresh: StoredRow[] = [];
      for (const r of batch.rows) {
        if (this.insertRow.run(batch.meter, batch.profile, r.capturedAt, r.status ?? null, JSON.stringify(r.cells), now).changes === 1) fresh.push(r);
      }
      this.upsertMark.run(batch.meter, batch.profile, batch.collectedTo, now);
      if (fresh.length === 0) return { inserted: 0, duplicates: batch.rows.length };
      const payload = {
        meter: batch.meter,
        profile: batch.profile,
        columns: batch.columns,
        rows: fresh.map((r) => [r.capturedAt, r.status ?? null, ...r.cells]),
      };
      const seq = this.outbox.append(batch.stream, payload, now);
      return { inserted: fresh.length, duplicates: batch.rows.length - fresh.length, seq };
    });
  }

  /** Register values read at one moment, with their outbox message (stream `registers`). */
  storeRegisters(meter: string, readAt: number, values: readonly RegisterReading[]): StoreResult {
    return write(this.db, `${values.length} register values of ${meter}`, () => {
      const fresh = values.filter((v) => this.insertRegister.run(meter, v.name, v.obis, readAt, v.value, v.unit).changes === 1);
      if (fresh.length === 0) return { inserted: 0, duplicates: values.length };
      const seq = this.outbox.append('registers', { meter, readAt, values: fresh }, readAt);
      return { inserted: fresh.length, duplicates: values.length - fresh.length, seq };
    });
  }

  /** A meter's logged events: stored once each, the log's watermark and the outbox message together. */
  storeEvents(batch: EventBatch, now: number): StoreResult {
    return write(this.db, `${batch.events.length} events of ${batch.meter} ${batch.log}`, () => {
      const fresh = batch.events.filter((e) => this.insertEvent.run(batch.meter, batch.log, e.at, e.code, now).changes === 1);
      this.upsertMark.run(batch.meter, batch.log, batch.collectedTo, now);
      if (fresh.length === 0) return { inserted: 0, duplicates: batch.events.length };
      const seq = this.outbox.append('events', { meter: batch.meter, log: batch.log, events: fresh.map((e) => ({ at: e.at, code: e.code, name: batch.name(e.code) })) }, now);
      return { inserted: fresh.length, duplicates: batch.events.length - fresh.length, seq };
    });
  }

  /** Rows of one meter's profile in [from, to], oldest first (export, tests). */
  profileRows(meter: string, profile: string, from: number, to: number): StoredRow[] {
    return this.db
      .prepare<[string, string, number, number], { captured_at: number; status: number | null; cells: string }>(
        'SELECT captured_at, status, cells FROM profile_rows WHERE meter = ? AND profile = ? AND captured_at BETWEEN ? AND ? ORDER BY captured_at',
      )
      .all(meter, profile, from, to)
      .map((r) => ({ capturedAt: r.captured_at, ...(r.status === null ? {} : { status: r.status }), cells: JSON.parse(r.cells) as (string | null)[] }));
  }
}
