import type { Data } from '../protocol/axdr/data';
import { bitStringToString } from '../protocol/axdr/data';
import { dataAsDateTime, formatDateTime } from '../protocol/axdr/datetime';
import { toHex } from '../protocol/common/hex';
import type { ValueType } from '../protocol/cosem/classes';

/** Column-aligned text table (what a technician reads on a laptop terminal). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function printable(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes.every((b) => b >= 0x20 && b < 0x7f);
}

/** One-line text of a scalar; structures and arrays get renderData. */
export function scalarText(d: Data): string {
  switch (d.type) {
    case 'null':
      return 'null';
    case 'octet-string': {
      if (d.value.length === 12) {
        const dt = dataAsDateTime(d);
        if (dt && dt.year !== null && dt.month !== null && dt.month <= 12) return formatDateTime(dt);
      }
      if (printable(d.value)) return `"${Buffer.from(d.value).toString('latin1')}"`;
      return d.value.length === 0 ? '(empty)' : toHex(d.value);
    }
    case 'visible-string':
    case 'utf8-string':
      return `"${d.value}"`;
    case 'bit-string':
      return bitStringToString(d);
    case 'date-time':
      return formatDateTime(d.value);
    case 'date':
      return `${d.value.year ?? '****'}-${d.value.month ?? '**'}-${d.value.day ?? '**'}`;
    case 'time':
      return `${d.value.hour ?? '**'}:${d.value.minute ?? '**'}:${d.value.second ?? '**'}`;
    case 'array':
    case 'structure':
    case 'compact-array':
      return `${d.type}[${d.items.length}]`;
    default:
      return String(d.value);
  }
}

/** What a value means, from the class table: an enum's name, the names of the set status bits. */
export function meaningOf(d: Data, type: ValueType | undefined): string | undefined {
  if (type?.kind !== 'simple' || !('value' in d) || typeof d.value !== 'number') return undefined;
  if (type.enumNames !== undefined) return type.enumNames[d.value];
  if (type.flagNames !== undefined) {
    const names = Object.entries(type.flagNames)
      .filter(([bit]) => (d.value & (1 << Number(bit))) !== 0)
      .map(([, name]) => name);
    return names.length === 0 ? 'ok' : names.join(', ');
  }
  return undefined;
}

/** The part of a (structure / array / choice) type that describes child i of d. */
function childType(type: ValueType | undefined, d: Data, i: number): ValueType | undefined {
  if (type === undefined) return undefined;
  if (type.kind === 'one-of') return childType(type.options.find((o) => (o.kind === 'structure' && d.type === 'structure') || (o.kind === 'array' && d.type === 'array')), d, i);
  if (type.kind === 'structure' && d.type === 'structure') return type.fields[i]?.type;
  if (type.kind === 'array' && d.type === 'array') return type.element;
  return undefined;
}

/** Indented multi-line rendering with the type of every node; with the class table's type, enums and status bits get their meaning. */
export function renderData(d: Data, indent = '', type?: ValueType): string {
  if (d.type === 'array' || d.type === 'structure' || d.type === 'compact-array') {
    const head = `${indent}${d.type} (${d.items.length})`;
    return [head, ...d.items.map((x, i) => renderData(x, `${indent}  `, childType(type, d, i)))].join('\n');
  }
  const meaning = meaningOf(d, type);
  return `${indent}${d.type} ${scalarText(d)}${meaning === undefined ? '' : ` (${meaning})`}`;
}
