import { DcuError, ErrorCode } from '../common/errors';
import { fromHex, toHex } from '../common/hex';
import type { CosemDateTime, Data, DataType, TypeDescription } from './data';
import { bitString, bitStringToString, DataTag } from './data';
import { dateTimeToEpoch, epochToDateTime, formatDateTime } from './datetime';

/**
 * The JSON notation for Data used on the command line (`dcu probe set … VALUE`) and in
 * `--json` output. Every value is a one-key object naming its type:
 *
 *   {"uint16": 5}   {"int8": -1}   {"enum": 3}   {"boolean": true}   {"null": null}
 *   {"int64": "9007199254740993"}                      (64-bit as decimal strings)
 *   {"octet-string": "0000010000FF"}                  (hex)
 *   {"visible-string": "text"}   {"utf8-string": "…"}
 *   {"bit-string": "1011"}   {"float32": 1.5}   {"float64": "-Infinity"}   (non-finite floats as strings)
 *   {"date-time": "2026-11-23T10:30:00+01:00"}         (ISO; or an object with fields, null = unspecified)
 *   {"structure": [ … ]}   {"array": [ … ]}
 *
 * Shorthands accepted on input: `null`, `true`/`false`, a bare number (an integer picks the
 * smallest fitting of uint8/uint16/uint32/int8/int16/int32; use the explicit form to choose).
 */
export type DataJson = null | boolean | number | string | DataJson[] | { [key: string]: DataJson };

const bad = (message: string): DcuError => new DcuError(ErrorCode.InvalidValue, message);

export function dataToJson(d: Data): DataJson {
  switch (d.type) {
    case 'null':
      return { null: null };
    case 'array':
    case 'structure':
      return { [d.type]: d.items.map(dataToJson) };
    case 'compact-array':
      return { 'compact-array': { element: typeDescriptionToJson(d.element), items: d.items.map(dataToJson) } };
    case 'bit-string':
      return { 'bit-string': bitStringToString(d) };
    case 'int64':
    case 'uint64':
      return { [d.type]: d.value.toString() };
    case 'float32':
    case 'float64':
      // JSON has no Infinity/NaN: those travel as strings.
      return { [d.type]: Number.isFinite(d.value) ? d.value : String(d.value) };
    case 'octet-string':
      return { 'octet-string': toHex(d.value) };
    case 'date-time':
      return { 'date-time': dateTimeJson(d.value) };
    case 'date':
    case 'time':
      return { [d.type]: { ...d.value } };
    default:
      return { [d.type]: d.value };
  }
}

/** ISO text when the value is an ordinary instant that reads back identical; else the fields. */
function dateTimeJson(dt: CosemDateTime): DataJson {
  if (dt.deviation !== null && dt.clockStatus === 0) {
    const epoch = dateTimeToEpoch(dt);
    if (epoch !== null) {
      const again = epochToDateTime(epoch, { deviation: dt.deviation, clockStatus: 0 });
      if (JSON.stringify(again) === JSON.stringify(dt)) return formatDateTime(dt);
    }
  }
  return { ...dt };
}

function typeDescriptionToJson(t: TypeDescription): DataJson {
  if (t.type === 'array') return { array: { count: t.count, element: typeDescriptionToJson(t.element) } };
  if (t.type === 'structure') return { structure: t.elements.map(typeDescriptionToJson) };
  return t.type;
}

/** Parse VALUE text (JSON notation above) into Data. */
export function parseDataJson(text: string): Data {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DcuError(ErrorCode.InvalidValue, `VALUE is not JSON: ${(e as Error).message}. Example: '{"uint16": 5}'`);
  }
  return dataFromJson(parsed);
}

export function dataFromJson(v: unknown): Data {
  if (v === null) return { type: 'null' };
  if (typeof v === 'boolean') return { type: 'boolean', value: v };
  if (typeof v === 'number') return smallestInteger(v);
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw bad(`cannot read ${JSON.stringify(v)} as Data: use a one-key object such as {"uint16": 5} or {"octet-string": "0102"}`);
  }
  const entries = Object.entries(v as Record<string, unknown>);
  const entry = entries[0];
  if (entries.length !== 1 || !entry) throw bad(`a Data object has exactly one key (its type), got ${entries.length}`);
  const [key, value] = entry;
  if (!(key in DataTag)) throw bad(`unknown Data type "${key}"; known: ${Object.keys(DataTag).join(', ')}`);
  return fromTyped(key as DataType, value);
}

function smallestInteger(n: number): Data {
  if (!Number.isInteger(n)) return { type: 'float64', value: n };
  if (n >= 0 && n <= 0xff) return { type: 'uint8', value: n };
  if (n >= 0 && n <= 0xffff) return { type: 'uint16', value: n };
  if (n >= 0 && n <= 0xffffffff) return { type: 'uint32', value: n };
  if (n >= -0x80 && n < 0) return { type: 'int8', value: n };
  if (n >= -0x8000 && n < 0) return { type: 'int16', value: n };
  if (n >= -0x80000000 && n < 0) return { type: 'int32', value: n };
  return { type: n < 0 ? 'int64' : 'uint64', value: BigInt(n) };
}

