/**
 * Store maintenance on its own timer (the injected clock): every `storage.pruneEvery`, data
 * the HES already has and that is older than its class's `storage.retention` is deleted in
 * small batches (storage/retention.ts), other work running between batches; then the freed
 * pages go back to the file system with a bounded incremental vacuum. Unsent data is never
 * pruned by age.
 */
import type { Config } from '../config/schema';
import { parseDuration } from '../config/units';
import type { Clock, TimerHandle } from '../protocol/common/clock';
import type { Logger } from '../protocol/common/log';
import type { Db } from '../storage/db';
import { Retention, type PruneCounts, type RetentionPolicy } from '../storage/retention';
import { formatObis } from '../protocol/cosem/obis';
import { PROFILE_CLASSES, type ProfileClass } from './jobs/profile-classes';

export interface MaintenanceDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: Config;
  /** Lets other work run between batches (default: one turn of the event loop). */
  readonly pause?: () => Promise<void>;
}

export interface MaintenanceReport extends PruneCounts {
  /** Pages given back to the file system. */
  readonly vacuumedPages: number;
}

/** Pages given back per incremental_vacuum step (4 MiB), and steps per pass. */
const VACUUM_STEP_PAGES = 1024;
const VACUUM_MAX_STEPS = 64;
const FIRST_PASS_AFTER_MS = 10 * 60_000;

function keepMs(text: string): number {
  return text === 'never' ? Number.POSITIVE_INFINITY : (parseDuration(text) ?? Number.POSITIVE_INFINITY);
}

/** The configured retention as the store applies it: profiles by their OBIS and stream. */
export function retentionPolicy(config: Config): RetentionPolicy {
  const r = config.storage.retention;
  const profiles = new Map(
    (Object.keys(PROFILE_CLASSES) as ProfileClass[]).map((cls) => [formatObis(PROFILE_CLASSES[cls].profile), { stream: cls, keepMs: keepMs(r[cls]) }] as const),
  );
  return { profiles, eventsMs: keepMs(r.events), alarmsMs: keepMs(r.alarms), registersMs: keepMs(r.registers), jobsMs: keepMs(r.jobs) };
}

const ZERO: PruneCounts = { profileRows: 0, meterEvents: 0, events: 0, alarms: 0, registerValues: 0, jobs: 0 };

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Maintenance {
  private readonly retention: Retention;
  private readonly policy: RetentionPolicy;
  private readonly everyMs: number;
  private timer: TimerHandle | undefined;
  private running: Promise<MaintenanceReport> | undefined;
  private stopping = false;

  constructor(private readonly deps: MaintenanceDeps) {
    this.retention = new Retention(deps.db);
    this.policy = retentionPolicy(deps.config);
    this.everyMs = parseDuration(deps.config.storage.pruneEvery) ?? 3_600_000;
  }

  /** Runs a pass every storage.pruneEvery; the first one soon after start (a box that restarts often still prunes). */
  start(): void {
    this.stopping = false;
    this.schedule(Math.min(this.everyMs, FIRST_PASS_AFTER_MS));
  }

  private schedule(afterMs = this.everyMs): void {
    if (this.stopping) return;
    this.timer = this.deps.clock.setTimer(afterMs, () => {
      this.runOnce().then(
        () => this.schedule(),
        (e: unknown) => {
          this.deps.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'retention pass failed; next try in one period');
          this.schedule();
        },
      );
    });
  }

  /** One pass now (a pass already running is joined, not doubled). */
  runOnce(): Promise<MaintenanceReport> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<MaintenanceReport> {
    const pause = this.deps.pause ?? nextTurn;
    const it = this.retention.pass(this.policy, this.deps.clock.now());
    let step = it.next();
    while (step.done !== true) {
      await pause();
      if (this.stopping) break; // the batches done are committed; the next pass goes on
      step = it.next();
    }
    const counts = step.done === true ? step.value : ZERO;
    let vacuumedPages = 0;
    let free = this.retention.freePages();
    for (let i = 0; i < VACUUM_MAX_STEPS && free > 0 && !this.stopping; i++) {
      const left = this.retention.vacuumStep(VACUUM_STEP_PAGES);
      vacuumedPages += free - left;
      free = left;
      await pause();
    }
    const report = { ...counts, vacuumedPages };
    const deleted = counts.profileRows + counts.meterEvents + counts.events + counts.alarms + counts.registerValues;
    if (deleted > 0 || vacuumedPages > 0) this.deps.logger.info(report, 'retention: data the HES has, past its retention, pruned');
    return report;
  }

  /** Stops the timer and lets a running pass end after its current batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.timer?.cancel();
    await this.running?.catch(() => undefined);
  }
}
