/**
 * What a failed read of a file the user named means, in words: "does not exist", "is a
 * directory", "is not readable by …", instead of a raw ENOENT/EISDIR. Shared by
 * `dcu config check` / dcud (the configuration file) and `dcu firmware upload` (the image,
 * the manifest).
 */
import { readFileSync } from 'node:fs';
import { DcuError, ErrorCode } from '../protocol/common/errors';

/** The reason of a failed read of `path`, as a sentence's end ("does not exist"). */
export function fileProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist (check the path)';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'is not a path to a file (a part of it is a file, not a directory)';
    case 'EACCES':
    case 'EPERM':
      return `is not readable by this user (${code}): check its owner and mode, or run as its owner`;
    default:
      return `cannot be read (${code ?? (e instanceof Error ? e.message : String(e))})`;
  }
}

/** Reads a file the user named; a failure is DcuError(`code`) saying what is wrong with the path. */
export function readUserFile(path: string, what: string, code: ErrorCode): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DcuError(code, `${what} ${path} ${fileProblem(e)}`, { cause: e, context: { path } });
  }
}
