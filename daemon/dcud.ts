/**
 * The composition root: builds the concentrator from its configuration and injects clock,
 * logger, store and lines into everything below. Nothing here reads a meter itself; it
 * wires config → store → registry → lines → collector, and takes them down in order.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Config } from '../config/schema';
import { parseDuration, parseSize } from '../config/units';
import type { Clock } from '../protocol/common/clock';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import type { Logger } from '../protocol/common/log';
import { SqliteCounterStore } from '../storage/counters';
import { openStore, type Db } from '../storage/db';
import { EventLog } from '../storage/events';
import { SqliteMetadataCache } from '../storage/meta-cache';
import { MeterRepository } from '../storage/meters';
import { ReadingsStore } from '../storage/readings';
import { write } from '../storage/db';
import { Outbox } from '../storage/outbox';
import { SOCKET_FILE, startLocalSocket } from './api/socket';
import { Collector } from './collect/collector';
import { readOnDemand, type OnDemandDeps, type OnDemandResult, type ReadWhat } from './jobs/on-demand';
import { LineRuntime, type SerialLineOpener } from './lines/line';
import { Registry } from './registry/registry';

export const STORE_FILE = 'dcu.sqlite';
export const LOCK_FILE = 'dcud.lock';

export interface DaemonDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Opens a serial line's byte path (default: the serial port); in-process tests pass virtual lines. */
  readonly openSerialLine?: SerialLineOpener;
}

export interface Daemon {
  readonly db: Db;
  readonly meters: MeterRepository;
  readonly readings: ReadingsStore;
  readonly collector: Collector;
  readonly lines: ReadonlyMap<string, LineRuntime>;
  /** Applies a (re)loaded configuration's meter list. */
  applyMeters(config: Config): void;
  /** An on-demand read (the local socket and, later, the HES use it). */
  readNow(serial: string, what: readonly ReadWhat[]): Promise<OnDemandResult>;
  /** Opens the local socket `<stateDir>/dcud.sock`. */
  listen(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One daemon per state directory: an exclusive SQLite lock on dcud.lock, held for the life
 * of the process and released by the OS when it dies (kill -9 included).
 */
export function lockStateDir(stateDir: string, now: number): Database.Database {
  const path = join(stateDir, LOCK_FILE);
  const lock = new Database(path, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER, since INTEGER); DELETE FROM owner;');
    lock.prepare('INSERT INTO owner VALUES (?, ?)').run(process.pid, now);
    return lock;
  } catch (e) {
    lock.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      throw new DcuError(ErrorCode.Storage, `another dcud already runs on ${stateDir} (${path} is locked); stop it first or use another stateDir`, { cause: e, context: { stateDir } });
    }
    throw new DcuError(ErrorCode.Storage, `cannot lock ${path}: ${(e as Error).message}`, { cause: e, context: { stateDir } });
  }
}

export function startDaemon(config: Config, deps: DaemonDeps): Daemon {
  const { clock, logger } = deps;
  const lock = lockStateDir(config.stateDir, clock.now());
  let db: Db;
  try {
    db = openStore(join(config.stateDir, STORE_FILE), { maxBytes: parseSize(config.storage.maxBytes) ?? 2e9 });
  } catch (e) {
    lock.close();
    throw e;
  }
  const meters = new MeterRepository(db);
  const events = new EventLog(db);
  const readings = new ReadingsStore(db);
  const registry = new Registry(db, meters, events, clock, { unreachableAfterMs: parseDuration(config.registry.unreachableAfter) ?? 72 * 3_600_000 });
  const lineLog = logger.child({ part: 'lines' });
  const lines = new Map(config.lines.map((l) => [l.name, new LineRuntime(l, clock, { onGrant: (holder, priority) => lineLog.debug({ line: l.name, holder, priority }, 'line granted') }, deps.openSerialLine)]));
  const applyMeters = (c: Config): void => {
    const seeded = meters.applySeed(c.meters, clock.now());
    logger.info({ added: seeded.added.length, updated: seeded.updated.length, unchanged: seeded.unchanged }, 'meter seed list applied');
  };
  applyMeters(config);
  const shared = { config, clock, lines, meters, registry, readings, metaCache: new SqliteMetadataCache(db), counters: new SqliteCounterStore(db, clock) };
  const collector = new Collector({ ...shared, events, logger: logger.child({ part: 'collector' }) });
  const outbox = new Outbox(db);
  const onDemand: OnDemandDeps = {
    ...shared,
    logger: logger.child({ part: 'on-demand' }),
    publish: (r) => write(db, `the on-demand result of ${r.meter}`, () => outbox.append('results', r, clock.now())),
  };
  let socket: { close(): Promise<void> } | undefined;
  return {
    db,
    meters,
    readings,
    collector,
    lines,
    applyMeters,
    readNow: (serial, what) => readOnDemand(onDemand, serial, what),
    listen: async () => {
      socket = await startLocalSocket(join(config.stateDir, SOCKET_FILE), { read: (serial, what) => readOnDemand(onDemand, serial, what), isRegistered: (s) => meters.get(s) !== undefined }, logger.child({ part: 'socket' }));
    },
    stop: async () => {
      await socket?.close();
      await collector.stop();
      await Promise.all([...lines.values()].map((l) => l.close()));
      db.close();
      lock.close();
    },
  };
}
