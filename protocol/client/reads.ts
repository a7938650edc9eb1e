import type { AccessSelection } from '../apdu/descriptors';
import { DataAccessResult } from '../apdu/results';
import type { CosemDateTime, Data } from '../axdr/data';
import { dataAsDateTime, dateTimeToEpoch, encodeDateTimeOctets, epochToDateTime, type DeviationConvention } from '../axdr/datetime';
import { DcuError, ErrorCode } from '../common/errors';
import { captureKey, decodeCaptureObjects, type CaptureObject } from '../cosem/capture-object';
import type { CosemRef } from '../cosem/classes';
import { obis, type Obis } from '../cosem/obis';
import { decodeObjectList, type ObjectListEntry } from '../cosem/object-list';
import { decodeProfileBuffer, type ProfileRow } from '../cosem/profile';
import { encodeAccessSelector, rangeByEntry, rangeByTime } from '../cosem/selective-access';
import { decodeScalerUnit, type ScalerUnit } from '../cosem/units';
import type { DlmsClient } from './client';
import { dataAccessError } from './errors';

/**
 * High-level reads built on DlmsClient's get/set/action: what a technician or a collection
 * job asks for, with COSEM knowledge (object list, profiles through capture objects, clock).
 */

export const CURRENT_ASSOCIATION = obis('0.0.40.0.0.255');
export const CLOCK = obis('0.0.1.0.0.255');

const ref = (classId: number, o: Obis, index: number): CosemRef => ({ classId, obis: o, index });

export async function readObjectList(client: DlmsClient): Promise<ObjectListEntry[]> {
  return decodeObjectList(await client.getValue(ref(15, CURRENT_ASSOCIATION, 2)));
}

export interface ClockReading {
  dateTime: CosemDateTime;
  /** Meter time as an instant, null when the meter sent wildcards. */
  epoch: number | null;
  /**
   * This machine's time the meter's answer corresponds to: the middle of the exchange
   * (the meter samples its clock somewhere between request and answer), for drift.
   */
  readAt: number;
  /** Meter time − readAt in ms, corrected for whole-second clocks; null with wildcards. */
  driftMs: number | null;
  /** Half the exchange time plus the clock's resolution: drift is known to ± this. */
  uncertaintyMs: number;
}

export async function readClock(client: DlmsClient, convention: DeviationConvention = client.options.deviationConvention): Promise<ClockReading> {
  const sent = client.options.clock.now();
  const value = await client.getValue(ref(8, CLOCK, 2));
  const received = client.options.clock.now();
  const dateTime = dataAsDateTime(value);
  if (!dateTime) throw new DcuError(ErrorCode.DecodeBadValue, `clock time is ${value.type}, expected a date-time`);
  const epoch = dateTimeToEpoch(dateTime, { convention });
  const readAt = Math.round((sent + received) / 2);
  // A meter without hundredths truncates to the second: on average its clock is 0.5 s ahead of what it says.
  const wholeSecond = dateTime.hundredths === null;
  const driftMs = epoch === null ? null : epoch + (wholeSecond ? 500 : 0) - readAt;
  return { dateTime, epoch, readAt, driftMs, uncertaintyMs: Math.round((received - sent) / 2) + (wholeSecond ? 500 : 10) };
}

/** Sets the clock to an instant, in local time of the given Blue-Book deviation. */
export async function setClock(client: DlmsClient, epochMs: number, deviation = 0): Promise<DataAccessResult> {
  const dt = epochToDateTime(epochMs, { deviation, clockStatus: 0, convention: client.options.deviationConvention });
  const value: Data = { type: 'octet-string', value: encodeDateTimeOctets(dt) };
  return client.set(ref(8, CLOCK, 2), value);
}

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
}

export interface ProfileReading {
  captureObjects: CaptureObject[];
  capturePeriod: number;
  scalers: Map<string, ScalerUnit>;
  rows: ProfileRow[];
}

/** Reads a profile generic: capture objects, period, scalers, then the buffer (selected). */
export async function readProfile(client: DlmsClient, profile: Obis, options: ProfileReadOptions = {}): Promise<ProfileReading> {
  const [coOutcome, periodOutcome] = await client.getWithList([ref(7, profile, 3), ref(7, profile, 4)]);
  if (!coOutcome?.ok) throw dataAccessError(coOutcome?.result ?? DataAccessResult.otherReason, 'capture_objects');
  const captureObjects = decodeCaptureObjects(coOutcome.data);
  const capturePeriod = periodOutcome?.ok && (periodOutcome.data.type === 'uint32' || periodOutcome.data.type === 'uint16') ? periodOutcome.data.value : 0;

  const scalers = new Map<string, ScalerUnit>();
  if (options.scalers !== false) {
    const withScaler = captureObjects.filter((co) => (co.classId === 3 || co.classId === 4 || co.classId === 5) && co.attributeIndex === 2);
    const outcomes = await client.getWithList(withScaler.map((co) => ref(co.classId, co.obis, co.classId === 5 ? 4 : 3)));
    withScaler.forEach((co, i) => {
      const o = outcomes[i];
      if (o?.ok) {
        try {
          scalers.set(captureKey(co), decodeScalerUnit(o.data));
        } catch {
          // a meter with an odd scaler_unit still gives rows, unscaled
        }
      }
    });
  }

  let access: AccessSelection | undefined;
  const convention = client.options.deviationConvention;
  if (options.from !== undefined || options.to !== undefined) {
    const sel = rangeByTime(options.from ?? 0, options.to ?? Date.UTC(2099, 11, 31), { deviation: options.deviation ?? 0, convention });
    access = encodeAccessSelector(sel);
  } else if (options.fromEntry !== undefined) {
    access = encodeAccessSelector(rangeByEntry(options.fromEntry, options.toEntry ?? 0));
  }
  const buffer = await client.getValue(ref(7, profile, 2), access);
  const rows = decodeProfileBuffer(buffer, captureObjects, { capturePeriod, scalers, convention });
  return { captureObjects, capturePeriod, scalers, rows };
}
