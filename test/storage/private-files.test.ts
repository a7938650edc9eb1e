import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../storage/db';
import { ensurePrivateFile, ensureStateDirectory, groupIdOf } from '../../storage/private-files';

const mode = (p: string): number => statSync(p).mode & 0o7777;

describe('state directory and file modes (dcud outside systemd)', () => {
  let dir: string;
  let umask: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-modes-'));
    umask = process.umask(0o022); // the usual login umask: what made the store 0644 before
  });
  afterEach(() => {
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a new state directory is 0700; with a group 2750 owned by it; an existing one keeps its mode', () => {
    const state = join(dir, 'a', 'state');
    expect(ensureStateDirectory(state)).toEqual({ created: true, openToOthers: false });
    expect(mode(state)).toBe(0o700);
    const gid = process.getgid?.() ?? 0;
    const grouped = join(dir, 'grouped');
    ensureStateDirectory(grouped, gid);
    expect(mode(grouped)).toBe(0o2750);
    expect(statSync(grouped).gid).toBe(gid);
    const open = join(dir, 'open');
    mkdirSync(open, { mode: 0o755 });
    expect(ensureStateDirectory(open)).toEqual({ created: false, openToOthers: true });
    expect(mode(open)).toBe(0o755);
  });

  it('the store, its -wal and -shm are 0600, and a store left 0644 by an older dcu is narrowed', () => {
    const path = join(dir, 'dcu.sqlite');
    const db = openStore(path);
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    for (const f of [path, `${path}-wal`, `${path}-shm`]) expect([f, mode(f)]).toEqual([f, 0o600]);
    db.close();
    const old = join(dir, 'old.sqlite');
    writeFileSync(old, '', { mode: 0o644 });
    openStore(old).close();
    expect(mode(old)).toBe(0o600);
    const lock = join(dir, 'dcud.lock');
    ensurePrivateFile(lock);
    expect(mode(lock)).toBe(0o600);
  });

  it('a group is a number or a name from the group file', () => {
    const groups = join(dir, 'group');
    writeFileSync(groups, 'root:x:0:\ndcu:x:998:alice\n');
    expect(groupIdOf('998', groups)).toBe(998);
    expect(groupIdOf('dcu', groups)).toBe(998);
    expect(() => groupIdOf('nobody-here', groups)).toThrow(/no group "nobody-here"/);
  });
});
