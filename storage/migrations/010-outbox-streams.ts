import type { Migration } from './index';

/**
 * Outbox sequence numbers that never go back. `max(seq) + 1` restarted at 1 once the drain
 * had deleted every sent row, so the HES would see a seq (and an id) again for new data.
 * `outbox_streams` holds the next seq of each stream forever; it starts above what the
 * outbox holds today. `last_error` keeps why a row was refused last (health, tests);
 * `batch_end`, on the first row of a sent MQTT message, the last seq that message carried:
 * a re-send (after a refusal, an outage, a restart) carries exactly the same rows under
 * the same envelope id, so the HES deduplicates by id alone.
 */
export const m010OutboxStreams: Migration = {
  version: 10,
  name: 'outbox sequence per stream',
  up: (db) => {
    db.exec(`
      CREATE TABLE outbox_streams (
        stream   TEXT PRIMARY KEY,
        next_seq INTEGER NOT NULL            -- the seq the next appended message gets
      ) STRICT;
      INSERT INTO outbox_streams (stream, next_seq) SELECT stream, max(seq) + 1 FROM outbox GROUP BY stream;
      ALTER TABLE outbox ADD COLUMN last_error TEXT;
      ALTER TABLE outbox ADD COLUMN batch_end INTEGER;
    `);
  },
};
