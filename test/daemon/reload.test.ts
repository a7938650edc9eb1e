/** What a SIGHUP applies: the meter list; any other change is named as needing a restart. */
import { validateConfig } from '../../config/validate';
import { Notifier } from '../../daemon/notify';
import { planReload, RELOADABLE } from '../../daemon/reload';
import { nullLogger } from '../../protocol/common/log';

const base = {
  id: 'dcu-1',
  stateDir: '/var/lib/dcu',
  lines: [{ name: 'ip', tcp: { concurrency: 2 } }],
  meters: [{ serial: 'SIM000001', line: 'ip', address: '127.0.0.1:4059', client: 16 }],
  collection: { 'load-profile': { every: '15m', backfill: '1d' } },
};
const config = (over: Record<string, unknown> = {}): ReturnType<typeof validateConfig> => validateConfig({ ...base, ...over }, 'test');

describe('planReload', () => {
  it('applies the meter list and nothing else needs a restart when only meters changed', () => {
    const meters = [...base.meters, { serial: 'SIM000002', line: 'ip', address: '127.0.0.1:4060', client: 16 }];
    const plan = planReload(config(), config({ meters }));
    expect(RELOADABLE).toEqual(['meters']);
    expect(plan.meters.map((m) => m.serial)).toEqual(['SIM000001', 'SIM000002']);
    expect(plan.restartNeeded).toEqual([]);
    expect(plan.meterOnUnknownLine).toEqual([]);
  });

  it('names every other section that changed, and leaves out meters on a line that does not run', () => {
    const next = config({
      stateDir: '/srv/dcu',
      lines: [...base.lines, { name: 'plc0', serial: { path: '/dev/ttyS1', baud: 9600 } }],
      meters: [...base.meters, { serial: 'SIM000003', line: 'plc0', address: '1/17', client: 16 }],
      collection: { 'load-profile': { every: '5m', backfill: '1d' } },
      api: { listen: '0.0.0.0:8443' },
    });
    const plan = planReload(config(), next);
    expect(plan.restartNeeded).toEqual(['api', 'collection', 'lines', 'stateDir']);
    expect(plan.meters.map((m) => m.serial)).toEqual(['SIM000001']);
    expect(plan.meterOnUnknownLine).toEqual([{ serial: 'SIM000003', line: 'plc0' }]);
  });

  it('does not take keys written in another order for a change', () => {
    const plan = planReload(config({ collection: { 'load-profile': { every: '15m', backfill: '1d' } } }), config({ collection: { 'load-profile': { backfill: '1d', every: '15m' } } }));
    expect(plan.restartNeeded).toEqual([]);
  });
});

it('says RELOADING=1 with the monotonic time, then READY=1', async () => {
  const sent: string[][] = [];
  const n = new Notifier(nullLogger, { NOTIFY_SOCKET: '/run/x' }, (fields) => {
    sent.push([...fields]);
    return Promise.resolve();
  });
  const before = process.hrtime.bigint() / 1000n;
  void n.reloading();
  void n.ready('1 meters');
  await n.flush();
  expect(sent[0]?.[0]).toBe('RELOADING=1');
  const usec = BigInt(/^MONOTONIC_USEC=(\d+)$/.exec(sent[0]?.[1] ?? '')?.[1] ?? '0');
  expect(usec).toBeGreaterThanOrEqual(before);
  expect(sent[0]?.[2]).toBe('STATUS=reloading the configuration');
  expect(sent[1]).toEqual(['READY=1', 'STATUS=1 meters']);
});
