/**
 * API users and the audit of write actions (migration 011). A token is `dcu_<name>_<secret>`:
 * the name finds the row, the secret is checked against its scrypt hash (node:crypto) in
 * constant time. Tokens are shown once, when made, and never stored.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import type { Db } from './db';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const USER_NAME = /^[a-z][a-z0-9-]{0,31}$/;

export interface UserRecord {
  readonly name: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly createdBy: string;
}

export interface AuditEntry {
  readonly at: number;
  readonly user: string;
  readonly source: string;
  readonly action: string;
  readonly target: string | null;
  readonly status: number;
  readonly result: string;
}

const SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const hash = (secret: string, salt: Buffer): Buffer => scryptSync(secret, salt, 32, SCRYPT);

/** Splits `dcu_<name>_<secret>`; undefined when it is not shaped like a token. */
export function parseToken(token: string): { name: string; secret: string } | undefined {
  const m = /^dcu_([a-z][a-z0-9-]{0,31})_([A-Za-z0-9_-]{20,100})$/.exec(token.trim());
  return m === null ? undefined : { name: m[1] as string, secret: m[2] as string };
}

export class UserStore {
  constructor(private readonly db: Db) {}

  /** Creates a user; returns its token (the only time it is seen). */
  add(name: string, role: Role, createdBy: string, now: number): string {
    if (!USER_NAME.test(name)) throw new DcuError(ErrorCode.Usage, `user name "${name}" is not valid: lower-case letters, digits and '-', starting with a letter, at most 32`);
    if (!(ROLES as readonly string[]).includes(role)) throw new DcuError(ErrorCode.Usage, `role "${role}" is not one of ${ROLES.join(', ')}`);
    if (this.get(name) !== undefined) throw new DcuError(ErrorCode.Conflict, `user ${name} exists already; remove it first to issue a new token`);
    const secret = randomBytes(24).toString('base64url');
    const salt = randomBytes(16);
    this.db.prepare('INSERT INTO users (name, role, salt, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)').run(name, role, salt, hash(secret, salt), now, createdBy);
    return `dcu_${name}_${secret}`;
  }

  remove(name: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE name = ?').run(name).changes > 0;
  }

  get(name: string): UserRecord | undefined {
    const r = this.db.prepare<[string], { name: string; role: Role; created_at: number; created_by: string }>('SELECT name, role, created_at, created_by FROM users WHERE name = ?').get(name);
    return r === undefined ? undefined : { name: r.name, role: r.role, createdAt: r.created_at, createdBy: r.created_by };
  }

  list(): UserRecord[] {
    return this.db
      .prepare<[], { name: string; role: Role; created_at: number; created_by: string }>('SELECT name, role, created_at, created_by FROM users ORDER BY name')
      .all()
      .map((r) => ({ name: r.name, role: r.role, createdAt: r.created_at, createdBy: r.created_by }));
  }

  count(role?: Role): number {
    const row = role === undefined ? this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users').get() : this.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM users WHERE role = ?').get(role);
    return row?.n ?? 0;
  }

  /** The user a token belongs to, or undefined (unknown name, wrong secret, malformed). */
  verify(token: string): UserRecord | undefined {
    const t = parseToken(token);
    if (t === undefined) return undefined;
    const row = this.db.prepare<[string], { salt: Buffer; token_hash: Buffer }>('SELECT salt, token_hash FROM users WHERE name = ?').get(t.name);
    if (row === undefined) return undefined;
    const got = hash(t.secret, row.salt);
    return got.length === row.token_hash.length && timingSafeEqual(got, row.token_hash) ? this.get(t.name) : undefined;
  }
}

export class AuditLog {
  constructor(private readonly db: Db) {}

  record(e: AuditEntry): void {
    this.db.prepare('INSERT INTO audit (at, user, source, action, target, status, result) VALUES (?, ?, ?, ?, ?, ?, ?)').run(e.at, e.user, e.source, e.action, e.target, e.status, e.result);
  }

  list(limit = 100): AuditEntry[] {
    return this.db.prepare<[number], AuditEntry>('SELECT at, user, source, action, target, status, result FROM audit ORDER BY id DESC LIMIT ?').all(limit);
  }
}
