/**
 * The concentrator's SQLite store: one file in the state directory, opened with the pragmas
 * a power-cut-prone box needs (WAL, synchronous=FULL, foreign keys, busy timeout, a page-count
 * bound from storage.maxBytes) and brought to the code's schema version by numbered
 * migrations, one transaction each. A database written by a newer dcu is refused, never
 * "migrated" backwards.
 */
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { ensureDirectory, ensureWritableFile } from '../common/ensure-dir';
import { MIGRATIONS, type Migration } from './migrations';
import { ensurePrivateFile, narrowIfPresent, PRIVATE_DIR_MODE } from './private-files';

export type Db = Database.Database;

export interface OpenOptions {
  /** Upper bound of the file in bytes (PRAGMA max_page_count; not persistent, set on every open). */
  readonly maxBytes?: number;
  /** Read-only access (technician export while the daemon runs); no migrations are run. */
  readonly readonly?: boolean;
  /** How long a writer waits for a lock held by another connection (default 5 s). */
  readonly busyTimeoutMs?: number;
  /** Migrations to apply (tests pass their own list). */
  readonly migrations?: readonly Migration[];
  /**
   * locking_mode=EXCLUSIVE before anything else: WAL without the -shm file (kept in the heap),
   * for a filesystem too full to create it. No other connection can read the store meanwhile.
   */
  readonly exclusive?: boolean;
}

export const PAGE_SIZE = 4096;

function storageError(code: ErrorCode, message: string, path: string, cause?: unknown): DcuError {
  return new DcuError(code, message, { cause, context: { path } });
}

