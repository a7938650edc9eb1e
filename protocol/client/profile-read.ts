/**
 * Reading a profile generic in as few round trips as the meter allows.
 *
 * With 'multiple-references' granted, the first request is one GET-with-list of
 *   [capture_objects, capture_period, (logical device name, firmware id when a cache is
 *   given,) buffer (with its selective access)]
 * and the only other request is the scaler_units of the register columns, skipped when the
 * cache holds them and its validators still match. Why the validators travel with the buffer
 * rather than in a request of their own: the meter answers a list at one moment, so the
 * capture objects it returns are those of the buffer it returns (a capture-objects change
 * clears the buffer anyway), and a warm read is then a single request — the minimum, since
 * the buffer must be asked for. A miss costs nothing extra either: the fresh capture objects
 * are already in hand, only the scalers are read (one list), as on a cold read.
 *   cold / stale : 2 requests (list with buffer, list of scalers)
 *   warm         : 1 request
 * Capture period is always read fresh (a few bytes; a configuration change of it would
 * otherwise mis-date rebuilt timestamps). Why the logical device name: scalers can be set per
 * installation (CT ratio), so a meter swapped behind the same port with the same firmware
 * must not inherit them.
 *
 * Without 'multiple-references' every attribute is its own request; then validating costs two
 * GETs (name, firmware), so the cache is used only when it saves more (over two scalers).
 */
import type { AccessSelection } from '../apdu/descriptors';
import { DataAccessResult } from '../apdu/results';
import { encodeData } from '../axdr/codec';
import { toHex } from '../common/hex';
import { isDcuError } from '../common/errors';
import { captureKey, decodeCaptureObjects, type CaptureObject } from '../cosem/capture-object';
import type { CosemRef } from '../cosem/classes';
import { formatObis, obis, type Obis } from '../cosem/obis';
import { decodeProfileBuffer, type ProfileRow } from '../cosem/profile';
import { encodeAccessSelector, rangeByEntry, rangeByTime } from '../cosem/selective-access';
import { decodeScalerUnit, type ScalerUnit } from '../cosem/units';
import type { DlmsClient, GetOutcome } from './client';
import { dataAccessError } from './errors';
import type { CachedProfile, MeterMetadata, MeterMetadataCache } from './meta-cache';

export const LOGICAL_DEVICE_NAME = obis('0.0.42.0.0.255');
export const ACTIVE_FIRMWARE_ID = obis('1.0.0.2.0.255');

export interface ProfileReadOptions {
  /** Range by time (inclusive), epoch ms. */
  from?: number;
  to?: number;
  /** Range by entries, 1-based; toEntry 0 = newest. */
  fromEntry?: number;
  toEntry?: number;
  /** Read scaler_unit of register columns (one extra GET each, with-list when granted). Default true. */
  scalers?: boolean;
  /** Blue-Book deviation of the meter's local time, for the range dates (default 0). */
  deviation?: number;
  /** Per-meter metadata cache and this meter's key in it. */
  cache?: { store: MeterMetadataCache; key: string };
}

/** Where the metadata came from: no cache, a valid cache entry, none yet, or one whose validators changed. */
export type MetadataSource = 'read' | 'cache-hit' | 'cache-miss' | 'cache-stale';

export interface ProfileReading {
  captureObjects: CaptureObject[];
  capturePeriod: number;
  scalers: Map<string, ScalerUnit>;
  rows: ProfileRow[];
  metadata: MetadataSource;
}

type Ref = CosemRef & { access?: AccessSelection };
const ref = (classId: number, o: Obis, index: number): Ref => ({ classId, obis: o, index });

/** A validator: the A-XDR bytes the meter answered, or its refusal. */
const validator = (o: GetOutcome | undefined): string => (o === undefined ? 'result:none' : o.ok ? toHex(encodeData(o.data)) : `result:${o.result}`);

const isScaled = (co: CaptureObject): boolean => (co.classId === 3 || co.classId === 4 || co.classId === 5) && co.attributeIndex === 2;
const scalerRef = (co: CaptureObject): Ref => ref(co.classId, co.obis, co.classId === 5 ? 4 : 3);

