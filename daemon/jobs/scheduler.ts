/**
 * The job scheduler: persisted jobs (SQLite, storage/jobs.ts) run meter by meter at their
 * priority, inside their time windows, before their deadline, with retries after growing,
 * jittered pauses; cancellable; a crash puts interrupted attempts back in the queue (reads
 * are idempotent: rows have unique keys, so a repeated attempt never duplicates data).
 *
 * Per line and priority class at most `capacity` attempts wait for or hold the line: a mass
 * plan of a thousand meters does not flood the arbiter, and an on-demand read is never stuck
 * behind the plan's own waiters (the arbiter serves it first).
 */
import { randomBytes } from 'node:crypto';
import { parseDuration } from '../../config/units';
import type { TimerHandle } from '../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import type { JobCounts, JobRecord, JobState, JobStore } from '../../storage/jobs';
import { PRIORITY, type PriorityClass } from '../lines/arbiter';
import type { JobDeps } from './deps';
import { readMeter, type OnDemandResult } from './on-demand';
import { parseJobRequest, type JobRequest } from './request';
import { inWindows, nextWindowStart, parseWindow, type DailyWindow } from './windows';

export const JOB_DEFAULTS = {
  read: { priority: 'on-demand', deadline: '15m', retries: 1, retryInterval: '30s' },
  plan: { priority: 'scheduled', deadline: '1d', retries: 3, retryInterval: '15m' },
} as const;

/** The longest the scheduler sleeps without looking (windows opening, deadlines). */
const IDLE_LOOK_MS = 60_000;
/** How late the next look may be before the watchdog calls the scheduler stalled. */
const LIVENESS_GRACE_MS = 30_000;
/** Failures a retry cannot fix. */
const FINAL_CODES = new Set<number>([ErrorCode.Usage, ErrorCode.UnknownMeter, ErrorCode.MeterIdentityMismatch, ErrorCode.Config, ErrorCode.JobCancelled, ErrorCode.UnknownObis, ErrorCode.UnknownClass]);

export type JobEvent =
  | { readonly type: 'result'; readonly job: string; readonly result: OnDemandResult; readonly final: boolean }
  | { readonly type: 'done'; readonly job: string; readonly state: JobState; readonly counts: JobCounts };

export interface SchedulerDeps extends JobDeps {
  readonly jobs: JobStore;
  /** IANA time zone of the daily windows (default: the system's). */
  readonly timeZone?: string;
  /** Jitter of retry pauses (default Math.random). */
  readonly random?: () => number;
  /** One meter's attempt (default readMeter; unit tests of the scheduler replace it). */
  readonly execute?: typeof readMeter;
}

export interface Submitted {
  readonly job: JobRecord;
  /** False when a job with this id existed already (a re-sent request): nothing new queued. */
  readonly created: boolean;
  readonly meters: readonly string[];
}

interface Running {
  readonly controller: AbortController;
  readonly key: string;
  readonly done: Promise<void>;
}

export class Scheduler {
  private timer: TimerHandle | undefined;
  private readonly running = new Map<string, Running>();
  /** Attempts waiting for or holding each line, per priority class. */
  private readonly slots = new Map<string, number>();
  private readonly listeners = new Set<(e: JobEvent) => void>();
  /** Parsed requests of jobs with queued or running meters (a plan's request can be large). */
  private readonly requests = new Map<string, JobRequest>();
  private stopping = false;
  private started = false;
  /** When the armed timer looks at the queue next (watchdog liveness); undefined when stopped. */
  private lookAt: number | undefined;
  private readonly timeZone: string;
  private readonly random: () => number;

  constructor(private readonly deps: SchedulerDeps) {
    this.timeZone = deps.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    this.random = deps.random ?? Math.random;
  }

  /** Puts attempts a crash interrupted back in the queue and starts working. */
  start(): void {
    const recovered = this.deps.jobs.recover(this.deps.clock.now());
    if (recovered > 0) this.deps.logger.info({ attempts: recovered }, 'attempts interrupted by the last stop are queued again');
    this.started = true;
    this.pump();
  }

