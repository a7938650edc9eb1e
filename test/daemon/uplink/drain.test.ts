/**
 * The drain's decisions on a FakeClock with a scripted publisher: seq order, bounded window,
 * sealed batches with a stable id, PUBACK 0x10 / ≥ 0x80 / timeouts / lost connections keep
 * the rows (counted, logged once, re-sent after a pause), appAck deletes only on the HES ack.
 */
import { FakeClock } from '../../../protocol/common/clock';
import { nullLogger, type Logger } from '../../../protocol/common/log';
import { openStore, type Db } from '../../../storage/db';
import { Outbox, OutboxDrain } from '../../../storage/outbox';
import { inflateRawSync } from 'node:zlib';
import { Drain, type DrainOptions, type Publisher, type PublishProps } from '../../../daemon/uplink/drain';
import { backoffMs, pubackVerdict } from '../../../daemon/uplink/policy';

interface Sent {
  topic: string;
  body: { id: string; class: string; seq: { first: number; last: number }; items: { seq: number }[] };
  resolve: (code: number | undefined) => void;
  reject: (e: Error) => void;
}

function scripted(): Publisher & { sent: Sent[]; pending: () => Sent[]; props: PublishProps[]; raw: Buffer[] } {
  const sent: Sent[] = [];
  const props: PublishProps[] = [];
  const raw: Buffer[] = [];
  const open = new Set<Sent>();
  return {
    sent,
    props,
    raw,
    pending: () => [...open],
    publish: (topic, payload, p) =>
      new Promise((resolve, reject) => {
        props.push(p);
        raw.push(payload);
        const text = p.userProperties.contentEncoding === 'deflate' ? inflateRawSync(payload).toString() : payload.toString();
        const s: Sent = {
          topic,
          body: JSON.parse(text) as Sent['body'],
          resolve: (c) => {
            open.delete(s);
            resolve(c);
          },
          reject: (e) => {
            open.delete(s);
            reject(e);
          },
        };
        sent.push(s);
        open.add(s);
      }),
  };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('Drain', () => {
  let db: Db;
  let clock: FakeClock;
  let box: Outbox;
  let warnings: string[];
  const logger: Logger = { ...nullLogger, warn: (o: object | string) => warnings.push(JSON.stringify(o)), child: () => logger };
  const options = (over: Partial<DrainOptions> = {}): DrainOptions => ({
    dcuId: 'dcu1', incarnation: 'c0ffee00', prefix: 'dcu/dcu1/', window: 2, maxMessageBytes: 1024, ackTimeoutMs: 10_000, retryMinMs: 1_000, retryMaxMs: 60_000,
    appAck: false, appAckTimeoutMs: 60_000, encoding: 'compact', pollMs: 1_000, random: () => 0.5, ...over,
  });
  const rows = (): number => (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;

  beforeEach(() => {
    db = openStore(':memory:');
    clock = new FakeClock();
    box = new Outbox(db);
    warnings = [];
  });
  afterEach(() => db.close());

  it('sends per stream in seq order, at most `window` in flight, batches up to the size limit, deletes on PUBACK', async () => {
    for (let i = 0; i < 30; i++) box.append('events', { meter: 'm1', code: 'x', detail: 'y'.repeat(90), at: i }, i);
    const drain = new Drain(new OutboxDrain(db), clock, logger, options());
    const pub = scripted();
    drain.online(pub, 65535);
    expect(pub.pending()).toHaveLength(2);
    while (pub.pending().length > 0) {
      expect(pub.pending().length).toBeLessThanOrEqual(2);
      pub.pending()[0]?.resolve(0);
      await flush();
    }
    const seqs = pub.sent.flatMap((s) => s.body.items.map((i) => i.seq));
    expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(pub.sent.length).toBeGreaterThan(3); // batched, but bounded by maxMessageBytes
    for (const s of pub.sent) expect(s.body.id).toBe(`dcu1/events/c0ffee00/${s.body.seq.first}`);
    expect(rows()).toBe(0);
    expect(drain.counters.deliveredItems).toBe(30);
    drain.stop();
  });

  it('caps the window at the broker receive maximum', () => {
    for (let i = 0; i < 5; i++) box.append('a', { i }, i);
    const drain = new Drain(new OutboxDrain(db), clock, logger, options({ window: 8, maxMessageBytes: 1024 * 1024 }));
    const pub = scripted();
    // one row per message: seal each row alone
    const od = new OutboxDrain(db);
    for (let i = 1; i <= 5; i++) od.sealBatch('a', i, i);
    drain.online(pub, 1);
    expect(pub.pending()).toHaveLength(1);
    drain.stop();
  });

  it.each([['0x10', 0x10], ['0x80', 0x80], ['0x87', 0x87], ['0x97', 0x97]])('PUBACK %s keeps the rows, counts it, logs once and re-sends the same id after a pause', async (_name, code) => {
    box.append('alarms', { id: 1, meter: 'm', code: 'c', detail: 'd', raisedAt: 1 }, 1);
    const drain = new Drain(new OutboxDrain(db), clock, logger, options());
    const pub = scripted();
    drain.online(pub, undefined);
    pub.pending()[0]?.resolve(code);
    await flush();
    expect(rows()).toBe(1);
    expect(Object.values(drain.counters.kept)).toEqual([1]);
    expect(drain.counters.lastError).toContain(`0x${code.toString(16)}`);
    expect(pub.pending()).toHaveLength(0);
    clock.advance(1_000); // backoff: 1 s ± 20 %
    expect(pub.pending()).toHaveLength(1);
    pub.pending()[0]?.resolve(code);
    await flush();
    clock.advance(2_000);
    expect(warnings).toHaveLength(1); // logged once
    expect(pub.sent.map((s) => s.body.id)).toEqual(['dcu1/alarms/c0ffee00/1', 'dcu1/alarms/c0ffee00/1', 'dcu1/alarms/c0ffee00/1']);
    pub.pending()[0]?.resolve(0);
    await flush();
    expect(rows()).toBe(0);
    expect(new OutboxDrain(db).backlog()).toEqual([]);
    drain.stop();
  });

  it('a PUBACK that never comes times out: kept and re-sent; a late PUBACK is ignored', async () => {
    box.append('a', { i: 1 }, 1);
    const drain = new Drain(new OutboxDrain(db), clock, logger, options());
    const pub = scripted();
    drain.online(pub, undefined);
    const first = pub.pending()[0];
    clock.advance(10_000);
    expect(drain.counters.kept).toEqual({ timeout: 1 });
    expect(drain.inFlight).toBe(0);
    first?.resolve(0x87);
    await flush();
    expect(drain.counters.kept).toEqual({ timeout: 1 });
    clock.advance(1_200);
    expect(pub.sent).toHaveLength(2);
    drain.stop();
  });

  it('a lost connection keeps everything in flight and re-sends from the oldest row on reconnect, without a pause', async () => {
    for (let i = 0; i < 4; i++) box.append('a', { i }, i);
    const od = new OutboxDrain(db);
    for (let i = 1; i <= 4; i++) od.sealBatch('a', i, i);
    const drain = new Drain(od, clock, logger, options());
    const pub = scripted();
    drain.online(pub, undefined);
    pub.pending()[0]?.resolve(0); // seq 1 delivered
    await flush();
    drain.offline();
    for (const s of pub.pending()) s.reject(new Error('Connection closed'));
    await flush();
    expect(rows()).toBe(3);
    const pub2 = scripted();
    drain.online(pub2, undefined);
    expect(pub2.sent.map((s) => s.body.seq.first)).toEqual([2, 3]);
    drain.stop();
  });

  it('appAck: a row leaves the outbox only when the HES acknowledges it; unacknowledged ones are re-sent', async () => {
    for (let i = 0; i < 3; i++) box.append('a', { i }, i);
    const od = new OutboxDrain(db);
    for (let i = 1; i <= 3; i++) od.sealBatch('a', i, i);
    const drain = new Drain(od, clock, logger, options({ window: 8, appAck: true, appAckTimeoutMs: 5_000 }));
    const pub = scripted();
    drain.online(pub, undefined);
    for (const s of pub.pending()) s.resolve(0);
    await flush();
    expect(rows()).toBe(3);
    drain.appAck('a', 2);
    expect(rows()).toBe(1);
    clock.advance(5_000); // seq 3 never acknowledged
    expect(drain.counters.kept).toEqual({ 'app-ack timeout': 1 });
    clock.advance(1_200);
    expect(pub.sent.map((s) => s.body.seq.first)).toEqual([1, 2, 3, 3]);
    drain.stop();
  });

  it('deflates the streams configured for it, says so in a user property, and leaves the others as JSON', async () => {
    for (let i = 0; i < 20; i++) box.append('events', { meter: 'm1', code: 'x', detail: 'y'.repeat(90), at: i }, i);
    box.append('alarms', { meter: 'm1', code: 'power-up' }, 21);
    const drain = new Drain(new OutboxDrain(db), clock, logger, options({ window: 8, maxMessageBytes: 64 * 1024, deflate: ['events'] }));
    const pub = scripted();
    drain.online(pub, 65535);
    while (pub.pending().length > 0) {
      pub.pending()[0]?.resolve(0);
      await flush();
    }
    const byStream = (c: string): number => pub.sent.findIndex((s) => s.body.class === c);
    const ev = byStream('events');
    const al = byStream('alarms');
    expect(pub.props[ev]?.userProperties.contentEncoding).toBe('deflate');
    expect(pub.props[al]?.userProperties.contentEncoding).toBeUndefined();
    expect(() => JSON.parse(pub.raw[ev]?.toString() ?? '') as unknown).toThrow(); // not JSON on the wire
    expect(pub.sent[ev]?.body.items.map((i) => i.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(pub.raw[ev]?.length ?? 0).toBeLessThan(inflateRawSync(pub.raw[ev] ?? Buffer.alloc(0)).length / 3);
    expect(rows()).toBe(0);
    drain.stop();
  });
});

describe('policy', () => {
  it('a PUBACK is a delivery only below 0x80 and not 0x10', () => {
    expect(pubackVerdict(undefined)).toBe('delivered'); // MQTT 3.1.1
    expect(pubackVerdict(0)).toBe('delivered');
    for (const c of [0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]) expect(pubackVerdict(c)).toBe('kept');
  });
  it('backoff doubles from min to max with ±20 % jitter', () => {
    expect(backoffMs(1, 1000, 60_000, () => 0.5)).toBe(1000);
    expect(backoffMs(3, 1000, 60_000, () => 0)).toBe(3200);
    expect(backoffMs(20, 1000, 60_000, () => 0.999)).toBeLessThanOrEqual(72_000);
  });

});
