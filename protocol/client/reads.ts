import { DataAccessResult } from '../apdu/results';
import type { CosemDateTime, Data } from '../axdr/data';
import { dataAsDateTime, dateTimeToEpoch, encodeDateTimeOctets, epochToDateTime, type DeviationConvention } from '../axdr/datetime';
import { DcuError, ErrorCode } from '../common/errors';
import type { CosemRef } from '../cosem/classes';
import { obis, type Obis } from '../cosem/obis';
import { decodeObjectList, type ObjectListEntry } from '../cosem/object-list';
import type { DlmsClient } from './client';
import { setClockNow } from './clock-set';

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

/**
 * Sets the clock to an instant, in local time of the given Blue-Book deviation. Given a time
 * source instead (`() => clock.now()`), the time is taken right before the SET is encoded and
 * compensated for the request's transfer (setClockNow, which also says by how much).
 */
export async function setClock(client: DlmsClient, epochMs: number | (() => number), deviation = 0): Promise<DataAccessResult> {
  if (typeof epochMs === 'function') return (await setClockNow(client, { now: epochMs, deviation })).result;
  const dt = epochToDateTime(epochMs, { deviation, clockStatus: 0, convention: client.options.deviationConvention });
  const value: Data = { type: 'octet-string', value: encodeDateTimeOctets(dt) };
  return client.set(ref(8, CLOCK, 2), value);
}

// Profile reads (with the metadata cache) live in profile-read.ts.
export { readProfile, type ProfileReadOptions, type ProfileReading, type MetadataSource } from './profile-read';
