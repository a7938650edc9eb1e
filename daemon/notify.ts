/**
 * sd_notify for dcud under systemd (`Type=notify`). Node has no Unix datagram sockets, so
 * messages go through `systemd-notify` (Debian package `systemd`, on every box that runs the
 * unit) with `NotifyAccess=all` in the unit. Since systemd 246 systemd-notify sends a
 * BARRIER=1 after the message and waits until the manager has read it, so a message from
 * this short-lived helper is attributed to the unit (the old race is gone). Chosen over the
 * npm packages (sd-notify, systemd-daemon/unix-dgram): native addons that need
 * libsystemd-dev and a compiler on an ARM box, with no release in years.
 *
 * No NOTIFY_SOCKET (not under systemd): every call is a no-op. Messages are sent one at a
 * time in order; a watchdog ping while the previous one is still on its way is dropped.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../protocol/common/log';

export type NotifySpawn = (fields: readonly string[], env: NodeJS.ProcessEnv) => Promise<void>;

/** Runs `systemd-notify FIELD=VALUE…` (the message, then its barrier). */
export const systemdNotify: NotifySpawn = (fields, env) =>
  new Promise((resolve, reject) => {
    const child = spawn('systemd-notify', [...fields], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`systemd-notify exited ${code ?? 'on a signal'}: ${stderr.trim()}`))));
  });

export class Notifier {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private warned = false;
  readonly enabled: boolean;

  constructor(
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly send: NotifySpawn = systemdNotify,
  ) {
    this.enabled = (env.NOTIFY_SOCKET ?? '') !== '';
  }

  /**
   * The watchdog period systemd asks for (WATCHDOG_USEC, for this process when WATCHDOG_PID
   * names one), or undefined when there is no watchdog.
   */
  watchdogMs(pid: number = process.pid): number | undefined {
    const usec = Number(this.env.WATCHDOG_USEC ?? '');
    const forPid = this.env.WATCHDOG_PID;
    if (!this.enabled || !Number.isSafeInteger(usec) || usec <= 0) return undefined;
    if (forPid !== undefined && forPid !== '' && Number(forPid) !== pid) return undefined;
    return Math.max(1, Math.floor(usec / 1000));
  }

  ready(status: string): Promise<void> {
    return this.notify(['READY=1', `STATUS=${status}`]);
  }

  /**
   * A reload starts: RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC, which is what
   * process.hrtime reads on Linux). systemd 252 (Debian 12) keeps the unit "reloading" until the
   * next READY=1 and ignores MONOTONIC_USEC; from 253 Type=notify-reload matches it against
   * its own reload request. systemd-notify 252 has no --reloading: the fields go as they are.
   */
  reloading(status = 'reloading the configuration', monotonicUsec: bigint = process.hrtime.bigint() / 1000n): Promise<void> {
    return this.notify(['RELOADING=1', `MONOTONIC_USEC=${monotonicUsec}`, `STATUS=${status}`]);
  }

  stopping(status = 'stopping'): Promise<void> {
    return this.notify(['STOPPING=1', `STATUS=${status}`]);
  }

  status(status: string): Promise<void> {
    return this.notify([`STATUS=${status}`]);
  }

  /** A watchdog keep-alive, with the current summary; dropped when one is still being sent. */
  watchdog(status?: string): Promise<void> {
    if (this.pending > 0) return Promise.resolve();
    return this.notify(['WATCHDOG=1', ...(status === undefined ? [] : [`STATUS=${status}`])]);
  }

  /** Resolves when everything queued has been handed over (clean stop). */
  flush(): Promise<void> {
    return this.queue;
  }

  private notify(fields: readonly string[]): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    this.pending++;
    const env = { PATH: this.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: this.env.NOTIFY_SOCKET };
    this.queue = this.queue.then(() =>
      this.send(fields, env).then(
        () => undefined,
        (e: unknown) => {
          if (this.warned) return;
          this.warned = true;
          this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'cannot notify systemd (NOTIFY_SOCKET is set): is systemd-notify installed (Debian package systemd)?');
        },
      ).finally(() => {
        this.pending--;
      }),
    );
    return this.queue;
  }
}
