/**
 * Jobs in SQLite (migration 008): a job, its meters with their state, attempts and last
 * result. Every final per-meter result is written in the same transaction as its outbox
 * message (stream `results`), so the HES gets each result exactly as it was stored, even
 * after a crash. Ids given by the requester make re-sent requests idempotent.
 */
import { inReserve, write as writeData, type Db } from './db';

/**
 * Job bookkeeping is small and bounded: it may use the store's reserve, so a read asked for
 * while readings fill the store is still queued and answered (its readings may be refused).
 */
function write<T>(db: Db, what: string, fn: () => T): T {
  return inReserve(db, () => writeData(db, what, fn));
}
import { Outbox } from './outbox';

export type JobKind = 'read' | 'plan';
export type JobState = 'queued' | 'running' | 'done' | 'cancelled' | 'expired';
export type JobMeterState = 'queued' | 'running' | 'EXE' | 'WARN' | 'FAIL' | 'cancelled';
export type FinalMeterState = Exclude<JobMeterState, 'queued' | 'running'>;

export interface NewJob {
  readonly id: string;
  readonly kind: JobKind;
  readonly source: string;
  readonly priority: string;
  readonly request: unknown;
  readonly notBefore: number;
  readonly deadline: number | null;
}

export interface JobRecord extends NewJob {
  readonly state: JobState;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
}

export interface JobMeterRecord {
  readonly job: string;
  readonly meter: string;
  readonly state: JobMeterState;
  readonly attempts: number;
  readonly nextAt: number;
  readonly reason: string | null;
  readonly code: number | null;
  readonly result: unknown;
  readonly updatedAt: number;
}

export interface JobCounts {
  readonly queued: number;
  readonly running: number;
  readonly EXE: number;
  readonly WARN: number;
  readonly FAIL: number;
  readonly cancelled: number;
}

/** A queued attempt that may start now, with what the scheduler needs to order it. */
export interface DueAttempt {
  readonly job: string;
  readonly meter: string;
  readonly attempts: number;
  readonly priority: string;
  readonly deadline: number | null;
}

interface JobRow {
  id: string;
  kind: JobKind;
  source: string;
  priority: string;
  request: string;
  state: JobState;
  not_before: number;
  deadline: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

interface MeterRow {
  job: string;
  meter: string;
  state: JobMeterState;
  attempts: number;
  next_at: number;
  reason: string | null;
  code: number | null;
  result: string | null;
  updated_at: number;
}

const jobOf = (r: JobRow): JobRecord => ({
  id: r.id,
  kind: r.kind,
  source: r.source,
  priority: r.priority,
  request: JSON.parse(r.request) as unknown,
  state: r.state,
  notBefore: r.not_before,
  deadline: r.deadline,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
});

const meterOf = (r: MeterRow): JobMeterRecord => ({
  job: r.job,
  meter: r.meter,
  state: r.state,
  attempts: r.attempts,
  nextAt: r.next_at,
  reason: r.reason,
  code: r.code,
  result: r.result === null ? null : (JSON.parse(r.result) as unknown),
  updatedAt: r.updated_at,
});

const RANK = "CASE j.priority WHEN 'on-demand' THEN 3 WHEN 'firmware' THEN 2 WHEN 'scheduled' THEN 1 ELSE 0 END";

export class JobStore {
  private readonly outbox: Outbox;

  constructor(private readonly db: Db) {
    this.outbox = new Outbox(db);
  }

