import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../protocol/common/errors';
import { inReserve, openStore, userVersion, write } from '../../storage/db';
import { MIGRATIONS } from '../../storage/migrations';
import { expectDcuError } from '../helpers/dcu-error';

describe('openStore', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-db-'));
    path = join(dir, 'state', 'dcu.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file with the pragmas a power-cut-prone box needs, at the latest schema', () => {
    const db = openStore(path, { maxBytes: 8_000_000 });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2); // INCREMENTAL
    // readings may use maxBytes less a 2 % reserve for states and the store-full alarm
    const all = Math.floor(8_000_000 / 4096);
    expect(db.pragma('max_page_count', { simple: true })).toBe(all - Math.floor(all * 0.02));
    expect(inReserve(db, () => db.pragma('max_page_count', { simple: true }))).toBe(all);
    expect(userVersion(db)).toBe(MIGRATIONS.length);
    db.close();
  });

  it('migrations are numbered from 1 without gaps, and a second open applies none', () => {
    MIGRATIONS.forEach((m, i) => expect(m.version).toBe(i + 1));
    openStore(path).close();
    const db = openStore(path);
    expect(userVersion(db)).toBe(MIGRATIONS.length);
    db.close();
  });

  it('each migration runs in its own transaction: a failing one leaves the version before it', () => {
    const broken = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'broken', up: () => { throw new Error('boom'); } }];
    expect(() => openStore(path, { migrations: broken })).toThrow('boom');
    const db = openStore(path);
    expect(userVersion(db)).toBe(MIGRATIONS.length);
    db.close();
  });

  it('refuses a database from a newer dcu and leaves it untouched', () => {
    const db = openStore(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    db.pragma('journal_mode = DELETE'); // as a newer dcu might leave it
    db.close();
    const bytes = readFileSync(path);
    const e = expectDcuError(() => openStore(path), ErrorCode.StorageTooNew);
    expect(e.message).toMatch(/newer than this dcu knows/);
    expect(readFileSync(path).equals(bytes)).toBe(true); // not even the journal mode was written
    const again = openStore(path, { migrations: [...MIGRATIONS, ...Array.from({ length: 5 }, (_, i) => ({ version: MIGRATIONS.length + i + 1, name: 'later', up: () => undefined }))] });
    expect(userVersion(again)).toBe(MIGRATIONS.length + 5);
    again.close();
  });

  it('a full store is a typed StorageFull error and keeps nothing of the failed write', () => {
    const db = openStore(path, { maxBytes: 200 * 4096 });
    db.exec('CREATE TABLE blobs (b BLOB)');
    const insert = db.prepare('INSERT INTO blobs VALUES (?)');
    write(db, 'a first blob', () => insert.run(Buffer.alloc(100_000)));
    const e = expectDcuError(() => write(db, 'many blobs', () => {
      for (let i = 0; i < 100; i++) insert.run(Buffer.alloc(100_000));
    }), ErrorCode.StorageFull);
    expect(e.message).toMatch(/full while writing many blobs/);
    expect(db.prepare('SELECT count(*) AS n FROM blobs').get()).toEqual({ n: 1 });
    // the reserve still takes a small write, and is closed again afterwards
    const small = db.prepare('INSERT INTO blobs VALUES (?)');
    for (;;) {
      try {
        write(db, 'filling', () => small.run(Buffer.alloc(2000)));
      } catch {
        break;
      }
    }
    expect(() => inReserve(db, () => write(db, 'an alarm', () => small.run(Buffer.alloc(100))))).not.toThrow();
    expect(() => write(db, 'a reading', () => small.run(Buffer.alloc(20_000)))).toThrow(/full/);
    db.close();
  });

  it('opens read-only without migrating, and a missing file is a typed error', () => {
    openStore(path).close();
    const ro = openStore(path, { readonly: true });
    expect(userVersion(ro)).toBe(MIGRATIONS.length);
    ro.close();
    expectDcuError(() => openStore(join(dir, 'none.sqlite'), { readonly: true }), ErrorCode.Storage);
  });
});