/** Opens (creating when needed) and migrates the store at `path`. */
export function openStore(path: string, options: OpenOptions = {}): Db {
  const migrations = options.migrations ?? MIGRATIONS;
  let db: Db;
  if (options.readonly !== true && path !== ':memory:') {
    // A state directory that is a file, or that this user may not write, is named with what
    // to do (the owner to run as), not SQLite's "unable to open database file" / a raw errno.
    ensureDirectory(dirname(path), PRIVATE_DIR_MODE);
    for (const f of [path, `${path}-wal`, `${path}-shm`]) ensureWritableFile(f, 'the store');
  }
  try {
    if (options.readonly !== true && path !== ':memory:') {
      // 0600 before SQLite creates it (it would make it 0644): the -wal and -shm files take the database file's mode
      ensurePrivateFile(path);
      narrowIfPresent(`${path}-wal`);
      narrowIfPresent(`${path}-shm`);
    }
    db = new Database(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true, timeout: options.busyTimeoutMs ?? 5000 });
  } catch (e) {
    throw storageError(ErrorCode.Storage, `cannot open the store ${path}: ${(e as Error).message}`, path, e);
  }
  try {
    // First, before any pragma writes to it: a newer dcu's file is left exactly as it was.
    if (options.exclusive === true) db.pragma('locking_mode = EXCLUSIVE');
    checkVersion(db, path, migrations);
    if (options.readonly !== true) {
      // auto_vacuum must be chosen before the first table exists; harmless afterwards.
      if (userVersion(db) === 0) {
        db.pragma(`page_size = ${PAGE_SIZE}`);
        db.pragma('auto_vacuum = INCREMENTAL');
      }
      db.pragma('journal_mode = WAL');
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    if (options.maxBytes !== undefined) setMaxBytes(db, options.maxBytes);
    if (options.readonly !== true) migrate(db, migrations);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

export function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * The last part of storage.maxBytes kept for the concentrator's own small writes when the
 * store is full for readings: the registry's states and the alarm that says the store is full.
 */
export const RESERVE_FRACTION = 0.02;
const MIN_RESERVE_PAGES = 16;

const bounds = new WeakMap<Db, { readonly data: number; readonly all: number }>();

/** Per connection: the free-space probe, the reserve depth, and a malformed file once seen. */
interface Guard {
  /** Bytes free for the store on its filesystem (statfs), when known. */
  freeBytes?: () => number;
  reserveDepth: number;
  corrupt?: DcuError;
  onCorrupt?: (e: DcuError) => void;
}
const guards = new WeakMap<Db, Guard>();

function guardOf(db: Db): Guard {
  let g = guards.get(db);
  if (g === undefined) {
    g = { reserveDepth: 0 };
    guards.set(db, g);
  }
  return g;
}

/**
 * Bounds the file: readings may fill it up to maxBytes less the reserve (SQLITE_FULL beyond,
 * which write() turns into StorageFull); inReserve() may use the rest.
 */
export function setMaxBytes(db: Db, maxBytes: number): void {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const all = Math.max(2, Math.floor(maxBytes / pageSize));
  const data = Math.max(1, all - Math.max(MIN_RESERVE_PAGES, Math.floor(all * RESERVE_FRACTION)));
  bounds.set(db, { data, all });
  db.pragma(`max_page_count = ${data}`);
}

/** The reserve in bytes (what inReserve() may add to a store full for readings). */
export function reserveBytes(db: Db): number {
  const b = bounds.get(db);
  return b === undefined ? MIN_RESERVE_PAGES * PAGE_SIZE : (b.all - b.data) * PAGE_SIZE;
}

/**
 * The reserve is disk space too: with `freeBytes` set, write() refuses an ordinary write
 * (StorageFull, "the filesystem is full") while the store's filesystem has less free than
 * the reserve, so the states and the alarm that says so still find room on the disk.
 */
export function setFreeSpaceProbe(db: Db, freeBytes: () => number): void {
  guardOf(db).freeBytes = freeBytes;
}

/** Called once when SQLite first reports the file malformed (the daemon stops writing on it). */
export function onCorrupt(db: Db, fn: (e: DcuError) => void): void {
  guardOf(db).onCorrupt = fn;
}

/** The malformed-file error seen on this connection, if any: nothing is written any more. */
export function corruptError(db: Db): DcuError | undefined {
  return guards.get(db)?.corrupt;
}

/** What a StorageFull means now: the store at storage.maxBytes, or its filesystem with less free than the reserve. */
export function fullKind(db: Db): 'maxBytes' | 'filesystem' {
  const free = guards.get(db)?.freeBytes?.();
  if (free !== undefined && free < reserveBytes(db)) return 'filesystem';
  const b = bounds.get(db);
  const pages = db.pragma('page_count', { simple: true }) as number;
  return b === undefined || pages >= b.data - 1 ? 'maxBytes' : 'filesystem';
}

/** Runs fn with the reserve available (small, bounded writes only: states, alarms). */
export function inReserve<T>(db: Db, fn: () => T): T {
  const b = bounds.get(db);
  const g = guardOf(db);
  g.reserveDepth++;
  if (b !== undefined) db.pragma(`max_page_count = ${b.all}`);
  try {
    return fn();
  } finally {
    g.reserveDepth--;
    // Never below the pages already used: SQLite keeps the larger of the two.
    if (b !== undefined) db.pragma(`max_page_count = ${b.data}`);
  }
}
function checkVersion(db: Db, path: string, migrations: readonly Migration[]): void {
  const have = userVersion(db);
  const known = migrations.length;
  if (have > known) {
    throw storageError(
      ErrorCode.StorageTooNew,
      `the store ${path} has schema version ${have}, newer than this dcu knows (${known}): it was written by a newer dcu; install that version or point stateDir elsewhere (the file is left untouched)`,
      path,
    );
  }
}

/** Applies the migrations above the stored user_version, each in its own transaction. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new DcuError(ErrorCode.Internal, `migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  let applied = 0;
  for (const m of migrations) {
    if (m.version <= userVersion(db)) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied++;
  }
  return applied;
}

/** True when `e` is SQLite saying the file reached max_page_count or the disk is full. */
export function isFullError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL';
}

/** True when `e` is SQLite saying the file is not (or no longer) a sound database. */
export function isCorruptError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

/** StorageFull that tells "the store reached maxBytes" from "the filesystem is full". */
function fullError(db: Db, what: string, free: number | undefined, cause?: unknown): DcuError {
  const b = bounds.get(db);
  const pages = db.pragma('page_count', { simple: true }) as number;
  const atBound = b !== undefined && pages >= (guardOf(db).reserveDepth > 0 ? b.all : b.data) - 1;
  if (atBound && (free === undefined || free >= reserveBytes(db))) {
    return new DcuError(ErrorCode.StorageFull, `the store is full: it reached storage.maxBytes (${mb(b.all * PAGE_SIZE)}) while writing ${what}: nothing of this write was kept; raise storage.maxBytes or shorten retention`, { cause, context: { what, full: 'maxBytes' } });
  }
  const left = free === undefined ? '' : ` (${mb(free)} free, the reserve needs ${mb(reserveBytes(db))})`;
  return new DcuError(ErrorCode.StorageFull, `the filesystem holding the store is full${left} while writing ${what}: nothing of this write was kept; free space on that filesystem (storage.maxBytes is not what limits here)`, {
    cause,
    context: { what, full: 'filesystem' },
  });
}

/**
 * Runs fn in a write transaction, turning SQLITE_FULL into a typed StorageFull error and a
 * malformed file into StorageCorrupt (after which nothing more is written on this connection).
 */
export function write<T>(db: Db, what: string, fn: () => T): T {
  const g = guardOf(db);
  if (g.corrupt !== undefined) throw g.corrupt;
  const free = g.freeBytes?.();
  if (free !== undefined && g.reserveDepth === 0 && free < reserveBytes(db)) throw fullError(db, what, free);
  try {
    return db.transaction(fn).immediate();
  } catch (e) {
    if (isFullError(e)) throw fullError(db, what, g.freeBytes?.(), e);
    if (isCorruptError(e)) {
      g.corrupt = new DcuError(ErrorCode.StorageCorrupt, `the store is malformed (${(e as Error).message}) while writing ${what}: nothing more is written on it; restart dcud, which moves it aside and starts a fresh one`, { cause: e, context: { what } });
      g.onCorrupt?.(g.corrupt);
      throw g.corrupt;
    }
    if (e instanceof DcuError) throw e;
    throw new DcuError(ErrorCode.Storage, `cannot write ${what}: ${(e as Error).message}`, { cause: e, context: { what } });
  }
}
