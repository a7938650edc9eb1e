/**
 * Scheduled collection: every `collection.<class>.every` (load-profile, daily, billing), each
 * registered meter's profile of that class is collected from its watermark, one association at a time per serial line (the
 * line arbiter), in parallel across lines and up to the concurrency on TCP. A collection
 * yields its line between range reads when a more urgent job waits (it releases the
 * association, lets the other job through, and continues from the watermark). What each
 * attempt observed goes to the registry (linked, commissioned, unreachable…).
 */
import { parseDuration } from '../../config/units';
import type { DlmsClient } from '../../protocol/client/client';
import type { TimerHandle } from '../../protocol/common/clock';
import { ErrorCode } from '../../protocol/common/errors';
import type { MeterRecord } from '../../storage/meters';
import type { EventLog } from '../../storage/events';
import { collectProfile, type CollectProfileResult } from '../jobs/collect-profile';
import { LOAD_PROFILE, PROFILE_CLASSES, type ProfileClass } from '../jobs/profile-classes';
import { readEnergyRegisters } from '../jobs/basic-read';
import { checkClock, type ClockPolicy } from '../jobs/meter-checks';
import { DEFAULT_BACKOFF, MeterBackoff } from './backoff';
import { checkAlarmRegister, collectEventLogs } from '../jobs/meter-events';
import type { JobDeps } from '../jobs/deps';
import type { PriorityClass } from '../lines/arbiter';
import { failure, withMeterSession } from '../meters/session';

export { LOAD_PROFILE, PROFILE_CLASSES, type ProfileClass };

/** What the collector collects: profiles from their watermark, the meter's event logs, its alarm register. */
export type CollectClass = ProfileClass | 'events' | 'alarms' | 'registers';
const COLLECT_CLASSES: readonly CollectClass[] = [...(Object.keys(PROFILE_CLASSES) as ProfileClass[]), 'events', 'alarms', 'registers'];
const DEFAULT_BACKFILL: Readonly<Record<CollectClass, string>> = { ...Object.fromEntries(Object.entries(PROFILE_CLASSES).map(([k, v]) => [k, v.defaultBackfill])), events: '31d', alarms: '0s', registers: '0s' } as Record<CollectClass, string>;

export interface CollectorDeps extends JobDeps {
  readonly events: EventLog;
  /** Jitter of the retry pauses (default Math.random). */
  readonly random?: () => number;
}

export interface MeterOutcome {
  readonly meter: string;
  readonly status: 'EXE' | 'WARN' | 'FAIL';
  readonly reason?: string;
  /** DcuError code of a FAIL, when there is one. */
  readonly code?: number;
  /** Per collected class. */
  readonly results?: Partial<Record<CollectClass, CollectProfileResult>>;
}

/** A meter a scheduled collection cycle finished with (metrics: job class `scheduled`). */
export interface CollectedMeter {
  readonly meter: string;
  readonly status: MeterOutcome['status'];
  /** From the meter's turn in the cycle to its outcome (line waits included). */
  readonly ms: number;
}

/** How late a planned cycle may start, and how long a cycle may go without a meter finishing, before the watchdog calls the collector stalled. */
const LIVENESS_GRACE_MS = 60_000;
const CYCLE_STALL_MS = 30 * 60_000;

export class Collector {
  private readonly timers = new Map<CollectClass, TimerHandle>();
  /** When each class's next cycle is due (watchdog liveness). */
  private readonly dueAt = new Map<CollectClass, number>();
  /** Last sign of progress: a cycle started or a meter finished. */
  private progressAt = 0;
  private readonly running = new Set<Promise<unknown>>();
  private stopping = false;
  /** Completed cycles (health, tests). */
  cycles = 0;
  /** Meters that keep failing are tried again after growing pauses, not every cycle. */
  private readonly backoff: MeterBackoff;
  /** Last clock check per meter (concentrator time); after a restart every clock is checked again. */
  private readonly clockCheckedAt = new Map<string, number>();
  private readonly clockPolicy: ClockPolicy;
  private readonly clockEveryMs: number;
  private readonly meterListeners = new Set<(e: CollectedMeter) => void>();

  constructor(private readonly deps: CollectorDeps) {
    // The first pause is one cycle when cycles are shorter than 15 min: a meter that missed a
    // 1-minute cycle (a short power cut) is tried again at the next one, not a quarter of an hour later.
    const shortest = Math.min(...this.plans().map((p) => p.everyMs));
    this.backoff = new MeterBackoff(deps.random ?? Math.random, { ...DEFAULT_BACKOFF, baseMs: Math.min(DEFAULT_BACKOFF.baseMs, shortest) });
    const c = deps.config;
    this.clockPolicy = { syncAboveMs: parseDuration(c.clock.syncAbove) ?? 300_000, eventAboveMs: parseDuration(c.clock.eventAbove) ?? 600_000 };
    const plan = c.collection.clock;
    this.clockEveryMs = plan?.enabled === false ? Number.POSITIVE_INFINITY : (parseDuration(plan?.every ?? '1d') ?? 86_400_000);
  }