  /**
   * Creates a job with its meters, or returns the existing one with that id (a re-sent
   * request): `created` says which.
   */
  create(job: NewJob, meters: readonly string[], now: number): { job: JobRecord; created: boolean } {
    return write(this.db, `job ${job.id}`, () => {
      const existing = this.get(job.id);
      if (existing !== undefined) return { job: existing, created: false };
      this.db
        .prepare('INSERT INTO jobs (id, kind, source, priority, request, state, not_before, deadline, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(job.id, job.kind, job.source, job.priority, JSON.stringify(job.request), 'queued', job.notBefore, job.deadline, now, now);
      const add = this.db.prepare('INSERT INTO job_meters (job, meter, state, next_at, updated_at) VALUES (?, ?, ?, ?, ?)');
      for (const m of meters) add.run(job.id, m, 'queued', job.notBefore, now);
      const created = this.get(job.id);
      if (created === undefined) throw new Error(`job ${job.id} vanished while being created`);
      return { job: created, created: true };
    });
  }

  get(id: string): JobRecord | undefined {
    const r = this.db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?').get(id);
    return r === undefined ? undefined : jobOf(r);
  }

  /** Newest first. */
  list(options: { state?: JobState; limit?: number } = {}): JobRecord[] {
    const limit = options.limit ?? 100;
    const rows =
      options.state === undefined
        ? this.db.prepare<[number], JobRow>('SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?').all(limit)
        : this.db.prepare<[string, number], JobRow>('SELECT * FROM jobs WHERE state = ? ORDER BY created_at DESC, id DESC LIMIT ?').all(options.state, limit);
    return rows.map(jobOf);
  }

  meters(job: string): JobMeterRecord[] {
    return this.db.prepare<[string], MeterRow>('SELECT * FROM job_meters WHERE job = ? ORDER BY meter').all(job).map(meterOf);
  }

  meter(job: string, meter: string): JobMeterRecord | undefined {
    const r = this.db.prepare<[string, string], MeterRow>('SELECT * FROM job_meters WHERE job = ? AND meter = ?').get(job, meter);
    return r === undefined ? undefined : meterOf(r);
  }

  counts(job: string): JobCounts {
    const out: Record<string, number> = { queued: 0, running: 0, EXE: 0, WARN: 0, FAIL: 0, cancelled: 0 };
    for (const r of this.db.prepare<[string], { state: string; n: number }>('SELECT state, count(*) AS n FROM job_meters WHERE job = ? GROUP BY state').all(job)) out[r.state] = r.n;
    return out as unknown as JobCounts;
  }

  /** Queued attempts that may start at `now`, most urgent job first, then oldest, then by meter. */
  due(now: number, limit = 500): DueAttempt[] {
    return this.db
      .prepare<[number, number], DueAttempt>(
        `SELECT m.job, m.meter, m.attempts, j.priority, j.deadline FROM job_meters m JOIN jobs j ON j.id = m.job
         WHERE m.state = 'queued' AND m.next_at <= ? AND j.state IN ('queued', 'running')
         ORDER BY ${RANK} DESC, j.created_at, j.id, m.meter LIMIT ?`,
      )
      .all(now, limit);
  }

  /** The earliest next attempt after `now` of any queued meter (for the scheduler's timer). */
  nextDueAfter(now: number): number | undefined {
    const r = this.db.prepare<[number], { t: number | null }>("SELECT min(m.next_at) AS t FROM job_meters m JOIN jobs j ON j.id = m.job WHERE m.state = 'queued' AND m.next_at > ? AND j.state IN ('queued', 'running')").get(now);
    return r?.t ?? undefined;
  }

  /** An attempt starts: counted before it runs, so a crash mid-attempt still counts it. */
  start(job: string, meter: string, now: number): number {
    return write(this.db, `the start of ${job}/${meter}`, () => {
      this.db.prepare("UPDATE job_meters SET state = 'running', attempts = attempts + 1, updated_at = ? WHERE job = ? AND meter = ?").run(now, job, meter);
      this.db.prepare("UPDATE jobs SET state = 'running', updated_at = ? WHERE id = ? AND state = 'queued'").run(now, job);
      return this.meter(job, meter)?.attempts ?? 1;
    });
  }

  /** A failed attempt that will be retried at `nextAt`; its result is kept for `jobs show`. */
  retryLater(job: string, meter: string, nextAt: number, result: { reason?: string; code?: number }, now: number): void {
    write(this.db, `the retry of ${job}/${meter}`, () => {
      this.db.prepare("UPDATE job_meters SET state = 'queued', next_at = ?, reason = ?, code = ?, result = ?, updated_at = ? WHERE job = ? AND meter = ?").run(nextAt, result.reason ?? null, result.code ?? null, JSON.stringify(result), now, job, meter);
    });
  }

  /** An attempt interrupted by shutdown: back to queued, the attempt not counted. */
  interrupted(job: string, meter: string, now: number): void {
    write(this.db, `the interruption of ${job}/${meter}`, () => {
      this.db.prepare("UPDATE job_meters SET state = 'queued', attempts = max(attempts - 1, 0), updated_at = ? WHERE job = ? AND meter = ? AND state = 'running'").run(now, job, meter);
    });
  }

  /**
   * A meter's final result, its outbox message and, when it was the job's last meter, the
   * job's end and summary message — one transaction. Returns the job's state after it.
   */
  finish(job: string, meter: string, state: FinalMeterState, result: { reason?: string; code?: number } & object, now: number): JobState {
    return write(this.db, `the result of ${job}/${meter}`, () => {
      this.db.prepare('UPDATE job_meters SET state = ?, reason = ?, code = ?, result = ?, updated_at = ? WHERE job = ? AND meter = ?').run(state, result.reason ?? null, result.code ?? null, JSON.stringify(result), now, job, meter);
      this.outbox.append('results', { type: 'meter-result', job, ...result, meter, status: state === 'cancelled' ? 'FAIL' : state }, now);
      return this.closeIfDone(job, now);
    });
  }

  /** Ends a job whose meters are all final; writes its summary to the outbox. */
  private closeIfDone(job: string, now: number, ended: JobState = 'done'): JobState {
    const j = this.get(job);
    if (j === undefined) return 'done';
    const c = this.counts(job);
    if (c.queued + c.running > 0) return j.state;
    if (j.state === 'done' || j.state === 'expired') return j.state;
    const state: JobState = j.state === 'cancelled' ? 'cancelled' : ended;
    this.db.prepare('UPDATE jobs SET state = ?, updated_at = ?, finished_at = ? WHERE id = ?').run(state, now, now, job);
    this.outbox.append('results', { type: 'job-done', job, state, exe: c.EXE, warn: c.WARN, fail: c.FAIL, cancelled: c.cancelled, finishedAt: now }, now);
    return state;
  }

  /**
   * Cancels a job: queued meters end `cancelled` now (with their outbox results); running
   * ones are returned for the scheduler to stop after their request in flight.
   */
  cancel(job: string, now: number): { found: boolean; running: string[]; state: JobState | undefined } {
    return write(this.db, `the cancellation of ${job}`, () => {
      const j = this.get(job);
      if (j === undefined) return { found: false, running: [], state: undefined };
      if (j.state === 'done' || j.state === 'cancelled' || j.state === 'expired') return { found: true, running: [], state: j.state };
      this.db.prepare("UPDATE jobs SET state = 'cancelled', updated_at = ? WHERE id = ?").run(now, job);
      const queued = this.db.prepare<[string], { meter: string }>("SELECT meter FROM job_meters WHERE job = ? AND state = 'queued'").all(job);
      for (const q of queued) {
        this.db.prepare("UPDATE job_meters SET state = 'cancelled', reason = 'cancelled', updated_at = ? WHERE job = ? AND meter = ?").run(now, job, q.meter);
        this.outbox.append('results', { type: 'meter-result', job, meter: q.meter, status: 'FAIL', reason: 'cancelled before it started', code: 804 }, now);
      }
      const running = this.db.prepare<[string], { meter: string }>("SELECT meter FROM job_meters WHERE job = ? AND state = 'running'").all(job).map((r) => r.meter);
      return { found: true, running, state: this.closeIfDone(job, now) };
    });
  }

  /** Queued meters of jobs past their deadline end FAIL ("deadline passed"); returns them. */
  expire(now: number, code: number): { job: string; meter: string }[] {
    return write(this.db, 'expired jobs', () => {
      const late = this.db
        .prepare<[number], { job: string; meter: string; attempts: number; reason: string | null }>(
          "SELECT m.job, m.meter, m.attempts, m.reason FROM job_meters m JOIN jobs j ON j.id = m.job WHERE m.state = 'queued' AND j.deadline IS NOT NULL AND j.deadline < ? AND j.state IN ('queued', 'running')",
        )
        .all(now);
      const jobs = new Set<string>();
      for (const l of late) {
        const reason = l.attempts === 0 ? 'deadline passed before the meter could be read' : `deadline passed after ${l.attempts} attempt(s); last: ${l.reason ?? 'unknown'}`;
        this.db.prepare("UPDATE job_meters SET state = 'FAIL', reason = ?, code = ?, updated_at = ? WHERE job = ? AND meter = ?").run(reason, code, now, l.job, l.meter);
        this.outbox.append('results', { type: 'meter-result', job: l.job, meter: l.meter, status: 'FAIL', reason, code }, now);
        jobs.add(l.job);
      }
      for (const j of jobs) this.closeIfDone(j, now, 'expired');
      return late.map((l) => ({ job: l.job, meter: l.meter }));
    });
  }

  /** Start-up after a crash: attempts left `running` go back to `queued`. */
  recover(now: number): number {
    return write(this.db, 'job recovery', () => this.db.prepare("UPDATE job_meters SET state = 'queued', updated_at = ? WHERE state = 'running'").run(now).changes);
  }
}
