import type { ByteReader } from '../common/bytes';
import { DcuError, ErrorCode } from '../common/errors';
import type { DataType, TypeDescription } from './data';

/**
 * A compact-array's contents carry no tags, so its type description alone says how many Data
 * values the bytes turn into: `array[65535] of array[65535] of null` in one content byte is
 * 4·10⁹ values. Before reading, the most values the contents can yield (each element takes at
 * least its minimum size) must fit this many per content byte; tagged Data yields at most one.
 */
export const MAX_COMPACT_VALUES_PER_BYTE = 4;

/** Fewest content bytes of one element of each fixed or length-prefixed type. */
const MIN_BYTES: Readonly<Record<Exclude<DataType, 'array' | 'structure' | 'compact-array'>, number>> = {
  null: 0,
  boolean: 1,
  'bit-string': 1,
  int32: 4,
  uint32: 4,
  'octet-string': 1,
  'visible-string': 1,
  'utf8-string': 1,
  bcd: 1,
  int8: 1,
  int16: 2,
  uint8: 1,
  uint16: 2,
  int64: 8,
  uint64: 8,
  enum: 1,
  float32: 4,
  float64: 8,
  'date-time': 12,
  date: 5,
  time: 4,
};

/** Minimum encoded size and number of Data values of one element (doubles: no overflow at depth 32). */
export function typeDescriptionCost(t: TypeDescription): { minBytes: number; values: number } {
  if (t.type === 'array') {
    const e = typeDescriptionCost(t.element);
    return { minBytes: t.count * e.minBytes, values: 1 + t.count * e.values };
  }
  if (t.type === 'structure') {
    let minBytes = 0;
    let values = 1;
    for (const el of t.elements) {
      const e = typeDescriptionCost(el);
      minBytes += e.minBytes;
      values += e.values;
    }
    return { minBytes, values };
  }
  return { minBytes: MIN_BYTES[t.type], values: 1 };
}

const COMPACT_HINT = 'refused before allocating: the sender encodes compact-arrays wrongly (or is hostile)';

export function checkCompactArrayBudget(r: ByteReader, at: number, lengthAt: number, element: TypeDescription, contentLength: number): void {
  if (contentLength === 0) return;
  const { minBytes, values } = typeDescriptionCost(element);
  const where = r.baseOffset + at;
  const context = { offset: where, contentOffset: r.baseOffset + lengthAt, contentLength, minBytes, values };
  if (minBytes === 0) {
    throw new DcuError(ErrorCode.DecodeBadValue, `compact-array at byte ${where}: its element type takes no bytes, yet ${contentLength} content byte(s) follow; ${COMPACT_HINT}`, { context });
  }
  if (minBytes > contentLength) {
    throw new DcuError(ErrorCode.DecodeBadLength, `compact-array at byte ${where}: one element needs at least ${minBytes} byte(s), the contents hold ${contentLength}; ${COMPACT_HINT}`, {
      context,
    });
  }
  const most = Math.floor(contentLength / minBytes) * values;
  if (most > MAX_COMPACT_VALUES_PER_BYTE * contentLength) {
    throw new DcuError(
      ErrorCode.DecodeBadLength,
      `compact-array at byte ${where}: its type description makes ${values} values of every ${minBytes} byte(s), more than ${MAX_COMPACT_VALUES_PER_BYTE} per content byte; ${COMPACT_HINT}`,
      { context },
    );
  }
}
