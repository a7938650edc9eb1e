import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../protocol/common/clock';
import { openStore, write, type Db } from '../../storage/db';
import { EventLog } from '../../storage/events';
import { JobStore } from '../../storage/jobs';
import { ReadingsStore } from '../../storage/readings';
import { Retention, type PruneCounts, type RetentionPolicy } from '../../storage/retention';

const DAY = 86_400_000;
const Q = 15 * 60_000;
const LP = '1.0.99.1.0.255';
const BILLING = '0.0.98.1.0.255';
const START = Date.UTC(2026, 0, 1);

const policy = (over: Partial<RetentionPolicy> = {}): RetentionPolicy => ({
  profiles: new Map([
    [LP, { stream: 'load-profile', keepMs: 93 * DAY }],
    [BILLING, { stream: 'billing', keepMs: 366 * DAY }],
  ]),
  eventsMs: 366 * DAY,
  alarmsMs: 366 * DAY,
  registersMs: 93 * DAY,
  ...over,
});

function runPass(r: Retention, p: RetentionPolicy, now: number, limit?: number): { counts: PruneCounts; batches: number[] } {
  const it = r.pass(p, now, limit);
  const batches: number[] = [];
  for (;;) {
    const step = it.next();
    if (step.done === true) return { counts: step.value, batches };
    batches.push(step.value);
  }
}

/** The uplink's side: the HES has the stream's messages up to seq (deleted, as the drain does). */
function deliver(db: Db, stream: string, uptoSeq: number): void {
  db.prepare('DELETE FROM outbox WHERE stream = ? AND seq <= ?').run(stream, uptoSeq);
}

/** Every row an outbox message still carries is still stored. */
function expectUnsentKept(db: Db): void {
  const messages = db.prepare("SELECT payload FROM outbox WHERE stream = 'load-profile'").all() as { payload: string }[];
  const has = db.prepare('SELECT 1 FROM profile_rows WHERE meter = ? AND profile = ? AND captured_at = ?');
  for (const m of messages) {
    const p = JSON.parse(m.payload) as { meter: string; profile: string; rows: number[][] };
    for (const row of p.rows) expect([p.meter, row[0], has.get(p.meter, p.profile, row[0]) !== undefined]).toEqual([p.meter, row[0], true]);
  }
}

