/**
 * A store filled as collection fills it — load profile of many meters in collection steps,
 * each step one outbox message — for the uplink's tests and the `drain` bench.
 */
import { EventLog } from '../../storage/events';
import type { Db } from '../../storage/db';
import { ReadingsStore, type StoredColumn } from '../../storage/readings';

export const LP_COLUMNS: readonly StoredColumn[] = [
  { capture: '3:1.0.1.8.0.255:2', unit: 'Wh' },
  { capture: '3:1.0.2.8.0.255:2', unit: 'Wh' },
  { capture: '3:1.0.3.8.0.255:2', unit: 'varh' },
  { capture: '3:1.0.4.8.0.255:2', unit: 'varh' },
];

export interface LoadProfileFill {
  readonly meters: number;
  /** First capture time (epoch ms, on the period). */
  readonly from: number;
  readonly hours: number;
  /** One outbox message per meter and step. */
  readonly stepHours: number;
  readonly periodMs?: number;
}

/** Writes the rows; returns how many rows and values (rows × columns) were stored. */
export function fillLoadProfile(db: Db, fill: LoadProfileFill): { rows: number; values: number; messages: number } {
  const readings = new ReadingsStore(db);
  const period = fill.periodMs ?? 900_000;
  const perStep = (fill.stepHours * 3_600_000) / period;
  let rows = 0;
  let messages = 0;
  for (let step = 0; step * fill.stepHours < fill.hours; step++) {
    for (let m = 0; m < fill.meters; m++) {
      const meter = `M${String(m).padStart(6, '0')}`;
      const start = fill.from + step * fill.stepHours * 3_600_000;
      const batch = Array.from({ length: perStep }, (_, i) => {
        const n = step * perStep + i;
        return { capturedAt: start + i * period, cells: [String(1000 + n * 7 + m), String(n % 3), String(200 + (n % 11)), String(n % 5)] };
      });
      rows += readings.storeProfileRows({ meter, profile: '1.0.99.1.0.255', stream: 'load-profile', columns: LP_COLUMNS, rows: batch, collectedTo: start + perStep * period - 1 }, start + perStep * period).inserted;
      messages++;
    }
  }
  return { rows, values: rows * LP_COLUMNS.length, messages };
}

/** A few messages of every other kind the store emits today (events, alarms, registers). */
export function fillOthers(db: Db, meters: number, at: number): number {
  const readings = new ReadingsStore(db);
  const events = new EventLog(db);
  let n = 0;
  for (let m = 0; m < meters; m++) {
    const meter = `M${String(m).padStart(6, '0')}`;
    readings.storeRegisters(meter, at + m, [{ name: '+A', obis: '1.0.1.8.0.255', value: `${1234 + m}.5`, unit: 'Wh' }]);
    readings.storeEvents({ meter, log: '0.0.99.98.0.255', events: [{ at: at + m, code: 1 }], collectedTo: at + m, name: () => 'power down' }, at + m);
    db.transaction(() => events.event({ meter, code: 'clock-synced', detail: 'drift 12 s' }, at + m))();
    db.transaction(() => events.alarm({ meter, code: 'cover-open', detail: 'bit 3' }, at + m))();
    n += 4;
  }
  events.applyAlarmRegister('M000000', 8, at, () => 'cover-open');
  events.applyAlarmRegister('M000000', 0, at + 1, () => 'cover-open');
  return n + 1;
}
