/**
 * Discovery on the simulator's multi-drop line (socat pty): the scan probes the configured
 * range except registered addresses, reports each meter found once as a `meter-discovered`
 * event (not a registration), lists them with `dcu meters discovered`, and holds the line at
 * background priority: a scheduled collection asked for mid-scan waits at most one probe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../../config/validate';
import { startDaemon, type Daemon } from '../../../daemon/dcud';
import { systemClock } from '../../../protocol/common/clock';
import { isConfigError } from '../../../protocol/common/errors';
import type { Logger } from '../../../protocol/common/log';
import { parseFleetConfig } from '../../../sim/config';
import { startFleet, type RunningFleet } from '../../../sim/fleet';
import { runCli } from '../../helpers/cli';
import { until } from '../../helpers/until';

/** Keeps the order of line grants and discovery probes. */
function recordingLogger(order: string[], bindings: Record<string, unknown> = {}): Logger {
  const log = (obj: object | string, msg?: string): void => {
    const o = typeof obj === 'object' ? (obj as Record<string, unknown>) : {};
    if (msg === 'line granted') order.push(`grant ${String(o['holder'])}`);
    if (msg === 'discovery probe') order.push(`probe ${String(o['address'])}`);
  };
  return { trace: log, debug: log, info: log, warn: log, error: log, child: (b) => recordingLogger(order, { ...bindings, ...b }) };
}

function config(stateDir: string, device: string, discovery: Record<string, unknown>) {
  const meter = (serial: string, physical: number) => ({ serial, line: 'plc0', address: `1/${physical}`, client: 17, auth: 'low', password: '00000000' });
  return validateConfig({
    id: 'dcu-discovery',
    stateDir,
    lines: [{ name: 'plc0', serial: { path: device }, timeout: '300ms', retries: 0, discovery }],
    meters: [meter('SIM000000', 16), meter('SIM000002', 18)],
    collection: { registers: { every: '1h' } },
  });
}

describe('discovery', () => {
  let fleet: RunningFleet;
  let dir: string;
  let daemon: Daemon | undefined;
  beforeAll(async () => {
    fleet = await startFleet(parseFleetConfig({ meters: 4, serialLines: 1, baud: 0, latencyMs: 0, jitterMs: 0 }, 'test'));
    dir = mkdtempSync(join(tmpdir(), 'dcu-discovery-'));
  });
  afterAll(async () => {
    await daemon?.stop();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the unregistered meters of the line, once, yielding to scheduled work between probes', async () => {
    const order: string[] = [];
    daemon = startDaemon(config(dir, fleet.lines[0]!.device, { enabled: true, from: 14, to: 21, timeout: '250ms' }), { clock: systemClock, logger: recordingLogger(order) });
    const scan = daemon.discovery.scan('plc0');
    await until(() => order.some((e) => e.startsWith('probe')), 'the first probe');
    order.push('collection asked');
    const collected = await daemon.collector.collectMeter(daemon.meters.get('SIM000000')!, 'scheduled', ['registers']);
    expect(collected.status).toBe('EXE');
    const result = await scan;

    const asked = order.indexOf('collection asked');
    const granted = order.indexOf('grant SIM000000');
    expect(granted).toBeGreaterThan(asked);
    expect(order.slice(asked, granted).filter((e) => e.startsWith('probe')).length).toBeLessThanOrEqual(1);

    // 14..21 without the registered 16 and 18; meters answer at 17 and 19.
    expect(result).toMatchObject({ line: 'plc0', probed: 6, reported: 2 });
    expect(result.found.map((f) => [f.address, f.serialNumber, f.logicalName])).toEqual([
      ['1/17', 'SIM000001', 'DCUSIM000001'],
      ['1/19', 'SIM000003', 'DCUSIM000003'],
    ]);
    const events = () => daemon!.db.prepare("SELECT meter, detail FROM events WHERE code = 'meter-discovered' ORDER BY id").all() as { meter: string; detail: string }[];
    expect(events().map((e) => e.meter)).toEqual(['SIM000001', 'SIM000003']);
    expect(events()[0]!.detail).toBe('line plc0 address 1/17 answers: serial SIM000001, logical device name DCUSIM000001, firmware SIM-FW-1.0.0');
    // Not registered: the HES decides.
    expect(daemon.meters.get('SIM000001')).toBeUndefined();
    // The HES hears of it through the outbox.
    expect((daemon.db.prepare("SELECT count(*) AS n FROM outbox WHERE stream = 'events' AND payload LIKE '%meter-discovered%'").get() as { n: number }).n).toBe(2);

    // The next scan finds the same meters and reports nothing new.
    const again = await daemon.discovery.scan('plc0');
    expect(again).toMatchObject({ probed: 6, reported: 0 });
    expect(again.found).toHaveLength(2);
    expect(events()).toHaveLength(2);

    const listed = await runCli('dcu', ['meters', 'discovered', '--state', dir, '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { line: 'plc0', address: '1/17', serialNumber: 'SIM000001', logicalName: 'DCUSIM000001', firmwareId: 'SIM-FW-1.0.0', registered: false },
      { line: 'plc0', address: '1/19', serialNumber: 'SIM000003', registered: false },
    ]);
    const text = await runCli('dcu', ['meters', 'discovered', '--state', dir]);
    expect(text.stdout).toMatch(/1\/19 +SIM000003/);
    expect(text.stdout).toContain('2 meter(s) found');
  }, 60_000);

  it('is configured on serial lines only, with from <= to', () => {
    const problems = (line: Record<string, unknown>): string => {
      try {
        validateConfig({ id: 'x', lines: [{ name: 'l', ...line }] });
      } catch (e) {
        expect(isConfigError(e)).toBe(true);
        return (e as Error).message;
      }
      return '';
    };
    expect(problems({ tcp: {}, discovery: { enabled: true } })).toContain('lines[0].discovery: scans HDLC addresses: only on a serial line');
    expect(problems({ serial: { path: '/dev/ttyUSB0' }, discovery: { enabled: true, from: 40, to: 20 } })).toContain('lines[0].discovery.to: 20 is below discovery.from (40)');
    expect(problems({ serial: { path: '/dev/ttyUSB0' }, discovery: { enabled: true, to: 99999 } })).toContain('lines[0].discovery.to: 99999 is not allowed; allowed: an integer from 1 to 16381');
  });
});
