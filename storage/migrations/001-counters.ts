import type { Migration } from './index';

/** Invocation counters: the persisted high-water mark per key id (see storage/counters.ts). */
export const m001Counters: Migration = {
  version: 1,
  name: 'security counters',
  up: (db) => {
    db.exec(`
      CREATE TABLE security_counters (
        key_id     TEXT PRIMARY KEY,
        high_water INTEGER NOT NULL CHECK (high_water >= 0 AND high_water <= 4294967296),
        updated_at INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
