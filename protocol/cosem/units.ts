/**
 * The DLMS unit enumeration (Blue Book, "physical units" table) and scaler_unit handling.
 * Values travel as integers; the real quantity is value × 10^scaler in the unit.
 */
import { DcuError, ErrorCode } from '../common/errors';
import type { Data } from '../axdr/data';

export interface UnitInfo {
  readonly code: number;
  readonly symbol: string;
  readonly quantity: string;
}

const UNITS: readonly (readonly [number, string, string])[] = [
  [1, 'a', 'time (year)'],
  [2, 'mo', 'time (month)'],
  [3, 'wk', 'time (week)'],
  [4, 'd', 'time (day)'],
  [5, 'h', 'time (hour)'],
  [6, 'min', 'time (minute)'],
  [7, 's', 'time (second)'],
  [8, '°', 'phase angle'],
  [9, '°C', 'temperature'],
  [10, 'currency', 'local currency'],
  [11, 'm', 'length'],
  [12, 'm/s', 'speed'],
  [13, 'm³', 'volume'],
  [14, 'm³', 'corrected volume'],
  [15, 'm³/h', 'volume flux'],
  [16, 'm³/h', 'corrected volume flux'],
  [17, 'm³/d', 'volume flux'],
  [18, 'm³/d', 'corrected volume flux'],
  [19, 'l', 'volume'],
  [20, 'kg', 'mass'],
  [21, 'N', 'force'],
  [22, 'Nm', 'energy'],
  [23, 'Pa', 'pressure'],
  [24, 'bar', 'pressure'],
  [25, 'J', 'energy'],
  [26, 'J/h', 'thermal power'],
  [27, 'W', 'active power'],
  [28, 'VA', 'apparent power'],
  [29, 'var', 'reactive power'],
  [30, 'Wh', 'active energy'],
  [31, 'VAh', 'apparent energy'],
  [32, 'varh', 'reactive energy'],
  [33, 'A', 'current'],
  [34, 'C', 'electrical charge'],
  [35, 'V', 'voltage'],
  [36, 'V/m', 'electric field strength'],
  [37, 'F', 'capacitance'],
  [38, 'Ω', 'resistance'],
  [39, 'Ωm²/m', 'resistivity'],
  [40, 'Wb', 'magnetic flux'],
  [41, 'T', 'magnetic flux density'],
  [42, 'A/m', 'magnetic field strength'],
  [43, 'H', 'inductance'],
  [44, 'Hz', 'frequency'],
  [45, '1/(Wh)', 'active energy meter constant'],
  [46, '1/(varh)', 'reactive energy meter constant'],
  [47, '1/(VAh)', 'apparent energy meter constant'],
  [48, 'V²h', 'volt-squared hours'],
  [49, 'A²h', 'ampere-squared hours'],
  [50, 'kg/s', 'mass flux'],
  [51, 'S', 'conductance'],
  [52, 'K', 'temperature'],
  [53, '1/(V²h)', 'volt-squared hour meter constant'],
  [54, '1/(A²h)', 'ampere-squared hour meter constant'],
  [55, '1/m³', 'volume meter constant'],
  [56, '%', 'percentage'],
  [57, 'Ah', 'ampere-hours'],
  [60, 'Wh/m³', 'energy per volume'],
  [61, 'J/m³', 'calorific value'],
  [62, 'mol%', 'molar fraction'],
  [63, 'g/m³', 'mass density'],
  [64, 'Pa s', 'dynamic viscosity'],
  [65, 'J/kg', 'specific energy'],
  [70, 'dBm', 'signal strength'],
  [71, 'dBµV', 'signal strength'],
  [72, 'dB', 'logarithmic ratio'],
  [253, '', 'reserved'],
  [254, 'other', 'other unit'],
  [255, '', 'count (no unit)'],
];

const BY_CODE = new Map<number, UnitInfo>(UNITS.map(([code, symbol, quantity]) => [code, { code, symbol, quantity }]));

/** Symbol of every known unit code, for class tables (scaler_unit's unit enum) and display. */
export const UNIT_SYMBOLS: Readonly<Record<number, string>> = Object.fromEntries(UNITS.map(([code, symbol]) => [code, symbol === '' ? 'count' : symbol]));

/** Named codes for call sites: Unit.Wh, Unit.V … */
export const Unit = {
  year: 1,
  month: 2,
  week: 3,
  day: 4,
  hour: 5,
  minute: 6,
  second: 7,
  degree: 8,
  celsius: 9,
  currency: 10,
  m3: 13,
  W: 27,
  VA: 28,
  var: 29,
  Wh: 30,
  VAh: 31,
  varh: 32,
  A: 33,
  V: 35,
  Hz: 44,
  percent: 56,
  Ah: 57,
  other: 254,
  count: 255,
} as const;

export function unitInfo(code: number): UnitInfo | undefined {
  return BY_CODE.get(code);
}

/** Symbol for display ('' for count; `unit(n)` for codes this table does not know). */
export function unitSymbol(code: number): string {
  return BY_CODE.get(code)?.symbol ?? `unit(${code})`;
}

