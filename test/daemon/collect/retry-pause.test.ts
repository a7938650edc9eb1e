/**
 * The pause after a failed collection follows the collection period: with 1-minute cycles a
 * meter that missed some (a short power cut) is read again within a few cycles of coming back,
 * not a quarter of an hour later; it still doubles while the meter stays silent.
 */
import { startVirtualDcu, type VirtualDcu } from '../../../bench/virtual-dcu';
import { meterSerial } from '../../../sim/config';

const MIN = 60_000;
const START = Date.UTC(2026, 2, 2, 0, 0, 30);
const CUT = meterSerial('SIM', 1);

describe('collection retry pause', () => {
  let v: VirtualDcu;

  beforeAll(async () => {
    v = await startVirtualDcu({
      start: START,
      meters: 3,
      lines: 1,
      baud: 9600,
      latencyMs: 20,
      profileDepthDays: 1,
      meterOptions: () => ({ capturePeriodS: 60 }),
      meterFaults: { [CUT]: { silent: [{ fromMs: 0, toMs: 3 * MIN }] } },
      line: { timeout: '1s', retries: 1 },
      config: { collection: { 'load-profile': { every: '1m', backfill: '10m' }, clock: { every: '1d', enabled: false } } },
    });
    v.daemon.collector.start();
    await v.runUntil(START + 9 * MIN);
  }, 120_000);

  afterAll(async () => {
    await v.runWhile(v.daemon.stop());
    await v.fleet.stop();
  });

  const lastRow = (serial: string): number => (v.daemon.db.prepare('SELECT max(captured_at) AS t FROM profile_rows WHERE meter = ?').get(serial) as { t: number | null }).t ?? 0;

  it('reads a meter again within a few cycles after a 3-minute silence', () => {
    // silent for the first 3 cycles: pauses of ~1, 2, 4 min → read again by minute 8 at the latest
    expect(lastRow(CUT)).toBeGreaterThanOrEqual(START + 6 * MIN);
    // and nothing missed: every minute from the backfill (10 min before the first read) on, the silence included
    const r = v.daemon.db.prepare('SELECT count(*) AS n, min(captured_at) AS first FROM profile_rows WHERE meter = ?').get(CUT) as { n: number; first: number };
    expect(r.first).toBeLessThan(START);
    expect(r.n).toBe((lastRow(CUT) - r.first) / MIN + 1);
  });

  it('keeps reading the other meters every cycle', () => {
    expect(lastRow(meterSerial('SIM', 0))).toBeGreaterThanOrEqual(START + 8 * MIN);
  });
});
