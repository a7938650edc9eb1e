import type { Migration } from './index';

/**
 * Events the meters logged (standard and power-failure event logs), stored once per
 * (meter, log, time, code); and the last alarm register value per meter, to raise an alarm
 * when a bit sets and clear it when it clears.
 */
export const m006MeterEvents: Migration = {
  version: 6,
  name: 'meter event logs and alarm registers',
  up: (db) => {
    db.exec(`
      CREATE TABLE meter_events (
        meter   TEXT NOT NULL,
        log     TEXT NOT NULL,               -- OBIS of the event log
        at      INTEGER NOT NULL,            -- meter time of the event, epoch ms
        code    INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (meter, log, at, code)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE alarm_registers (
        meter      TEXT PRIMARY KEY,
        value      INTEGER NOT NULL,
        read_at    INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
