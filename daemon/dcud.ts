/**
 * The composition root: builds the concentrator from its configuration and injects clock,
 * logger, store and lines into everything below. Nothing here reads a meter itself; it
 * wires config → store → registry → lines → collector, and takes them down in order.
 */
import { join } from 'node:path';
import type { Config } from '../config/schema';
import { parseDuration, parseSize } from '../config/units';
import type { Clock } from '../protocol/common/clock';
import { DcuError, ErrorCode, isDcuError } from '../protocol/common/errors';
import type { Logger } from '../protocol/common/log';
import { SqliteCounterStore } from '../storage/counters';
import { onCorrupt, write, type Db } from '../storage/db';
import { Outbox } from '../storage/outbox';
import { EventLog } from '../storage/events';
import { SqliteMetadataCache } from '../storage/meta-cache';
import { MeterRepository } from '../storage/meters';
import { ReadingsStore } from '../storage/readings';
import { JobStore } from '../storage/jobs';
import { DiscoveryLog } from '../storage/discoveries';
import { FirmwareStore } from '../storage/firmware';
import { startApi, type RunningApi } from './api/http';
import { logRingOf } from './log';
import { LogRing } from './log-ring';
import { SOCKET_FILE, startLocalSocket } from './api/socket';
import { Collector } from './collect/collector';
import { Discovery } from './jobs/discovery';
import { FirmwareCampaigns } from './firmware/campaigns';
import { ImageLibrary } from './firmware/images';
import type { OnDemandResult } from './jobs/on-demand';
import { Scheduler } from './jobs/scheduler';
import { HesCommands } from './hes/commands';
import { HealthReporter, healthSnapshot } from './health';
import { openSecrets, type OpenedSecrets } from './kek';
import { LineRuntime, type SerialLineOpener } from './lines/line';
import { Maintenance } from './maintenance';
import { PushHandler } from './push/handler';
import { startPushListeners, type PushListeners } from './push/listeners';
import { Registry } from './registry/registry';
import { startUplink, type Uplink } from './uplink/uplink';
import { diskFull, lockStateDir, openDaemonStore, STORE_FILE, type DaemonStore } from './store-open';
import { storeHeaderProblem } from './disk';

export { LOCK_FILE, lockStateDir, STORE_FILE } from './store-open';

export interface DaemonDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Opens a serial line's byte path (default: the serial port); in-process tests pass virtual lines. */
  readonly openSerialLine?: SerialLineOpener;
  /** SQLite found the store malformed while dcud runs: nothing more is written on it (dcud stops; a restart moves it aside). */
  readonly onStoreCorrupt?: (e: DcuError) => void;
  /** Where $CREDENTIALS_DIRECTORY (the systemd credential dcu-kek) is looked up (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface Daemon {
  readonly db: Db;
  readonly meters: MeterRepository;
  readonly readings: ReadingsStore;
  readonly collector: Collector;
  readonly scheduler: Scheduler;
  readonly jobs: JobStore;
  /** HES commands (`cmd/<name>`): the uplink hands each payload to `hes.handle`. */
  readonly hes: HesCommands;
  /** The health snapshot (HES `status`, later the local API and data/health). */
  health(): Record<string, unknown>;
  /** Firmware images (intake, verification) and update campaigns. */
  readonly firmware: { readonly images: ImageLibrary; readonly campaigns: FirmwareCampaigns };
  /** Opt-in scans of serial lines for meters the registry does not know (lines[].discovery). */
  readonly discovery: Discovery;
  /** Retention pruning on its own timer (started with the collector). */
  readonly maintenance: Maintenance;
  readonly lines: ReadonlyMap<string, LineRuntime>;
  /** The HES uplink (MQTT), when `mqtt` is configured. */
  readonly uplink: Uplink | undefined;
  /** Applies a (re)loaded configuration's meter list. */
  applyMeters(config: Config): void;
  /** An on-demand read of one meter as a job (queued, persisted, result in the outbox), awaited. */
  readNow(serial: string, what: readonly string[]): Promise<OnDemandResult>;
  /** Meters speaking first: every push accepted or refused (tests and status). */
  readonly pushes: PushHandler;
  /** Bound push ports after listen() (config push.tcp / push.udp). */
  pushPorts(): { tcp?: number; udp?: number };
  /** The local API once listening: its HTTPS port (api.listen) and certificate fingerprint. */
  api(): { port?: number; fingerprint?: string } | undefined;
  /** Opens the local socket `<stateDir>/dcud.sock`, the local API and the push listeners. */
  listen(): Promise<void>;
  stop(): Promise<void>;
}

