/**
 * File modes of the state directory when dcud (not systemd) creates it: the directory 0700,
 * or 0750 with a configured group (setgid, so the sockets dcud makes there belong to that
 * group), and every file in it 0600 — the store with its -wal/-shm (SQLite gives those the
 * mode of the database file), the lock file, the generated KEK and API key. A file that
 * exists with more open modes (written by an older dcu) is narrowed to 0600.
 */
import { chmodSync, chownSync, closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { ensureDirectory } from '../common/ensure-dir';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;
/** With a configured group: rwxr-s---. */
export const GROUP_DIR_MODE = 0o2750;

function modeError(path: string, what: string, e: unknown): DcuError {
  return new DcuError(ErrorCode.Storage, `cannot ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, context: { path } });
}

/** Creates `path` empty with mode 0600 when missing; narrows an existing one to 0600 when group or others may access it. */
export function ensurePrivateFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'a', PRIVATE_FILE_MODE);
  } catch (e) {
    throw modeError(path, 'create', e);
  }
  try {
    const st = fstatSync(fd);
    if (st.isFile() && (st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(path, PRIVATE_FILE_MODE);
  } catch (e) {
    throw modeError(path, 'narrow the mode of', e);
  } finally {
    closeSync(fd);
  }
}

/** Narrows an existing file (a -wal or -shm left by an older dcu) to 0600; nothing when it is missing. */
export function narrowIfPresent(path: string): void {
  try {
    const st = statSync(path);
    if (st.isFile() && (st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(path, PRIVATE_FILE_MODE);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw modeError(path, 'narrow the mode of', e);
  }
}

export interface StateDirResult {
  /** dcud created it (with the modes above). */
  readonly created: boolean;
  /** An existing directory that others (not owner, not group) may enter or read: left as it is, worth a warning. */
  readonly openToOthers: boolean;
}

/**
 * Makes sure the state directory exists: a new one is 0700, or 0750 + setgid owned by `gid`.
 * An existing one keeps its mode (systemd's StateDirectoryMode=, or the administrator's);
 * with `gid`, its group and mode are set as for a new one.
 */
export function ensureStateDirectory(dir: string, gid?: number): StateDirResult {
  let existed = true;
  try {
    existed = statSync(dir).isDirectory();
  } catch {
    existed = false;
  }
  ensureDirectory(dir, PRIVATE_DIR_MODE);
  try {
    if (!existed) chmodSync(dir, PRIVATE_DIR_MODE); // the umask may have taken bits of mkdir's mode, never added any: this is exact
    if (gid !== undefined) {
      chownSync(dir, -1, gid);
      chmodSync(dir, GROUP_DIR_MODE);
    }
  } catch (e) {
    throw modeError(dir, gid === undefined ? 'set the mode of' : `give group ${gid} and mode 2750 to`, e);
  }
  return { created: !existed, openToOthers: (statSync(dir).mode & 0o007) !== 0 };
}

/** The number of a group given by number or by name (looked up in /etc/group); DcuError(Config) when unknown. */
export function groupIdOf(group: string, groupFile = '/etc/group'): number {
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    // no group file: unknown below
  }
  const line = text.split('\n').find((l) => l.split(':')[0] === group);
  const gid = line?.split(':')[2];
  if (gid === undefined || !/^\d+$/.test(gid)) throw new DcuError(ErrorCode.Config, `stateDirGroup: there is no group "${group}" in ${groupFile}; create it or give its number`, { context: { group } });
  return Number(gid);
}
