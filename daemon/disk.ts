/**
 * The disk under the state directory, watched: free space (statfs), a 1 MiB spare file
 * (`dcu.spare`) kept while there is room and given back to the filesystem when it fills —
 * so the `disk-full` alarm, the registry's states and the outbox drain's deletes still find
 * space on a filesystem something else filled — and a look at the store file's header, so a
 * store truncated or overwritten under a running dcud is noticed even before SQLite says so.
 */
import { closeSync, fsyncSync, openSync, readSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../protocol/common/clock';
import type { Logger } from '../protocol/common/log';

export const SPARE_FILE = 'dcu.spare';
export const SPARE_BYTES = 1024 * 1024;
const WATCH_MS = 10_000;
const MAGIC = 'SQLite format 3\0';

/** Bytes free for an unprivileged writer on the filesystem of `dir`. */
export function statfsFree(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** undefined when the file starts like a SQLite database; what is wrong otherwise. */
export function storeHeaderProblem(path: string): string | undefined {
  try {
    if (statSync(path).size < 100) return `the store file ${path} was truncated (${statSync(path).size} bytes)`;
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(16);
      readSync(fd, b, 0, 16, 0);
      return b.toString('latin1') === MAGIC ? undefined : `the store file ${path} no longer starts with the SQLite header`;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return `the store file ${path} cannot be read: ${(e as Error).message}`;
  }
}

export class DiskSpace {
  private released = false;
  private timer: TimerHandle | undefined;
  private readonly spare: string;

  constructor(
    private readonly dir: string,
    private readonly probe: (dir: string) => number = statfsFree,
  ) {
    this.spare = join(dir, SPARE_FILE);
  }

  /** What the filesystem has free, less the spare while it is given back (what readings may use). */
  free(): number {
    return this.probe(this.dir) - (this.released ? SPARE_BYTES : 0);
  }

  /** Gives the spare's bytes back to the filesystem (a full disk); true when there was one. */
  release(): boolean {
    let had = true;
    try {
      statSync(this.spare);
    } catch {
      had = false;
    }
    rmSync(this.spare, { force: true });
    this.released = true;
    return had;
  }

  /** Writes the spare again once there is room for it and the reserve. */
  keepSpare(reserveBytes: number): boolean {
    if (this.probe(this.dir) < reserveBytes + 2 * SPARE_BYTES) return false;
    try {
      if (statSync(this.spare).size >= SPARE_BYTES) {
        this.released = false;
        return true;
      }
    } catch {
      // none yet
    }
    try {
      const fd = openSync(this.spare, 'w', 0o600);
      try {
        writeSync(fd, Buffer.alloc(SPARE_BYTES));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.released = false;
      return true;
    } catch {
      rmSync(this.spare, { force: true });
      return false;
    }
  }

  /** Every 10 s: `check` (the daemon looks at space and the store's header). */
  watch(clock: Clock, logger: Logger, check: () => void): void {
    const tick = (): void => {
      try {
        check();
      } catch (e) {
        logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'disk check failed');
      }
      this.timer = clock.setTimer(WATCH_MS, tick);
    };
    this.timer = clock.setTimer(WATCH_MS, tick);
  }

  stop(): void {
    this.timer?.cancel();
  }
}
