/**
 * Load-profile collection against a simulated meter (the real DLMS server under the
 * simulator's model) over an in-memory HDLC link, into a real SQLite file: every interval
 * stored exactly once and equal to the meter's ground truth, incremental from the
 * watermark, rows and outbox written together.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectProfile } from '../../../daemon/jobs/collect-profile';
import { obis } from '../../../protocol/cosem/obis';
import { energyAt } from '../../../sim/meter';
import { SIM_SPEC, simMeterLink } from '../../helpers/sim-meter-link';
import { openStore, type Db } from '../../../storage/db';
import { SqliteMetadataCache } from '../../../storage/meta-cache';
import { ReadingsStore } from '../../../storage/readings';

const LP = obis('1.0.99.1.0.255');
const MIN = 60_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 20, 0, 7); // not on an interval boundary

const SPEC = SIM_SPEC;

function setup(db: Db) {
  const { clock, client } = simMeterLink(START);
  return { clock, client, store: new ReadingsStore(db) };
}

describe('collectProfile', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-collect-'));
    db = openStore(join(dir, 'dcu.sqlite'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('backfills from the watermark, exactly once, equal to the ground truth, with the outbox in step', async () => {
    const { clock, client, store } = setup(db);
    await client.connect();
    const opts = { meter: SPEC.serial, profile: LP, stream: 'load-profile', backfillMs: 2 * DAY, maxSpanMs: 12 * 60 * MIN, settleMs: 15 * MIN };
    const first = await collectProfile(client, store, { ...opts, now: clock.now() });
    expect(first.status).toBe('EXE');
    expect(first.reads).toBe(4);
    // 2 days of 15-min intervals, from START − 2 d: boundaries in (START − 2 d, START]
    expect(first.inserted).toBe(192);
    const rows = store.profileRows(SPEC.serial, '1.0.99.1.0.255', 0, Number.MAX_SAFE_INTEGER);
    expect(rows).toHaveLength(192);
    for (const r of rows) {
      expect(r.capturedAt % (15 * MIN)).toBe(0);
      const e = energyAt(SPEC, r.capturedAt);
      expect(r.cells.slice(-4)).toEqual([e.activeImport, e.activeExport, e.reactiveImport, e.reactiveExport].map(String));
    }
    // the outbox carries every stored row once, in seq order
    const outbox = db.prepare('SELECT seq, payload FROM outbox WHERE stream = ? ORDER BY seq').all('load-profile') as { seq: number; payload: string }[];
    expect(outbox.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    const carried = outbox.flatMap((m) => (JSON.parse(m.payload) as { rows: number[][] }).rows.map((r) => r[0]));
    expect(carried).toEqual(rows.map((r) => r.capturedAt));

    // an hour later: only the new intervals, nothing twice
    clock.advance(60 * MIN);
    const second = await collectProfile(client, store, { ...opts, now: clock.now() });
    expect(second.inserted).toBe(4);
    expect(store.profileRows(SPEC.serial, '1.0.99.1.0.255', 0, Number.MAX_SAFE_INTEGER)).toHaveLength(196);
    // a repeated run at the same time stores nothing and sends nothing new
    const again = await collectProfile(client, store, { ...opts, now: clock.now() });
    expect(again.inserted).toBe(0);
    expect((db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n).toBe(5);
    await client.release();
  });

  it('stops between range reads when asked to (yielding the line) and resumes from the watermark', async () => {
    const { clock, client, store } = setup(db);
    await client.connect();
    const opts = { meter: SPEC.serial, profile: LP, stream: 'load-profile', backfillMs: 2 * DAY, maxSpanMs: 12 * 60 * MIN, now: clock.now() };
    const cache = { store: new SqliteMetadataCache(db), key: SPEC.serial };
    const partial = await collectProfile(client, store, { ...opts, cache, between: () => false });
    expect(partial).toMatchObject({ complete: false, reads: 1, inserted: 48 });
    const rest = await collectProfile(client, store, { ...opts, cache });
    expect(await cache.store.get(SPEC.serial)).toMatchObject({ profiles: { '1.0.99.1.0.255': { capturePeriod: 900 } } });
    expect(rest).toMatchObject({ complete: true, reads: 3, inserted: 144 });
    await client.release();
  });
});
