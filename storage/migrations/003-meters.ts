import type { Migration } from './index';

/**
 * The meter registry: identity, where and how to reach the meter, and its tracked state
 * (daemon/registry/state.ts). `source` says who added it (config seed list, HES, technician);
 * a seed list never removes meters the HES or a technician added.
 */
export const m003Meters: Migration = {
  version: 3,
  name: 'meter registry',
  up: (db) => {
    db.exec(`
      CREATE TABLE meters (
        serial              TEXT PRIMARY KEY,
        line                TEXT NOT NULL,
        address             TEXT NOT NULL,
        access              TEXT NOT NULL,             -- JSON: client, auth, credentials reference
        source              TEXT NOT NULL CHECK (source IN ('config', 'hes', 'local')),
        stage               TEXT NOT NULL DEFAULT 'registered' CHECK (stage IN ('registered', 'linked', 'commissioned')),
        reachability        TEXT NOT NULL DEFAULT 'unknown' CHECK (reachability IN ('unknown', 'reachable', 'unreachable')),
        last_seen           INTEGER,
        silent_since        INTEGER,
        unreachable_reported INTEGER NOT NULL DEFAULT 0,
        identity            TEXT NOT NULL DEFAULT '{}',  -- JSON: serialNumber, logicalName, firmwareId
        last_error          TEXT,
        created_at          INTEGER NOT NULL,
        updated_at          INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX meters_line ON meters (line);
    `);
  },
};
