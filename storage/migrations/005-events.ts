import type { Migration } from './index';

/**
 * What the concentrator noticed about meters (commissioned, unreachable, firmware changed…)
 * and alarms (serial-number mismatch, alarm register bits, a full store). Both also go out
 * through the outbox (streams `events` and `alarms`) in the same transaction.
 */
export const m005Events: Migration = {
  version: 5,
  name: 'events and alarms',
  up: (db) => {
    db.exec(`
      CREATE TABLE events (
        id      INTEGER PRIMARY KEY,
        meter   TEXT,                      -- null for the concentrator itself
        code    TEXT NOT NULL,
        detail  TEXT NOT NULL,
        at      INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX events_meter_at ON events (meter, at);

      CREATE TABLE alarms (
        id         INTEGER PRIMARY KEY,
        meter      TEXT,
        code       TEXT NOT NULL,
        detail     TEXT NOT NULL,
        raised_at  INTEGER NOT NULL,
        cleared_at INTEGER
      ) STRICT;
      CREATE INDEX alarms_open ON alarms (meter, code) WHERE cleared_at IS NULL;
    `);
  },
};