function accessOf(client: DlmsClient, options: ProfileReadOptions): AccessSelection | undefined {
  const convention = client.options.deviationConvention;
  if (options.from !== undefined || options.to !== undefined) {
    return encodeAccessSelector(rangeByTime(options.from ?? 0, options.to ?? Date.UTC(2099, 11, 31), { deviation: options.deviation ?? 0, convention }));
  }
  if (options.fromEntry !== undefined) return encodeAccessSelector(rangeByEntry(options.fromEntry, options.toEntry ?? 0));
  return undefined;
}

function sameCaptureObjects(cached: CachedProfile, fresh: readonly CaptureObject[]): boolean {
  return (
    cached.captureObjects.length === fresh.length &&
    fresh.every((co, i) => {
      const c = cached.captureObjects[i];
      return c !== undefined && c.classId === co.classId && c.obis === formatObis(co.obis) && c.attributeIndex === co.attributeIndex && c.dataIndex === co.dataIndex;
    })
  );
}

function toCached(captureObjects: readonly CaptureObject[], capturePeriod: number, scalers: ReadonlyMap<string, ScalerUnit>): CachedProfile {
  const out: CachedProfile = {
    captureObjects: captureObjects.map((co) => ({ classId: co.classId, obis: formatObis(co.obis), attributeIndex: co.attributeIndex, dataIndex: co.dataIndex })),
    capturePeriod,
    scalers: {},
  };
  for (const [k, su] of scalers) out.scalers[k] = { scaler: su.scaler, unit: su.unit };
  return out;
}

function periodOf(o: GetOutcome | undefined): number {
  return o?.ok && (o.data.type === 'uint32' || o.data.type === 'uint16') ? o.data.value : 0;
}

/** A cache that fails (unreadable file, full disk) only costs the round trips it would have saved. */
async function cacheGet(client: DlmsClient, cache: NonNullable<ProfileReadOptions['cache']>): Promise<MeterMetadata | undefined> {
  try {
    return await cache.store.get(cache.key);
  } catch (e) {
    client.options.logger.warn({ err: isDcuError(e) ? e.message : String(e) }, 'metadata cache unreadable: reading the metadata from the meter');
    return undefined;
  }
}

async function cachePut(client: DlmsClient, cache: NonNullable<ProfileReadOptions['cache']>, meta: MeterMetadata): Promise<void> {
  try {
    await cache.store.put(cache.key, meta);
  } catch (e) {
    client.options.logger.warn({ err: isDcuError(e) ? e.message : String(e) }, 'metadata cache not saved');
  }
}

async function readScalers(client: DlmsClient, columns: readonly CaptureObject[]): Promise<Map<string, ScalerUnit>> {
  const scalers = new Map<string, ScalerUnit>();
  const outcomes = await client.getWithList(columns.map(scalerRef));
  columns.forEach((co, i) => {
    const o = outcomes[i];
    if (o?.ok) {
      try {
        scalers.set(captureKey(co), decodeScalerUnit(o.data));
      } catch {
        // a meter with an odd scaler_unit still gives rows, unscaled
      }
    }
  });
  return scalers;
}

function scalersFromCache(cached: CachedProfile, columns: readonly CaptureObject[]): Map<string, ScalerUnit> {
  const scalers = new Map<string, ScalerUnit>();
  for (const co of columns) {
    const su = cached.scalers[captureKey(co)];
    if (su !== undefined) scalers.set(captureKey(co), { scaler: su.scaler, unit: su.unit });
  }
  return scalers;
}