  /** Listens to results and job ends; returns the unsubscribe function. */
  on(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Validates and queues a request; throws a typed DcuError (800) naming the problem, with
   * nothing queued, for a bad request or an unknown meter/line.
   */
  submit(doc: unknown, source: string): Submitted {
    const req = parseJobRequest(doc);
    const kind = req.kind ?? 'read';
    const defaults = JOB_DEFAULTS[kind];
    const now = this.deps.clock.now();
    const meters = this.selectMeters(req);
    const notBefore = req.notBefore === undefined ? now : Date.parse(req.notBefore);
    const deadline = this.deadlineOf(req.deadline ?? defaults.deadline, now);
    if (deadline <= Math.max(now, notBefore)) throw new DcuError(ErrorCode.Usage, `invalid job request: deadline ${new Date(deadline).toISOString()} is not after ${req.notBefore === undefined ? 'now' : 'notBefore'}`);
    for (const w of req.window ?? []) parseWindow(w);
    const id = req.id ?? `j-${now.toString(36)}-${randomBytes(3).toString('hex')}`;
    const priority = req.priority ?? defaults.priority;
    const r = this.deps.jobs.create({ id, kind, source, priority, request: req, notBefore, deadline }, meters, now);
    if (r.created) this.deps.logger.info({ job: id, kind, source, priority, meters: meters.length, what: req.what }, 'job queued');
    this.pump();
    return { job: r.job, created: r.created, meters: r.created ? meters : this.deps.jobs.meters(id).map((m) => m.meter) };
  }

  /** Cancels a job: queued meters end now; running ones stop after their request in flight. */
  cancel(id: string): { found: boolean; state: JobState | undefined } {
    const r = this.deps.jobs.cancel(id, this.deps.clock.now());
    if (!r.found) return { found: false, state: undefined };
    for (const meter of r.running) this.running.get(`${id}\u0000${meter}`)?.controller.abort();
    this.deps.logger.info({ job: id, running: r.running.length }, 'job cancelled');
    this.emitDoneIfClosed(id);
    return { found: true, state: this.deps.jobs.get(id)?.state };
  }

  /** Stops starting attempts; running ones are told to stop and go back to the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.timer?.cancel();
    this.lookAt = undefined;
    for (const r of this.running.values()) r.controller.abort();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  /** The job store (listing, counts). */
  get jobs(): JobStore {
    return this.deps.jobs;
  }

  /** Watchdog: undefined while the scheduler looks at its queue when it said it would, else why not. */
  liveness(now: number): string | undefined {
    if (this.lookAt === undefined) return this.started ? 'stopped looking at the job queue' : 'not started';
    const late = now - this.lookAt;
    return late > LIVENESS_GRACE_MS ? `its look at the job queue is ${Math.round(late / 1000)} s overdue` : undefined;
  }

  /** Attempts running now (health). */
  get active(): number {
    return this.running.size;
  }

  private selectMeters(req: JobRequest): string[] {
    const { meters, lines } = this.deps;
    if (req.meters !== undefined) {
      const unknown = req.meters.filter((m) => meters.get(m) === undefined);
      if (unknown.length > 0) throw new DcuError(ErrorCode.UnknownMeter, `not registered: ${unknown.slice(0, 20).join(', ')}${unknown.length > 20 ? ` and ${unknown.length - 20} more` : ''}`);
      return [...req.meters];
    }
    if (req.lines !== undefined) {
      const missing = req.lines.filter((l) => !lines.has(l));
      if (missing.length > 0) throw new DcuError(ErrorCode.Usage, `unknown line(s): ${missing.join(', ')}; configured: ${[...lines.keys()].join(', ')}`);
      const chosen = meters.list().filter((m) => req.lines?.includes(m.line) === true);
      if (chosen.length === 0) throw new DcuError(ErrorCode.Usage, `no meter is registered on ${req.lines.join(', ')}`);
      return chosen.map((m) => m.serial);
    }
    const all = meters.list().map((m) => m.serial);
    if (all.length === 0) throw new DcuError(ErrorCode.Usage, 'no meter is registered');
    return all;
  }

  private deadlineOf(text: string, now: number): number {
    const relative = parseDuration(text);
    if (relative !== undefined) return now + relative;
    const at = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(at)) throw new DcuError(ErrorCode.Usage, `invalid job request: deadline "${text}" is neither an ISO instant nor a duration such as "4h"`);
    return at;
  }

