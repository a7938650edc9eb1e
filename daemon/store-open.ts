/**
 * The state directory's lock and store at start, on a sound disk or a full one. The lock
 * (dcud.lock) is taken without needing disk space (its journal in memory; on a full disk the
 * exclusive lock is held without recording the owner); the store is opened with the start-up
 * checks (storage/store-check.ts) and, when the filesystem is too full for SQLite's -shm
 * file, in exclusive locking mode (degraded: the daemon serves status, the API and the outbox
 * drain, and collects again when space returns). A finding of the checks becomes the
 * `store-corrupt` alarm, the first message the HES gets.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ensurePrivateFile } from '../storage/private-files';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import type { Logger } from '../protocol/common/log';
import { inReserve, isFullError, reserveBytes, setFreeSpaceProbe, write, type Db } from '../storage/db';
import { EventLog } from '../storage/events';
import { openCheckedStore, type CheckedStore } from '../storage/store-check';
import { DiskSpace, SPARE_BYTES } from './disk';

export const STORE_FILE = 'dcu.sqlite';
export const LOCK_FILE = 'dcud.lock';

/**
 * One daemon per state directory: an exclusive SQLite lock on dcud.lock, held for the life
 * of the process and released by the OS when it dies (kill -9 included).
 */
export function lockStateDir(stateDir: string, now: number): Database.Database {
  const path = join(stateDir, LOCK_FILE);
  let lock: Database.Database;
  try {
    ensurePrivateFile(path);
    lock = new Database(path, { timeout: 0 });
  } catch (e) {
    throw new DcuError(ErrorCode.Storage, `cannot lock ${path}: ${(e as Error).message}`, { cause: e, context: { stateDir } });
  }
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.pragma('journal_mode = MEMORY'); // no journal file: the lock needs no disk space
    lock.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    lock.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      throw new DcuError(ErrorCode.StorageLocked, `another dcud already runs on ${stateDir} (${path} is locked); stop it first or use another stateDir`, { cause: e, context: { stateDir } });
    }
    throw new DcuError(ErrorCode.Storage, `cannot lock ${path}: ${(e as Error).message}`, { cause: e, context: { stateDir } });
  }
  try {
    lock.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER, since INTEGER); DELETE FROM owner;');
    lock.prepare('INSERT INTO owner VALUES (?, ?)').run(process.pid, now);
    lock.exec('COMMIT');
  } catch (e) {
    // a full disk: the owner is not recorded, the exclusive lock is held all the same
    if (lock.inTransaction) lock.exec('ROLLBACK');
    if (!isFullError(e)) {
      lock.close();
      throw new DcuError(ErrorCode.Storage, `cannot lock ${path}: ${(e as Error).message}`, { cause: e, context: { stateDir } });
    }
  }
  return lock;
}

const NO_SPACE = new Set(['SQLITE_FULL', 'SQLITE_IOERR_SHMSIZE', 'SQLITE_IOERR_SHMOPEN', 'SQLITE_IOERR_WRITE', 'SQLITE_CANTOPEN']);

function noSpace(e: unknown, disk: DiskSpace): boolean {
  const code = (e as { code?: unknown }).code ?? ((e as { cause?: { code?: unknown } }).cause?.code);
  return typeof code === 'string' && NO_SPACE.has(code) && disk.free() < 4 * SPARE_BYTES;
}

export interface DaemonStore extends CheckedStore {
  readonly disk: DiskSpace;
  /** The store-corrupt alarm's outbox row, to be sent before anything else. */
  readonly first?: { readonly stream: string; readonly seq: number };
  /** Opened without -shm on a full filesystem: no other connection reads it until a restart. */
  readonly exclusive: boolean;
}

export function openDaemonStore(stateDir: string, maxBytes: number, now: number, logger: Logger, disk = new DiskSpace(stateDir)): DaemonStore {
  const path = join(stateDir, STORE_FILE);
  if (disk.free() < 4 * SPARE_BYTES && disk.release()) logger.warn({ stateDir }, 'the filesystem is (nearly) full: the spare file dcu.spare was given back for the alarm and the states');
  let checked: CheckedStore;
  let exclusive = false;
  try {
    checked = openCheckedStore(path, { maxBytes, now });
  } catch (e) {
    if (!noSpace(e, disk)) throw e;
    logger.error({ stateDir, err: (e as Error).message }, 'the filesystem holding the store is full: the store is opened without its -shm file (other readers wait for a restart with space); dcud runs degraded');
    checked = openCheckedStore(path, { maxBytes, now, exclusive: true });
    exclusive = true;
  }
  const { db } = checked;
  setFreeSpaceProbe(db, () => disk.free());
  let first: { stream: string; seq: number } | undefined;
  if (checked.finding !== undefined) {
    const f = checked.finding;
    logger.error({ kind: f.kind, movedTo: f.movedTo, incarnation: checked.incarnation, previous: f.previousIncarnation }, `store-corrupt: ${f.detail}; new incarnation ${checked.incarnation}`);
    try {
      inReserve(db, () => write(db, 'the store-corrupt alarm', () => new EventLog(db).alarm({ meter: null, code: 'store-corrupt', detail: `${f.detail}; messages go on under the new incarnation ${checked.incarnation}${f.previousIncarnation === undefined ? '' : ` (was ${f.previousIncarnation})`}` }, now)));
      const seq = (db.prepare("SELECT max(seq) AS seq FROM outbox WHERE stream = 'alarms'").get() as { seq: number | null }).seq;
      if (seq !== null) first = { stream: 'alarms', seq };
    } catch (e) {
      logger.error({ err: (e as Error).message }, 'the store-corrupt alarm could not be stored');
    }
  }
  try {
    checked.highWater.record(checked.incarnation);
  } catch (e) {
    logger.error({ err: (e as Error).message }, 'the high-water file could not be written: a store that goes back before the next write would not be noticed');
  }
  if (!disk.keepSpare(reserveBytes(db))) logger.debug({ stateDir }, 'no room for the spare file yet');
  return { ...checked, disk, exclusive, ...(first === undefined ? {} : { first }) };
}

/** True when `db` is full for ordinary writes (the filesystem less than the reserve). */
export function diskFull(db: Db, disk: DiskSpace): boolean {
  return disk.free() < reserveBytes(db);
}
