import type { Migration } from './index';

/** Register readings (energy totals…): one value per (meter, register, read time). */
export const m007RegisterValues: Migration = {
  version: 7,
  name: 'register values',
  up: (db) => {
    db.exec(`
      CREATE TABLE register_values (
        meter   TEXT NOT NULL,
        name    TEXT NOT NULL,               -- +A, -A, +R, -R …
        obis    TEXT NOT NULL,
        read_at INTEGER NOT NULL,            -- concentrator time of the read, epoch ms
        value   TEXT NOT NULL,               -- exact decimal after the scaler
        unit    TEXT NOT NULL,
        PRIMARY KEY (meter, obis, read_at)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
