/**
 * Per-meter metadata cache for `dcu probe`: a small JSON file (default ~/.dcu/meta-cache.json,
 * next to the counter file). Writes go to a temp file, fsync, rename, so a crash leaves the
 * old file or the new one. A cache is never worth failing a read for: a file that does not
 * parse is treated as empty (and replaced on the next write); an entry that does not check is
 * dropped. The daemon will keep the same entries in SQLite behind the MeterMetadataCache
 * contract (protocol/client/meta-cache.ts).
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { checkMeterMetadata, type MeterMetadata, type MeterMetadataCache } from '../protocol/client/meta-cache';

interface CacheFile {
  readonly version: 1;
  readonly meters: Record<string, MeterMetadata>;
}

export interface FileMetadataCacheOptions {
  /** JSON file holding the entries by meter key. */
  readonly path: string;
}

function storageError(message: string, path: string, cause?: unknown): DcuError {
  return new DcuError(ErrorCode.Storage, message, { cause, context: { path } });
}

export class FileMetadataCache implements MeterMetadataCache {
  readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: FileMetadataCacheOptions) {
    this.path = options.path;
  }

  get(key: string): Promise<MeterMetadata | undefined> {
    return this.serial(async () => (await this.load())[key]);
  }

  /** Re-reads the file before writing, so entries another process wrote meanwhile survive. */
  put(key: string, meta: MeterMetadata): Promise<void> {
    return this.serial(async () => {
      const meters = { ...(await this.load()), [key]: meta };
      const body: CacheFile = { version: 1, meters };
      try {
        await writeFileAtomic(this.path, `${JSON.stringify(body, null, 2)}\n`);
      } catch (e) {
        throw storageError(`cannot write the metadata cache ${this.path}: check the directory exists and is writable, or use --no-cache`, this.path, e);
      }
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<Record<string, MeterMetadata>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw storageError(`cannot read the metadata cache ${this.path}: check its permissions, or use --no-cache`, this.path, e);
    }
    return parseCacheFile(text, this.path);
  }
}

/** Entries that check; anything else is forgotten (it will be read from the meter again). */
export function parseCacheFile(text: string, path: string): Record<string, MeterMetadata> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  const meters = (parsed as { meters?: unknown } | null)?.meters;
  if (typeof meters !== 'object' || meters === null || Array.isArray(meters)) return {};
  const out: Record<string, MeterMetadata> = {};
  for (const [k, v] of Object.entries(meters as Record<string, unknown>)) {
    try {
      out[k] = checkMeterMetadata(v, `${path} [${k}]`);
    } catch {
      // dropped: read again from the meter
    }
  }
  return out;
}
