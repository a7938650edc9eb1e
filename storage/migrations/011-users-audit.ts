import type { Migration } from './index';

/**
 * Local API access (daemon/api/): `users` holds each technician's role and the scrypt hash
 * of their token (never the token itself); `audit` one row per write action through the API
 * — who, what, on which target, when, and how it ended (HTTP status, error code).
 */
export const m011UsersAudit: Migration = {
  version: 11,
  name: 'api users and audit',
  up: (db) => {
    db.exec(`
      CREATE TABLE users (
        name       TEXT PRIMARY KEY,
        role       TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        salt       BLOB NOT NULL,
        token_hash BLOB NOT NULL,          -- scrypt(token secret, salt)
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL
      ) STRICT;
      CREATE TABLE audit (
        id      INTEGER PRIMARY KEY,
        at      INTEGER NOT NULL,
        user    TEXT NOT NULL,
        source  TEXT NOT NULL,             -- remote address, or "unix" for the socket on the box
        action  TEXT NOT NULL,             -- "POST /api/v1/meters"
        target  TEXT,                      -- the route parameters as JSON
        status  INTEGER NOT NULL,          -- HTTP status of the answer
        result  TEXT NOT NULL              -- "ok" or the error name
      ) STRICT;
      CREATE INDEX audit_at ON audit (at);
    `);
  },
};
