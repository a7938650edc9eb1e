import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromText } from '../../config/load';
import { Maintenance, retentionPolicy } from '../../daemon/maintenance';
import { FakeClock } from '../../protocol/common/clock';
import { nullLogger } from '../../protocol/common/log';
import { openStore, type Db } from '../../storage/db';
import { ReadingsStore } from '../../storage/readings';

const DAY = 86_400_000;
const Q = 15 * 60_000;
const LP = '1.0.99.1.0.255';

describe('retention from the configuration', () => {
  it('has defaults a utility expects, and "never"', () => {
    const { config } = configFromText('id: dcu-test\nstorage: { retention: { billing: never, load-profile: 62d } }\n', 'c.yaml');
    expect(config.storage.retention).toEqual({ 'load-profile': '62d', daily: '400d', billing: 'never', events: '366d', alarms: '366d', registers: '93d', jobs: '93d' });
    const p = retentionPolicy(config);
    expect(p.profiles.get(LP)).toEqual({ stream: 'load-profile', keepMs: 62 * DAY });
    expect(p.profiles.get('1.0.99.2.0.255')).toEqual({ stream: 'daily', keepMs: 400 * DAY });
    expect(p.profiles.get('0.0.98.1.0.255')).toEqual({ stream: 'billing', keepMs: Number.POSITIVE_INFINITY });
    expect([p.eventsMs, p.alarmsMs, p.registersMs]).toEqual([366 * DAY, 366 * DAY, 93 * DAY]);
  });

  it('names the key and what is allowed for a bad retention', () => {
    expect(() => configFromText('id: dcu-test\nstorage: { retention: { load-profile: 3 months } }\n', 'c.yaml')).toThrow(/storage\.retention\.load-profile/);
    expect(() => configFromText('id: dcu-test\nstorage: { retention: { loadprofile: 3d } }\n', 'c.yaml')).toThrow(/unknown key "loadprofile"; allowed here: load-profile, daily, billing/);
  });
});

describe('Maintenance', () => {
  let dir: string;
  let db: Db;
  let clock: FakeClock;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-maint-'));
    db = openStore(join(dir, 'dcu.sqlite'));
    db.pragma('synchronous = OFF'); // many small writes to set up; durability is not what is tested here
    clock = new FakeClock(Date.UTC(2026, 0, 1));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** 120 days of a wide load profile, the first 100 of them delivered to the HES. */
  function fill(): void {
    const readings = new ReadingsStore(db);
    const start = clock.now();
    for (let d = 0; d < 120; d++) {
      clock.advance(start + (d + 1) * DAY - clock.now());
      const rows = Array.from({ length: 96 }, (_, i) => ({ capturedAt: start + d * DAY + i * Q, cells: Array.from({ length: 8 }, (_, c) => `${d}.${i}${c}`) }));
      readings.storeProfileRows({ meter: 'A', profile: LP, stream: 'load-profile', columns: [], rows, collectedTo: start + (d + 1) * DAY - Q }, clock.now());
    }
    db.prepare("DELETE FROM outbox WHERE stream = 'load-profile' AND seq <= 100").run();
  }

  it('prunes on its own timer, pausing between batches, then gives the free pages back', async () => {
    fill();
    const { config } = configFromText('id: dcu-test\nstorage: { pruneEvery: 6h }\n', 'c.yaml');
    let pauses = 0;
    const m = new Maintenance({ db, clock, config, logger: nullLogger, pause: () => { pauses++; return Promise.resolve(); } });
    const pagesBefore = db.pragma('page_count', { simple: true }) as number;
    m.start();
    clock.advance(9 * 60_000);
    expect(pauses).toBe(0);
    clock.advance(60_000); // the first pass 10 minutes after start
    const report = await m.runOnce(); // joins the pass the timer started
    expect(report.profileRows).toBe(27 * 96 + 1);
    expect(pauses).toBeGreaterThan(5); // 500-row batches and vacuum steps, other work between them
    expect(report.vacuumedPages).toBeGreaterThan(0);
    expect(db.pragma('freelist_count', { simple: true })).toBe(0);
    expect(db.pragma('page_count', { simple: true })).toBe(pagesBefore - report.vacuumedPages);
    expect(db.prepare('SELECT min(captured_at) AS t FROM profile_rows').get()).toEqual({ t: Date.UTC(2026, 0, 28, 0, 15) }); // now 1 May 00:10 less 93 days
    // the next pass comes after storage.pruneEvery: six more hours are past
    clock.advance(6 * 3_600_000);
    expect(await m.runOnce()).toMatchObject({ profileRows: 24 });
    await m.stop();
    expect(clock.pending).toBe(0);
  });

  it('stop() ends a running pass after its current batch; what was deleted stays deleted', async () => {
    fill();
    const { config } = configFromText('id: dcu-test\n', 'c.yaml');
    let release: () => void = () => undefined;
    const m = new Maintenance({ db, clock, config, logger: nullLogger, pause: () => new Promise<void>((r) => (release = r)) });
    const pass = m.runOnce();
    const left = (db.prepare('SELECT count(*) AS n FROM profile_rows').get() as { n: number }).n;
    expect(left).toBe(120 * 96 - 500); // the first batch is committed before the first pause
    const stopped = m.stop();
    release();
    await stopped;
    await pass;
    expect((db.prepare('SELECT count(*) AS n FROM profile_rows').get() as { n: number }).n).toBe(left);
  });
});
