/**
 * Acceptance "Outage": dcud (child process) collects simulated meters (1-minute capture) while
 * the broker is down, for the equivalent of 72 h of load profile plus events and registers;
 * when the broker comes back every item arrives, in seq order per stream, duplicates only as
 * re-sends under the same id; the outbox returns to empty and the store stayed within its bound.
 */
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../../sim/config';
import { startFleet, type RunningFleet } from '../../../sim/fleet';
import { startDcud, tcpMeterEntries, type DcudChild } from '../../helpers/dcud';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto';
import { freePortBlock } from '../../helpers/ports';
import { countIn } from '../../helpers/store';
import { until } from '../../helpers/until';

jest.setTimeout(300_000);

const METERS = 4;
const HOURS = 72;
const MAX_BYTES = 64 * 1024 * 1024;

describe('dcud through a 72-hour WAN outage', () => {
  let fleet: RunningFleet;
  let broker: Mosquitto;
  let hes: MqttClient | undefined;
  let dcud: DcudChild | undefined;
  let dir: string;
  beforeAll(async () => {
    fleet = await startFleet(parseFleetConfig({ meters: METERS, tcpBasePort: await freePortBlock(METERS), latencyMs: 0, jitterMs: 0, capturePeriodS: 60, profileDepthDays: 4 }, 'test'));
    broker = await startMosquitto();
    dir = mkdtempSync(join(tmpdir(), 'dcud-outage-'));
  });
  afterAll(async () => {
    await dcud?.stop();
    await hes?.endAsync(true);
    await broker.close();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps everything on the box while the broker is down and delivers it in order when it returns', async () => {
    // the HES subscriber: first arrival order and ids per stream
    const firstSeen = new Map<string, number[]>();
    const idItems = new Map<string, string>();
    let conflicts = 0;
    hes = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'hes-outage', reconnectPeriod: 500 });
    hes.on('message', (topic, payload) => {
      if (!topic.includes('/data/')) return;
      const body = JSON.parse(payload.toString()) as { id: string; class: string; items: { seq: number }[] };
      const key = JSON.stringify(body.items);
      const seen = idItems.get(body.id);
      if (seen !== undefined && seen !== key) conflicts++; // a re-send must carry the same items
      idItems.set(body.id, key);
      const list = firstSeen.get(body.class) ?? [];
      for (const i of body.items) if (!list.includes(i.seq)) list.push(i.seq);
      firstSeen.set(body.class, list);
    });
    await hes.subscribeAsync('dcu/dcu-outage/#', { qos: 1 });
    await broker.stop(); // the WAN is down before dcud starts

    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [
        'id: dcu-outage',
        `stateDir: ${join(dir, 'state')}`,
        `storage: { maxBytes: ${MAX_BYTES} }`,
        `mqtt: { url: "${broker.url}", keepalive: 10s, reconnectMin: 200ms, reconnectMax: 1s }`,
        'lines:',
        '  - { name: ip, tcp: { concurrency: 4 }, timeout: 2s }',
        'meters:',
        ...tcpMeterEntries(fleet.endpoints),
        'collection:',
        `  load-profile: { every: 1m, backfill: ${HOURS}h }`,
        '  events: { every: 1h, backfill: 4d }',
        '  registers: { every: 1m }',
        '  clock: { every: 1d, enabled: false }',
        '',
      ].join('\n'),
    );
    const store = join(dir, 'state', 'dcu.sqlite');
    const count = (sql: string): number => countIn(store, sql);
    dcud = await startDcud(file);
    const want = METERS * HOURS * 60;
    await until(() => count("SELECT count(*) AS n FROM profile_rows WHERE profile = '1.0.99.1.0.255'") >= want, `${HOURS} h of 1-minute load profile from ${METERS} meters collected with the broker down`, 180_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${dcud?.output().slice(-3000) ?? ''}`);
    });
    expect(firstSeen.size).toBe(0); // nothing could leave
    const backlog = count('SELECT count(*) AS n FROM outbox');
    expect(backlog).toBeGreaterThan(METERS);
    expect(statSync(store).size).toBeLessThanOrEqual(MAX_BYTES);

    await broker.start(); // the WAN is back
    await until(() => count('SELECT count(*) AS n FROM outbox') === 0, 'the outbox drained after the outage', 120_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${dcud?.output().slice(-3000) ?? ''}`);
    });
    // every seq of every stream arrived, first arrivals in seq order, re-sends only under the same id
    const db = new Database(store, { readonly: true });
    const streams = db.prepare('SELECT stream, next_seq FROM outbox_streams ORDER BY stream').all() as { stream: string; next_seq: number }[];
    db.close();
    expect(streams.map((s) => s.stream)).toEqual(expect.arrayContaining(['events', 'load-profile', 'registers']));
    for (const s of streams) {
      const got = firstSeen.get(s.stream) ?? [];
      expect({ stream: s.stream, seqs: got }).toEqual({ stream: s.stream, seqs: Array.from({ length: s.next_seq - 1 }, (_, i) => i + 1) });
    }
    expect(conflicts).toBe(0);
    expect(await dcud.stop()).toBe(0);
    dcud = undefined;
  });
});
