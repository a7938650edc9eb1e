import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config, MeterConfig } from '../../../config/schema';
import { validateConfig } from '../../../config/validate';
import type { OnDemandResult, ReadOptions } from '../../../daemon/jobs/on-demand';
import { Scheduler, type JobEvent } from '../../../daemon/jobs/scheduler';
import { LineArbiter } from '../../../daemon/lines/arbiter';
import type { LineRuntime } from '../../../daemon/lines/line';
import type { Registry } from '../../../daemon/registry/registry';
import { FakeClock } from '../../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { nullLogger } from '../../../protocol/common/log';
import type { MeterMetadataCache } from '../../../protocol/client/meta-cache';
import type { InvocationCounterStore } from '../../../protocol/security/counters';
import { openStore, type Db } from '../../../storage/db';
import { JobStore } from '../../../storage/jobs';
import { MeterRepository } from '../../../storage/meters';
import { testSecretBox } from '../../helpers/store';
import type { ReadingsStore } from '../../../storage/readings';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const meter = (serial: string, line = 'plc0'): MeterConfig => ({ serial, line, address: `1/${16 + Number(serial.slice(-1))}`, client: 17, auth: 'low', password: '00000000', gbt: true, deviationSign: 'blue-book' });

type Execute = (meter: string, what: readonly string[], options: ReadOptions) => Promise<Omit<OnDemandResult, 'meter' | 'requestedAt' | 'finishedAt'>>;

