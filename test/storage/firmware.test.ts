/** The firmware tables (migration 011): images once, campaigns idempotent by id, per-meter transitions with their outbox messages. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Db } from '../../storage/db';
import { FirmwareStore } from '../../storage/firmware';

const T0 = Date.UTC(2026, 11, 1);

describe('FirmwareStore', () => {
  let dir: string;
  let db: Db;
  let store: FirmwareStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-fw-store-'));
    db = openStore(join(dir, 'dcu.sqlite'));
    store = new FirmwareStore(db);
    store.putImage({ id: 'i1', manifest: { id: 'i1' }, size: 10, sha256: 'ab', chunks: 2 }, T0);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const outbox = (): { type: string }[] => (db.prepare("SELECT payload FROM outbox WHERE stream = 'results' ORDER BY seq").all() as { payload: string }[]).map((r) => JSON.parse(r.payload) as { type: string });

  it('keeps chunks until the image settles, and replaces only a rejected image', () => {
    store.putChunk('i1', 1, new Uint8Array([1, 2]));
    store.putChunk('i1', 0, new Uint8Array([0]));
    expect(store.chunkNumbers('i1')).toEqual([0, 1]);
    expect(Buffer.concat(store.chunkBytes('i1'))).toEqual(Buffer.from([0, 1, 2]));
    store.settleImage('i1', { state: 'rejected', reason: 'hash' }, T0 + 1);
    expect(store.chunkNumbers('i1')).toEqual([]);
    expect(store.putImage({ id: 'i1', manifest: { id: 'i1', v: 2 }, size: 11, sha256: 'cd', chunks: 1 }, T0 + 2)).toMatchObject({ state: 'receiving', size: 11 });
    store.settleImage('i1', { state: 'complete', file: 'firmware/cd.bin' }, T0 + 3);
    expect(store.putImage({ id: 'i1', manifest: {}, size: 99, sha256: 'ef', chunks: 1 }, T0 + 4)).toMatchObject({ state: 'complete', size: 11, file: 'firmware/cd.bin' });
  });

  it('runs a campaign: due meters, transitions, final results with their message, retry, end once', () => {
    const r = store.createCampaign({ id: 'c1', image: 'i1', source: 'hes', request: { image: 'i1' }, deadline: T0 + 1000 }, ['A', 'B'], T0);
    expect(r.created).toBe(true);
    expect(store.createCampaign({ id: 'c1', image: 'i1', source: 'hes', request: {}, deadline: T0 }, ['C'], T0).created).toBe(false);
    expect(store.due(T0).map((m) => m.meter)).toEqual(['A', 'B']);
    store.update('c1', 'A', { state: 'transferring', blocksDone: 3, blocksTotal: 10 }, T0 + 1, { payload: { type: 'fw-meter-progress' } });
    store.update('c1', 'B', { nextAt: T0 + 500 }, T0 + 1);
    expect(store.due(T0 + 1).map((m) => m.meter)).toEqual(['A']);
    expect(store.nextDueAfter(T0 + 1)).toBe(T0 + 500);
    store.update('c1', 'A', { state: 'KO', reason: 'unreachable', detail: 'no answer' }, T0 + 2, { payload: { type: 'fw-meter-result' } });
    expect(store.meter('c1', 'A')).toMatchObject({ state: 'KO', reason: 'unreachable', blocksDone: 3 });
    expect(store.closeOpen('c1', 'deadline-passed', T0 + 3)).toBe(1);
    expect(store.openMeters('c1')).toBe(0);
    expect(store.finishCampaign('c1', 'done', T0 + 4, [{ type: 'fw-campaign-done' }, { type: 'field-work-order' }])).toBe(true);
    expect(store.finishCampaign('c1', 'done', T0 + 5, [{ type: 'fw-campaign-done' }])).toBe(false);
    expect(outbox().map((m) => m.type)).toEqual(['fw-meter-progress', 'fw-meter-result', 'fw-campaign-done', 'field-work-order']);
    expect(store.retry('c1', T0 + 9000, T0 + 6)).toBe(2);
    expect(store.campaign('c1')).toMatchObject({ state: 'running', deadline: T0 + 9000, finishedAt: null });
    expect(store.meters('c1').map((m) => [m.meter, m.state, m.attempts, m.reason])).toEqual([
      ['A', 'queued', 0, null],
      ['B', 'queued', 0, null],
    ]);
  });

  it('adds the byte counts to a meter in the same write as its progress, from 0 (migration 013)', () => {
    store.createCampaign({ id: 'c2', image: 'i1', source: 'local', request: { image: 'i1' }, deadline: T0 + 1000 }, ['A'], T0);
    expect(store.meter('c2', 'A')).toMatchObject({ imageBytesSent: 0, lineBytesSent: 0, lineBytesReceived: 0 });
    store.update('c2', 'A', { state: 'transferring', blocksDone: 16, blocksTotal: 40, addBytes: { image: 4096, sent: 5000, received: 900 } }, T0 + 1);
    store.update('c2', 'A', { nextAt: T0 + 2, addBytes: { image: 256, sent: 300, received: 60 } }, T0 + 2);
    expect(store.meter('c2', 'A')).toMatchObject({ blocksDone: 16, imageBytesSent: 4352, lineBytesSent: 5300, lineBytesReceived: 960 });
  });
});
