/**
 * dcud with an `mqtt` section, as deployed: a child process collecting simulated meters on a
 * real serial line (socat pty) and draining to a real mosquitto. Everything collected
 * reaches the HES (validated against docs/asyncapi.yaml), the outbox empties, and SIGTERM
 * leaves `{"state":"offline","reason":"stopped"}` retained on status.
 */
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../../sim/config';
import { startFleet, type RunningFleet } from '../../../sim/fleet';
import { loadContract } from '../../helpers/asyncapi';
import { DIST } from '../../helpers/cli';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto';
import { countIn } from '../../helpers/store';
import { until } from '../../helpers/until';

jest.setTimeout(120_000);

describe('dcud with the MQTT uplink', () => {
  let fleet: RunningFleet;
  let broker: Mosquitto;
  let hes: MqttClient;
  let dir: string;
  beforeAll(async () => {
    fleet = await startFleet(parseFleetConfig({ meters: 2, serialLines: 1, baud: 38400, latencyMs: 5 }, 'test'));
    broker = await startMosquitto();
    dir = mkdtempSync(join(tmpdir(), 'dcud-mqtt-'));
  });
  afterAll(async () => {
    await hes.endAsync(true);
    await broker.close();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers what it collects, empties the outbox, says offline on SIGTERM', async () => {
    const contract = await loadContract();
    const items = new Map<string, Set<number>>();
    const statuses: { state: string; reason?: string }[] = [];
    hes = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'hes-test' });
    hes.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString()) as { class: string; items: { seq: number }[]; state: string; reason?: string };
      contract.check(topic, body);
      if (topic.endsWith('/status')) statuses.push(body);
      else for (const i of body.items) (items.get(body.class) ?? items.set(body.class, new Set()).get(body.class))?.add(i.seq);
    });
    await hes.subscribeAsync('dcu/dcu-mqtt/#', { qos: 1 });
    const device = fleet.lines[0]!.device;
    const meters = fleet.endpoints.map((m) => `  - { serial: ${m.serial}, line: plc0, address: "${m.logicalDevice}/${m.physicalAddress}", client: 17, auth: low, password: "00000000" }`);
    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [`id: dcu-mqtt`, `stateDir: ${join(dir, 'state')}`, `mqtt: { url: "${broker.url}", keepalive: 30s }`, `lines:`, `  - { name: plc0, serial: { path: ${device}, baud: 38400 }, timeout: 2s }`, `meters:`, ...meters, `collection:`, `  load-profile: { every: 15m, backfill: 1d }`, `  events: { every: 1h, backfill: 2d }`, `  registers: { every: 1h }`, ''].join('\n'),
    );
    const child = spawn(process.execPath, [join(DIST, 'daemon', 'bin', 'dcud.js'), '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const store = join(dir, 'state', 'dcu.sqlite');
    const count = (sql: string): number => countIn(store, sql);
    const lpRows = (): number => count("SELECT count(*) AS n FROM profile_rows WHERE profile = '1.0.99.1.0.255'");
    try {
      await until(() => statuses.some((s) => s.state === 'online'), 'birth on status', 30_000);
      await until(() => lpRows() >= 2 * 95 && (items.get('load-profile')?.size ?? 0) >= 2 && (items.get('registers')?.size ?? 0) >= 2, 'a day of load profile collected and sent', 90_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${out}`);
      });
      await until(() => count('SELECT count(*) AS n FROM outbox') === 0, 'the outbox drained', 30_000);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    await until(() => statuses.some((s) => s.state === 'offline' && s.reason === 'stopped'), 'offline on status after SIGTERM');
    const db = new Database(store, { readonly: true });
    const left = db.prepare('SELECT stream, seq FROM outbox').all();
    const next = db.prepare('SELECT stream, next_seq FROM outbox_streams ORDER BY stream').all() as { stream: string; next_seq: number }[];
    db.close();
    // every seq ever given out arrived (or, appended in the last instant, still waits in the outbox)
    for (const { stream, next_seq } of next) {
      const inBox = new Set((left as { stream: string; seq: number }[]).filter((r) => r.stream === stream).map((r) => r.seq));
      for (let seq = 1; seq < next_seq; seq++) expect(inBox.has(seq) || items.get(stream)?.has(seq)).toBe(true);
    }
    expect(out).not.toContain('00000000');
  });
});