describe('Retention', () => {
  let dir: string;
  let db: Db;
  let clock: FakeClock;
  let readings: ReadingsStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-retention-'));
    db = openStore(join(dir, 'dcu.sqlite'));
    db.pragma('synchronous = OFF'); // thousands of small writes to set up; durability is not what is tested here
    clock = new FakeClock(START);
    readings = new ReadingsStore(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One day of load profile per meter per simulated day, collected shortly after the day ends; returns the last seq. */
  function collectDays(meters: readonly string[], days: number): number {
    let seq = 0;
    for (let d = 0; d < days; d++) {
      const dayStart = START + d * DAY;
      clock.advance(dayStart + DAY + 5 * 60_000 - clock.now());
      for (const meter of meters) {
        const rows = Array.from({ length: 96 }, (_, i) => ({ capturedAt: dayStart + i * Q, status: 0, cells: [String(d * 96 + i)] }));
        seq = readings.storeProfileRows({ meter, profile: LP, stream: 'load-profile', columns: [{ capture: '3:1.0.1.8.0.255:2', unit: 'Wh' }], rows, collectedTo: dayStart + DAY - Q }, clock.now()).seq ?? seq;
      }
    }
    return seq;
  }

  const rowCount = (meter?: string): number =>
    (db.prepare(`SELECT count(*) AS n FROM profile_rows${meter === undefined ? '' : ' WHERE meter = ?'}`).get(...(meter === undefined ? [] : [meter])) as { n: number }).n;

  const oldRows = (cutoff: number): number => (db.prepare('SELECT count(*) AS n FROM profile_rows WHERE captured_at < ?').get(cutoff) as { n: number }).n;

  it('deletes load profile older than its retention only once the HES has it', () => {
    const lastSeq = collectDays(['A', 'B'], 120);
    const r = new Retention(db);
    const now = clock.now();
    // nothing sent yet: nothing pruned, however old
    expect(runPass(r, policy(), now).counts.profileRows).toBe(0);
    expect(rowCount()).toBe(2 * 120 * 96);
    // the HES has the first 100 days of both meters (2 messages a day)
    deliver(db, 'load-profile', 200);
    const cutoff = now - 93 * DAY;
    const before = oldRows(cutoff);
    expect(before).toBe(2 * (27 * 96 + 1));
    const { counts } = runPass(r, policy(), now);
    expect(oldRows(cutoff)).toBe(0);
    expect(counts.profileRows).toBe(before);
    expect(rowCount('A')).toBe(rowCount('B'));
    expectUnsentKept(db);
    expect(lastSeq).toBe(240);
    // a second pass finds nothing more
    expect(runPass(r, policy(), now).counts.profileRows).toBe(0);
  });

  it('keeps rows the HES does not have even when later messages were delivered (out of order acks)', () => {
    collectDays(['A'], 100);
    // PUBACKs for seq 2..60 came, seq 1 (day 0) is still in flight
    db.prepare("DELETE FROM outbox WHERE stream = 'load-profile' AND seq BETWEEN 2 AND 60").run();
    const r = new Retention(db);
    expect(runPass(r, policy(), clock.now()).counts.profileRows).toBe(0);
    expectUnsentKept(db);
    deliver(db, 'load-profile', 1);
    expect(runPass(r, policy(), clock.now()).counts.profileRows).toBe(7 * 96 + 1); // days 0..6 and 00:00 of day 7 are past 93 days
    expectUnsentKept(db);
  });

  it('never prunes unsent billing data by age; sent billing data goes after its retention', () => {
    for (let month = 0; month < 30; month++) {
      clock.advance(START + (month + 1) * 31 * DAY - clock.now());
      readings.storeProfileRows({ meter: 'A', profile: BILLING, stream: 'billing', columns: [{ capture: '3:1.0.1.8.0.255:2' }], rows: [{ capturedAt: START + month * 31 * DAY, cells: [String(month)] }], collectedTo: START + month * 31 * DAY }, clock.now());
    }
    clock.advance(5 * 366 * DAY);
    const r = new Retention(db);
    expect(runPass(r, policy(), clock.now()).counts.profileRows).toBe(0);
    deliver(db, 'billing', 10);
    expect(runPass(r, policy(), clock.now()).counts.profileRows).toBe(10);
    expect(runPass(r, policy({ profiles: new Map([[BILLING, { stream: 'billing', keepMs: Number.POSITIVE_INFINITY }]]) }), clock.now()).counts.profileRows).toBe(0);
    deliver(db, 'billing', 30);
    expect(runPass(r, policy({ profiles: new Map([[BILLING, { stream: 'billing', keepMs: Number.POSITIVE_INFINITY }]]) }), clock.now()).counts.profileRows).toBe(0); // never
    expect(runPass(r, policy(), clock.now()).counts.profileRows).toBe(20);
  });

  it('a clock that stepped back never makes unsent rows look sent', () => {
    collectDays(['A'], 100);
    deliver(db, 'load-profile', 100); // everything so far delivered
    // D's rows are written now (seq 101); then the clock steps back 50 days and C's rows are
    // written with the earlier time (seq 102). Neither has reached the HES.
    const now = clock.now();
    const back = now - 50 * DAY;
    readings.storeProfileRows({ meter: 'D', profile: LP, stream: 'load-profile', columns: [], rows: [{ capturedAt: START, cells: [] }], collectedTo: START }, now);
    readings.storeProfileRows({ meter: 'C', profile: LP, stream: 'load-profile', columns: [], rows: [{ capturedAt: START, cells: [] }], collectedTo: START }, back);
    const r = new Retention(db);
    expect(r.sentBefore('load-profile')).toBe(back); // not the head's time (seq 101, now)
    runPass(r, policy(), now);
    expectUnsentKept(db);
    expect([rowCount('C'), rowCount('D')]).toEqual([1, 1]);
    deliver(db, 'load-profile', 102);
    runPass(r, policy(), now);
    expect([rowCount('C'), rowCount('D'), oldRows(now - 93 * DAY)]).toEqual([0, 0, 0]);
  });

  it('works in small batches, each its own transaction, and stops a table at the first short batch', () => {
    collectDays(['A'], 100);
    deliver(db, 'load-profile', 100);
    const old = oldRows(clock.now() - 93 * DAY);
    expect(old).toBe(7 * 96 + 1);
    const { counts, batches } = runPass(new Retention(db), policy(), clock.now(), 100);
    expect(counts.profileRows).toBe(old);
    expect(batches.slice(0, 7)).toEqual([100, 100, 100, 100, 100, 100, 73]); // then one empty batch per other table
  });

  it('prunes sent meter events, register values, concentrator events and cleared alarms; open alarms stay', () => {
    const log = new EventLog(db);
    const names = (bit: number): string => `bit-${bit}`;
    for (let d = 0; d < 400; d++) {
      clock.advance(START + d * DAY + 3_600_000 - clock.now());
      const now = clock.now();
      readings.storeEvents({ meter: 'A', log: '0.0.99.98.0.255', events: [{ at: now - 60_000, code: 1 }], collectedTo: now, name: () => 'power-down' }, now);
      readings.storeRegisters('A', now, [{ name: '+A', obis: '1.0.1.8.0.255', value: String(d), unit: 'Wh' }]);
      write(db, 'event', () => log.event({ meter: 'A', code: 'clock-drift', detail: `day ${d}` }, now));
      log.applyAlarmRegister('A', d % 2 === 0 ? 1 : 0, now, names); // raised on even days, cleared on odd days
    }
    log.applyAlarmRegister('A', 2, clock.now(), names); // bit 1 raised, stays open
    clock.advance(DAY);
    const r = new Retention(db);
    const count = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect(runPass(r, policy(), clock.now()).counts).toEqual({ profileRows: 0, meterEvents: 0, events: 0, alarms: 0, registerValues: 0, jobs: 0 });
    for (const stream of ['events', 'registers', 'alarms']) deliver(db, stream, Number.MAX_SAFE_INTEGER);
    const { counts } = runPass(r, policy(), clock.now());
    // now = day 400 01:00: events up to day 34 01:00 are past 366 days, registers up to day 307 01:00
    expect(counts.meterEvents).toBe(35); // logged a minute before each read: day 34's too
    expect(counts.events).toBe(34);
    expect(counts.registerValues).toBe(307);
    expect(counts.alarms).toBe(17); // cleared on days 1, 3, … 33
    expect(count('meter_events')).toBe(365);
    expect(count('register_values')).toBe(93);
    const oldestCleared = db.prepare('SELECT min(cleared_at) AS t FROM alarms WHERE cleared_at IS NOT NULL').get() as { t: number };
    expect(oldestCleared.t).toBeGreaterThanOrEqual(clock.now() - 366 * DAY);
    expect(db.prepare("SELECT count(*) AS n FROM alarms WHERE cleared_at IS NULL AND code = 'bit-1'").get()).toEqual({ n: 1 });
  });

  it('finds the oldest unsent message of a stream with an index, not by reading the outbox', () => {
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT min(created_at) AS at FROM outbox WHERE stream = 'load-profile'").all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING COVERING INDEX outbox_stream_created/);
  });

  it('prunes ended jobs (with their meters) once their results reached the HES, never queued or running ones', () => {
    const jobs = new JobStore(db);
    const at = START;
    jobs.create({ id: 'old-done', kind: 'read', source: 'local', priority: 'on-demand', request: {}, notBefore: at, deadline: null }, ['A'], at);
    jobs.start('old-done', 'A', at);
    jobs.finish('old-done', 'A', 'EXE', { reason: 'ok' }, at);
    jobs.create({ id: 'old-queued', kind: 'plan', source: 'hes', priority: 'scheduled', request: {}, notBefore: at, deadline: null }, ['A'], at);
    const later = at + 100 * DAY;
    // results not at the HES yet: kept
    expect(runPass(new Retention(db), policy({ jobsMs: 93 * DAY }), later).counts.jobs).toBe(0);
    deliver(db, 'results', Number.MAX_SAFE_INTEGER);
    expect(runPass(new Retention(db), policy({ jobsMs: 93 * DAY }), later).counts.jobs).toBe(1);
    expect(jobs.get('old-done')).toBeUndefined();
    expect(db.prepare("SELECT count(*) AS n FROM job_meters WHERE job = 'old-done'").get()).toEqual({ n: 0 });
    expect(jobs.get('old-queued')?.state).toBe('queued');
  });
});
