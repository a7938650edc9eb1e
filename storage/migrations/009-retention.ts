import type { Migration } from './index';

/**
 * Indexes the retention pass needs to stay cheap (storage/retention.ts): the oldest unsent
 * message of a stream (`outbox` by write time: whatever was written before it has reached
 * the HES), and the old rows of the tables pruned by time rather than per meter.
 */
export const m009Retention: Migration = {
  version: 9,
  name: 'retention indexes',
  up: (db) => {
    db.exec(`
      CREATE INDEX outbox_stream_created ON outbox (stream, created_at);
      CREATE INDEX register_values_read_at ON register_values (read_at);
      CREATE INDEX events_at ON events (at);
      CREATE INDEX alarms_cleared ON alarms (cleared_at) WHERE cleared_at IS NOT NULL;
    `);
  },
};
