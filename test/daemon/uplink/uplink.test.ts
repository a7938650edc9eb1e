/**
 * The uplink against a real mosquitto 2 (own config, free port, password file, ACL, test CA):
 * an outage while data accumulates, a broker killed mid-drain, an ACL that refuses the data
 * topics, TLS with a client certificate and credentials from files, MQTT 3.1.1. Every
 * message the HES side sees is validated against docs/asyncapi.yaml. Real time is forced by
 * the broker: waits are on conditions (until), never on spans of time.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttConfig } from '../../../config/schema';
import { FakeClock, systemClock } from '../../../protocol/common/clock';
import { nullLogger, type Logger } from '../../../protocol/common/log';
import { openStore, type Db } from '../../../storage/db';
import { fillLoadProfile, fillOthers } from '../../../daemon/uplink/fixture';
import { startUplink, type Uplink } from '../../../daemon/uplink/uplink';
import { loadContract, type Contract } from '../../helpers/asyncapi';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto';
import { startTcpProxy } from '../../helpers/tcp-proxy';
import { until } from '../../helpers/until';

jest.setTimeout(60_000);

interface Seen {
  topic: string;
  body: { id: string; class: string; seq: { first: number; last: number }; items: { seq: number }[]; state?: string; reason?: string };
  contentType: string | undefined;
  retain: boolean;
}

const T0 = Date.UTC(2026, 0, 1);

function mqttConfig(url: string, over: Partial<MqttConfig> = {}): MqttConfig {
  return {
    url, protocol: '5', keepalive: '5s', connectTimeout: '5s', reconnectMin: '50ms', reconnectMax: '300ms', sessionExpiry: '0s',
    window: 8, maxMessageBytes: 16_384, ackTimeout: '5s', retryMin: '50ms', retryMax: '300ms', appAck: false, appAckTimeout: '5m', encoding: 'compact', ...over,
  };
}

async function hes(url: string, contract: Contract, seen: Seen[], auth: { username?: string; password?: string } = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `hes-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 50, ...auth });
  client.on('message', (topic, payload, packet) => {
    const body = JSON.parse(payload.toString()) as Seen['body'];
    contract.check(topic, body);
    seen.push({ topic, body, contentType: packet.properties?.contentType, retain: packet.retain });
  });
  await client.subscribeAsync('dcu/dcu1/#', { qos: 1 });
  return client;
}

function outboxKeys(db: Db): string[] {
  return (db.prepare('SELECT stream, seq FROM outbox ORDER BY stream, seq').all() as { stream: string; seq: number }[]).map((r) => `${r.stream}/${r.seq}`);
}

/** Every outbox message arrived; per stream the first arrivals are in seq order; a duplicate repeats its id with the same items. */
function expectDelivered(seen: readonly Seen[], expected: readonly string[]): void {
  const data = seen.filter((s) => s.topic.includes('/data/'));
  const byId = new Map<string, string>();
  const firstSeen: Record<string, number[]> = {};
  const items = new Set<string>();
  for (const s of data) {
    const text = JSON.stringify(s.body.items);
    const before = byId.get(s.body.id);
    if (before !== undefined) {
      expect(text).toBe(before); // a re-send carries the same items under the same id
      continue;
    }
    byId.set(s.body.id, text);
    (firstSeen[s.body.class] ??= []).push(s.body.seq.first);
    expect(s.body.items.map((i) => i.seq)).toEqual(Array.from({ length: s.body.seq.last - s.body.seq.first + 1 }, (_, i) => s.body.seq.first + i));
    for (const i of s.body.items) {
      expect(items.has(`${s.body.class}/${i.seq}`)).toBe(false); // an item only ever in one id
      items.add(`${s.body.class}/${i.seq}`);
    }
  }
  for (const seqs of Object.values(firstSeen)) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect([...items].sort()).toEqual([...expected].sort());
}

