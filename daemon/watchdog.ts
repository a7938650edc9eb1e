/**
 * The systemd watchdog of dcud: every half WatchdogSec it asks each loop whether it is making
 * progress, and sends WATCHDOG=1 (with a STATUS= summary) only when all are. A loop that
 * stalls (the scheduler's next look overdue or gone, a collection cycle without progress)
 * stops the pings, and systemd restarts the service after WatchdogSec (Restart=on-failure).
 */
import type { Clock, TimerHandle } from '../protocol/common/clock';
import type { Logger } from '../protocol/common/log';
import type { Notifier } from './notify';

/** One loop's answer: undefined when it is progressing, else why it is not. */
export type Liveness = (now: number) => string | undefined;

export interface WatchdogDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly notifier: Notifier;
  readonly loops: Readonly<Record<string, Liveness>>;
  /** The STATUS= line sent with each ping. */
  readonly status: () => string;
}

export class Watchdog {
  private timer: TimerHandle | undefined;
  private stalled: string | undefined;

  constructor(
    private readonly deps: WatchdogDeps,
    private readonly periodMs: number,
  ) {}

  start(): void {
    this.tick();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** The loops that do not progress now, as `name: reason`; empty when all do. */
  check(now: number): string[] {
    return Object.entries(this.deps.loops).flatMap(([name, alive]) => {
      const why = alive(now);
      return why === undefined ? [] : [`${name}: ${why}`];
    });
  }

  private tick(): void {
    const { clock, logger, notifier } = this.deps;
    const stalled = this.check(clock.now());
    if (stalled.length === 0) {
      if (this.stalled !== undefined) logger.info('all loops progress again: watchdog pings resume');
      this.stalled = undefined;
      let status: string;
      try {
        status = this.deps.status();
      } catch (e) {
        status = `status unavailable: ${e instanceof Error ? e.message : String(e)}`;
      }
      void notifier.watchdog(status);
    } else {
      const text = stalled.join('; ');
      if (this.stalled !== text) logger.error({ stalled }, 'a loop makes no progress: watchdog pings withheld (systemd restarts dcud after WatchdogSec)');
      // instead of each withheld ping: what systemctl status shows until the restart
      void notifier.status(`stalled: ${text}`);
      this.stalled = text;
    }
    this.timer = clock.setTimer(Math.max(1, Math.floor(this.periodMs / 2)), () => this.tick());
  }
}

/** The one-line STATUS= summary (systemctl status dcud) from the health snapshot. */
export function statusLine(health: Record<string, unknown>, mqttConnected: boolean | undefined): string {
  const h = health as { meters?: { total?: number; unreachable?: number }; jobs?: { queued?: number; running?: number }; outbox?: { backlog?: number }; store?: { fill?: number | null } };
  const parts = [
    `${h.meters?.total ?? 0} meters (${h.meters?.unreachable ?? 0} unreachable)`,
    `jobs ${h.jobs?.queued ?? 0} queued, ${h.jobs?.running ?? 0} running`,
    `outbox ${h.outbox?.backlog ?? 0}`,
    ...(h.store?.fill === undefined || h.store.fill === null ? [] : [`store ${Math.round(h.store.fill * 100)}% full`]),
    ...(mqttConnected === undefined ? [] : [mqttConnected ? 'MQTT connected' : 'MQTT disconnected']),
  ];
  return parts.join(', ');
}

/** What the uplink liveness looks at (a part of UplinkHealth). */
export interface UplinkProgress {
  readonly session: { readonly connected: boolean };
  readonly drain: { readonly published: number; readonly delivered: number; readonly kept: Readonly<Record<string, number>> };
  readonly backlog: readonly unknown[];
}

/**
 * The uplink loop from outside: connected with messages waiting, it must publish or settle
 * something within `stallMs`. Disconnected counts as alive: the session keeps reconnecting,
 * and a restart would not bring the WAN back.
 */
export function uplinkLiveness(health: () => UplinkProgress, stallMs: number): Liveness {
  let mark = '';
  let since = Number.NEGATIVE_INFINITY;
  return (now) => {
    const h = health();
    const kept = Object.values(h.drain.kept).reduce((a, n) => a + n, 0);
    const state = `${h.drain.published}/${h.drain.delivered}/${kept}`;
    if (!h.session.connected || h.backlog.length === 0 || state !== mark) {
      mark = state;
      since = now;
      return undefined;
    }
    return now - since > stallMs ? `connected with messages waiting, but nothing sent or settled for ${Math.round((now - since) / 1000)} s` : undefined;
  };
}
