import type { Migration } from './index';

/**
 * Firmware images and update campaigns. An image is stored once (a file in
 * `<stateDir>/firmware/`, named by its SHA-256, referenced here) however many campaigns use
 * it; while it arrives from the HES in numbered chunks the chunks are rows of
 * `fw_image_chunks` (resumable across WAN drops), deleted once the image is complete.
 * A campaign's meters each have their own state (`fw_campaign_meters`), persisted on every
 * transition so a restart resumes where it was.
 */
export const m012Firmware: Migration = {
  version: 12,
  name: 'firmware images and campaigns',
  up: (db) => {
    db.exec(`
      CREATE TABLE fw_images (
        id          TEXT PRIMARY KEY,            -- the manifest's image id
        manifest    TEXT NOT NULL,               -- the manifest as received (JSON)
        size        INTEGER NOT NULL,
        sha256      TEXT NOT NULL,               -- hex, lower case
        chunks      INTEGER NOT NULL,            -- chunk count announced (1 for a local upload)
        state       TEXT NOT NULL,               -- receiving | complete | rejected
        file        TEXT,                        -- path relative to stateDir once complete
        reason      TEXT,                        -- why it was rejected
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE fw_image_chunks (
        image  TEXT NOT NULL REFERENCES fw_images (id) ON DELETE CASCADE,
        n      INTEGER NOT NULL,
        bytes  BLOB NOT NULL,
        PRIMARY KEY (image, n)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE fw_campaigns (
        id          TEXT PRIMARY KEY,
        image       TEXT NOT NULL REFERENCES fw_images (id),
        source      TEXT NOT NULL,               -- hes | local
        request     TEXT NOT NULL,               -- the validated request (JSON)
        state       TEXT NOT NULL,               -- running | done | cancelled
        deadline    INTEGER NOT NULL,
        created_at  INTEGER NOT NULL,
        finished_at INTEGER
      ) STRICT;
      CREATE TABLE fw_campaign_meters (
        campaign     TEXT NOT NULL REFERENCES fw_campaigns (id) ON DELETE CASCADE,
        meter        TEXT NOT NULL,
        state        TEXT NOT NULL,              -- queued transferring verifying ready activating confirming OK KO
        blocks_done  INTEGER NOT NULL DEFAULT 0,
        blocks_total INTEGER NOT NULL DEFAULT 0,
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_at      INTEGER NOT NULL,
        reason       TEXT,                       -- KO: unreachable not-commissioned refused verify-failed activation-failed version-unchanged deadline-passed cancelled
        detail       TEXT,                       -- last error text / observations
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (campaign, meter)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX fw_campaign_meters_due ON fw_campaign_meters (next_at) WHERE state NOT IN ('OK', 'KO');
    `);
  },
};
