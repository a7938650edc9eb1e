#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * `dcud --config FILE` — the concentrator daemon. Node runs it with 4 MB semi-spaces (the
 * shebang; systemd/dcud.service does the same): V8's default young generation holds on to
 * garbage a small one collects early, for the same collection time — peak RSS ~130 MB instead
 * of ~150 MB with 1,024 meters (bench dcud-memory). A bad configuration exits 2 with every
 * problem named and nothing started. SIGTERM/SIGINT: the request in flight finishes,
 * associations are released, the store is closed, exit 0. SIGHUP reloads the configuration
 * (daemon/reload.ts: the meter list now, other changes after a restart), framed by
 * RELOADING=1 … READY=1 for systemd.
 */
import { Command, CommanderError } from 'commander';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../config/load';
import { systemClock } from '../../protocol/common/clock';
import { ensureStateDirectory, groupIdOf } from '../../storage/private-files';
import { isDcuError } from '../../protocol/common/errors';
import { ensureDirectory, ensureWritableFile } from '../../common/ensure-dir';
import { startDaemon } from '../dcud';
import { createLogger } from '../log';
import { Notifier } from '../notify';
import { planReload } from '../reload';
import { statusLine, uplinkLiveness, Watchdog } from '../watchdog';
import { ExitCode, exitCodeFor } from '../../common/exit-codes';

/** Connected with messages waiting and nothing sent or settled this long: the uplink loop is stalled (acks time out after 30 s by default). */
const UPLINK_STALL_MS = 5 * 60_000;

async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('dcud')
    .description('dcu concentrator daemon: reads meters on its lines into SQLite (see README and docs/config.md)')
    .requiredOption('--config <file>', 'configuration file (YAML or JSON); DCU_<PATH> environment variables override it')
    .option('--log-level <level>', 'pino log level: trace, debug, info, warn, error', 'info')
    .exitOverride();
  try {
    program.parse(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? ExitCode.ok : ExitCode.usage;
    throw e;
  }
  const opts = program.opts<{ config: string; logLevel: string }>();
  const logger = createLogger({ level: opts.logLevel, destination: 1, name: 'dcud' });
  let loaded;
  try {
    loaded = loadConfig(opts.config);
  } catch (e) {
    if (!isDcuError(e)) throw e;
    process.stderr.write(`dcud: ${e.message}\n`);
    return ExitCode.usage;
  }
  const { config } = loaded;
  let daemon;
  let onCorrupt: (() => void) | undefined;
  try {
    // nothing dcud writes is for group or others (the sockets are opened to the group explicitly)
    process.umask(0o077);
    // A stateDir that is a file, or files in it another user owns: named with the owner to run
    // as, exit 7, before SQLite says "unable to open database file".
    ensureDirectory(config.stateDir, 0o700);
    const dir = ensureStateDirectory(config.stateDir, config.stateDirGroup === undefined ? undefined : groupIdOf(config.stateDirGroup));
    if (dir.openToOthers) logger.warn({ stateDir: config.stateDir }, `the state directory ${config.stateDir} is open to others (mode o+rwx bits set): chmod o-rwx it (README, "Secrets at rest")`);
    for (const f of readdirSync(config.stateDir)) ensureWritableFile(join(config.stateDir, f), 'the state file');
    daemon = startDaemon(config, { clock: systemClock, logger, onStoreCorrupt: () => onCorrupt?.() });
  } catch (e) {
    process.stderr.write(`dcud: ${e instanceof Error ? e.message : String(e)}\n`);
    return exitCodeFor(e);
  }
  try {
    await daemon.listen();
  } catch (e) {
    process.stderr.write(`dcud: cannot open the local socket in ${config.stateDir}: ${e instanceof Error ? e.message : String(e)}\n`);
    await daemon.stop();
    return ExitCode.storage;
  }
  const running = daemon;
  // systemd (Type=notify): READY=1 once serving, WATCHDOG=1 while the loops progress, STOPPING=1 on a stop
  const notifier = new Notifier(logger.child({ part: 'systemd' }));
  const summary = (): string => statusLine(running.health(), running.uplink?.health().session.connected);
  const watchdogMs = notifier.watchdogMs();
  const uplink = running.uplink;
  const loops = {
    scheduler: (now: number) => running.scheduler.liveness(now),
    collector: (now: number) => running.collector.liveness(now),
    ...(uplink === undefined ? {} : { uplink: uplinkLiveness(() => uplink.health(), UPLINK_STALL_MS) }),
  };
  const watchdog = watchdogMs === undefined ? undefined : new Watchdog({ clock: systemClock, logger: logger.child({ part: 'watchdog' }), notifier, status: summary, loops }, watchdogMs);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string, code: number = ExitCode.ok): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'dcud stopping');
      watchdog?.stop();
      void notifier.stopping(`stopping (${signal})`);
      running
        .stop()
        .then(() => notifier.flush())
        .then(
          () => resolve(code),
          (e: unknown) => {
            logger.error({ err: e instanceof Error ? e.message : String(e) }, 'unclean stop');
            resolve(ExitCode.internal);
          },
        );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    // a malformed store: stop writing, exit 7; systemd's restart moves it aside and starts a fresh one
    onCorrupt = () => setImmediate(() => stop('store malformed', ExitCode.storage));
    process.on('SIGINT', () => stop('SIGINT'));
    let current = config;
    // Synchronous from RELOADING=1 to READY=1: a second SIGHUP is handled after this one.
    const reload = (): void => {
      if (stopping) return;
      void notifier.reloading();
      try {
        const next = loadConfig(opts.config).config;
        const plan = planReload(current, next);
        running.applyMeters({ ...current, meters: plan.meters });
        current = { ...current, meters: next.meters };
        for (const part of plan.restartNeeded) {
          logger.warn({ section: part }, `SIGHUP: "${part}" changed in ${opts.config}; it takes effect after a restart (systemctl restart dcud): dcud keeps running with the old ${part}`);
        }
        for (const m of plan.meterOnUnknownLine) {
          logger.warn(m, `SIGHUP: meter ${m.serial} is on line "${m.line}", which does not run: not applied (add the line, then restart dcud)`);
        }
        logger.info({ applied: ['meters'], restartNeeded: plan.restartNeeded }, 'configuration reloaded');
      } catch (e) {
        logger.error({ err: e instanceof Error ? e.message : String(e) }, `SIGHUP: configuration not reloaded, dcud keeps running with the previous one: fix ${opts.config} (dcu config check) and reload again`);
      } finally {
        void notifier.ready(summary());
      }
    };
    process.on('SIGHUP', reload);
    // Started only once the handlers are in place: a signal right after "dcud started" is handled, not fatal.
    logger.info({ id: config.id, stateDir: config.stateDir, lines: config.lines.length, meters: running.meters.list().length, push: running.pushPorts() }, 'dcud started');
    running.collector.start();
    running.discovery.start();
    running.maintenance.start();
    void notifier.ready(summary());
    watchdog?.start();
    // Test hook, off unless DCUD_TEST_HOOKS=1: SIGUSR2 stops the scheduler loop while dcud runs (a stall the watchdog must see).
    if (process.env.DCUD_TEST_HOOKS === '1') {
      process.on('SIGUSR2', () => {
        logger.warn('test hook: the scheduler loop is stalled on purpose (SIGUSR2)');
        void running.scheduler.stop();
      });
    }
  });
}

if (require.main === module) {
  main(process.argv).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`dcud: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(ExitCode.internal);
    },
  );
}
