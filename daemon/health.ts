/**
 * The concentrator's health in one snapshot: the HES `status` command answers it, and the
 * local API, `dcu status` and the periodic `data/health` message will show the same figures.
 */
import type { Clock, TimerHandle } from '../protocol/common/clock';
import type { Db } from '../storage/db';
import type { LineRuntime } from './lines/line';

export interface HealthSources {
  readonly id: string;
  readonly db: Db;
  readonly clock: Clock;
  readonly startedAt: number;
  readonly lines: ReadonlyMap<string, LineRuntime>;
  /** Job attempts running now. */
  readonly activeAttempts: () => number;
  /** Extra parts (the uplink adds its state). */
  readonly extra?: () => Record<string, unknown>;
}

export function healthSnapshot(s: HealthSources): Record<string, unknown> {
  const { db } = s;
  const now = s.clock.now();
  const count = (sql: string): number => (db.prepare<[], { n: number }>(sql).get()?.n ?? 0);
  const byState = db.prepare<[], { stage: string; reachability: string; n: number }>('SELECT stage, reachability, count(*) AS n FROM meters GROUP BY stage, reachability').all();
  const outbox = db.prepare<[], { stream: string; n: number; oldest: number }>('SELECT stream, count(*) AS n, min(created_at) AS oldest FROM outbox GROUP BY stream ORDER BY stream').all();
  const pages = db.pragma('page_count', { simple: true }) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const maxPages = db.pragma('max_page_count', { simple: true }) as number;
  return {
    id: s.id,
    at: new Date(now).toISOString(),
    uptimeS: Math.round((now - s.startedAt) / 1000),
    lines: [...s.lines.values()].map((l) => ({ name: l.name, busy: l.arbiter.busy, queued: l.arbiter.queued, capacity: l.arbiter.capacity })),
    meters: {
      total: byState.reduce((a, r) => a + r.n, 0),
      commissioned: byState.filter((r) => r.stage === 'commissioned').reduce((a, r) => a + r.n, 0),
      unreachable: byState.filter((r) => r.reachability === 'unreachable').reduce((a, r) => a + r.n, 0),
    },
    jobs: { queued: count("SELECT count(*) AS n FROM job_meters WHERE state = 'queued'"), running: s.activeAttempts() },
    alarmsOpen: count('SELECT count(*) AS n FROM alarms WHERE cleared_at IS NULL'),
    outbox: { backlog: outbox.reduce((a, r) => a + r.n, 0), streams: Object.fromEntries(outbox.map((r) => [r.stream, { messages: r.n, oldest: new Date(r.oldest).toISOString() }])) },
    store: { bytes: pages * pageSize, maxBytes: maxPages * pageSize, fill: maxPages > 0 ? Math.round((pages / maxPages) * 1000) / 1000 : null },
    ...(s.extra?.() ?? {}),
  };
}

/**
 * `data/health` on MQTT: the health snapshot appended to the outbox stream `health` every
 * `everyMs` (mqtt.healthEvery), so the HES sees the box's state in order with its data — also
 * what it was during an outage. A full store skips a report (logged), it never stops the timer.
 */
export class HealthReporter {
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly report: () => void,
    private readonly onError: (e: unknown) => void,
  ) {}

  start(): void {
    if (this.everyMs <= 0) return;
    const tick = (): void => {
      if (this.stopped) return;
      try {
        this.report();
      } catch (e) {
        this.onError(e);
      }
      this.timer = this.clock.setTimer(this.everyMs, tick);
    };
    this.timer = this.clock.setTimer(this.everyMs, tick);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}
