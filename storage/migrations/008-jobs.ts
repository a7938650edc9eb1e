import type { Migration } from './index';

/**
 * Jobs the concentrator was asked to do (on-demand reads, mass plans; later firmware): one
 * row per job and one per (job, meter) with its state, attempts and final result. A crash
 * leaves attempts `running`; start-up puts them back to `queued`. Scheduled collection is not
 * stored here: its progress is the watermarks, and a cycle resumes from them.
 */
export const m008Jobs: Migration = {
  version: 8,
  name: 'jobs and their per-meter results',
  up: (db) => {
    db.exec(`
      CREATE TABLE jobs (
        id          TEXT PRIMARY KEY,         -- given by the requester (idempotent re-send) or generated
        kind        TEXT NOT NULL,            -- read | plan
        source      TEXT NOT NULL,            -- local | hes | api
        priority    TEXT NOT NULL,            -- on-demand | firmware | scheduled | background
        request     TEXT NOT NULL,            -- JSON: the validated request as received
        state       TEXT NOT NULL,            -- queued | running | done | cancelled | expired
        not_before  INTEGER NOT NULL,
        deadline    INTEGER,                  -- no attempt starts after it
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        finished_at INTEGER
      ) STRICT;
      CREATE INDEX jobs_by_state ON jobs (state, created_at);

      CREATE TABLE job_meters (
        job        TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        meter      TEXT NOT NULL,
        state      TEXT NOT NULL,             -- queued | running | EXE | WARN | FAIL | cancelled
        attempts   INTEGER NOT NULL DEFAULT 0,
        next_at    INTEGER NOT NULL,          -- earliest next attempt
        reason     TEXT,
        code       INTEGER,
        result     TEXT,                      -- JSON: the last attempt's result
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (job, meter)
      ) STRICT;
      CREATE INDEX job_meters_due ON job_meters (state, next_at);
    `);
  },
};