  /** Each meter a scheduled cycle finishes; returns the unsubscribe. */
  onMeter(listener: (e: CollectedMeter) => void): () => void {
    this.meterListeners.add(listener);
    return () => this.meterListeners.delete(listener);
  }

  /** Read through a method: stop() flips it while a collection awaits. */
  private isStopping(): boolean {
    return this.stopping;
  }

  /** The configured profile classes, enabled. */
  private plans(): { cls: CollectClass; everyMs: number; backfillMs: number }[] {
    return COLLECT_CLASSES.flatMap((cls) => {
      const plan = this.deps.config.collection[cls];
      if (plan === undefined || !plan.enabled) return [];
      return [{ cls, everyMs: parseDuration(plan.every) ?? 900_000, backfillMs: parseDuration(plan.backfill) ?? parseDuration(DEFAULT_BACKFILL[cls]) ?? 0 }];
    });
  }

  /** Collects every configured class now, then each at its interval, aligned to it. */
  start(): void {
    const plans = this.plans();
    if (plans.length === 0) {
      this.deps.logger.info('no profile collection is configured (collection.load-profile, daily, billing)');
      return;
    }
    const first = this.cycleLogged(plans.map((p) => p.cls));
    for (const plan of plans) {
      const loop = (): void => {
        this.dueAt.delete(plan.cls);
        if (this.stopping) return;
        void this.cycleLogged([plan.cls]).finally(() => schedule());
      };
      const schedule = (): void => {
        if (this.stopping) return;
        const now = this.deps.clock.now();
        const wait = plan.everyMs - (now % plan.everyMs) + 1000;
        this.timers.set(plan.cls, this.deps.clock.setTimer(wait, loop));
        this.dueAt.set(plan.cls, now + wait);
      };
      void first.finally(() => schedule());
    }
  }

  /** A scheduled cycle: tracked for stop(), never an unhandled rejection (a full store is logged). */
  private cycleLogged(classes: readonly CollectClass[]): Promise<unknown> {
    const p = this.runCycle(classes).catch((e: unknown) => {
      this.deps.logger.error({ classes, err: e instanceof Error ? e.message : String(e) }, 'collection cycle failed');
    });
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return p;
  }

  /** Watchdog: undefined while cycles start when planned and running ones see meters finish, else why not. */
  liveness(now: number): string | undefined {
    if (this.stopping) return 'stopped';
    for (const [cls, at] of this.dueAt) if (now - at > LIVENESS_GRACE_MS) return `the ${cls} cycle is ${Math.round((now - at) / 1000)} s overdue`;
    if (this.running.size > 0 && now - this.progressAt > CYCLE_STALL_MS) return `no meter finished for ${Math.round((now - this.progressAt) / 60_000)} min`;
    return undefined;
  }

  /** Stops scheduling; the request in flight finishes and associations are released. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers.values()) t.cancel();
    await Promise.allSettled([...this.running]);
  }

  /** One collection cycle of the given classes over every registered meter. */
  async runCycle(classes: readonly CollectClass[] = ['load-profile']): Promise<MeterOutcome[]> {
    const now = this.deps.clock.now();
    this.progressAt = now;
    const all = this.deps.meters.list();
    const meters = all.filter((m) => this.backoff.due(m.serial, now));
    if (meters.length < all.length) this.deps.logger.debug({ waiting: all.length - meters.length }, 'meters in retry backoff skipped this cycle');
    const outcomes = await Promise.all(
      meters.map(async (m) => {
        const o = await this.collectMeter(m, 'scheduled', classes);
        this.progressAt = this.deps.clock.now();
        for (const l of this.meterListeners) l({ meter: m.serial, status: o.status, ms: this.progressAt - now });
        if (o.status !== 'FAIL') this.backoff.succeeded(m.serial);
        else if (o.code !== ErrorCode.StorageFull && !this.isStopping()) {
          const at = this.backoff.failed(m.serial, this.deps.clock.now());
          this.deps.logger.info({ meter: m.serial, nextAttempt: new Date(at).toISOString(), reason: o.reason }, 'meter failed: next attempt after a pause');
        }
        return o;
      }),
    );
    this.deps.registry.tick();
    this.cycles++;
    const count = (s: string): number => outcomes.filter((o) => o.status === s).length;
    this.deps.logger.info({ classes, meters: outcomes.length, exe: count('EXE'), warn: count('WARN'), fail: count('FAIL') }, 'collection cycle done');
    return outcomes;
  }

