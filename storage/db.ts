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
import { ensureDirectory, ensureWritableFile } from './ensure-dir';
import { MIGRATIONS, type Migration } from './migrations';

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
    ensureDirectory(dirname(path));
    for (const f of [path, `${path}-wal`, `${path}-shm`]) ensureWritableFile(f, 'the store');
  }
  try {
    db = new Database(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true, timeout: options.busyTimeoutMs ?? 5000 });
  } catch (e) {
    throw storageError(ErrorCode.Storage, `cannot open the store ${path}: ${(e as Error).message}`, path, e);
  }
  try {
    // First, before any pragma writes to it: a newer dcu's file is left exactly as it was.
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

/** Runs fn with the reserve available (small, bounded writes only: states, alarms). */
export function inReserve<T>(db: Db, fn: () => T): T {
  const b = bounds.get(db);
  if (b === undefined) return fn();
  db.pragma(`max_page_count = ${b.all}`);
  try {
    return fn();
  } finally {
    // Never below the pages already used: SQLite keeps the larger of the two.
    db.pragma(`max_page_count = ${b.data}`);
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

/** Runs fn in a write transaction, turning SQLITE_FULL into a typed StorageFull error. */
export function write<T>(db: Db, what: string, fn: () => T): T {
  try {
    return db.transaction(fn).immediate();
  } catch (e) {
    if (isFullError(e)) {
      throw new DcuError(ErrorCode.StorageFull, `the store is full while writing ${what}: nothing of this write was kept; free space or raise storage.maxBytes`, { cause: e, context: { what } });
    }
    if (e instanceof DcuError) throw e;
    throw new DcuError(ErrorCode.Storage, `cannot write ${what}: ${(e as Error).message}`, { cause: e, context: { what } });
  }
}
