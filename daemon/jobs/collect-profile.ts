/**
 * Collection of a profile (load profile, daily values, billing) from its watermark: range
 * reads of at most `maxSpanMs` each, every step stored with its watermark and outbox message
 * in one transaction (storage/readings.ts), so a crash between steps loses nothing and a
 * retry duplicates nothing. Intervals the meter has no row for stay gaps; the watermark only
 * moves past times the meter has certainly captured.
 */
import type { DlmsClient } from '../../protocol/client/client';
import type { MeterMetadataCache } from '../../protocol/client/meta-cache';
import { readProfile } from '../../protocol/client/profile-read';
import { captureKey, type CaptureObject } from '../../protocol/cosem/capture-object';
import type { ProfileRow } from '../../protocol/cosem/profile';
import { formatObis, type Obis } from '../../protocol/cosem/obis';
import type { ReadingsStore, StoredColumn, StoredRow } from '../../storage/readings';
import type { ReadStatus } from './basic-read';

export interface CollectProfileOptions {
  readonly meter: string;
  readonly profile: Obis;
  /** Outbox stream / data class. */
  readonly stream: string;
  /** Concentrator time (epoch ms). */
  readonly now: number;
  /** A profile never collected before starts this far back. */
  readonly backfillMs: number;
  /** At most this much meter time per range read (bounds answer size and line hold). */
  readonly maxSpanMs: number;
  /**
   * Only times older than now − settleMs count as certainly captured when the meter sent no
   * row there (its clock may run behind ours); default 15 min.
   */
  readonly settleMs?: number;
  /** The meter's metadata cache entry (capture objects, scalers): saves round trips per read. */
  readonly cache?: { readonly store: MeterMetadataCache; readonly key: string };
  /** Called between range reads: return false to stop early (e.g. to yield the line). */
  readonly between?: () => boolean | Promise<boolean>;
}

export interface CollectProfileResult {
  readonly status: ReadStatus;
  readonly observations: readonly string[];
  readonly inserted: number;
  readonly duplicates: number;
  readonly collectedTo: number;
  readonly reads: number;
  /** False when `between` stopped the collection before it reached now. */
  readonly complete: boolean;
}

const CLOCK_CLASS = 8;

/** Indexes of the stored columns: all but the clock (the row's capture time). */
function storedColumns(captures: readonly { classId: number }[]): number[] {
  return captures.map((c, i) => (c.classId === CLOCK_CLASS ? -1 : i)).filter((i) => i >= 0);
}

/**
 * Where the rows of a range read go: the watermark they continue from, and the one
 * transaction that stores them with the new watermark (profile rows; event log entries).
 */
export interface ProfileSink {
  watermark(): number | undefined;
  store(rows: readonly ProfileRow[], captureObjects: readonly CaptureObject[], collectedTo: number, now: number): { inserted: number; duplicates: number };
}

/** Profile rows into profile_rows (all columns but the clock, exact decimals). */
export function profileRowSink(store: ReadingsStore, meter: string, profile: string, stream: string): ProfileSink {
  return {
    watermark: () => store.watermark(meter, profile),
    store: (rows, captureObjects, collectedTo, now) => {
      const keep = storedColumns(captureObjects);
      const columns: StoredColumn[] = keep.map((i) => {
        const co = captureObjects[i];
        const unit = rows.find((r) => r.cells[i]?.unitSymbol !== undefined)?.cells[i]?.unitSymbol;
        return { capture: co === undefined ? '?' : captureKey(co), ...(unit === undefined ? {} : { unit }) };
      });
      const stored: StoredRow[] = rows.map((r) => ({ capturedAt: r.timestamp ?? 0, ...(r.status === undefined ? {} : { status: r.status }), cells: keep.map((i) => r.cells[i]?.decimal ?? null) }));
      return store.storeProfileRows({ meter, profile, stream, columns, rows: stored, collectedTo }, now);
    },
  };
}

/** Collects one profile of one meter over an open association. */
export async function collectProfile(client: DlmsClient, store: ReadingsStore, o: CollectProfileOptions): Promise<CollectProfileResult> {
  return collectInto(client, profileRowSink(store, o.meter, formatObis(o.profile), o.stream), o);
}

/** The watermark loop, for any sink. */
export async function collectInto(client: DlmsClient, sink: ProfileSink, o: Omit<CollectProfileOptions, 'stream' | 'meter'>): Promise<CollectProfileResult> {
  const settle = o.settleMs ?? 15 * 60_000;
  const observations: string[] = [];
  let from = sink.watermark() ?? o.now - o.backfillMs;
  let inserted = 0;
  let duplicates = 0;
  let reads = 0;
  let undated = 0;
  while (from < o.now) {
    const to = Math.min(from + o.maxSpanMs, o.now);
    const reading = await readProfile(client, o.profile, { from, to, ...(o.cache === undefined ? {} : { cache: { store: o.cache.store, key: o.cache.key } }) });
    reads++;
    const rows: ProfileRow[] = [];
    let last = from;
    for (const r of reading.rows) {
      if (r.timestamp === null) {
        undated++;
        continue;
      }
      if (r.timestamp < from || r.timestamp > to) continue; // meters may pad a range
      last = Math.max(last, r.timestamp);
      rows.push(r);
    }
    // Certainly captured: the whole range when it is settled, else up to the newest row or the
    // settled past, whichever is later (a meter with nothing to log still moves on).
    const collectedTo = to <= o.now - settle ? to : Math.max(last, Math.min(to, o.now - settle));
    const stored = sink.store(rows, reading.captureObjects, collectedTo, o.now);
    inserted += stored.inserted;
    duplicates += stored.duplicates;
    if (to >= o.now || collectedTo <= from) break; // read up to now, or nothing newer yet
    from = collectedTo;
    if (from < o.now && o.between !== undefined && !(await o.between())) {
      return finish(false);
    }
  }
  return finish(true);

  function finish(complete: boolean): CollectProfileResult {
    if (undated > 0) observations.push(`${undated} row(s) without a usable timestamp were not stored`);
    const collectedTo = sink.watermark() ?? from;
    return { status: observations.length > 0 ? 'WARN' : 'EXE', observations, inserted, duplicates, collectedTo, reads, complete };
  }
}
