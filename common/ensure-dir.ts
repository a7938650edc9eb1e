/**
 * Creating a directory and its missing parents, one level at a time. Node's
 * `mkdir({ recursive: true })` loops forever at 100 % CPU (and never yields to a SIGTERM
 * handler) when the kernel answers ENOENT for a parent that exists, as /proc does: this
 * walks up to the nearest existing ancestor, checks it is a writable directory, then creates
 * the rest with plain mkdir, so every failure is one clear DcuError(Storage).
 */
import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DcuError, ErrorCode } from '../protocol/common/errors';

function fail(dir: string, why: string, cause?: unknown): DcuError {
  return new DcuError(ErrorCode.Storage, `cannot use ${dir} as a directory: ${why}`, { cause, context: { path: dir } });
}

function errnoText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A user's name from /etc/passwd, else `uid N`. */
function userName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name !== undefined && id !== undefined && Number(id) === uid) return name;
    }
  } catch {
    // no passwd file (a container): the number says it
  }
  return `uid ${uid}`;
}

/** Who owns `path` and who runs this: what a permission error should tell the user to do. */
export function ownerHint(path: string): string {
  let owner: string;
  try {
    owner = userName(statSync(path).uid);
  } catch {
    return 'check its owner and mode';
  }
  const uid = process.getuid?.();
  const self = uid === undefined ? 'this user' : userName(uid);
  return `it belongs to ${owner} and this runs as ${self}: run the command as ${owner} (sudo -u ${owner} …), or give it to ${self} (chown)`;
}

/** Makes sure an existing `path` (the store, its -wal) may be written; throws DcuError(Storage) naming the owner. */
export function ensureWritableFile(path: string, what: string): void {
  try {
    accessSync(path, constants.W_OK);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') return;
    throw new DcuError(ErrorCode.Storage, `${what} ${path} is not writable: ${ownerHint(path)}`, { cause: e, context: { path } });
  }
}

/** Makes sure `dir` exists as a writable directory (creating it and its parents); throws DcuError(Storage). */
export function ensureDirectory(dir: string, mode = 0o777): void {
  const target = resolve(dir);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(at).isDirectory();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'ENOTDIR') throw fail(dir, 'a part of the path exists and is not a directory', e);
      if (code !== 'ENOENT') throw fail(dir, errnoText(e), e);
      const parent = dirname(at);
      if (parent === at) throw fail(dir, 'no part of the path exists');
      missing.unshift(at);
      at = parent;
      continue;
    }
    if (!isDir) throw fail(dir, `${at} exists and is not a directory`);
    break;
  }
  try {
    accessSync(at, constants.W_OK);
  } catch (e) {
    throw fail(dir, `${at} is not writable: ${ownerHint(at)}`, e);
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode });
    } catch (e) {
      if ((e as { code?: unknown }).code === 'EEXIST' && statSync(d).isDirectory()) continue;
      throw fail(dir, `cannot create ${d} (${errnoText(e)}); ${dirname(d)} does not accept new directories`, e);
    }
  }
}
