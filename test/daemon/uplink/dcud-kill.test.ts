/**
 * kill -9 of dcud, 30 times, while it drains a backlog to a real mosquitto: nothing is lost,
 * the first arrival of every message is in seq order, a re-sent message repeats its id with
 * the same items, and the outbox ends empty. Each kill comes the moment the HES sees a new
 * data message from that process, so every run is cut mid-drain.
 */
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillLoadProfile } from '../../../daemon/uplink/fixture';
import { openStore } from '../../../storage/db';
import { loadContract } from '../../helpers/asyncapi';
import { DIST } from '../../helpers/cli';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto';
import { until } from '../../helpers/until';

jest.setTimeout(180_000);

describe('dcud killed with SIGKILL during the drain', () => {
  let broker: Mosquitto;
  let hes: MqttClient | undefined;
  let dir: string;
  beforeAll(async () => {
    broker = await startMosquitto();
    dir = mkdtempSync(join(tmpdir(), 'dcud-kill-'));
  });
  afterAll(async () => {
    await hes?.endAsync(true);
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('30 kills: nothing lost, order kept, duplicates only under the same id, outbox empty', async () => {
    const state = join(dir, 'state');
    mkdirSync(state, { recursive: true });
    const store = join(state, 'dcu.sqlite');
    const db = openStore(store);
    db.pragma('synchronous = OFF'); // set-up only
    fillLoadProfile(db, { meters: 24, from: Date.UTC(2026, 0, 1), hours: 72, stepHours: 1 });
    const expected = (db.prepare('SELECT seq FROM outbox ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);
    db.close();

    const contract = await loadContract();
    const byId = new Map<string, string>();
    const firstSeen: number[] = [];
    const items = new Set<number>();
    let child: ChildProcess | undefined;
    let fresh = false;
    hes = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'hes-kill' });
    hes.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString()) as { id: string; seq: { first: number }; items: { seq: number }[] };
      contract.check(topic, body);
      if (!topic.includes('/data/')) return;
      if (fresh && child !== undefined) {
        child.kill('SIGKILL'); // mid-drain, the moment this process has delivered something
        fresh = false;
      }
      const text = JSON.stringify(body.items);
      const before = byId.get(body.id);
      if (before !== undefined) {
        expect(text).toBe(before);
        return;
      }
      byId.set(body.id, text);
      firstSeen.push(body.seq.first);
      for (const i of body.items) {
        expect(items.has(i.seq)).toBe(false);
        items.add(i.seq);
      }
    });
    await hes.subscribeAsync('dcu/kill/data/#', { qos: 1 });

    const file = join(dir, 'dcu.yaml');
    writeFileSync(file, [`id: kill`, `stateDir: ${state}`, `mqtt: { url: "${broker.url}", window: 2, maxMessageBytes: 2048, reconnectMin: 50ms }`, ''].join('\n'));
    const run = async (): Promise<number | null> => {
      const c = spawn(process.execPath, [join(DIST, 'daemon', 'bin', 'dcud.js'), '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child = c;
      fresh = true;
      const code = await new Promise<number | null>((resolve) => c.on('close', (code, signal) => resolve(signal === 'SIGKILL' ? -9 : code)));
      if (code !== -9) throw new Error(`dcud exited ${code}: ${err}`);
      return code;
    };
    for (let i = 0; i < 30; i++) await run();
    const left = (): number => {
      const ro = new Database(store, { readonly: true });
      try {
        return (ro.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
      } finally {
        ro.close();
      }
    };
    expect(left()).toBeGreaterThan(0); // the 30 kills were all mid-drain
    // a last run, stopped cleanly once everything is out
    const c = spawn(process.execPath, [join(DIST, 'daemon', 'bin', 'dcud.js'), '--config', file], { stdio: 'ignore' });
    child = undefined;
    try {
      await until(() => left() === 0, 'the outbox drained', 60_000);
      await until(() => items.size === expected.length, 'every item at the HES');
    } finally {
      c.kill('SIGTERM');
    }
    expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
    expect([...items].sort((a, b) => a - b)).toEqual(expected);
  });
});
