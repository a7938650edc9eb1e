/**
 * Creating a directory and its missing parents, one level at a time. Node's
 * `mkdir({ recursive: true })` loops forever at 100 % CPU (and never yields to a SIGTERM
 * handler) when the kernel answers ENOENT for a parent that exists, as /proc does: this
 * walks up to the nearest existing ancestor, checks it is a writable directory, then creates
 * the rest with plain mkdir, so every failure is one clear DcuError(Storage).
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DcuError, ErrorCode } from '../protocol/common/errors';

function fail(dir: string, why: string, cause?: unknown): DcuError {
  return new DcuError(ErrorCode.Storage, `cannot use ${dir} as a directory: ${why}`, { cause, context: { path: dir } });
}

function errnoText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
    throw fail(dir, `${at} is not writable (${errnoText(e)})`, e);
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
