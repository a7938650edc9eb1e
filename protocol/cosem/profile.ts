/**
 * Profile generic buffers (attribute 2) decoded through their capture objects (attribute 3)
 * into typed rows: a timestamp per row, and per column the raw Data plus, when a scaler_unit
 * is known for that capture object, the scaled value and unit.
 *
 * Meters often send null-data for the clock cell of every row after the first when the
 * period is regular; the timestamp is then rebuilt as previous + capture_period (attr 4).
 */
import { DcuError, ErrorCode } from '../common/errors';
import type { Data } from '../axdr/data';
import { numericValue } from '../axdr/data';
import type { DateTimeOptions } from '../axdr/datetime';
import { dataAsDateTime, dateTimeToEpoch } from '../axdr/datetime';
import { captureKey, isClockColumn, isStatusColumn } from './capture-object';
import type { CaptureObject } from './capture-object';
import type { ScalerUnit } from './units';
import { scaledDecimal, unitSymbol } from './units';

export interface ProfileCell {
  readonly capture: CaptureObject;
  readonly raw: Data;
  /** Numeric cells: value × 10^scaler (scaler 0 when no scaler_unit is known). */
  readonly value?: number;
  /** The same, as an exact decimal string (safe for 64-bit counters). */
  readonly decimal?: string;
  /** Unit code and symbol when a scaler_unit is known. */
  readonly unit?: number;
  readonly unitSymbol?: string;
}

export interface ProfileRow {
  /** 1-based position in the buffer as received. */
  readonly entry: number;
  /** Epoch ms of the clock column, null when there is none or it cannot be known. */
  readonly timestamp: number | null;
  /** True when the clock cell was null-data and the timestamp was rebuilt. */
  readonly rebuilt: boolean;
  /** Value of a status column (0.x.96.10.x / 0.x.97.97.x), when there is one. */
  readonly status?: number;
  readonly cells: readonly ProfileCell[];
}

export interface ProfileDecodeOptions extends DateTimeOptions {
  /** Attribute 4, seconds; 0 or absent = irregular (null clocks cannot be rebuilt). */
  readonly capturePeriod?: number;
  /** scaler_unit per capture object, keyed by captureKey (e.g. '3:1.0.1.8.0.255:2'). */
  readonly scalers?: ReadonlyMap<string, ScalerUnit> | Readonly<Record<string, ScalerUnit>>;
}

function scalerFor(options: ProfileDecodeOptions, co: CaptureObject): ScalerUnit | undefined {
  const s = options.scalers;
  if (s === undefined) return undefined;
  const key = captureKey(co);
  if (s instanceof Map) return (s as ReadonlyMap<string, ScalerUnit>).get(key);
  return (s as Readonly<Record<string, ScalerUnit>>)[key];
}

function rowError(entry: number, message: string, column?: number): DcuError {
  return new DcuError(ErrorCode.DecodeBadValue, `profile buffer row ${entry}${column === undefined ? '' : ` column ${column}`}: ${message}`, {
    context: column === undefined ? { row: entry } : { row: entry, column },
  });
}

function cellOf(co: CaptureObject, raw: Data, su: ScalerUnit | undefined): ProfileCell {
  if (raw.type === 'boolean') return { capture: co, raw };
  const n = numericValue(raw);
  if (n === undefined) return { capture: co, raw };
  const decimal = scaledDecimal(n, su?.scaler ?? 0);
  const base = { capture: co, raw, value: Number(decimal), decimal };
  return su === undefined ? base : { ...base, unit: su.unit, unitSymbol: unitSymbol(su.unit) };
}

/** Decode attribute 2 (array of structures) given the decoded capture objects. */
export function decodeProfileBuffer(buffer: Data, captureObjects: readonly CaptureObject[], options: ProfileDecodeOptions = {}): ProfileRow[] {
  // Some meters send the buffer as a compact-array of structures: the items are the same.
  if (buffer.type !== 'array' && buffer.type !== 'compact-array') {
    throw new DcuError(ErrorCode.DecodeBadValue, `profile buffer: expected array, got ${buffer.type}`);
  }
  const clockCol = captureObjects.findIndex(isClockColumn);
  const statusCol = captureObjects.findIndex(isStatusColumn);
  const periodMs = (options.capturePeriod ?? 0) * 1000;
  const scalers = captureObjects.map((co) => scalerFor(options, co));
  const rows: ProfileRow[] = [];
  let previous: number | null = null;

  buffer.items.forEach((row, i) => {
    const entry = i + 1;
    if (row.type !== 'structure') throw rowError(entry, `expected structure, got ${row.type}`);
    if (row.items.length !== captureObjects.length) {
      throw rowError(entry, `has ${row.items.length} column(s), capture_objects lists ${captureObjects.length}`);
    }
    const cells = row.items.map((raw, c) => {
      const co = captureObjects[c];
      if (co === undefined) throw rowError(entry, 'column without capture object', c + 1);
      return cellOf(co, raw, scalers[c]);
    });

    let timestamp: number | null = null;
    let rebuilt = false;
    const clockCell = clockCol >= 0 ? row.items[clockCol] : undefined;
    if (clockCell !== undefined) {
      if (clockCell.type === 'null') {
        if (previous !== null && periodMs > 0) {
          timestamp = previous + periodMs;
          rebuilt = true;
        }
      } else {
        let dt;
        try {
          dt = dataAsDateTime(clockCell);
        } catch {
          throw rowError(entry, 'clock cell is not a date-time', clockCol + 1);
        }
        if (dt === undefined) throw rowError(entry, `clock cell: expected date-time or octet-string(12), got ${clockCell.type}`, clockCol + 1);
        timestamp = dateTimeToEpoch(dt, options);
      }
    }
    previous = timestamp;

    const statusCell = statusCol >= 0 ? row.items[statusCol] : undefined;
    const status = statusCell === undefined ? undefined : numericValue(statusCell);
    const out: ProfileRow = { entry, timestamp, rebuilt, cells };
    rows.push(typeof status === 'number' ? { ...out, status } : out);
  });
  return rows;
}

/**
 * Server side: replace the clock cell of each row by null-data when it equals the previous
 * row's time + capture period, as many meters do. The first row always keeps its clock.
 */
export function nullRegularClocks(rows: readonly Data[], captureObjects: readonly CaptureObject[], capturePeriod: number, options: DateTimeOptions = {}): Data[] {
  const col = captureObjects.findIndex(isClockColumn);
  if (col < 0 || capturePeriod <= 0) return rows.slice();
  let previous: number | null = null;
  return rows.map((row) => {
    if (row.type !== 'structure') return row;
    const cell = row.items[col];
    const dt = cell === undefined ? undefined : dataAsDateTime(cell);
    const t = dt === undefined ? null : dateTimeToEpoch(dt, options);
    const regular = previous !== null && t !== null && t === previous + capturePeriod * 1000;
    previous = t;
    if (!regular) return row;
    return { type: 'structure', items: row.items.map((d, i) => (i === col ? { type: 'null' } : d)) };
  });
}