/** Reads a profile generic as rows: capture objects, period, scalers (cached when possible) and the buffer. */
export async function readProfile(client: DlmsClient, profile: Obis, options: ProfileReadOptions = {}): Promise<ProfileReading> {
  const access = accessOf(client, options);
  const bufferRef: Ref = access === undefined ? ref(7, profile, 2) : { ...ref(7, profile, 2), access };
  const list = client.canGetWithList;
  const wantScalers = options.scalers !== false;
  const cache = wantScalers ? options.cache : undefined;
  const entry = cache === undefined ? undefined : await cacheGet(client, cache);
  const profileKey = formatObis(profile);

  // First request: the metadata that must be fresh, the validators, and (with a list) the buffer.
  const validate = cache !== undefined && list;
  const head = [ref(7, profile, 3), ref(7, profile, 4), ...(validate ? [ref(1, LOGICAL_DEVICE_NAME, 2), ref(1, ACTIVE_FIRMWARE_ID, 2)] : [])];
  let outcomes = await client.getWithList(list ? [...head, bufferRef] : head);
  let bufferInList = list;
  if (list && outcomes[0]?.ok !== true) {
    // A meter that cannot answer the whole list (too long without block transfer, …): metadata alone, then the buffer alone.
    client.options.logger.debug({ result: outcomes[0]?.ok === false ? outcomes[0].result : undefined }, 'capture objects refused inside a list with the buffer: asking without it');
    outcomes = await client.getWithList(head);
    bufferInList = false;
  }
  const [coOutcome, periodOutcome] = outcomes;
  if (!coOutcome?.ok) throw dataAccessError(coOutcome?.result ?? DataAccessResult.otherReason, 'capture_objects');
  const captureObjects = decodeCaptureObjects(coOutcome.data);
  const capturePeriod = periodOf(periodOutcome);
  const columns = wantScalers ? captureObjects.filter(isScaled) : [];
  const useCache = cache !== undefined && (validate || columns.length > 2);

  // Validators: in the list above, or (no list) two GETs when that saves more than it costs.
  let names: { ldn: string; fw: string } | undefined;
  if (validate) names = { ldn: validator(outcomes[2]), fw: validator(outcomes[3]) };
  else if (useCache && entry !== undefined) {
    const [ldn, fw] = await client.getWithList([ref(1, LOGICAL_DEVICE_NAME, 2), ref(1, ACTIVE_FIRMWARE_ID, 2)]);
    names = { ldn: validator(ldn), fw: validator(fw) };
  }
  const sameMeter = entry !== undefined && names !== undefined && entry.logicalDeviceName === names.ldn && entry.firmware === names.fw;
  const cachedProfile = sameMeter ? entry.profiles[profileKey] : undefined;
  const hit = cachedProfile !== undefined && sameCaptureObjects(cachedProfile, captureObjects);

  let scalers: Map<string, ScalerUnit>;
  let metadata: MetadataSource;
  if (!useCache) {
    metadata = 'read';
    scalers = columns.length === 0 ? new Map<string, ScalerUnit>() : await readScalers(client, columns);
  } else if (hit) {
    metadata = 'cache-hit';
    scalers = scalersFromCache(cachedProfile, columns);
  } else {
    metadata = entry === undefined ? 'cache-miss' : 'cache-stale';
    scalers = columns.length === 0 ? new Map<string, ScalerUnit>() : await readScalers(client, columns);
    if (names === undefined && columns.length > 2) {
      // No list granted and nothing cached yet: the validators to store with it.
      const [ldn, fw] = await client.getWithList([ref(1, LOGICAL_DEVICE_NAME, 2), ref(1, ACTIVE_FIRMWARE_ID, 2)]);
      names = { ldn: validator(ldn), fw: validator(fw) };
    }
    if (names !== undefined) {
      const keep = sameMeter ? entry.profiles : {};
      const meta: MeterMetadata = {
        ...(sameMeter && entry.objectList !== undefined ? { objectList: entry.objectList } : {}),
        logicalDeviceName: names.ldn,
        firmware: names.fw,
        profiles: { ...keep, [profileKey]: toCached(captureObjects, capturePeriod, scalers) },
        savedAt: client.options.clock.now(),
      };
      await cachePut(client, cache, meta);
    }
  }

  // The buffer: from the list, or (no list, or a meter that refuses selective access inside a list) on its own.
  let buffer = bufferInList ? outcomes[head.length] : undefined;
  if (buffer === undefined || !buffer.ok) {
    if (buffer !== undefined) client.options.logger.debug({ result: buffer.result }, 'buffer refused inside a list: asking for it alone');
    buffer = await client.get(bufferRef, bufferRef.access);
  }
  if (!buffer.ok) throw dataAccessError(buffer.result, `GET 7:${profileKey}:2 (buffer)`);
  const rows = decodeProfileBuffer(buffer.data, captureObjects, { capturePeriod, scalers, convention: client.options.deviationConvention });
  return { captureObjects, capturePeriod, scalers, rows, metadata };
}
