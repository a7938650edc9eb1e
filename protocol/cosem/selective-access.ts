/**
 * Selective access to a Profile generic buffer (attribute 2):
 *   selector 1, range_descriptor: structure { restricting_object capture_object_definition,
 *     from_value, to_value, selected_values array of capture_object_definition (empty = all) }
 *   selector 2, entry_descriptor: structure { from_entry u32, to_entry u32 (0 = last),
 *     from_selected_value u16, to_selected_value u16 (0 = last) } — all 1-based.
 * Client side builds and parses them; server side (the simulator) applies them to rows.
 */
import { DcuError, ErrorCode } from '../common/errors';
import type { Data } from '../axdr/data';
import { numericValue } from '../axdr/data';
import type { DateTimeOptions, DeviationConvention } from '../axdr/datetime';
import { dataAsDateTime, dateTimeToEpoch, encodeDateTimeOctets, epochToDateTime } from '../axdr/datetime';
import { captureObjectEquals, CLOCK_CAPTURE_OBJECT, decodeCaptureObject, encodeCaptureObject, isClockColumn } from './capture-object';
import type { CaptureObject } from './capture-object';

export interface RangeSelector {
  readonly selector: 1;
  readonly restrictingObject: CaptureObject;
  readonly from: Data;
  readonly to: Data;
  /** Empty = every column. */
  readonly columns: readonly CaptureObject[];
}

export interface EntrySelector {
  readonly selector: 2;
  /** 1-based first entry. */
  readonly fromEntry: number;
  /** 1-based last entry, 0 = up to the newest. */
  readonly toEntry: number;
  /** 1-based first column. */
  readonly fromColumn: number;
  /** 1-based last column, 0 = up to the last. */
  readonly toColumn: number;
}

export type AccessSelector = RangeSelector | EntrySelector;

// ---------------------------------------------------------------- build (client)

export interface RangeOptions {
  /** Blue-Book deviation (minutes, UTC = local + deviation) the meter's clock uses. Default 0. */
  readonly deviation?: number;
  readonly convention?: DeviationConvention;
  readonly columns?: readonly CaptureObject[];
  readonly restrictingObject?: CaptureObject;
}

/** Range on the clock column between two instants (inclusive), dates as octet-string(12). */
export function rangeByTime(fromMs: number, toMs: number, options: RangeOptions = {}): RangeSelector {
  const dt = (ms: number): Data => {
    const o: Parameters<typeof epochToDateTime>[1] = { deviation: options.deviation ?? 0, hundredths: false, clockStatus: null };
    return { type: 'octet-string', value: encodeDateTimeOctets(epochToDateTime(ms, options.convention === undefined ? o : { ...o, convention: options.convention })) };
  };
  return { selector: 1, restrictingObject: options.restrictingObject ?? CLOCK_CAPTURE_OBJECT, from: dt(fromMs), to: dt(toMs), columns: options.columns ?? [] };
}

export function rangeByEntry(fromEntry: number, toEntry = 0, fromColumn = 1, toColumn = 0): EntrySelector {
  const check = (v: number, max: number, what: string): void => {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new DcuError(ErrorCode.InvalidValue, `${what} must be an integer 0..${max}, got ${v}`);
  };
  check(fromEntry, 0xffffffff, 'from_entry');
  check(toEntry, 0xffffffff, 'to_entry');
  check(fromColumn, 0xffff, 'from_selected_value');
  check(toColumn, 0xffff, 'to_selected_value');
  return { selector: 2, fromEntry, toEntry, fromColumn, toColumn };
}

// ---------------------------------------------------------------- codec

export function encodeAccessSelector(sel: AccessSelector): { selector: number; parameters: Data } {
  if (sel.selector === 1) {
    return {
      selector: 1,
      parameters: {
        type: 'structure',
        items: [encodeCaptureObject(sel.restrictingObject), sel.from, sel.to, { type: 'array', items: sel.columns.map(encodeCaptureObject) }],
      },
    };
  }
  return {
    selector: 2,
    parameters: {
      type: 'structure',
      items: [
        { type: 'uint32', value: sel.fromEntry },
        { type: 'uint32', value: sel.toEntry },
        { type: 'uint16', value: sel.fromColumn },
        { type: 'uint16', value: sel.toColumn },
      ],
    },
  };
}

function badParams(selector: number, expected: string, d: Data): DcuError {
  const got = d.type === 'structure' || d.type === 'array' ? `${d.type}(${d.items.length})` : d.type;
  return new DcuError(ErrorCode.DecodeBadValue, `access selector ${selector}: expected ${expected}, got ${got}`, { context: { selector } });
}

function u32Like(d: Data | undefined): number | undefined {
  if (d === undefined) return undefined;
  if (d.type === 'uint32' || d.type === 'uint16' || d.type === 'uint8') return d.value;
  return undefined;
}

