import { randomBytes } from 'node:crypto';
import type { Migration } from './index';

/** A store incarnation: 8 hex digits, random. */
export function newIncarnation(): string {
  return randomBytes(4).toString('hex');
}

/**
 * The store's incarnation: random when the store is created, new whenever dcud finds the store
 * went back or had to be replaced (storage/store-check.ts). Envelope ids carry it
 * (`<dcu>/<class>/<incarnation>/<seq>`), so a store rebuilt from a partial WAL, restored from
 * a backup or started afresh never sends an id the HES already had for other data.
 */
export const m014StoreIdentity: Migration = {
  version: 14,
  name: 'store incarnation',
  up: (db) => {
    db.exec(`
      CREATE TABLE store_identity (
        one         INTEGER PRIMARY KEY CHECK (one = 1),
        incarnation TEXT NOT NULL,       -- 8 hex digits, part of every envelope id
        reason      TEXT NOT NULL        -- why this incarnation began: created, rewound, replaced
      ) STRICT;
    `);
    db.prepare("INSERT INTO store_identity (one, incarnation, reason) VALUES (1, ?, 'created')").run(newIncarnation());
  },
};
