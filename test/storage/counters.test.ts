import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FakeClock } from '../../protocol/common/clock';
import { ErrorCode } from '../../protocol/common/errors';
import { MAX_COUNTER } from '../../protocol/security/counters';
import { importCounterFile, SqliteCounterStore } from '../../storage/counters';
import { openStore } from '../../storage/db';
import { codeOfAsync } from '../helpers/dcu-error';

describe('SqliteCounterStore', () => {
  let dir: string;
  let path: string;
  const clock = new FakeClock(Date.UTC(2026, 11, 1));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-sqlite-counters-'));
    path = join(dir, 'dcu.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('never reuses a value after a crash (a new connection over the same file, no close)', async () => {
    const handedOut: number[] = [];
    let store = new SqliteCounterStore(openStore(path), clock, 10);
    for (let i = 0; i < 25; i++) handedOut.push(await store.reserve('m1/guek'));
    for (let round = 0; round < 3; round++) {
      store = new SqliteCounterStore(openStore(path), clock, 10);
      const next = await store.reserve('m1/guek');
      expect(next).toBeGreaterThan(Math.max(...handedOut));
      handedOut.push(next, await store.reserve('m1/guek', 3));
    }
    expect(new Set(handedOut).size).toBe(handedOut.length);
  });

  it('commits one mark per chunk and keeps keys apart', async () => {
    const db = openStore(path);
    const store = new SqliteCounterStore(db, clock, 100);
    expect(await store.reserve('a')).toBe(0);
    expect(await store.reserve('b', 5)).toBe(0);
    const marks = () => db.prepare('SELECT key_id, high_water FROM security_counters ORDER BY key_id').all();
    expect(marks()).toEqual([{ key_id: 'a', high_water: 101 }, { key_id: 'b', high_water: 105 }]);
    for (let i = 1; i < 100; i++) await store.reserve('a');
    expect(marks()).toEqual([{ key_id: 'a', high_water: 101 }, { key_id: 'b', high_water: 105 }]);
    expect(await store.reserve('a', 2)).toBe(100);
    expect(marks()).toEqual([{ key_id: 'a', high_water: 202 }, { key_id: 'b', high_water: 105 }]);
  });

  it('advanceTo never goes backwards; peek does not reserve', async () => {
    const store = new SqliteCounterStore(openStore(path), clock);
    await store.advanceTo('k', 5000);
    await store.advanceTo('k', 10);
    expect(await store.peek('k')).toBe(5000);
    expect(await store.reserve('k')).toBe(5000);
    expect(await new SqliteCounterStore(openStore(path), clock).reserve('k')).toBeGreaterThan(5000);
  });

  it('refuses to pass the 32-bit limit', async () => {
    const store = new SqliteCounterStore(openStore(path), clock);
    await store.advanceTo('k', MAX_COUNTER);
    expect(await store.reserve('k')).toBe(MAX_COUNTER);
    expect(await codeOfAsync(store.reserve('k'))).toBe(ErrorCode.SecurityCounterExhausted);
  });

  it('imports a probe counter file, keeping the higher mark, idempotently', async () => {
    const file = join(dir, 'counters.json');
    writeFileSync(file, JSON.stringify({ version: 1, counters: { a: 500, b: 7 } }));
    const db = openStore(path);
    await new SqliteCounterStore(db, clock, 10).advanceTo('b', 900);
    expect(importCounterFile(db, file, clock)).toBe(2);
    expect(importCounterFile(db, file, clock)).toBe(2);
    const store = new SqliteCounterStore(db, clock);
    expect(await store.reserve('a')).toBe(500);
    expect(await store.reserve('b')).toBeGreaterThanOrEqual(900);
  });

  it('a process killed with SIGKILL right after reserving never gets a value again', () => {
    // The child reserves values and prints them, then dies by SIGKILL without closing.
    const root = resolve(__dirname, '..', '..');
    const script = `
      const { openStore } = require('${root}/dist/storage/db.js');
      const { SqliteCounterStore } = require('${root}/dist/storage/counters.js');
      const store = new SqliteCounterStore(openStore(process.argv[1]), { now: () => 0 }, 3);
      (async () => {
        for (let i = 0; i < 7; i++) process.stdout.write((await store.reserve('k')) + '\\n');
        process.kill(process.pid, 'SIGKILL');
      })();`;
    const seen: number[] = [];
    for (let run = 0; run < 3; run++) {
      const r = spawnSync(process.execPath, ['-e', script, path], { encoding: 'utf8' });
      expect(r.signal).toBe('SIGKILL');
      seen.push(...r.stdout.trim().split('\n').map(Number));
    }
    expect(seen).toHaveLength(21);
    expect(new Set(seen).size).toBe(21);
  });
});
