/**
 * Per-meter metadata cache: what a meter says about its objects that rarely changes
 * (profile capture objects, capture period, scaler_unit of the captured registers, object
 * list), so a read does not spend a round trip on it every time.
 *
 * Keyed by the caller's meter identity (`dcu probe`: endpoint + server address; the daemon:
 * its meter id). Each entry carries validators read from the meter: the logical device name
 * (0.0.42.0.0.255, catches a swapped meter behind the same port) and the active firmware
 * identifier (1.0.0.2.0.255, a new firmware may change scalers); each profile also keeps its
 * capture objects. Reads compare these with fresh values read in the same request as the data
 * (see profile-read.ts) and re-read the rest on any difference.
 *
 * Entries are plain JSON (numbers, strings, arrays): a file store (storage/meta-cache-file.ts,
 * for `dcu probe`) and the daemon's SQLite store implement the same contract. This module holds
 * the contract, the entry shape with its checker, and the in-memory store.
 */
import { DcuError, ErrorCode } from '../common/errors';

/** A capture object as stored: OBIS in dotted form. */
export interface CachedCaptureObject {
  classId: number;
  obis: string;
  attributeIndex: number;
  dataIndex: number;
}

export interface CachedProfile {
  /** The validator of this profile: re-read with every buffer, compared element by element. */
  captureObjects: CachedCaptureObject[];
  /** Seconds (0 = not periodic / unknown). */
  capturePeriod: number;
  /** scaler_unit per capture key (captureKey(), e.g. '3:1.0.1.8.0.255:2'). */
  scalers: Record<string, { scaler: number; unit: number }>;
}

export interface CachedObject {
  classId: number;
  version: number;
  obis: string;
}

export interface MeterMetadata {
  /**
   * Validators: the A-XDR encoding (hex) of the logical device name and of the active firmware
   * identifier as the meter answered them, or `result:N` when it refused (DataAccessResult N).
   */
  logicalDeviceName: string;
  firmware: string;
  /** Profiles by OBIS (dotted). */
  profiles: Record<string, CachedProfile>;
  /** Object list of the association, when read. */
  objectList?: CachedObject[];
  /** When this entry was written (epoch ms of the writer's clock), for the curious and for expiry. */
  savedAt: number;
}

export interface MeterMetadataCache {
  /** The entry for a meter, or undefined. Never throws for a missing entry. */
  get(key: string): Promise<MeterMetadata | undefined>;
  /** Replaces the entry for a meter. */
  put(key: string, meta: MeterMetadata): Promise<void>;
}

/** In-memory store for tests and for a daemon run without storage. Entries are copied in and out. */
export class MemoryMetadataCache implements MeterMetadataCache {
  private readonly entries = new Map<string, string>();
  /** How many get()/put() calls were made, for tests. */
  readonly calls = { get: 0, put: 0 };

  get(key: string): Promise<MeterMetadata | undefined> {
    this.calls.get++;
    const text = this.entries.get(key);
    return Promise.resolve(text === undefined ? undefined : (JSON.parse(text) as MeterMetadata));
  }

  put(key: string, meta: MeterMetadata): Promise<void> {
    this.calls.put++;
    this.entries.set(key, JSON.stringify(meta));
    return Promise.resolve();
  }
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkProfile(v: unknown): v is CachedProfile {
  if (!isRecord(v) || !isInt(v['capturePeriod']) || !Array.isArray(v['captureObjects']) || !isRecord(v['scalers'])) return false;
  const cos = v['captureObjects'] as unknown[];
  if (!cos.every((c) => isRecord(c) && isInt(c['classId']) && typeof c['obis'] === 'string' && isInt(c['attributeIndex']) && isInt(c['dataIndex']))) return false;
  return Object.values(v['scalers']).every((s) => isRecord(s) && isInt(s['scaler']) && isInt(s['unit']));
}

/**
 * Checks an entry read back from storage (a hand-edited or truncated file); throws
 * DcuError(Storage) naming what is wrong.
 */
export function checkMeterMetadata(v: unknown, where: string): MeterMetadata {
  const bad = (what: string): DcuError =>
    new DcuError(ErrorCode.Storage, `metadata cache ${where}: ${what}; delete the entry (or the file) to have it read again`, { context: { where } });
  if (!isRecord(v)) throw bad('entry is not an object');
  if (typeof v['logicalDeviceName'] !== 'string' || typeof v['firmware'] !== 'string') throw bad('validators missing');
  if (!isInt(v['savedAt'])) throw bad('savedAt missing');
  if (!isRecord(v['profiles']) || !Object.values(v['profiles']).every(checkProfile)) throw bad('bad profile entry');
  const list = v['objectList'];
  if (list !== undefined && !(Array.isArray(list) && list.every((o) => isRecord(o) && isInt(o['classId']) && isInt(o['version']) && typeof o['obis'] === 'string'))) {
    throw bad('bad object list');
  }
  return v as unknown as MeterMetadata;
}
