/**
 * The meter's own events, incrementally: its event logs (profile generics of {clock, event
 * code}) from their watermark into meter_events and the outbox stream `events`; and its alarm
 * register, whose bits become alarms when they set and are cleared when they clear.
 */
import { dataAccessResultName } from '../../protocol/apdu/results';
import type { Data } from '../../protocol/axdr/data';
import { ErrorCode, isDcuError } from '../../protocol/common/errors';
import type { DlmsClient } from '../../protocol/client/client';
import { obis, formatObis, type Obis } from '../../protocol/cosem/obis';
import type { EventLog } from '../../storage/events';
import type { ReadingsStore } from '../../storage/readings';
import { collectInto, type CollectProfileResult, type ProfileSink } from './collect-profile';
import { alarmBitName, eventName } from './event-tables';

export const EVENT_LOGS: readonly { readonly name: string; readonly obis: Obis }[] = [
  { name: 'standard', obis: obis('0.0.99.98.0.255') },
  { name: 'power-failure', obis: obis('0.0.99.97.0.255') },
];
export const ALARM_REGISTER = obis('0.0.97.98.0.255');

function numeric(d: Data | undefined): number | undefined {
  if (d === undefined || !('value' in d)) return undefined;
  if (typeof d.value === 'number') return d.value;
  if (typeof d.value === 'bigint') return Number(d.value);
  return undefined;
}

/** Event log rows into meter_events: the first numeric column after the clock is the code. */
function eventSink(store: ReadingsStore, meter: string, log: string): ProfileSink {
  return {
    watermark: () => store.watermark(meter, log),
    store: (rows, captureObjects, collectedTo, now) => {
      const codeColumn = captureObjects.findIndex((c) => c.classId !== 8);
      const events = rows.flatMap((r) => {
        const code = numeric(r.cells[codeColumn]?.raw);
        return r.timestamp === null || code === undefined ? [] : [{ at: r.timestamp, code }];
      });
      return store.storeEvents({ meter, log, events, collectedTo, name: eventName }, now);
    },
  };
}

export interface EventCollectOptions {
  readonly meter: string;
  readonly now: number;
  readonly backfillMs: number;
  readonly between?: () => boolean | Promise<boolean>;
}

/** Every event log of the meter from its watermark; a log the meter does not have is skipped. */
export async function collectEventLogs(client: DlmsClient, store: ReadingsStore, o: EventCollectOptions): Promise<CollectProfileResult> {
  let inserted = 0;
  let duplicates = 0;
  let reads = 0;
  const observations: string[] = [];
  let collectedTo = o.now;
  for (const log of EVENT_LOGS) {
    try {
      const r = await collectInto(client, eventSink(store, o.meter, formatObis(log.obis)), { profile: log.obis, now: o.now, backfillMs: o.backfillMs, maxSpanMs: 31 * 86_400_000, ...(o.between === undefined ? {} : { between: o.between }) });
      inserted += r.inserted;
      duplicates += r.duplicates;
      reads += r.reads;
      collectedTo = Math.min(collectedTo, r.collectedTo);
      observations.push(...r.observations);
      if (!r.complete) return { status: 'EXE', observations, inserted, duplicates, collectedTo, reads, complete: false };
    } catch (e) {
      if (isDcuError(e) && e.code === ErrorCode.MeterDataAccess) {
        observations.push(`${log.name} event log ${formatObis(log.obis)} not readable`);
        continue; // MeterDataAccess: object undefined or denied
      }
      throw e;
    }
  }
  return { status: observations.length > 0 ? 'WARN' : 'EXE', observations, inserted, duplicates, collectedTo, reads, complete: true };
}

/** Reads the alarm register and applies it (alarms raised and cleared). */
/**
 * Reads the alarm register and raises/clears alarms from its bits. With `reset`, bits found
 * set are then written back as cleared (the register set to its value without them), so the
 * meter's latched alarms are acknowledged; a meter that refuses the write (a reading client
 * usually may not) leaves them, and `reset` says why. A bit that sets between the read and the
 * write is not lost by this: it is raised again when the meter sets it again, but a latched
 * bit set in those milliseconds would be cleared unseen — meters with an alarm filter or an
 * IDIS alarm-descriptor reset should use those instead (not modelled here).
 */
export async function checkAlarmRegister(
  client: DlmsClient,
  events: EventLog,
  meter: string,
  now: number,
  options: { readonly reset?: boolean } = {},
): Promise<{ value: number; raised: string[]; cleared: string[]; reset?: string } | undefined> {
  const outcome = await client.get({ classId: 1, obis: ALARM_REGISTER, index: 2 });
  if (!outcome.ok) return undefined;
  const d = outcome.data;
  let value = numeric(d);
  if (value === undefined && d.type === 'bit-string') {
    value = 0;
    for (let bit = 0; bit < Math.min(32, d.length); bit++) {
      if (((d.value[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0) value += 2 ** bit;
    }
  }
  if (value === undefined) return undefined;
  const applied = { value, ...events.applyAlarmRegister(meter, value, now, alarmBitName) };
  if (options.reset !== true || value === 0 || d.type !== 'uint32') return applied;
  const result = await client.set({ classId: 1, obis: ALARM_REGISTER, index: 2 }, { type: 'uint32', value: 0 });
  return { ...applied, reset: result === 0 ? 'done' : `refused by the meter (${dataAccessResultName(result)})` };
}
