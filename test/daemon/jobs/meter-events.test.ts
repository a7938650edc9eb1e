/**
 * The meter's own events against a simulated meter over an in-memory link, into a real
 * SQLite file: event logs incrementally (each event once, from the watermark) and the alarm
 * register's bits raised and cleared as alarms, all through the outbox.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkAlarmRegister, collectEventLogs } from '../../../daemon/jobs/meter-events';
import { openStore, type Db } from '../../../storage/db';
import { EventLog } from '../../../storage/events';
import { ReadingsStore } from '../../../storage/readings';
import { simMeterLink, SIM_SPEC } from '../../helpers/sim-meter-link';

const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 20, 12);

describe('meter events and alarms', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-events-'));
    db = openStore(join(dir, 'dcu.sqlite'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('collects each logged event once, from the watermark, named for people and numbered for the HES', async () => {
    const { clock, meter, client } = simMeterLink(START);
    meter.core.powerCut();
    clock.advance(3_600_000);
    meter.core.powerCut();
    const store = new ReadingsStore(db);
    await client.connect();
    const first = await collectEventLogs(client, store, { meter: SIM_SPEC.serial, now: clock.now(), backfillMs: 2 * DAY });
    expect(first.complete).toBe(true);
    // standard log: power down + power up, twice; power-failure log: power down, twice
    expect(first.inserted).toBe(6);
    const rows = db.prepare('SELECT log, at, code FROM meter_events ORDER BY log, at, code').all();
    expect(rows).toEqual([
      { log: '0.0.99.97.0.255', at: START, code: 1 },
      { log: '0.0.99.97.0.255', at: START + 3_600_000, code: 1 },
      { log: '0.0.99.98.0.255', at: START, code: 1 },
      { log: '0.0.99.98.0.255', at: START, code: 2 },
      { log: '0.0.99.98.0.255', at: START + 3_600_000, code: 1 },
      { log: '0.0.99.98.0.255', at: START + 3_600_000, code: 2 },
    ]);
    const messages = (db.prepare("SELECT payload FROM outbox WHERE stream = 'events'").all() as { payload: string }[]).map((m) => JSON.parse(m.payload) as { events: { name: string }[] });
    expect(messages.flatMap((m) => m.events.map((e) => e.name)).sort()).toEqual(['power-down', 'power-down', 'power-down', 'power-down', 'power-up', 'power-up']);
    // later: only what is new
    clock.advance(3_600_000);
    meter.core.powerCut();
    const second = await collectEventLogs(client, store, { meter: SIM_SPEC.serial, now: clock.now(), backfillMs: 2 * DAY });
    expect(second.inserted).toBe(3);
    await client.release();
  });

  it('raises an alarm when a register bit sets, once, and clears it when the bit clears', async () => {
    const { clock, meter, client } = simMeterLink(START);
    const events = new EventLog(db);
    await client.connect();
    expect(await checkAlarmRegister(client, events, SIM_SPEC.serial, clock.now())).toEqual({ value: 0, raised: [], cleared: [] });
    meter.core.powerCut();
    expect(await checkAlarmRegister(client, events, SIM_SPEC.serial, clock.now())).toEqual({ value: 4, raised: ['power-up'], cleared: [] });
    expect(await checkAlarmRegister(client, events, SIM_SPEC.serial, clock.now())).toEqual({ value: 4, raised: [], cleared: [] });
    meter.core.alarm = 0; // reset on the meter (e.g. by the HES)
    clock.advance(60_000);
    expect(await checkAlarmRegister(client, events, SIM_SPEC.serial, clock.now())).toEqual({ value: 0, raised: [], cleared: ['power-up'] });
    expect(db.prepare('SELECT meter, code, cleared_at FROM alarms').all()).toEqual([{ meter: SIM_SPEC.serial, code: 'power-up', cleared_at: clock.now() }]);
    await client.release();
  });

  it('resets the latched bits after reading them only when asked; a reading client is refused and says why', async () => {
    const { clock, meter, client } = simMeterLink(START);
    const events = new EventLog(db);
    await client.connect();
    meter.core.powerCut();
    expect((await checkAlarmRegister(client, events, SIM_SPEC.serial, clock.now()))?.reset).toBeUndefined(); // not asked: nothing written
    // client 17 (LLS) may read the register but not write it
    const r = await checkAlarmRegister(client, events, SIM_SPEC.serial, clock.now(), { reset: true });
    expect(r).toEqual({ value: 4, raised: [], cleared: [], reset: 'refused by the meter (read-write-denied)' });
    expect(meter.core.alarm).toBe(4);
    meter.core.alarm = 0;
    // nothing set: nothing to reset, nothing written
    expect((await checkAlarmRegister(client, events, SIM_SPEC.serial, clock.now(), { reset: true }))?.reset).toBeUndefined();
    await client.release();
  });
});
