/**
 * COSEM Data (IEC 62056-6-2 / Blue Book): a tagged union of every A-XDR type. Values keep
 * exactly what travelled on the wire so that encode(decode(bytes)) = bytes.
 */

export const DataTag = {
  null: 0,
  array: 1,
  structure: 2,
  boolean: 3,
  'bit-string': 4,
  int32: 5,
  uint32: 6,
  'octet-string': 9,
  'visible-string': 10,
  'utf8-string': 12,
  bcd: 13,
  int8: 15,
  int16: 16,
  uint8: 17,
  uint16: 18,
  'compact-array': 19,
  int64: 20,
  uint64: 21,
  enum: 22,
  float32: 23,
  float64: 24,
  'date-time': 25,
  date: 26,
  time: 27,
} as const;

export type DataType = keyof typeof DataTag;

/** Unspecified fields (0xFF / 0xFFFF / 0x8000 on the wire) are null. */
export interface CosemDate {
  year: number | null;
  /** 1..12, 0xFD = DST end, 0xFE = DST begin (kept as numbers). */
  month: number | null;
  /** 1..31, 0xFD second-last day, 0xFE last day. */
  day: number | null;
  /** 1 = Monday .. 7 = Sunday. */
  dayOfWeek: number | null;
}

export interface CosemTime {
  hour: number | null;
  minute: number | null;
  second: number | null;
  hundredths: number | null;
}

export interface CosemDateTime extends CosemDate, CosemTime {
  /** Minutes, as sent (sign convention is per meter, see cosem/datetime). */
  deviation: number | null;
  /** Clock status byte (bit 0 invalid, 1 doubtful, 2 different base, 3 invalid status, 7 DST). */
  clockStatus: number | null;
}

/** Type description used by compact-array. */
export type TypeDescription =
  | { type: Exclude<DataType, 'array' | 'structure' | 'compact-array'> }
  | { type: 'array'; count: number; element: TypeDescription }
  | { type: 'structure'; elements: TypeDescription[] };

export type Data =
  | { type: 'null' }
  | { type: 'array'; items: Data[] }
  | { type: 'structure'; items: Data[] }
  | { type: 'compact-array'; element: TypeDescription; items: Data[] }
  | { type: 'boolean'; value: boolean }
  | { type: 'bit-string'; length: number; value: Uint8Array }
  | { type: 'int8' | 'int16' | 'int32' | 'uint8' | 'uint16' | 'uint32' | 'enum' | 'bcd'; value: number }
  | { type: 'int64' | 'uint64'; value: bigint }
  | { type: 'float32' | 'float64'; value: number }
  | { type: 'octet-string'; value: Uint8Array }
  | { type: 'visible-string' | 'utf8-string'; value: string }
  | { type: 'date-time'; value: CosemDateTime }
  | { type: 'date'; value: CosemDate }
  | { type: 'time'; value: CosemTime };

export type DataOf<T extends DataType> = Extract<Data, { type: T }>;

// Small constructors keep call sites readable: structure(uint16(8), octets(obis), int8(2)).
export const nullData = (): Data => ({ type: 'null' });
export const array = (items: Data[]): Data => ({ type: 'array', items });
export const structure = (...items: Data[]): Data => ({ type: 'structure', items });
export const bool = (value: boolean): Data => ({ type: 'boolean', value });
export const int8 = (value: number): Data => ({ type: 'int8', value });
export const int16 = (value: number): Data => ({ type: 'int16', value });
export const int32 = (value: number): Data => ({ type: 'int32', value });
export const uint8 = (value: number): Data => ({ type: 'uint8', value });
export const uint16 = (value: number): Data => ({ type: 'uint16', value });
export const uint32 = (value: number): Data => ({ type: 'uint32', value });
export const int64 = (value: bigint): Data => ({ type: 'int64', value });
export const uint64 = (value: bigint): Data => ({ type: 'uint64', value });
export const enumValue = (value: number): Data => ({ type: 'enum', value });
export const float32 = (value: number): Data => ({ type: 'float32', value });
export const float64 = (value: number): Data => ({ type: 'float64', value });
export const octets = (value: Uint8Array): Data => ({ type: 'octet-string', value });
export const visible = (value: string): Data => ({ type: 'visible-string', value });
export const utf8 = (value: string): Data => ({ type: 'utf8-string', value });

/** Bit-string from '0'/'1' characters (first character = most significant bit of byte 0). */
export function bitString(bits: string): Data {
  const value = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) {
    if (bits[i] === '1') value[i >> 3] = (value[i >> 3] ?? 0) | (0x80 >> (i & 7));
  }
  return { type: 'bit-string', length: bits.length, value };
}

export function bitStringToString(d: DataOf<'bit-string'>): string {
  let s = '';
  for (let i = 0; i < d.length; i++) s += ((d.value[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0 ? '1' : '0';
  return s;
}

/** Numeric value of an integer-like Data (bigint for 64-bit), or undefined. */
export function numericValue(d: Data): number | bigint | undefined {
  switch (d.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'enum':
    case 'bcd':
    case 'float32':
    case 'float64':
    case 'int64':
    case 'uint64':
      return d.value;
    case 'boolean':
      return d.value ? 1 : 0;
    default:
      return undefined;
  }
}