function logSecrets(logger: Logger, s: OpenedSecrets): void {
  const at = { kek: s.box.id, source: s.source.kind, path: s.source.path };
  if (s.source.kind === 'generated') {
    logger.warn(
      { ...at, created: s.created },
      `meter passwords and keys are sealed in the store with a key-encryption key kept next to it (${s.source.path}): that protects a copied store, not a copied state directory or a stolen box; give dcud the systemd credential dcu-kek or secrets.kekFile (README, "Secrets at rest")`,
    );
  } else logger.info(at, 'meter passwords and keys are sealed in the store');
  if (s.sealed > 0) logger.info({ meters: s.sealed, kek: s.box.id }, 'secrets stored in clear by an older dcu are sealed now');
  if (s.deferred !== undefined) logger.error({ kek: s.box.id, err: s.deferred }, 'secrets stored in clear by an older dcu could not be sealed now (no room); the next start with room seals them');
}

export function startDaemon(config: Config, deps: DaemonDeps): Daemon {
  const { clock, logger } = deps;
  const logs = logRingOf(logger) ?? new LogRing(); // dcu logs: the recent lines (an empty ring under a test logger)
  const lock = lockStateDir(config.stateDir, clock.now());
  let store: DaemonStore;
  let secrets: OpenedSecrets;
  try {
    store = openDaemonStore(config.stateDir, parseSize(config.storage.maxBytes) ?? 2e9, clock.now(), logger.child({ part: 'store' }));
  } catch (e) {
    lock.close();
    throw e;
  }
  const { db, disk } = store;
  let corruptSeen = false;
  const corrupt = (e: DcuError): void => {
    if (corruptSeen) return;
    corruptSeen = true;
    logger.error({ err: e.message }, 'store-corrupt: the store is malformed; dcud writes nothing more on it and stops (a restart moves it aside and starts a fresh one)');
    deps.onStoreCorrupt?.(e);
  };
  onCorrupt(db, corrupt);
  try {
    secrets = openSecrets(db, config, deps.env ?? process.env, clock.now());
  } catch (e) {
    db.close();
    lock.close();
    throw e;
  }
  logSecrets(logger, secrets);
  const meters = new MeterRepository(db, secrets.box);
  const events = new EventLog(db);
  const storePath = join(config.stateDir, STORE_FILE);
  const diskLog = logger.child({ part: 'store' });
  const checkDisk = (): void => {
    const problem = storeHeaderProblem(storePath);
    if (problem !== undefined) corrupt(new DcuError(ErrorCode.StorageCorrupt, `${problem}: nothing more is written on it`, { context: { path: storePath } }));
    if (corruptSeen) return;
    if (diskFull(db, disk)) {
      if (disk.release()) diskLog.warn('the filesystem is full: the spare file dcu.spare was given back for the alarm and the states');
      if (events.storeFull(`the filesystem holding ${config.stateDir} is full (${disk.free()} bytes free for readings): readings are not stored until there is room; status, the API and the outbox drain go on`, clock.now())) {
        diskLog.error({ free: disk.free() }, 'disk-full: the filesystem is full; readings are not stored until there is room');
      }
    } else {
      disk.keepSpare(0);
    }
  };
  try {
    checkDisk();
  } catch (e) {
    diskLog.error({ err: e instanceof Error ? e.message : String(e) }, 'the disk-full alarm could not be stored');
  }
  disk.watch(clock, diskLog, checkDisk);
  const readings = new ReadingsStore(db);
  const registry = new Registry(db, meters, events, clock, { unreachableAfterMs: parseDuration(config.registry.unreachableAfter) ?? 72 * 3_600_000 });
  const lineLog = logger.child({ part: 'lines' });
  const lines = new Map(config.lines.map((l) => [l.name, new LineRuntime(l, clock, { onGrant: (holder, priority) => lineLog.debug({ line: l.name, holder, priority }, 'line granted') }, deps.openSerialLine)]));
  const applyMeters = (c: Config): void => {
    const seeded = meters.applySeed(c.meters, clock.now());
    logger.info({ added: seeded.added.length, updated: seeded.updated.length, unchanged: seeded.unchanged }, 'meter seed list applied');
  };
  try {
    applyMeters(config);
  } catch (e) {
    if (!isDcuError(e) || e.code !== ErrorCode.StorageFull) throw e;
    logger.error({ err: e.message }, 'the meter list was not applied (the store has no room): dcud runs with the meters it has; SIGHUP applies it once there is room');
  }
  const shared = { config, clock, lines, meters, registry, readings, metaCache: new SqliteMetadataCache(db), counters: new SqliteCounterStore(db, clock) };
  const collector = new Collector({ ...shared, events, logger: logger.child({ part: 'collector' }) });
  const discovery = new Discovery({ config, clock, lines, meters, log: new DiscoveryLog(db, events), logger: logger.child({ part: 'discovery' }) });
  const jobs = new JobStore(db);
  const scheduler = new Scheduler({ ...shared, jobs, logger: logger.child({ part: 'jobs' }), ...(config.timeZone === undefined ? {} : { timeZone: config.timeZone }) });
  scheduler.start();
  const fwStore = new FirmwareStore(db);
  const images = new ImageLibrary({ config, clock, store: fwStore });
  const firmware = { images, campaigns: new FirmwareCampaigns({ ...shared, db, store: fwStore, library: images, logger: logger.child({ part: 'firmware' }), ...(config.timeZone === undefined ? {} : { timeZone: config.timeZone }) }) };
  firmware.campaigns.start();
  const startedAt = clock.now();
  const health = (): Record<string, unknown> => healthSnapshot({ id: config.id, db, clock, startedAt, lines, activeAttempts: () => scheduler.active });
  const hes = new HesCommands({ config, clock, logger: logger.child({ part: 'hes' }), scheduler, meters, status: health, firmware });
  const readNow = (serial: string, what: readonly string[]): Promise<OnDemandResult> =>
    new Promise((resolve, reject) => {
      let jobId: string | undefined;
      const early: OnDemandResult[] = [];
      const off = scheduler.on((e) => {
        if (e.type !== 'result' || !e.final) return;
        if (jobId === undefined) early.push(e.result);
        else if (e.job === jobId) {
          off();
          resolve(e.result);
        }
      });
      try {
        jobId = scheduler.submit({ meters: [serial], what }, 'local').job.id;
        const r = early.find((x) => x.job === jobId);
        if (r !== undefined) {
          off();
          resolve(r);
        }
      } catch (e) {
        off();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  const pushes = new PushHandler({ db, meters, events, registry, lines: config.lines, keysDir: config.keysDir, clock, logger: logger.child({ part: 'push' }) });
  if (config.push.serial) for (const l of lines.values()) l.onUnsolicited = (f) => void pushes.handleFrame(l.name, f);
  let pushListeners: PushListeners | undefined;
  const maintenance = new Maintenance({ db, clock, config, logger: logger.child({ part: 'maintenance' }) });
  let uplink: Uplink | undefined;
  try {
    const uplinkLog = logger.child({ part: 'store' });
    let markFailing = false;
    const beforeSend = (stream: string, last: number): void => {
      try {
        store.highWater.cover(stream, last);
        markFailing = false;
      } catch (e) {
        if (!markFailing) uplinkLog.error({ err: (e as Error).message }, 'the high-water file is not written: sending anyway (a store that goes back meanwhile would not be noticed)');
        markFailing = true;
      }
    };
    uplink = config.mqtt === undefined ? undefined : startUplink(config.id, config.mqtt, { db, clock, logger, commands: hes, incarnation: store.incarnation, beforeSend, ...(store.first === undefined ? {} : { first: store.first }) });
  } catch (e) {
    db.close();
    lock.close();
    throw e;
  }
  const healthOutbox = new Outbox(db);
  const healthReports = new HealthReporter(
    clock,
    config.mqtt === undefined ? 0 : (parseDuration(config.mqtt.healthEvery ?? '15m') ?? 900_000),
    () => {
      write(db, 'the health report', () => healthOutbox.append('health', health(), clock.now()));
      uplink?.kick();
    },
    (e) => logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'health report not stored'),
  );
  healthReports.start();
  let socket: { close(): Promise<void> } | undefined;
  let api: RunningApi | undefined;
  return {
    db,
    meters,
    readings,
    collector,
    scheduler,
    jobs,
    hes,
    firmware,
    health,
    discovery,
    maintenance,
    lines,
    uplink,
    applyMeters,
    pushes,
    pushPorts: () => ({ ...(pushListeners?.tcpPort === undefined ? {} : { tcp: pushListeners.tcpPort }), ...(pushListeners?.udpPort === undefined ? {} : { udp: pushListeners.udpPort }) }),
    readNow,
    api: () => (api === undefined ? undefined : { ...(api.port === undefined ? {} : { port: api.port }), ...(api.fingerprint === undefined ? {} : { fingerprint: api.fingerprint }) }),
    listen: async () => {
      socket = await startLocalSocket(join(config.stateDir, SOCKET_FILE), scheduler, logger.child({ part: 'socket' }), firmware, logs);
      api = await startApi({ config, clock, logger: logger.child({ part: 'api' }), db, meters, scheduler, jobs, hes, health, lines, uplink, logs, firmware, collector });
      pushListeners = await startPushListeners(config.push, pushes, clock);
      if (config.push.serial) {
        for (const l of lines.values()) l.listenUnsolicited().catch((e: unknown) => logger.warn({ line: l.name, err: (e as Error).message }, 'cannot listen for pushes on the line yet (it opens with the next read)'));
      }
    },
    stop: async () => {
      await api?.close();
      await socket?.close();
      await pushListeners?.close();
      healthReports.stop();
      await Promise.all([scheduler.stop(), collector.stop(), discovery.stop(), maintenance.stop(), firmware.campaigns.stop()]);
      await Promise.all([...lines.values()].map((l) => l.close()));
      await uplink?.stop();
      disk.stop();
      db.close();
      lock.close();
    },
  };
}
