/**
 * Draining a backlog to the HES: 1,024 meters × 72 h of 15-min load profile (4 channels) in
 * the store, one outbox message per meter-day as collection writes them, then the uplink
 * drains it to a local mosquitto (QoS 1, synchronous=FULL deletes) with a HES subscriber
 * (mqtt.js in a child process) attached. Values = stored numbers (rows × channels).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../protocol/common/clock';
import { nullLogger } from '../protocol/common/log';
import { openStore } from '../storage/db';
import { fillLoadProfile } from '../daemon/uplink/fixture';
import { startUplink } from '../daemon/uplink/uplink';
import { startMosquitto } from '../test/helpers/mosquitto';
import type { Bench, Figure } from './harness';

const METERS = 1024;
const HOURS = 72;

export const drainBench: Bench = {
  name: 'drain',
  async run(): Promise<Figure[]> {
    const dir = mkdtempSync(join(tmpdir(), 'dcu-bench-drain-'));
    const broker = await startMosquitto();
    const hesScript = `const c = require('mqtt').connect(process.argv[1], { protocolVersion: 5 });
c.on('connect', () => c.subscribe('dcu/#', { qos: 1 }, () => console.log('ready')));
c.on('message', () => undefined);`;
    const sub = spawn(process.execPath, ['-e', hesScript, broker.url], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      sub.once('error', reject);
      sub.stdout.once('data', () => resolve());
    });
    try {
      const db = openStore(join(dir, 'dcu.sqlite'));
      db.pragma('synchronous = OFF'); // the fill is set-up, not measured
      const fill = fillLoadProfile(db, { meters: METERS, from: Date.UTC(2026, 0, 1), hours: HOURS, stepHours: 24 });
      db.pragma('synchronous = FULL');
      const count = (): number => (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
      let peakRss = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }, 20);
      const started = performance.now();
      const uplink = startUplink('bench', { url: broker.url, protocol: '5', keepalive: '60s', connectTimeout: '10s', reconnectMin: '100ms', reconnectMax: '1s', sessionExpiry: '0s', window: 16, maxMessageBytes: 262_144, ackTimeout: '30s', retryMin: '100ms', retryMax: '1s', appAck: false, appAckTimeout: '5m', encoding: 'compact' }, { db, clock: systemClock, logger: nullLogger });
      while (count() > 0) {
        if (performance.now() - started > 300_000) throw new Error(`drain bench: ${count()} messages left after 300 s: ${JSON.stringify(uplink.health())}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      const health = uplink.health();
      await uplink.stop();
      db.close();
      return [
        { name: `drained values/s (${METERS} meters × ${HOURS} h of 15-min load profile, 4 channels)`, value: fill.values / seconds, unit: 'values/s', goal: '≥ 50000', detail: { values: fill.values, rows: fill.rows, outboxMessages: fill.messages, mqttMessages: health.drain.published, kept: health.drain.kept } },
        { name: 'whole backlog drained in', value: seconds, unit: 's', goal: '< 30' },
        { name: 'peak RSS while draining', value: peakRss / 1_048_576, unit: 'MiB' },
      ];
    } finally {
      sub.kill();
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