export interface ScalerUnit {
  /** Power of ten, −128..127. */
  readonly scaler: number;
  /** Unit enumeration code. */
  readonly unit: number;
}

/** scaler_unit: structure { integer scaler, enum unit }. Lenient about the scaler being any integer type. */
export function decodeScalerUnit(d: Data): ScalerUnit {
  if (d.type !== 'structure' || d.items.length !== 2) {
    throw new DcuError(ErrorCode.DecodeBadValue, `scaler_unit: expected structure{integer, enum}, got ${describe(d)}`);
  }
  const [s, u] = d.items;
  if (s === undefined || u === undefined) throw new DcuError(ErrorCode.DecodeBadValue, 'scaler_unit: two elements needed');
  if (s.type !== 'int8' && s.type !== 'int16' && s.type !== 'uint8') {
    throw new DcuError(ErrorCode.DecodeBadValue, `scaler_unit scaler: expected integer (int8), got ${s.type}`);
  }
  if (u.type !== 'enum' && u.type !== 'uint8') {
    throw new DcuError(ErrorCode.DecodeBadValue, `scaler_unit unit: expected enum, got ${u.type}`);
  }
  const scaler = s.type === 'uint8' && s.value > 127 ? s.value - 256 : s.value;
  // An int16 could claim 10^32767: every scaled cell would carry that many digits.
  if (scaler < -128 || scaler > 127) {
    throw new DcuError(ErrorCode.DecodeBadValue, `scaler_unit scaler ${scaler} is outside −128..127 (the scaler is an int8); the meter's scaler_unit is malformed`, {
      context: { scaler },
    });
  }
  return { scaler, unit: u.value };
}

export function encodeScalerUnit(su: ScalerUnit): Data {
  return { type: 'structure', items: [{ type: 'int8', value: su.scaler }, { type: 'enum', value: su.unit }] };
}

function describe(d: Data): string {
  return d.type === 'structure' || d.type === 'array' ? `${d.type}(${d.items.length})` : d.type;
}

/**
 * value × 10^scaler as an exact decimal string: integers are shifted digit-wise, so
 * 12345 with scaler −3 is "12.345" (never 12.344999…). Non-integer numbers (floats) are
 * scaled and printed with 15 significant digits.
 */
export function scaledDecimal(value: number | bigint, scaler: number): string {
  if (typeof value === 'number') {
    // Safe integers (every ≤ 32-bit Data value) need no BigInt: String() is exact for them.
    if (Number.isSafeInteger(value)) return shiftDigits(value < 0, String(value < 0 ? -value : value), scaler);
    if (!Number.isInteger(value)) {
      if (!Number.isFinite(value)) return String(value);
      return String(Number((value * 10 ** scaler).toPrecision(15)));
    }
  }
  const v = typeof value === 'bigint' ? value : BigInt(value);
  const negative = v < 0n;
  return shiftDigits(negative, (negative ? -v : v).toString(), scaler);
}

/** The decimal digits of |value| moved by scaler places, trailing fraction zeros dropped. */
function shiftDigits(negative: boolean, digits: string, scaler: number): string {
  if (digits === '0') return '0';
  let text = digits;
  if (scaler > 0) text = digits + '0'.repeat(scaler);
  else if (scaler < 0) {
    const places = -scaler;
    const padded = digits.length > places ? digits : digits.padStart(places + 1, '0');
    let end = padded.length;
    while (end > padded.length - places && padded.charCodeAt(end - 1) === 0x30) end--;
    const intPart = padded.slice(0, padded.length - places);
    text = end === padded.length - places ? intPart : `${intPart}.${padded.slice(padded.length - places, end)}`;
  }
  return negative ? `-${text}` : text;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** 10^0 … 10^22: the powers of ten a double holds exactly. */
const EXACT_POWERS_OF_TEN: readonly number[] = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * value × 10^scaler as a number: the closest double to the exact decimal (so 12345, −3
 * gives 12.345 exactly as a literal would). Use scaledDecimal for 64-bit counters that
 * exceed 2^53. `decimal`, when the caller has it, is scaledDecimal(value, scaler).
 */
export function applyScaler(value: number | bigint, scaler: number, decimal?: string): number {
  // A safe integer and an exact power of ten: one IEEE operation, correctly rounded, gives
  // the same double as parsing the exact decimal text.
  const n = typeof value === 'bigint' ? (value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : undefined) : value;
  const power = EXACT_POWERS_OF_TEN[scaler < 0 ? -scaler : scaler];
  if (n !== undefined && power !== undefined && Number.isSafeInteger(n)) {
    if (n === 0) return 0;
    return scaler < 0 ? n / power : n * power;
  }
  return Number(decimal ?? scaledDecimal(value, scaler));
}

/** "12.345 kWh"-style text is the UI's job; this gives "12345 Wh" style: decimal + symbol. */
export function formatScaled(value: number | bigint, su: ScalerUnit): string {
  const sym = unitSymbol(su.unit);
  const text = scaledDecimal(value, su.scaler);
  return sym === '' ? text : `${text} ${sym}`;
}
