import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Db } from '../../storage/db';
import { AuditLog, parseToken, UserStore } from '../../storage/users';
import { expectDcuError } from '../helpers/dcu-error';

describe('users and audit (migration 011)', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-users-'));
    db = openStore(join(dir, 'dcu.sqlite'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a scrypt hash, never the token, and verifies only the right secret', () => {
    const users = new UserStore(db);
    const token = users.add('alice', 'operator', 'test', 1);
    expect(parseToken(token)?.name).toBe('alice');
    expect(users.verify(token)).toMatchObject({ name: 'alice', role: 'operator', createdBy: 'test' });
    const secret = parseToken(token)?.secret ?? '';
    const raw = db.prepare('SELECT * FROM users').all() as Record<string, unknown>[];
    expect(JSON.stringify(raw)).not.toContain(secret);
    expect((raw[0]?.token_hash as Buffer).length).toBe(32);
    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expect(users.verify(flipped)).toBeUndefined();
    expect(users.verify(token.replace('alice', 'bob'))).toBeUndefined();
    expect(users.verify('garbage')).toBeUndefined();
    // the same secret under another user does not work: each has its own salt
    const other = users.add('bob', 'viewer', 'test', 1);
    expect(users.verify(`dcu_bob_${secret}`)).toBeUndefined();
    expect(users.verify(other)?.name).toBe('bob');
    expect(users.remove('alice')).toBe(true);
    expect(users.verify(token)).toBeUndefined();
  });

  it('refuses bad names, roles and duplicates with typed errors', () => {
    const users = new UserStore(db);
    users.add('alice', 'admin', 'test', 1);
    expectDcuError(() => users.add('alice', 'viewer', 'test', 1), 811);
    expectDcuError(() => users.add('../x', 'viewer', 'test', 1), 800);
    expectDcuError(() => users.add('root', 'superuser' as 'admin', 'test', 1), 800);
    expect(users.count()).toBe(1);
  });

  it('keeps audit rows in order', () => {
    const audit = new AuditLog(db);
    audit.record({ at: 1, user: 'alice', source: 'unix', action: 'POST /api/v1/plan', target: null, status: 202, result: 'ok' });
    audit.record({ at: 2, user: 'alice', source: '10.0.0.9', action: 'DELETE /api/v1/meters/:serial', target: '{"serial":"X"}', status: 404, result: 'unknown-meter' });
    expect(audit.list().map((r) => r.at)).toEqual([2, 1]);
  });
});