  private emit(e: JobEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'job listener failed');
      }
    }
  }

  private emitDoneIfClosed(job: string): void {
    const j = this.deps.jobs.get(job);
    if (j === undefined || j.state === 'queued' || j.state === 'running') return;
    this.requests.delete(job);
    this.emit({ type: 'done', job, state: j.state, counts: this.deps.jobs.counts(job) });
  }

  /** Expires late jobs, starts what is due and may run, and sets the timer for the next look. */
  private pump(): void {
    if (this.stopping || !this.started) return;
    const { jobs, clock } = this.deps;
    const now = clock.now();
    try {
      const expired = jobs.expire(now, ErrorCode.JobDeadline);
      for (const e of expired) this.emitExpired(e.job, e.meter);
      for (const job of new Set(expired.map((e) => e.job))) this.emitDoneIfClosed(job);
      for (const due of jobs.due(now)) {
        const key = `${due.job}\u0000${due.meter}`;
        if (this.running.has(key)) continue;
        const req = this.requestOf(due.job);
        if (req === undefined) continue;
        const windows = (req.window ?? []).map(parseWindow);
        if (!inWindows(now, windows, this.timeZone)) {
          jobs.retryLater(due.job, due.meter, nextWindowStart(now, windows, this.timeZone), { reason: 'waiting for its time window' }, now);
          continue;
        }
        const m = this.deps.meters.get(due.meter);
        const lineName = m?.line ?? '';
        const capacity = this.deps.lines.get(lineName)?.arbiter.capacity ?? 1;
        const slotKey = `${lineName}\u0000${due.priority}`;
        if ((this.slots.get(slotKey) ?? 0) >= capacity) continue;
        this.slots.set(slotKey, (this.slots.get(slotKey) ?? 0) + 1);
        this.launch(key, due.job, due.meter, due.priority as PriorityClass, req, windows, due.deadline, () => this.slots.set(slotKey, (this.slots.get(slotKey) ?? 1) - 1));
      }
    } catch (e) {
      this.deps.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'job scheduling failed; retrying in a minute');
    }
    // Attempts due now but waiting for a slot start when a running one ends (it pumps again).
    this.timer?.cancel();
    const next = jobs.nextDueAfter(now);
    const wait = Math.min(IDLE_LOOK_MS, next === undefined ? IDLE_LOOK_MS : next - now);
    this.timer = clock.setTimer(wait, () => this.pump());
    this.lookAt = now + wait;
  }

  private requestOf(job: string): JobRequest | undefined {
    let req = this.requests.get(job);
    if (req === undefined) {
      req = this.deps.jobs.get(job)?.request as JobRequest | undefined;
      if (req !== undefined) this.requests.set(job, req);
    }
    return req;
  }

  private emitExpired(job: string, meter: string): void {
    const r = this.deps.jobs.meter(job, meter);
    const now = this.deps.clock.now();
    this.emit({ type: 'result', job, final: true, result: { meter, status: 'FAIL', reason: r?.reason ?? 'deadline passed', code: ErrorCode.JobDeadline, observations: [], job, attempt: r?.attempts ?? 0, requestedAt: now, finishedAt: now } });
  }

  private launch(key: string, job: string, meter: string, priority: PriorityClass, req: JobRequest, windows: readonly DailyWindow[], deadline: number | null, freeSlot: () => void): void {
    const { jobs, clock, logger } = this.deps;
    const controller = new AbortController();
    const attempt = jobs.start(job, meter, clock.now());
    const run = async (): Promise<void> => {
      const raw = await (this.deps.execute ?? readMeter)(this.deps, meter, req.what, { priority, signal: controller.signal });
      const result: OnDemandResult = { ...raw, job, attempt };
      const now = clock.now();
      if (this.stopping && result.status === 'FAIL') {
        jobs.interrupted(job, meter, now);
        return;
      }
      if (controller.signal.aborted && result.status === 'FAIL') {
        jobs.finish(job, meter, 'cancelled', { ...result, reason: 'cancelled', code: ErrorCode.JobCancelled }, now);
        this.emit({ type: 'result', job, final: true, result: { ...result, reason: 'cancelled', code: ErrorCode.JobCancelled } });
        this.emitDoneIfClosed(job);
        return;
      }
      const retries = req.retries ?? JOB_DEFAULTS[req.kind ?? 'read'].retries;
      if (result.status === 'FAIL' && attempt <= retries && !FINAL_CODES.has(result.code ?? 0)) {
        const base = parseDuration(req.retryInterval ?? JOB_DEFAULTS[req.kind ?? 'read'].retryInterval) ?? 30_000;
        const pause = base * 2 ** (attempt - 1) * (0.8 + 0.4 * this.random());
        const at = nextWindowStart(now + Math.round(pause), windows, this.timeZone);
        if (deadline === null || at < deadline) {
          jobs.retryLater(job, meter, at, result, now);
          logger.info({ job, meter, attempt, nextAttempt: new Date(at).toISOString(), reason: result.reason }, 'attempt failed: retried later');
          this.emit({ type: 'result', job, final: false, result });
          return;
        }
      }
      try {
        jobs.finish(job, meter, result.status, result, now);
      } catch (e) {
        // Not recorded (the store refused even its reserve): the requester still gets the
        // answer; the attempt stays `running` and runs again after a restart.
        this.emit({ type: 'result', job, final: true, result: { ...result, observations: [...result.observations, `result not stored: ${e instanceof Error ? e.message : String(e)}`] } });
        throw e;
      }
      this.emit({ type: 'result', job, final: true, result });
      this.emitDoneIfClosed(job);
    };
    const done = run()
      .catch((e: unknown) => {
        logger.error({ job, meter, err: e instanceof Error ? e.message : String(e) }, 'job attempt could not be recorded; it runs again after a restart');
      })
      .finally(() => {
        this.running.delete(key);
        freeSlot();
        this.pump();
      });
    this.running.set(key, { controller, key, done });
  }
}

export { PRIORITY };