describe('uplink with a real mosquitto', () => {
  let contract: Contract;
  let dir: string;
  let db: Db;
  let broker: Mosquitto | undefined;
  let uplink: Uplink | undefined;
  let consumer: MqttClient | undefined;
  let logs: string[];
  const logger: Logger = {
    ...nullLogger,
    info: (o: object | string) => logs.push(JSON.stringify(o)),
    warn: (o: object | string) => logs.push(JSON.stringify(o)),
    error: (o: object | string) => logs.push(JSON.stringify(o)),
    child: () => logger,
  };

  beforeAll(async () => {
    contract = await loadContract();
  });
  beforeEach(() => {
    logs = [];
    dir = mkdtempSync(join(tmpdir(), 'dcu-uplink-'));
    db = openStore(join(dir, 'dcu.sqlite'));
  });
  afterEach(async () => {
    await uplink?.stop();
    uplink = undefined;
    await consumer?.endAsync(true);
    consumer = undefined;
    await broker?.close();
    broker = undefined;
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('outage: data written while the broker is down all arrives after it is back, in seq order; the outbox empties', async () => {
    broker = await startMosquitto();
    const seen: Seen[] = [];
    consumer = await hes(broker.url, contract, seen);
    uplink = startUplink('dcu1', mqttConfig(broker.url), { db, clock: systemClock, logger });
    const up = uplink;
    await until(() => seen.some((s) => s.topic === 'dcu/dcu1/status' && s.body.state === 'online'), 'birth message');
    const expected = [...outboxKeys(db)];
    fillOthers(db, 2, T0);
    expected.push(...outboxKeys(db));
    up.kick();
    await until(() => outboxKeys(db).length === 0, 'first data delivered');

    await broker.stop();
    await until(() => !up.health().session.connected, 'uplink sees the outage');
    fillLoadProfile(db, { meters: 8, from: T0, hours: 72, stepHours: 6 }); // 72 h of 15-min rows, collected every 6 h
    fillOthers(db, 3, T0 + 72 * 3_600_000);
    expected.push(...outboxKeys(db));
    expect(outboxKeys(db).length).toBeGreaterThan(96);
    await broker.start();
    await until(() => outboxKeys(db).length === 0, 'the backlog drained', 30_000);
    await until(() => new Set(seen.filter((s) => s.topic.includes('/data/')).flatMap((s) => s.body.items.map((i) => `${s.body.class}/${i.seq}`))).size === new Set(expected).size, 'every item at the HES');
    expectDelivered(seen, expected);
    const health = up.health();
    expect(health.session.disconnects).toBeGreaterThanOrEqual(1);
    expect(health.backlog).toEqual([]);
    const lp = seen.find((s) => s.topic === 'dcu/dcu1/data/load-profile');
    expect(lp?.contentType).toBe('application/vnd.dcu.compact+json');
    expect(lp?.body.items[0]).toMatchObject({ start: expect.any(Number) as number, period: 900_000, count: 24 });
    await up.stop();
    uplink = undefined;
    await until(() => seen.some((s) => s.topic === 'dcu/dcu1/status' && s.body.state === 'offline' && s.body.reason === 'stopped'), 'clean offline status');
  });

  it('broker killed mid-drain (appAck: a PUBACK from a broker that then dies is not delivery): nothing lost, order kept, duplicates only under the same id', async () => {
    broker = await startMosquitto();
    const b = broker;
    fillLoadProfile(db, { meters: 16, from: T0, hours: 72, stepHours: 6 });
    const expected = outboxKeys(db);
    const seen: Seen[] = [];
    let killedAt: number | undefined;
    consumer = await hes(b.url, contract, seen);
    const hesClient = consumer;
    // the HES acknowledges, per stream, the highest seq up to which it has everything
    const have = new Map<string, Set<number>>();
    const acked = new Map<string, number>();
    consumer.on('message', (topic) => {
      const last = seen[seen.length - 1];
      if (last === undefined || !topic.includes('/data/')) return;
      const got = have.get(last.body.class) ?? new Set<number>();
      have.set(last.body.class, got);
      for (const i of last.body.items) got.add(i.seq);
      let upTo = acked.get(last.body.class) ?? 0;
      while (got.has(upTo + 1)) upTo++;
      // a re-sent message is acknowledged again (its first ack may have been lost)
      if (upTo > 0) {
        acked.set(last.body.class, upTo);
        const ack = { stream: last.body.class, seq: upTo };
        contract.check('dcu/dcu1/ack', ack);
        hesClient.publish('dcu/dcu1/ack', JSON.stringify(ack), { qos: 1 });
      }
      if (killedAt === undefined && seen.length >= 20) {
        killedAt = outboxKeys(db).length;
        void b.stop().then(() => b.start());
      }
    });
    uplink = startUplink('dcu1', mqttConfig(b.url, { maxMessageBytes: 2048, window: 4, appAck: true, appAckTimeout: '2s' }), { db, clock: systemClock, logger });
    await until(() => killedAt !== undefined, 'the kill mid-drain');
    expect(killedAt).toBeGreaterThan(0);
    await until(() => outboxKeys(db).length === 0, 'the backlog drained after the restart', 45_000);
    expectDelivered(seen, expected);
    expect(uplink.health().session.disconnects).toBeGreaterThanOrEqual(1);
  });

  it('PUBACK 0x10 (no HES subscribed): kept and re-sent until a subscriber takes it', async () => {
    broker = await startMosquitto();
    fillOthers(db, 1, T0);
    const expected = outboxKeys(db);
    uplink = startUplink('dcu1', mqttConfig(broker.url), { db, clock: systemClock, logger });
    const up = uplink;
    await until(() => (up.health().drain.kept['0x10 no matching subscribers'] ?? 0) >= 2, 'refusals for want of a subscriber');
    expect(outboxKeys(db)).toEqual(expected);
    const seen: Seen[] = [];
    consumer = await hes(broker.url, contract, seen);
    await until(() => outboxKeys(db).length === 0, 'delivered once the HES subscribed');
    await until(() => new Set(seen.filter((s) => s.topic.includes('/data/')).flatMap((s) => s.body.items.map((i) => `${s.body.class}/${i.seq}`))).size === expected.length, 'every item at the HES');
    expectDelivered(seen, expected);
  });

  it('an ACL that denies the data topics: nothing is deleted, health says why', async () => {
    broker = await startMosquitto({ users: { dcu: 'pw-dcu', hes: 'pw-hes' }, acl: 'user dcu\ntopic write dcu/dcu1/status\ntopic read dcu/dcu1/ack\n\nuser hes\ntopic read dcu/#' });
    writeFileSync(join(dir, 'user'), 'dcu\n');
    writeFileSync(join(dir, 'pass'), 'pw-dcu\n');
    fillOthers(db, 2, T0);
    const before = outboxKeys(db);
    const seen: Seen[] = [];
    consumer = await hes(broker.url, contract, seen, { username: 'hes', password: 'pw-hes' });
    uplink = startUplink('dcu1', mqttConfig(broker.url, { usernameFile: join(dir, 'user'), passwordFile: join(dir, 'pass') }), { db, clock: systemClock, logger });
    const up = uplink;
    await until(() => (up.health().drain.kept['0x87 not authorized'] ?? 0) >= 3, 'refusals counted');
    expect(outboxKeys(db)).toEqual(before);
    expect(up.health().backlog.every((b) => b.lastError?.includes('0x87 not authorized'))).toBe(true);
    expect(seen.some((s) => s.topic.includes('/data/'))).toBe(false);
    expect(seen.some((s) => s.body.state === 'online')).toBe(true); // status is allowed
    expect(logs.filter((l) => l.includes('0x87')).length).toBeLessThanOrEqual(4); // once per stream, not per try
    expect(logs.join('\n')).not.toContain('pw-dcu');
  });

  it('TLS with a test CA, a client certificate and a password from a file; MQTT 3.1.1 too', async () => {
    broker = await startMosquitto({ users: { dcu: 's3cret', hes: 'pw-hes' }, tls: true });
    const tls = broker.tls;
    if (tls === undefined || broker.tlsUrl === undefined) throw new Error('no TLS listener');
    writeFileSync(join(dir, 'user'), 'dcu');
    writeFileSync(join(dir, 'pass'), 's3cret\n');
    const seen: Seen[] = [];
    consumer = await hes(broker.url, contract, seen, { username: 'hes', password: 'pw-hes' });
    fillOthers(db, 1, T0);
    const expected = outboxKeys(db);
    uplink = startUplink('dcu1', mqttConfig(broker.tlsUrl, { usernameFile: join(dir, 'user'), passwordFile: join(dir, 'pass'), tls: { ca: tls.ca, cert: tls.cert, key: tls.key } }), { db, clock: systemClock, logger });
    await until(() => outboxKeys(db).length === 0, 'delivered over TLS');
    await uplink.stop();
    uplink = undefined;
    fillLoadProfile(db, { meters: 1, from: T0, hours: 2, stepHours: 1 });
    expected.push(...outboxKeys(db));
    uplink = startUplink('dcu1', mqttConfig(broker.url, { protocol: '3.1.1', encoding: 'json', usernameFile: join(dir, 'user'), passwordFile: join(dir, 'pass') }), { db, clock: systemClock, logger });
    await until(() => outboxKeys(db).length === 0, 'delivered over MQTT 3.1.1');
    await until(() => new Set(seen.filter((s) => s.topic.includes('/data/')).flatMap((s) => s.body.items.map((i) => `${s.body.class}/${i.seq}`))).size === expected.length, 'every item at the HES');
    expectDelivered(seen, expected);
    expect(seen.find((s) => s.body.class === 'load-profile')?.body.items[0]).toHaveProperty('rows');
    expect(logs.join('\n')).not.toContain('s3cret');
  });

  it('a half-open link (a proxy that blackholes) is detected within 1.5 × keepalive and reconnected', async () => {
    broker = await startMosquitto();
    const proxy = await startTcpProxy(broker.port);
    try {
      // the watchdog and the reconnect pause run on a FakeClock: detection time is exact, not raced
      const clock = new FakeClock(Date.now());
      const seen: Seen[] = [];
      consumer = await hes(broker.url, contract, seen);
      uplink = startUplink('dcu1', mqttConfig(`mqtt://127.0.0.1:${proxy.port}`, { keepalive: '10s', reconnectMin: '1s' }), { db, clock, logger });
      const up = uplink;
      await until(() => up.health().session.connected && seen.some((s) => s.body.state === 'online'), 'connected through the proxy');
      proxy.blackhole();
      clock.advance(14_999); // 1.5 × keepalive less 1 ms: nothing heard for that long is still tolerated…
      expect(up.health().session).toMatchObject({ connected: true, silentDrops: 0 });
      clock.advance(1); // …at 1.5 × keepalive the link is declared dead
      expect(up.health().session).toMatchObject({ connected: false, silentDrops: 1 });
      clock.advance(1_200); // the reconnect pause (1 s ± 20 %)
      await until(() => up.health().session.connected, 'reconnected');
      expect(up.health().session.connects).toBe(2);
      fillOthers(db, 1, T0);
      const expected = outboxKeys(db);
      up.kick();
      await until(() => outboxKeys(db).length === 0, 'data flows again');
      await until(() => new Set(seen.filter((s) => s.topic.includes('/data/')).flatMap((s) => s.body.items.map((i) => `${s.body.class}/${i.seq}`))).size === expected.length, 'every item at the HES');
      expectDelivered(seen, expected);
    } finally {
      await uplink?.stop();
      uplink = undefined;
      await proxy.close();
    }
  });
});