describe('Scheduler (persisted jobs)', () => {
  let dir: string;
  let db: Db;
  let clock: FakeClock;
  let events: JobEvent[];
  let calls: { meter: string; what: readonly string[]; priority: string | undefined; at: number }[];

  const config: Config = validateConfig({ id: 'dcu-test', stateDir: '/tmp/x', lines: [{ name: 'plc0', serial: { path: '/dev/null', baud: 9600 } }, { name: 'plc1', serial: { path: '/dev/null', baud: 9600 } }] });

  function scheduler(execute: Execute, path = join(dir, 'dcu.sqlite')): { s: Scheduler; jobs: JobStore } {
    db = openStore(path);
    const meters = new MeterRepository(db, testSecretBox());
    meters.applySeed([meter('A1'), meter('A2'), meter('B1', 'plc1')], clock.now());
    const lines = new Map(['plc0', 'plc1'].map((n) => [n, { name: n, arbiter: new LineArbiter(n, 1) } as unknown as LineRuntime]));
    const jobs = new JobStore(db);
    const s = new Scheduler({
      config,
      clock,
      logger: nullLogger,
      lines,
      meters,
      jobs,
      registry: {} as unknown as Registry,
      readings: {} as unknown as ReadingsStore,
      metaCache: {} as MeterMetadataCache,
      counters: {} as InvocationCounterStore,
      timeZone: 'UTC',
      random: () => 0.5,
      execute: async (_deps, m, what, options) => {
        calls.push({ meter: m, what, priority: options?.priority, at: clock.now() });
        const r = await execute(m, what, options ?? {});
        return { meter: m, requestedAt: clock.now(), finishedAt: clock.now(), ...r };
      },
    });
    s.on((e) => events.push(e));
    return { s, jobs };
  }

  const ok: Execute = () => Promise.resolve({ status: 'EXE', observations: [] });
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  const outbox = (): { stream: string; payload: Record<string, unknown> }[] =>
    db
      .prepare<[], { stream: string; payload: string }>("SELECT stream, payload FROM outbox WHERE stream = 'results' ORDER BY seq")
      .all()
      .map((r) => ({ stream: r.stream, payload: JSON.parse(r.payload) as Record<string, unknown> }));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-sched-'));
    clock = new FakeClock(T0);
    events = [];
    calls = [];
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a read, stores each result with its outbox message, and ends the job', async () => {
    const { s, jobs } = scheduler(ok);
    s.start();
    const sub = s.submit({ meters: ['A1', 'B1'], what: ['registers', '3:1.0.1.8.0.255:2'] }, 'local');
    expect(sub.created).toBe(true);
    expect(sub.job.priority).toBe('on-demand');
    await settle();
    expect(calls.map((c) => [c.meter, c.priority])).toEqual([
      ['A1', 'on-demand'],
      ['B1', 'on-demand'],
    ]);
    expect(jobs.get(sub.job.id)?.state).toBe('done');
    expect(jobs.counts(sub.job.id)).toMatchObject({ EXE: 2, FAIL: 0, queued: 0, running: 0 });
    const out = outbox().map((o) => [o.payload.type, o.payload.meter ?? null, o.payload.status ?? o.payload.state]);
    expect(out).toEqual([
      ['meter-result', 'A1', 'EXE'],
      ['meter-result', 'B1', 'EXE'],
      ['job-done', null, 'done'],
    ]);
    expect(events.filter((e) => e.type === 'done')).toHaveLength(1);
    await s.stop();
  });

  it.each([
    [{ meters: ['NOPE'], what: ['registers'] }, /not registered: NOPE/],
    [{ meters: ['A1'], what: ['bogus'] }, /"bogus" is neither one of registers/],
    [{ meters: ['A1'], what: ['3:1.0.1.8.0.255:200'] }, /attribute index 200/],
    [{ meters: ['A1'], lines: ['plc0'], what: ['registers'] }, /exactly one of "meters", "lines"/],
    [{ lines: ['plc9'], what: ['registers'] }, /unknown line\(s\): plc9/],
    [{ meters: ['A1'], what: ['registers'], window: ['25:00-06:00'] }, /window\[0\]/],
    [{ meters: ['A1'], what: ['registers'], deadline: '2020-01-01T00:00:00Z' }, /deadline .* is not after now/],
    [{ meters: ['A1'], what: ['registers'], deadline: 'tomorrow' }, /neither an ISO instant nor a duration/],
    [{ meters: ['A1'], what: [] }, /what: .*fewer than 1/],
    [{ meters: ['A1'], what: ['registers'], priority: 'urgent' }, /priority: "urgent" is not allowed/],
    [{ meters: ['A1'], what: ['registers'], extra: 1 }, /unknown key "extra"/],
    ['not an object', /invalid job request/],
  ])('refuses %j with a typed error and queues nothing', (doc, message) => {
    const { s, jobs } = scheduler(ok);
    s.start();
    let err: unknown;
    try {
      s.submit(doc, 'local');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DcuError);
    expect([ErrorCode.Usage, ErrorCode.UnknownMeter]).toContain((err as DcuError).code);
    expect((err as DcuError).message).toMatch(message);
    expect(jobs.list()).toEqual([]);
    void s.stop();
  });

  it('retries a failing meter after growing pauses, then records the success', async () => {
    let n = 0;
    const { s, jobs } = scheduler(() => Promise.resolve(++n < 3 ? { status: 'FAIL', reason: 'no answer', code: ErrorCode.Timeout, observations: [] } : { status: 'EXE', observations: [] }));
    s.start();
    const { job } = s.submit({ kind: 'plan', meters: ['A1'], what: ['daily'], retries: 3, retryInterval: '1m' }, 'hes');
    await settle();
    expect(jobs.meter(job.id, 'A1')).toMatchObject({ state: 'queued', attempts: 1, nextAt: T0 + 60_000 });
    await clock.advanceAsync(60_000, 10_000);
    expect(jobs.meter(job.id, 'A1')).toMatchObject({ state: 'queued', attempts: 2, nextAt: T0 + 60_000 + 120_000 });
    await clock.advanceAsync(120_000, 10_000);
    expect(jobs.meter(job.id, 'A1')).toMatchObject({ state: 'EXE', attempts: 3 });
    expect(calls.map((c) => c.at - T0)).toEqual([0, 60_000, 180_000]);
    expect(events.flatMap((e) => (e.type === 'result' ? [e.final] : []))).toEqual([false, false, true]);
    await s.stop();
  });

  it('does not retry what a retry cannot fix', async () => {
    const { s, jobs } = scheduler(() => Promise.resolve({ status: 'FAIL', reason: 'line x is not configured', code: ErrorCode.Config, observations: [] }));
    s.start();
    const { job } = s.submit({ meters: ['A1'], what: ['clock'], retries: 5 }, 'local');
    await settle();
    expect(jobs.meter(job.id, 'A1')).toMatchObject({ state: 'FAIL', attempts: 1 });
    await s.stop();
  });

  it('ends meters FAIL at the deadline, with the last reason', async () => {
    const { s, jobs } = scheduler(() => Promise.resolve({ status: 'FAIL', reason: 'no answer', code: ErrorCode.Timeout, observations: [] }));
    s.start();
    const { job } = s.submit({ kind: 'plan', meters: ['A1', 'A2'], what: ['daily'], retries: 10, retryInterval: '10m', deadline: '25m' }, 'hes');
    await clock.advanceAsync(30 * 60_000, 60_000);
    // A1: 0, 10 min, then 30 min > deadline → final after attempt 2; A2 waits behind A1 on the line
    const a1 = jobs.meter(job.id, 'A1');
    expect(a1?.state).toBe('FAIL');
    expect(jobs.get(job.id)?.state).toMatch(/done|expired/);
    expect(jobs.counts(job.id)).toMatchObject({ queued: 0, running: 0, FAIL: 2 });
    await s.stop();
  });

  it('waits for its daily time window', async () => {
    const { s, jobs } = scheduler(ok);
    s.start();
    const { job } = s.submit({ kind: 'plan', meters: ['A1'], what: ['daily'], window: ['22:00-06:00'] }, 'hes');
    await settle();
    expect(calls).toEqual([]);
    expect(jobs.meter(job.id, 'A1')?.nextAt).toBe(Date.parse('2026-12-01T22:00:00Z'));
    await clock.advanceAsync(10 * 3_600_000, 60_000);
    expect(calls.map((c) => new Date(c.at).toISOString())).toEqual(['2026-12-01T22:00:00.000Z']);
    expect(jobs.meter(job.id, 'A1')?.state).toBe('EXE');
    await s.stop();
  });

  it('cancels: queued meters end at once, the running one after its request in flight', async () => {
    let release: (() => void) | undefined;
    const { s, jobs } = scheduler(
      (_m, _w, options) =>
        new Promise((resolve) => {
          release = () => resolve({ status: 'FAIL', reason: 'aborted', code: ErrorCode.JobCancelled, observations: [] });
          options.signal?.addEventListener('abort', () => release?.());
        }),
    );
    s.start();
    const { job } = s.submit({ kind: 'plan', meters: ['A1', 'A2'], what: ['daily'] }, 'hes');
    await settle();
    expect(jobs.meter(job.id, 'A1')?.state).toBe('running');
    expect(s.cancel(job.id)).toEqual({ found: true, state: 'cancelled' });
    await settle();
    expect(jobs.meters(job.id).map((m) => [m.meter, m.state])).toEqual([
      ['A1', 'cancelled'],
      ['A2', 'cancelled'],
    ]);
    expect(calls).toHaveLength(1);
    expect(s.cancel('nope')).toEqual({ found: false, state: undefined });
    await s.stop();
  });

  it('a re-sent request with the same id is the same job', async () => {
    const { s, jobs } = scheduler(ok);
    s.start();
    const a = s.submit({ id: 'hes-42', meters: ['A1'], what: ['registers'] }, 'hes');
    const b = s.submit({ id: 'hes-42', meters: ['A1'], what: ['registers'] }, 'hes');
    expect([a.created, b.created]).toEqual([true, false]);
    await settle();
    expect(calls).toHaveLength(1);
    expect(jobs.list()).toHaveLength(1);
    await s.stop();
  });

  it('an on-demand read is not held back by a mass plan on the same line', async () => {
    const { s } = scheduler((m) => (m === 'A1' ? new Promise(() => undefined) : Promise.resolve({ status: 'EXE', observations: [] })));
    s.start();
    s.submit({ kind: 'plan', meters: ['A1'], what: ['daily'] }, 'hes');
    await settle();
    s.submit({ meters: ['A2'], what: ['registers'] }, 'local');
    await settle();
    expect(calls.map((c) => [c.meter, c.priority])).toEqual([
      ['A1', 'scheduled'],
      ['A2', 'on-demand'],
    ]);
  });

  it('after a crash, attempts left running are queued again and run once more', async () => {
    const path = join(dir, 'crash.sqlite');
    const first = scheduler(() => new Promise(() => undefined), path);
    first.s.start();
    const { job } = first.s.submit({ kind: 'plan', meters: ['A1'], what: ['daily'] }, 'hes');
    await settle();
    expect(first.jobs.meter(job.id, 'A1')?.state).toBe('running');
    db.close(); // the process dies: nothing else is written
    calls = [];
    const second = scheduler(ok, path);
    second.s.start();
    await settle();
    expect(calls.map((c) => c.meter)).toEqual(['A1']);
    expect(second.jobs.meter(job.id, 'A1')).toMatchObject({ state: 'EXE', attempts: 2 });
    await second.s.stop();
  });
  it('tells the watchdog whether it looks at its queue when it said it would', async () => {
    const { s } = scheduler(ok);
    expect(s.liveness(clock.now())).toBe('not started');
    s.start();
    expect(s.liveness(clock.now())).toBeUndefined();
    // the idle look is due within a minute: a little late is fine, much later is a stall
    expect(s.liveness(clock.now() + 80_000)).toBeUndefined();
    expect(s.liveness(clock.now() + 120_000)).toBe('its look at the job queue is 60 s overdue');
    clock.advance(60_000);
    expect(s.liveness(clock.now() + 80_000)).toBeUndefined();
    await s.stop();
    expect(s.liveness(clock.now())).toBe('stopped looking at the job queue');
  });
});
