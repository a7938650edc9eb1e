/**
 * The daemon's per-meter metadata cache in SQLite (table meter_meta), behind the contract
 * of protocol/client/meta-cache.ts that the probe's file store also implements. An entry
 * that no longer checks is forgotten: it is read from the meter again, never trusted.
 */
import { checkMeterMetadata, type MeterMetadata, type MeterMetadataCache } from '../protocol/client/meta-cache';
import { write, type Db } from './db';

export class SqliteMetadataCache implements MeterMetadataCache {
  private readonly select;
  private readonly upsert;

  constructor(private readonly db: Db) {
    this.select = db.prepare<[string], { body: string }>('SELECT body FROM meter_meta WHERE meter_key = ?');
    this.upsert = db.prepare<[string, string, number]>(
      `INSERT INTO meter_meta (meter_key, body, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (meter_key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
    );
  }

  get(key: string): Promise<MeterMetadata | undefined> {
    const row = this.select.get(key);
    if (row === undefined) return Promise.resolve(undefined);
    try {
      return Promise.resolve(checkMeterMetadata(JSON.parse(row.body), `meter_meta [${key}]`));
    } catch {
      return Promise.resolve(undefined);
    }
  }

  put(key: string, meta: MeterMetadata): Promise<void> {
    try {
      write(this.db, `the metadata of ${key}`, () => this.upsert.run(key, JSON.stringify(meta), meta.savedAt));
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }
}