  /** The store is full for readings: one alarm, readings stay with the meters (watermarks hold). */
  private storeFull(reason: string): void {
    try {
      if (this.deps.events.storeFull(`readings are not stored until there is room; the meters keep them and collection resumes from the watermarks: ${reason}`, this.deps.clock.now())) {
        this.deps.logger.error({ maxBytes: this.deps.config.storage.maxBytes, reason }, 'store full: readings are not stored until there is room');
      }
    } catch (e) {
      this.deps.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'store full, and the alarm could not be stored');
    }
  }

  /** The clock policy, when this meter's clock is due for a check. */
  private async clockDue(client: DlmsClient, serial: string): Promise<void> {
    const now = this.deps.clock.now();
    if (now - (this.clockCheckedAt.get(serial) ?? Number.NEGATIVE_INFINITY) < this.clockEveryMs) return;
    const check = await checkClock(client, this.clockPolicy);
    this.clockCheckedAt.set(serial, now);
    const drift = check.driftMs === null ? 'unknown (the meter sent wildcards)' : `${(check.driftMs / 1000).toFixed(1)} s`;
    if (check.action === 'synchronise') {
      const ok = check.setResult === 0;
      this.deps.registry.note(serial, ok ? 'clock-synchronised' : 'clock-sync-failed', `drift ${drift}${ok ? '; clock set' : `; the meter refused the clock (result ${check.setResult ?? '?'})`}`);
    } else if (check.action === 'report') {
      this.deps.registry.note(serial, 'clock-drift', `drift ${drift} is beyond clock.eventAbove: not synchronised automatically`);
    }
  }

  /** Collects one meter's profiles in one association, yielding the line to more urgent jobs between reads. */
  async collectMeter(m: MeterRecord, priority: PriorityClass, classes: readonly CollectClass[] = ['load-profile']): Promise<MeterOutcome> {
    const { clock, lines, logger } = this.deps;
    const line = lines.get(m.line);
    if (line === undefined) return { meter: m.serial, status: 'FAIL', reason: `line ${m.line} is not configured` };
    const backfill = new Map(this.plans().map((p) => [p.cls, p.backfillMs]));
    const results: Partial<Record<CollectClass, CollectProfileResult>> = {};
    const pending = new Set(classes);
    const log = logger.child({ meter: m.serial, line: line.name });
    let lease;
    try {
      lease = await line.arbiter.acquire(m.serial, priority);
    } catch (e) {
      return { meter: m.serial, status: 'FAIL', reason: failure(e).reason };
    }
    try {
      for (;;) {
        if (this.isStopping()) return { meter: m.serial, status: 'FAIL', reason: 'dcud is stopping', results };
        const outcome = await withMeterSession(m, line, this.deps, log, async (client) => {
          await this.clockDue(client, m.serial);
          for (const cls of [...pending]) {
            const between = (): boolean => !lease.preempted && !this.isStopping();
            const backfillMs = backfill.get(cls) ?? parseDuration(DEFAULT_BACKFILL[cls]) ?? 0;
            let result: CollectProfileResult;
            if (cls === 'events') {
              result = await collectEventLogs(client, this.deps.readings, { meter: m.serial, now: clock.now(), backfillMs, between });
            } else if (cls === 'registers') {
              const r = await readEnergyRegisters(client);
              const stored = this.deps.readings.storeRegisters(m.serial, clock.now(), r.registers);
              result = { status: r.observations.length > 0 ? 'WARN' : 'EXE', observations: r.observations, inserted: stored.inserted, duplicates: stored.duplicates, collectedTo: clock.now(), reads: 1, complete: true };
            } else if (cls === 'alarms') {
              const alarms = await checkAlarmRegister(client, this.deps.events, m.serial, clock.now(), { reset: this.deps.config.collection.alarms?.resetAfterRead === true });
              const observations = alarms === undefined ? ['alarm register 0.0.97.98.0.255 not readable'] : alarms.reset !== undefined && alarms.reset !== 'done' ? [`alarm register not reset: ${alarms.reset}`] : [];
              result = { status: observations.length > 0 ? 'WARN' : 'EXE', observations, inserted: alarms?.raised.length ?? 0, duplicates: 0, collectedTo: clock.now(), reads: 1, complete: true };
            } else {
              const c = PROFILE_CLASSES[cls];
              result = await collectProfile(client, this.deps.readings, {
                meter: m.serial,
                profile: c.profile,
                stream: cls,
                now: clock.now(),
                backfillMs,
                maxSpanMs: c.maxSpanMs,
                cache: { store: this.deps.metaCache, key: m.serial },
                between,
              });
            }
            results[cls] = result;
            log.debug({ class: cls, inserted: result.inserted, collectedTo: result.collectedTo, reads: result.reads }, 'profile collected');
            if (!result.complete) return true;
            pending.delete(cls);
            if (this.isStopping()) return false;
            if (lease.preempted) return pending.size > 0;
          }
          return false;
        });
        if (!outcome.ok) {
          if (outcome.code === ErrorCode.StorageFull) this.storeFull(outcome.reason);
          return { meter: m.serial, status: 'FAIL', reason: outcome.reason, ...(outcome.code === undefined ? {} : { code: outcome.code }), results };
        }
        if (Object.values(results).some((r) => r.inserted > 0)) this.deps.events.storeOk(clock.now());
        if (!outcome.value || this.isStopping()) {
          const all = Object.values(results);
          return { meter: m.serial, status: all.some((r) => r.status === 'WARN') ? 'WARN' : 'EXE', results };
        }
        log.debug('yielding the line to a more urgent job');
        await lease.yield();
      }
    } finally {
      lease.release();
    }
  }
}
