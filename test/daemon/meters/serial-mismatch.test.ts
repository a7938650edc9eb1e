/**
 * A meter replaced at the same address (dcu-sim `replacements`): the daemon's registry raises
 * one serial-mismatch alarm, keeps the registered identity, and collection from that address
 * FAILs with a typed reason (no row of the new meter is stored under the old serial number)
 * until the registry names the new meter — then it collects under the new serial.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../../config/validate';
import { startDaemon, type Daemon } from '../../../daemon/dcud';
import { systemClock } from '../../../protocol/common/clock';
import { ErrorCode } from '../../../protocol/common/errors';
import { nullLogger } from '../../../protocol/common/log';
import { parseFleetConfig } from '../../../sim/config';
import { startFleet, type RunningFleet } from '../../../sim/fleet';

const OLD = 'SIM000000';
const NEW = 'NEWMTR0001';

function configFor(dir: string, port: number, serial: string) {
  return validateConfig({
    id: 'dcu-mismatch',
    stateDir: dir,
    lines: [{ name: 'ip', tcp: {}, timeout: '2s' }],
    meters: [{ serial, line: 'ip', address: `127.0.0.1:${port}`, client: 17, auth: 'low', password: '00000000' }],
    collection: { 'load-profile': { every: '15m', backfill: '1d' }, registers: { every: '1h' } },
  });
}

describe('a meter replaced at a registered address', () => {
  let dir: string;
  let fleet: RunningFleet | undefined;
  let daemon: Daemon | undefined;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const fleetOf = (raw: Record<string, unknown> = {}) => startFleet(parseFleetConfig({ meters: 1, tcpBasePort: port, latencyMs: 0, jitterMs: 0, ...raw }, 'test'));
  const count = (sql: string, ...args: unknown[]): number => (daemon!.db.prepare(sql).get(...args) as { n: number }).n;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-mismatch-'));
  });
  afterAll(async () => {
    await daemon?.stop();
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('raises one alarm, keeps the record and blocks collection until the registry is updated', async () => {
    fleet = await fleetOf();
    daemon = startDaemon(configFor(dir, port, OLD), { clock: systemClock, logger: nullLogger });
    // Commissioned with the original meter (identity read), a few registers stored.
    const first = await daemon.collector.collectMeter(daemon.meters.get(OLD)!, 'scheduled', ['registers']);
    expect(first.status).toBe('EXE');
    expect(daemon.meters.get(OLD)!.state).toMatchObject({ stage: 'commissioned', identity: { serialNumber: OLD } });

    // A technician swaps the meter: same address, new serial number, logical device name and firmware.
    await fleet.stop();
    fleet = await fleetOf({ replacements: [{ meter: 0, at: '2000-01-01T00:00:00Z', serial: NEW, firmwareId: 'NEW-FW-2.0' }] });
    expect(fleet.endpoints[0]).toMatchObject({ serial: NEW });

    for (let i = 0; i < 2; i++) {
      const r = await daemon.collector.collectMeter(daemon.meters.get(OLD)!, 'scheduled', ['load-profile', 'registers']);
      expect(r).toMatchObject({ meter: OLD, status: 'FAIL', code: ErrorCode.MeterIdentityMismatch });
      expect(r.reason).toMatch(new RegExp(`serial number mismatch: ${NEW}.*not ${OLD}.*until the registry is updated`));
    }
    // Nothing of the new meter under the old serial; the registered identity is not overwritten.
    expect(count('SELECT count(*) AS n FROM profile_rows WHERE meter = ?', OLD)).toBe(0);
    expect(count('SELECT count(*) AS n FROM watermarks WHERE meter = ?', OLD)).toBe(0);
    const state = daemon.meters.get(OLD)!.state;
    expect(state).toMatchObject({ stage: 'linked', identity: { serialNumber: OLD }, lastError: `serial number mismatch: ${NEW}` });
    expect(state.identity.firmwareId).not.toBe('NEW-FW-2.0');
    // One alarm for the HES, not one per collection attempt.
    const alarms = daemon.db.prepare("SELECT meter, detail FROM alarms WHERE code = 'serial-mismatch'").all() as { meter: string; detail: string }[];
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ meter: OLD });
    expect(alarms[0]!.detail).toContain(NEW);

    // The operator registers the new meter at that address: it is commissioned and collected under its own serial.
    daemon.applyMeters(configFor(dir, port, NEW));
    const fresh = await daemon.collector.collectMeter(daemon.meters.get(NEW)!, 'scheduled', ['load-profile']);
    expect(fresh.status).not.toBe('FAIL');
    expect(daemon.meters.get(NEW)!.state).toMatchObject({ stage: 'commissioned', identity: { serialNumber: NEW, logicalName: `DCU${NEW}`, firmwareId: 'NEW-FW-2.0' } });
    expect(count('SELECT count(*) AS n FROM profile_rows WHERE meter = ?', NEW)).toBeGreaterThan(90);
    expect(count('SELECT count(*) AS n FROM profile_rows WHERE meter = ?', OLD)).toBe(0);
  }, 60_000);
});
