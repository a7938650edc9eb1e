import type { Migration } from './index';

/**
 * Readings and their way out. A profile row is stored once per (meter, profile, capture
 * time); the watermark says up to where a profile has been collected; the outbox holds, per
 * stream and in `seq` order, what the HES has not acknowledged yet — written in the same
 * transaction as the rows it carries, so nothing is sent that is not stored first.
 */
export const m004Readings: Migration = {
  version: 4,
  name: 'profile rows, watermarks, outbox',
  up: (db) => {
    db.exec(`
      CREATE TABLE profile_columns (
        meter    TEXT NOT NULL,
        profile  TEXT NOT NULL,              -- OBIS a.b.c.d.e.f
        columns  TEXT NOT NULL,              -- JSON: [{capture: "class:obis:attr", unit}]
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (meter, profile)
      ) STRICT;

      CREATE TABLE profile_rows (
        meter       TEXT NOT NULL,
        profile     TEXT NOT NULL,
        captured_at INTEGER NOT NULL,        -- epoch ms of the clock column
        status      INTEGER,                 -- the row's status byte, when the profile has one
        cells       TEXT NOT NULL,           -- JSON array of exact decimals (or null), one per column
        received_at INTEGER NOT NULL,
        PRIMARY KEY (meter, profile, captured_at)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE watermarks (
        meter       TEXT NOT NULL,
        profile     TEXT NOT NULL,
        collected_to INTEGER NOT NULL,       -- every capture time <= this has been read (rows or the meter's gaps)
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (meter, profile)
      ) STRICT;

      CREATE TABLE outbox (
        stream     TEXT NOT NULL,            -- data class: load-profile, daily, events, results…
        seq        INTEGER NOT NULL,         -- monotonic per stream
        payload    TEXT NOT NULL,            -- JSON items of one message
        created_at INTEGER NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (stream, seq)
      ) STRICT;
    `);
  },
};
