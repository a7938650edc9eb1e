/**
 * The outbox keeps seq monotonic per stream for ever (deleting sent rows does not make a
 * seq come back), and the drain side peeks in seq order, deletes what was delivered and
 * counts attempts.
 */
import { openStore, userVersion, type Db } from '../../storage/db';
import { MIGRATIONS } from '../../storage/migrations';
import { Outbox, OutboxDrain } from '../../storage/outbox';

describe('Outbox', () => {
  let db: Db;
  beforeEach(() => {
    db = openStore(':memory:');
  });
  afterEach(() => db.close());

  it('numbers per stream from 1 and never reuses a seq after the drain deleted everything', () => {
    const box = new Outbox(db);
    const drain = new OutboxDrain(db);
    expect([box.append('a', { n: 1 }, 1), box.append('a', { n: 2 }, 2), box.append('b', { n: 3 }, 3)]).toEqual([1, 2, 1]);
    expect(drain.delivered('a', 1, 2)).toBe(2);
    expect(drain.deliveredUpTo('b', 1)).toBe(1);
    expect(drain.size()).toBe(0);
    expect(box.append('a', { n: 4 }, 4)).toBe(3);
    expect(box.append('b', { n: 5 }, 5)).toBe(2);
  });

  it('peeks in seq order after a cursor, counts attempts and keeps the last refusal', () => {
    const box = new Outbox(db);
    const drain = new OutboxDrain(db);
    for (let i = 0; i < 5; i++) box.append('lp', { i }, 100 + i);
    box.append('ev', { e: 1 }, 50);
    expect(drain.streams()).toEqual(['ev', 'lp']);
    expect(drain.peek('lp', 0, 2).map((r) => [r.seq, JSON.parse(r.payload) as unknown])).toEqual([[1, { i: 0 }], [2, { i: 1 }]]);
    expect(drain.peek('lp', 3, 10).map((r) => r.seq)).toEqual([4, 5]);
    drain.attempted('lp', 1, 2, 'PUBACK 0x87 not authorized');
    expect(drain.peek('lp', 0, 1)[0]?.attempts).toBe(1);
    expect(drain.backlog()).toEqual([
      { stream: 'ev', messages: 1, firstSeq: 1, oldestAt: 50, lastError: null },
      { stream: 'lp', messages: 5, firstSeq: 1, oldestAt: 100, lastError: 'PUBACK 0x87 not authorized' },
    ]);
  });

  it('migration 009 starts each stream above what an older outbox holds', () => {
    const db2 = openStore(':memory:', { migrations: MIGRATIONS.slice(0, 7) });
    db2.prepare("INSERT INTO outbox (stream, seq, payload, created_at) VALUES ('lp', 41, '{}', 1), ('lp', 42, '{}', 1), ('ev', 7, '{}', 1)").run();
    for (const m of MIGRATIONS.slice(7)) db2.transaction(() => m.up(db2))();
    const box = new Outbox(db2);
    expect(box.append('lp', {}, 2)).toBe(43);
    expect(box.append('ev', {}, 2)).toBe(8);
    expect(box.append('new', {}, 2)).toBe(1);
    expect(userVersion(db2)).toBe(7);
    db2.close();
  });
});

describe('OutboxDrain batches', () => {
  it('a sealed message keeps its rows for every re-send', () => {
    const db = openStore(':memory:');
    const box = new Outbox(db);
    const drain = new OutboxDrain(db);
    for (let i = 0; i < 3; i++) box.append('lp', { i }, i);
    drain.sealBatch('lp', 1, 2);
    drain.sealBatch('lp', 1, 3); // already sealed: unchanged
    expect(drain.peek('lp', 0, 3).map((r) => r.batchEnd)).toEqual([2, null, null]);
    db.close();
  });
});
