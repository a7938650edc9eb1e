import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../protocol/common/errors';
import { MAX_COUNTER } from '../../protocol/security/counters';
import { FileCounterStore } from '../../storage/counter-file';
import { codeOfAsync } from '../helpers/dcu-error';

describe('FileCounterStore', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-counters-'));
    path = join(dir, 'counters.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('never reuses a value after a crash (new instance over the same file, no shutdown)', async () => {
    const handedOut: number[] = [];
    let store = new FileCounterStore({ path, chunk: 10 });
    for (let i = 0; i < 25; i++) handedOut.push(await store.reserve('meter-1/guek'));
    // "Crash": drop the instance without any close/flush and start over from the file.
    for (let round = 0; round < 3; round++) {
      store = new FileCounterStore({ path, chunk: 10 });
      const next = await store.reserve('meter-1/guek');
      expect(next).toBeGreaterThan(Math.max(...handedOut));
      handedOut.push(next, await store.reserve('meter-1/guek', 3));
    }
    expect(new Set(handedOut).size).toBe(handedOut.length);
  });

  it('persists a chunk ahead: one write per chunk, restart resumes at the high-water mark', async () => {
    const store = new FileCounterStore({ path, chunk: 100 });
    expect(await store.reserve('k')).toBe(0);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ version: 1, counters: { k: 101 } });
    for (let i = 1; i < 100; i++) await store.reserve('k');
    expect(JSON.parse(readFileSync(path, 'utf8')).counters.k).toBe(101); // no write yet
    expect(await store.reserve('k', 2)).toBe(100); // crosses the mark → rewritten
    expect(JSON.parse(readFileSync(path, 'utf8')).counters.k).toBe(202);
    expect(await new FileCounterStore({ path }).reserve('k')).toBe(202);
  });

  it('concurrent reservations get distinct values', async () => {
    const store = new FileCounterStore({ path, chunk: 7 });
    const values = await Promise.all(Array.from({ length: 60 }, (_, i) => store.reserve(i % 2 ? 'a' : 'b')));
    expect(new Set(values.filter((_, i) => i % 2)).size).toBe(30);
    expect(new Set(values.filter((_, i) => i % 2 === 0)).size).toBe(30);
  });

  it('keeps keys independent and advanceTo is durable', async () => {
    const store = new FileCounterStore({ path, chunk: 0 });
    await store.reserve('a');
    await store.advanceTo('b', 5000);
    const again = new FileCounterStore({ path, chunk: 0 });
    expect(await again.peek('a')).toBe(1);
    expect(await again.reserve('b')).toBe(5000);
  });

  it('refuses a corrupt file instead of restarting at 0', async () => {
    writeFileSync(path, '{"version":1,"counters":{"k":');
    expect(await codeOfAsync(new FileCounterStore({ path }).reserve('k'))).toBe(ErrorCode.Storage);
    writeFileSync(path, '{"version":1,"counters":{"k":-4}}');
    expect(await codeOfAsync(new FileCounterStore({ path }).reserve('k'))).toBe(ErrorCode.Storage);
    writeFileSync(path, '[]');
    expect(await codeOfAsync(new FileCounterStore({ path }).reserve('k'))).toBe(ErrorCode.Storage);
  });

  it('reports an unwritable location as a storage error, and the queue is not wedged', async () => {
    const store = new FileCounterStore({ path: join(dir, 'missing-dir', 'c.json') });
    expect(await codeOfAsync(store.reserve('k'))).toBe(ErrorCode.Storage);
    expect(await codeOfAsync(store.reserve('k'))).toBe(ErrorCode.Storage);
  });

  it('stops at the 32-bit limit', async () => {
    writeFileSync(path, JSON.stringify({ version: 1, counters: { k: MAX_COUNTER } }));
    const store = new FileCounterStore({ path });
    expect(await store.reserve('k')).toBe(MAX_COUNTER);
    expect(await codeOfAsync(store.reserve('k'))).toBe(ErrorCode.SecurityCounterExhausted);
  });
});

