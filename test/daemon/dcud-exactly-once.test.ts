/**
 * Acceptance "exactly once, value by value" (issue 8): the real daemon (startDaemon) and a
 * simulated fleet in one process on one FakeClock, over virtual 9,600-baud multi-drop lines
 * (bench/virtual-dcu.ts). 100 meters on 4 lines for 2 simulated days; 10 meters silent for
 * 6 h, 3 with their clocks 7 (ahead and behind) and 15 minutes off. Every 15-minute interval
 * of every meter is stored exactly once (table and outbox) with the simulator's ground truth
 * (values.ts: the counters are pure functions of the meter and the capture instant), silent
 * meters are backfilled when they answer again, the clock policy (sync above 5 min, event
 * above 10 min) acts, and meters silent past registry.unreachableAfter raise `unreachable`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualDcu, type VirtualDcu } from '../../bench/virtual-dcu';
import { energyAt, type SimMeter } from '../../sim/meter';
import { meterSerial } from '../../sim/config';
import { SIM_KEYS } from '../../sim/types';

const MIN = 60_000;
const HOUR = 60 * MIN;
const PERIOD = 15 * MIN;
const START = Date.UTC(2026, 2, 2, 0, 7);
const END = START + 48 * HOUR;
const BACKFILL = 24 * HOUR;
const PROFILE = '1.0.99.1.0.255';

const serial = (i: number): string => meterSerial('SIM', i);
/** Meters 5, 15, …, 95 (two or three per line) do not answer from 20 h to 26 h. */
const SILENT = Array.from({ length: 10 }, (_, k) => serial(5 + 10 * k));
const SILENT_FROM = 20 * HOUR;
const SILENT_TO = 26 * HOUR;
/** Clock offsets at the start: two within the sync band, one beyond the event threshold. */
const OFFSETS: Readonly<Record<string, number>> = { [serial(1)]: 7 * MIN, [serial(27)]: -7 * MIN, [serial(52)]: 15 * MIN };

