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
import { dataAsDateTime, dateTimeOctetsToEpoch, dateTimeToEpoch } from '../axdr/datetime';
import { captureKey, isClockColumn, isStatusColumn } from './capture-object';
import type { CaptureObject } from './capture-object';
import type { ScalerUnit } from './units';
import { applyScaler, scaledDecimal, unitSymbol } from './units';

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

/** What every cell of one column shares, worked out once per buffer rather than per row. */
interface Column {
  readonly capture: CaptureObject;
  readonly scaler: number;
  /** Present when a scaler_unit is known. */
  readonly unit: { readonly code: number; readonly symbol: string } | undefined;
}

function columnOf(co: CaptureObject, su: ScalerUnit | undefined): Column {
  return { capture: co, scaler: su?.scaler ?? 0, unit: su === undefined ? undefined : { code: su.unit, symbol: unitSymbol(su.unit) } };
}

function cellOf(col: Column, raw: Data): ProfileCell {
  const capture = col.capture;
  if (raw.type === 'boolean') return { capture, raw };
  const n = numericValue(raw);
  if (n === undefined) return { capture, raw };
  const decimal = scaledDecimal(n, col.scaler);
  const value = applyScaler(n, col.scaler, decimal);
  const unit = col.unit;
  // Literals of a fixed shape (no spreads): a cell is made per value of a whole buffer.
  return unit === undefined ? { capture, raw, value, decimal } : { capture, raw, value, decimal, unit: unit.code, unitSymbol: unit.symbol };
}

/** Epoch ms of a clock cell: undefined for null-data, null when it is not a point in time. */
function clockCellEpoch(cell: Data, entry: number, column: number, options: ProfileDecodeOptions): number | null | undefined {
  if (cell.type === 'null') return undefined;
  // The common case, octet-string(12), is read straight from its bytes.
  if (cell.type === 'octet-string' && cell.value.length === 12) return dateTimeOctetsToEpoch(cell.value, options);
  let dt;
  try {
    dt = dataAsDateTime(cell);
  } catch {
    throw rowError(entry, 'clock cell is not a date-time', column + 1);
  }
  if (dt === undefined) throw rowError(entry, `clock cell: expected date-time or octet-string(12), got ${cell.type}`, column + 1);
  return dateTimeToEpoch(dt, options);
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
  const columns = captureObjects.map((co) => columnOf(co, scalerFor(options, co)));
  const width = columns.length;
  const items = buffer.items;
  const rows: ProfileRow[] = new Array<ProfileRow>(items.length);
  let previous: number | null = null;

  for (let i = 0; i < items.length; i++) {
    const row = items[i] as Data;
    const entry = i + 1;
    if (row.type !== 'structure') throw rowError(entry, `expected structure, got ${row.type}`);
    const raws = row.items;
    if (raws.length !== width) throw rowError(entry, `has ${raws.length} column(s), capture_objects lists ${width}`);
    const cells = new Array<ProfileCell>(width);
    for (let c = 0; c < width; c++) cells[c] = cellOf(columns[c] as Column, raws[c] as Data);

    let timestamp: number | null = null;
    let rebuilt = false;
    if (clockCol >= 0) {
      const epoch = clockCellEpoch(raws[clockCol] as Data, entry, clockCol, options);
      if (epoch !== undefined) timestamp = epoch;
      else if (previous !== null && periodMs > 0) {
        timestamp = previous + periodMs;
        rebuilt = true;
      }
    }
    previous = timestamp;

    const status = statusCol >= 0 ? numericValue(raws[statusCol] as Data) : undefined;
    rows[i] = typeof status === 'number' ? { entry, timestamp, rebuilt, cells, status } : { entry, timestamp, rebuilt, cells };
  }
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
