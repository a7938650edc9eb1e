import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ProbeTarget } from './target';
import type { PreparedRequest } from './commands';
import { FileMetadataCache } from '../../storage/meta-cache-file';

/** Where `dcu probe profile` keeps per-meter metadata (next to the counter file). */
export const DEFAULT_META_CACHE_FILE = join(homedir(), '.dcu', 'meta-cache.json');

/**
 * A meter's key in the cache: where it is reached and its server address (not the baud or
 * the framing, which do not change what the meter is). The entry itself holds the meter's
 * logical device name and firmware id, checked on every read.
 */
export function metaCacheKey(target: ProbeTarget): string {
  const e = target.endpoint;
  const where = e.kind === 'serial' ? `serial ${e.path}` : `${e.kind} ${e.host}:${e.port}`;
  const s = target.serverAddress;
  return `${where}|server ${s.logical}${s.physical === undefined ? '' : `/${s.physical}`}`;
}

/** Gives a profile request its cache (unless --no-cache); a cache that cannot be set up is only logged by the read. */
export async function withMetadataCache(req: PreparedRequest, target: ProbeTarget): Promise<PreparedRequest> {
  if (req.command !== 'profile' || req.cacheFile === undefined) return req;
  await mkdir(dirname(req.cacheFile), { recursive: true, mode: 0o700 }).catch(() => undefined);
  return { ...req, cache: { store: new FileMetadataCache({ path: req.cacheFile }), key: metaCacheKey(target) } };
}