/** Parse what a client sent (server side). Unknown selectors are MeterUnsupported. */
export function decodeAccessSelector(selector: number, parameters: Data): AccessSelector {
  if (selector === 1) {
    const shape = 'structure{capture object, from, to, array of capture objects}';
    if (parameters.type !== 'structure' || parameters.items.length !== 4) throw badParams(1, shape, parameters);
    const [ro, from, to, cols] = parameters.items;
    if (ro === undefined || from === undefined || to === undefined || cols === undefined) throw badParams(1, shape, parameters);
    if (cols.type !== 'array') throw badParams(1, 'selected_values array', cols);
    return {
      selector: 1,
      restrictingObject: decodeCaptureObject(ro, 'restricting object'),
      from,
      to,
      columns: cols.items.map((c, i) => decodeCaptureObject(c, `selected value ${i + 1}`)),
    };
  }
  if (selector === 2) {
    const shape = 'structure{u32 from_entry, u32 to_entry, u16 from_selected_value, u16 to_selected_value}';
    if (parameters.type !== 'structure' || parameters.items.length !== 4) throw badParams(2, shape, parameters);
    const [a, b, c, d] = parameters.items.map(u32Like);
    if (a === undefined || b === undefined || c === undefined || d === undefined) throw badParams(2, shape, parameters);
    return { selector: 2, fromEntry: a, toEntry: b, fromColumn: c, toColumn: d };
  }
  throw new DcuError(ErrorCode.MeterUnsupported, `access selector ${selector} is not supported by Profile generic (1 = range, 2 = entry)`, {
    context: { selector },
  });
}

// ---------------------------------------------------------------- apply (server)

export interface Selection {
  /** 0-based indexes into the capture objects of the columns returned. */
  readonly columns: readonly number[];
  /** The selected rows, each a structure of the selected columns. */
  readonly rows: Data[];
}

export interface ApplyOptions extends DateTimeOptions {
  /** Seconds; lets a null clock cell count as previous + period when comparing ranges. */
  readonly capturePeriod?: number;
}

const invalid = (message: string): DcuError => new DcuError(ErrorCode.InvalidValue, message);

/** 0-based column indexes a selector asks for. */
export function selectedColumns(captureObjects: readonly CaptureObject[], sel: AccessSelector): number[] {
  const all = captureObjects.map((_, i) => i);
  if (sel.selector === 1) {
    if (sel.columns.length === 0) return all;
    return sel.columns.map((c) => {
      const i = captureObjects.findIndex((co) => captureObjectEquals(co, c));
      if (i < 0) throw invalid(`selected value ${c.classId}:${c.obis.join('.')}:${c.attributeIndex} is not a captured column`);
      return i;
    });
  }
  const n = captureObjects.length;
  const from = Math.max(sel.fromColumn, 1);
  const to = sel.toColumn === 0 ? n : sel.toColumn;
  if (to > n || from > to) throw invalid(`columns ${sel.fromColumn}..${sel.toColumn} do not fit the ${n} captured column(s)`);
  return all.slice(from - 1, to);
}

type Key = number | bigint | null;

function keyOf(d: Data, options: ApplyOptions): Key {
  const dt = dataAsDateTime(d);
  if (dt !== undefined) return dateTimeToEpoch(dt, options);
  const n = numericValue(d);
  return n === undefined ? null : n;
}

/** Apply a selector to stored rows (structures in capture-object order). */
export function applySelector(rows: readonly Data[], captureObjects: readonly CaptureObject[], sel: AccessSelector, options: ApplyOptions = {}): Selection {
  const columns = selectedColumns(captureObjects, sel);
  let picked: readonly Data[];
  if (sel.selector === 2) {
    if (sel.toEntry !== 0 && sel.toEntry < sel.fromEntry) throw invalid(`to_entry ${sel.toEntry} is before from_entry ${sel.fromEntry}`);
    const from = Math.max(sel.fromEntry, 1) - 1;
    const to = sel.toEntry === 0 ? rows.length : Math.min(sel.toEntry, rows.length);
    picked = rows.slice(from, to);
  } else {
    picked = rangeRows(rows, captureObjects, sel, options);
  }
  return { columns, rows: picked.map((r) => project(r, columns)) };
}

function rangeRows(rows: readonly Data[], captureObjects: readonly CaptureObject[], sel: RangeSelector, options: ApplyOptions): Data[] {
  const col = captureObjects.findIndex((co) => captureObjectEquals(co, sel.restrictingObject));
  if (col < 0) throw invalid('the restricting object is not a captured column');
  // Unspecified bounds (wildcard date-times, null) leave that side open.
  const from = keyOf(sel.from, options);
  const to = keyOf(sel.to, options);
  const clock = captureObjects[col] !== undefined && isClockColumn(captureObjects[col]);
  const out: Data[] = [];
  let previous: Key = null;
  for (const row of rows) {
    const cell = row.type === 'structure' ? row.items[col] : undefined;
    let key: Key = cell === undefined ? null : keyOf(cell, options);
    if (key === null && clock && cell?.type === 'null' && typeof previous === 'number' && (options.capturePeriod ?? 0) > 0) {
      key = previous + (options.capturePeriod ?? 0) * 1000;
    }
    previous = key;
    if (key === null) continue;
    if (from !== null && key < from) continue;
    if (to !== null && key > to) continue;
    out.push(row);
  }
  return out;
}

function project(row: Data, columns: readonly number[]): Data {
  if (row.type !== 'structure') throw invalid(`a buffer row must be a structure, got ${row.type}`);
  return { type: 'structure', items: columns.map((i) => row.items[i] ?? { type: 'null' }) };
}
