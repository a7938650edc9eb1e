/**
 * Files the daemon reads because a configuration or an operator named them (key files,
 * credentials, TLS PEM files, a firmware image on the box): opened without blocking and
 * checked to be a regular file below a size limit before a byte is read, so a FIFO (whose
 * open or read waits for a writer for ever), a device (`/dev/zero` reads without end) or a
 * directory is refused at once with what it is — never a hang, never gigabytes in memory.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { fileProblem } from './file-text';

/** Why a path could not be opened or read, in words (no OS error code alone); the wording of config/file-text.ts beyond the cases a key file names its own way. */
export function openProblem(e: unknown, what: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist; create it or fix the path';
    case 'EACCES':
    case 'EPERM':
      return 'is not readable by this user; give the dcud user read access (and nobody else)';
    case 'EISDIR':
      return `is a directory, not a ${what}`;
    case 'ELOOP':
      return 'is a symbolic link loop';
    default:
      return fileProblem(e);
  }
}

/** Reads a named file as readSmallRegularFile does; throws `make(problem)` instead of returning it. */
export function readRegularFileOrThrow(path: string, maxBytes: number, what: string, make: (problem: string) => Error): Buffer {
  const r = readSmallRegularFile(path, maxBytes, what);
  if (!r.ok) throw make(r.problem);
  return r.bytes;
}

/** What a path that is not a regular file is, for the refusal. */
function kindOf(mode: number): string {
  const type = mode & constants.S_IFMT;
  if (type === constants.S_IFDIR) return 'a directory';
  if (type === constants.S_IFIFO) return 'a FIFO (named pipe)';
  if (type === constants.S_IFCHR) return 'a character device';
  if (type === constants.S_IFBLK) return 'a block device';
  if (type === constants.S_IFSOCK) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads a small regular file without ever blocking or reading without end: opened with
 * O_NONBLOCK (a FIFO opens at once instead of waiting for a writer), then fstat — anything but
 * a regular file of at most `maxBytes` is refused before a byte is read; the read itself stops
 * at `maxBytes + 1` whatever the file does meanwhile.
 */
export function readSmallRegularFile(path: string, maxBytes: number, what = 'key file'): { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly problem: string } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    return { ok: false, problem: openProblem(e, what) };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, problem: `is ${kindOf(st.mode)}, not a ${what}; a ${what} is a regular file of at most ${maxBytes} bytes` };
    if (st.size > maxBytes) return { ok: false, problem: `is ${st.size} bytes, too big for a ${what} (at most ${maxBytes})` };
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > maxBytes) return { ok: false, problem: `grew past ${maxBytes} bytes while it was read; not a ${what}` };
    }
    return { ok: true, bytes: buf.subarray(0, n) };
  } catch (e) {
    return { ok: false, problem: openProblem(e, what) };
  } finally {
    closeSync(fd);
  }
}

