/**
 * The composition root wires pushes: startDaemon + listen() open the configured push ports,
 * a simulated meter's push over loopback becomes an alarm with its outbox row, stop() closes
 * the ports. Config checks for meterSystemTitle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../../config/validate';
import { startDaemon } from '../../../daemon/dcud';
import { FakeClock } from '../../../protocol/common/clock';
import { nullLogger } from '../../../protocol/common/log';
import { DEFAULT_CREDENTIALS } from '../../../sim/config';
import { createSimMeter } from '../../../sim/meter';
import { SimPushSender } from '../../../sim/push';
import { SIM_KEYS, type SimMeterSpec } from '../../../sim/types';
import { until } from '../../helpers/until';
import { START } from './fixtures';

const SPEC: SimMeterSpec = { index: 3, serial: 'SIM000003', physicalAddress: 19, logicalDevice: 1, credentials: DEFAULT_CREDENTIALS, rejectAssociations: false, seed: 1 };
const keys = { blockKey: SIM_KEYS.blockKey, authKey: SIM_KEYS.authKey };

function config(stateDir: string): ReturnType<typeof validateConfig> {
  return validateConfig({
    id: 'dcu-test',
    stateDir,
    lines: [{ name: 'ip', tcp: {} }],
    meters: [{ serial: 'SIM000003', line: 'ip', address: '127.0.0.1:1', client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', meterSystemTitle: '4443550000000003', keys }],
    push: { tcp: '127.0.0.1:0', udp: '127.0.0.1:0' },
  });
}

describe('dcud and pushes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcud-push-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('listen() opens the push ports; a ciphered UDP push is an alarm with its outbox row; stop() closes', async () => {
    const clock = new FakeClock(START);
    const daemon = startDaemon(config(dir), { clock, logger: nullLogger });
    try {
      await daemon.listen();
      const ports = daemon.pushPorts();
      expect(ports.tcp).toBeGreaterThan(0);
      expect(ports.udp).toBeGreaterThan(0);
      const meter = createSimMeter(SPEC, { clock });
      const sender = new SimPushSender({ settings: { to: `udp://127.0.0.1:${ports.udp}`, client: 1, lastGasp: false }, credentials: DEFAULT_CREDENTIALS, clock, onIp: () => true });
      sender.attach(SPEC, meter);
      meter.core.remote('disconnect');
      await sender.idle();
      await until(() => daemon.pushes.stats.accepted === 1, 'the push accepted');
      expect(daemon.db.prepare('SELECT meter, code FROM alarms').all()).toEqual([{ meter: 'SIM000003', code: 'disconnected' }]);
      expect(daemon.db.prepare("SELECT count(*) AS n FROM outbox WHERE stream = 'alarms'").get()).toEqual({ n: 1 });
    } finally {
      await daemon.stop();
    }
  });

  it('meterSystemTitle needs keys and is unique', () => {
    expect(() =>
      validateConfig({
        id: 'x',
        stateDir: dir,
        lines: [{ name: 'ip', tcp: {} }],
        meters: [
          { serial: 'A', line: 'ip', address: 'h:1', meterSystemTitle: '4443550000000003' },
          { serial: 'B', line: 'ip', address: 'h:2', auth: 'high-gmac', systemTitle: '4443553030303031', meterSystemTitle: '4443550000000003', keys },
        ],
      }),
    ).toThrow(/meters\[0\]\.meterSystemTitle[\s\S]*needs keys[\s\S]*meters\[1\]\.meterSystemTitle[\s\S]*unique/);
  });
});