describe('dcud in-process on virtual lines: exactly once, value by value', () => {
  let v: VirtualDcu;
  let stateDir: string;

  beforeAll(async () => {
    // The store's fsyncs (synchronous=FULL) are not what this test checks: on tmpfs when there is one.
    stateDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'dcu-exactly-once-'));
    v = await startVirtualDcu({
      start: START,
      meters: 100,
      lines: 4,
      baud: 9600,
      latencyMs: 20,
      jitterMs: 5,
      stateDir,
      meterOptions: (s) => (OFFSETS[s] === undefined ? undefined : { initialClockOffsetMs: OFFSETS[s] }),
      // The reading client (LLS) may not set clocks (sim/meter/access.ts): meters whose clocks
      // the concentrator keeps are read with the management client (HLS-GMAC, the sim's test keys).
      meterConfig: (s) => (OFFSETS[s] === undefined ? undefined : { client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { blockKey: SIM_KEYS.blockKey, authKey: SIM_KEYS.authKey } }),
      meterFaults: Object.fromEntries(SILENT.map((s) => [s, { silent: [{ fromMs: SILENT_FROM, toMs: SILENT_TO }] }])),
      line: { timeout: '2s', retries: 2 },
      config: {
        collection: { 'load-profile': { every: '15m', backfill: '1d' } },
        clock: { syncAbove: '5m', eventAbove: '10m' },
        registry: { unreachableAfter: '4h' },
      },
    });
    v.daemon.collector.start();
    await v.runUntil(END);
    // About 35 s of CPU (19,000 associations); the bound is wall time on a loaded 2-core box
    // running the rest of the suite next to it (no assertion depends on it).
  }, 900_000);

  afterAll(async () => {
    await v.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  const rowsOf = (meter: string): { captured_at: number; status: number | null; cells: string; received_at: number }[] =>
    v.daemon.db.prepare('SELECT captured_at, status, cells, received_at FROM profile_rows WHERE meter = ? AND profile = ? ORDER BY captured_at').all(meter, PROFILE) as never;
  const eventsOf = (code: string): { meter: string; at: number }[] => v.daemon.db.prepare('SELECT meter, at FROM events WHERE code = ? ORDER BY at').all(code) as never;
  const meterOf = (s: string): SimMeter => {
    const m = v.fleet.slots.find((x) => x.spec.serial === s)?.peek();
    if (m === undefined) throw new Error(`${s} was never created`);
    return m as SimMeter;
  };

  it('stores every 15-minute interval of every meter exactly once, equal to the ground truth', () => {
    // From the backfill start to 30 min before the end (the last cycles settle the newest interval).
    const first = Math.ceil((START - BACKFILL) / PERIOD) * PERIOD;
    const last = Math.floor((END - 30 * MIN) / PERIOD) * PERIOD;
    const expected = (last - first) / PERIOD + 1;
    const problems: string[] = [];
    for (const slot of v.fleet.slots) {
      const s = slot.spec.serial;
      const meter = meterOf(s);
      const rows = rowsOf(s);
      const times = rows.map((r) => r.captured_at);
      const inRange = times.filter((t) => t >= first && t <= last);
      if (inRange.length !== expected) problems.push(`${s}: ${inRange.length} of ${expected} intervals`);
      if (times.some((t) => t < first || t > END || t % PERIOD !== 0)) problems.push(`${s}: a row outside the expected intervals`);
      for (const r of rows) {
        const e = energyAt(slot.spec, r.captured_at);
        const status = meter.core.intervalStatus(r.captured_at, PERIOD);
        const want = JSON.stringify([String(status), String(e.activeImport), String(e.activeExport), String(e.reactiveImport), String(e.reactiveExport)]);
        if (r.cells !== want || r.status !== status) problems.push(`${s} @ ${new Date(r.captured_at).toISOString()}: stored ${r.cells} status ${r.status}, meter ${want} status ${status}`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('sends every stored row exactly once (the outbox carries each interval in one message)', () => {
    const seen = new Map<string, number>();
    for (const { payload } of v.daemon.db.prepare("SELECT payload FROM outbox WHERE stream = 'load-profile'").all() as { payload: string }[]) {
      const p = JSON.parse(payload) as { meter: string; rows: [number, ...unknown[]][] };
      for (const r of p.rows) seen.set(`${p.meter}@${r[0]}`, (seen.get(`${p.meter}@${r[0]}`) ?? 0) + 1);
    }
    const stored = (v.daemon.db.prepare('SELECT count(*) AS n FROM profile_rows').get() as { n: number }).n;
    expect(seen.size).toBe(stored);
    expect([...seen].filter(([, n]) => n !== 1)).toEqual([]);
  });

  it('backfills the silent meters once they answer again', () => {
    const from = START + SILENT_FROM;
    const to = START + SILENT_TO;
    for (const s of SILENT) {
      const missed = rowsOf(s).filter((r) => r.captured_at > from && r.captured_at < to);
      expect(missed.length).toBe(Math.ceil(to / PERIOD) - Math.floor(from / PERIOD) - 1);
      // Collected after the silence, not before (they could not have been).
      expect(missed.every((r) => r.received_at >= to)).toBe(true);
    }
  });

  it('raises unreachable once for each meter silent past registry.unreachableAfter, and reachable-again after', () => {
    const unreachable = eventsOf('unreachable');
    expect(unreachable.map((e) => e.meter).sort()).toEqual([...SILENT].sort());
    for (const e of unreachable) {
      expect(e.at).toBeGreaterThanOrEqual(START + SILENT_FROM + 4 * HOUR - PERIOD);
      expect(e.at).toBeLessThan(START + SILENT_TO);
    }
    expect(eventsOf('reachable-again').map((e) => e.meter).sort()).toEqual([...SILENT].sort());
  });

  it('applies the clock policy: 7 min synchronised and noted, 15 min left alone with a clock-drift event', () => {
    const synced = eventsOf('clock-synchronised');
    expect(synced.map((e) => e.meter).sort()).toEqual([serial(1), serial(27)]);
    expect(synced.every((e) => e.at < START + HOUR)).toBe(true);
    for (const s of [serial(1), serial(27)]) expect(Math.abs(meterOf(s).core.clock.now() - v.clock.now())).toBeLessThan(10_000);
    const drift = eventsOf('clock-drift');
    expect(new Set(drift.map((e) => e.meter))).toEqual(new Set([serial(52)]));
    // Checked daily (collection.clock default 1d): at the start and on each of the next days.
    expect(drift.length).toBeGreaterThanOrEqual(2);
    expect(meterOf(serial(52)).core.clock.now() - v.clock.now()).toBe(15 * MIN);
    // Every other meter's clock was left as it was (no event, no set).
    expect(eventsOf('clock-sync-failed')).toEqual([]);
  });
});