const ranges: Partial<Record<DataType, [number, number]>> = {
  int8: [-0x80, 0x7f],
  int16: [-0x8000, 0x7fff],
  int32: [-0x80000000, 0x7fffffff],
  uint8: [0, 0xff],
  uint16: [0, 0xffff],
  uint32: [0, 0xffffffff],
  enum: [0, 0xff],
  bcd: [0, 0xff],
};

function fromTyped(type: DataType, value: unknown): Data {
  switch (type) {
    case 'null':
      return { type };
    case 'array':
    case 'structure':
      if (!Array.isArray(value)) throw bad(`${type} takes a JSON array of Data`);
      return { type, items: value.map(dataFromJson) };
    case 'compact-array':
      throw bad('compact-array is decode-only on the command line; send an array instead');
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('boolean takes true or false');
      return { type, value };
    case 'bit-string':
      if (typeof value !== 'string' || /[^01]/.test(value)) throw bad('bit-string takes a string of 0 and 1');
      return bitString(value);
    case 'int64':
    case 'uint64': {
      if (typeof value !== 'string' && typeof value !== 'number') throw bad(`${type} takes a decimal string`);
      let big: bigint;
      try {
        big = BigInt(value);
      } catch {
        throw bad(`${type} takes a decimal string, got ${JSON.stringify(value)}`);
      }
      const ok = type === 'int64' ? big === BigInt.asIntN(64, big) : big === BigInt.asUintN(64, big);
      if (!ok) throw bad(`${String(value)} is out of range for ${type}`);
      return { type, value: big };
    }
    case 'float32':
    case 'float64':
      if (value === 'Infinity' || value === '-Infinity' || value === 'NaN') return { type, value: Number(value) };
      if (typeof value !== 'number') throw bad(`${type} takes a number (or "Infinity", "-Infinity", "NaN")`);
      return { type, value };
    case 'octet-string':
      if (typeof value !== 'string') throw bad('octet-string takes a hex string such as "0102FF"');
      try {
        return { type, value: fromHex(value) };
      } catch {
        throw bad(`octet-string takes hex, got ${JSON.stringify(value)}`);
      }
    case 'visible-string':
    case 'utf8-string':
      if (typeof value !== 'string') throw bad(`${type} takes a string`);
      return { type, value };
    case 'date-time':
      return { type, value: parseDateTimeJson(value) };
    case 'date':
    case 'time':
      return fromFields(type, value);
    default: {
      const range = ranges[type];
      if (typeof value !== 'number' || !Number.isInteger(value) || !range || value < range[0] || value > range[1]) {
        throw bad(`${type} takes an integer in ${range ? `${range[0]}..${range[1]}` : 'range'}, got ${JSON.stringify(value)}`);
      }
      return { type, value };
    }
  }
}

function fieldsOf(value: unknown, names: readonly string[], what: string): Record<string, number | null> {
  if (typeof value !== 'object' || value === null) throw bad(`${what} takes an object with ${names.join(', ')}`);
  const out: Record<string, number | null> = {};
  for (const n of names) {
    const f = (value as Record<string, unknown>)[n];
    if (f === undefined || f === null) out[n] = null;
    else if (typeof f === 'number' && Number.isInteger(f)) out[n] = f;
    else throw bad(`${what}.${n} must be an integer or null`);
  }
  return out;
}

const DATE_FIELDS = ['year', 'month', 'day', 'dayOfWeek'] as const;
const TIME_FIELDS = ['hour', 'minute', 'second', 'hundredths'] as const;

function fromFields(type: 'date' | 'time', value: unknown): Data {
  if (type === 'date') {
    const f = fieldsOf(value, DATE_FIELDS, 'date');
    return { type, value: { year: f.year ?? null, month: f.month ?? null, day: f.day ?? null, dayOfWeek: f.dayOfWeek ?? null } };
  }
  const f = fieldsOf(value, TIME_FIELDS, 'time');
  return { type, value: { hour: f.hour ?? null, minute: f.minute ?? null, second: f.second ?? null, hundredths: f.hundredths ?? null } };
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$/;

/** ISO text (with an explicit offset) or an object of fields. Offset → Blue-Book deviation. */
export function parseDateTimeJson(value: unknown): CosemDateTime {
  if (typeof value === 'string') {
    const m = ISO.exec(value);
    if (!m) throw bad(`date-time takes ISO text with an offset, e.g. 2026-11-23T10:30:00+01:00; got ${value}`);
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw bad(`not a valid date-time: ${value}`);
    const offsetText = m[8] ?? 'Z';
    const offset = offsetText === 'Z' ? 0 : (offsetText.startsWith('-') ? -1 : 1) * (Number(offsetText.slice(1, 3)) * 60 + Number(offsetText.slice(4, 6)));
    return epochToDateTime(ms, { deviation: -offset, clockStatus: 0 });
  }
  const f = fieldsOf(value, [...DATE_FIELDS, ...TIME_FIELDS, 'deviation', 'clockStatus'], 'date-time');
  return {
    year: f.year ?? null,
    month: f.month ?? null,
    day: f.day ?? null,
    dayOfWeek: f.dayOfWeek ?? null,
    hour: f.hour ?? null,
    minute: f.minute ?? null,
    second: f.second ?? null,
    hundredths: f.hundredths ?? null,
    deviation: f.deviation ?? null,
    clockStatus: f.clockStatus ?? null,
  };
}
