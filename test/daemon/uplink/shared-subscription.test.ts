/**
 * Acceptance "Shared subscription": two HES consumers in one MQTT 5 share group
 * (`$share/hes/dcu/+/data/#`) receive, together, every item while dcud drains a backlog —
 * exactly once per message `id`; an item seen twice only as a re-send under the same `id`
 * with the same content. The backlog builds while nobody subscribes to the data (mosquitto
 * answers 0x10 "no matching subscribers", which dcud keeps), then both consumers join.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { loadContract } from '../../helpers/asyncapi';
import { startDcudMqtt, type DcudMqtt } from '../../helpers/dcud-mqtt';
import { until } from '../../helpers/until';

jest.setTimeout(180_000);
const ID = 'dcu-share';

interface Msg {
  readonly id: string;
  readonly class: string;
  readonly seq: { first: number; last: number };
  readonly items: { seq: number }[];
}

describe('two HES consumers in one share group', () => {
  let d: DcudMqtt;
  const consumers: MqttClient[] = [];
  afterAll(async () => {
    for (const c of consumers) await c.endAsync(true);
    await d.close();
  });

  it('receive every item of a draining backlog, once per id', async () => {
    const contract = await loadContract();
    d = await startDcudMqtt({
      id: ID,
      meters: 2,
      mqtt: 'maxMessageBytes: 4096, window: 4, retryMin: 1s, retryMax: 2s',
      collection: ['  load-profile: { every: 15m, backfill: 1d }', '  events: { every: 1h, backfill: 2d }', '  registers: { every: 1h }'],
    });
    const backlog = (): number => d.count('SELECT count(*) AS n FROM outbox');
    await until(() => d.count("SELECT count(*) AS n FROM profile_rows WHERE profile = '1.0.99.1.0.255'") >= 2 * 95 && backlog() >= 4, 'a backlog with nobody subscribed', 120_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${d.output()}`);
    });
    const got: { by: number; msg: Msg; raw: string }[] = [];
    const violations: string[] = [];
    for (const n of [0, 1]) {
      const c = await mqtt.connectAsync(d.broker.url, { protocolVersion: 5, clientId: `hes-share-${n}` });
      c.on('message', (topic, payload) => {
        const msg = JSON.parse(payload.toString()) as Msg;
        try {
          contract.check(topic, msg);
        } catch (e) {
          violations.push(String(e));
        }
        got.push({ by: n, msg, raw: JSON.stringify(msg.items) });
      });
      await c.subscribeAsync('$share/hes/dcu/+/data/#', { qos: 1 });
      consumers.push(c);
    }
    await until(() => backlog() === 0, 'the backlog drained through the share group', 120_000);
    // The broker acknowledges an item before it reaches a consumer: give the last ones their way.
    const gaps = (): string[] => {
      const seen = new Set(got.flatMap(({ msg }) => msg.items.map((i) => `${msg.class}#${i.seq}`)));
      return [...new Set(got.map((g) => g.msg.class))].flatMap((stream) => {
        const waiting = d.count(`SELECT min(seq) AS n FROM outbox WHERE stream = '${stream}'`);
        const last = waiting > 0 ? waiting - 1 : d.count(`SELECT next_seq - 1 AS n FROM outbox_streams WHERE stream = '${stream}'`);
        return Array.from({ length: last }, (_, k) => `${stream}#${k + 1}`).filter((key) => !seen.has(key));
      });
    };
    await until(() => gaps().length === 0, 'every acknowledged item at a consumer', 30_000).catch(() => undefined);
    expect(violations).toEqual([]);
    // per id: the same items every time it arrives (a re-send), and each item under one id only
    const byId = new Map<string, string>();
    const idOf = new Map<string, string>();
    for (const { msg, raw } of got) {
      expect(byId.get(msg.id) ?? raw).toBe(raw);
      byId.set(msg.id, raw);
      for (const i of msg.items) {
        const key = `${msg.class}#${i.seq}`;
        expect(idOf.get(key) ?? msg.id).toBe(msg.id);
        idOf.set(key, msg.id);
      }
    }
    // together: every seq ever given out, per stream, with no gap
    const next = d.count('SELECT count(*) AS n FROM outbox_streams');
    expect(next).toBeGreaterThan(0);
    const streams = new Set(got.map((g) => g.msg.class));
    for (const stream of streams) {
      // (an item appended by a collection in the last instant may still wait in the outbox)
      const waiting = d.count(`SELECT min(seq) AS n FROM outbox WHERE stream = '${stream}'`);
      const last = waiting > 0 ? waiting - 1 : d.count(`SELECT next_seq - 1 AS n FROM outbox_streams WHERE stream = '${stream}'`);
      for (let seq = 1; seq <= last; seq++) expect(idOf.has(`${stream}#${seq}`) ? seq : `missing ${stream} #${seq}`).toBe(seq);
    }
    expect(streams.has('load-profile')).toBe(true);
    // both members took part; no message id went to both unless re-sent
    const perConsumer = [0, 1].map((n) => new Set(got.filter((g) => g.by === n).map((g) => g.msg.id)));
    expect(perConsumer[0]?.size).toBeGreaterThan(0);
    expect(perConsumer[1]?.size).toBeGreaterThan(0);
    const distinct = byId.size;
    expect(got.length - distinct).toBeLessThanOrEqual(distinct); // re-sends only, not a copy per member
  });
});
