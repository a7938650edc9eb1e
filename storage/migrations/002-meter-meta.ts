import type { Migration } from './index';

/**
 * The per-meter metadata cache (object list, capture objects, scaler/units, capture period,
 * firmware identifier): what a read needs before it can read, kept so it is read once.
 */
export const m002MeterMeta: Migration = {
  version: 2,
  name: 'meter metadata cache',
  up: (db) => {
    db.exec(`
      CREATE TABLE meter_meta (
        meter_key  TEXT PRIMARY KEY,
        body       TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
