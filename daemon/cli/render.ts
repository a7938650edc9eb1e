import type { Data } from '../../protocol/axdr/data';
import { bitStringToString } from '../../protocol/axdr/data';
import { dataAsDateTime, formatDateTime } from '../../protocol/axdr/datetime';
import { toHex } from '../../protocol/common/hex';

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

/** Indented multi-line rendering with the type of every node. */
export function renderData(d: Data, indent = ''): string {
  if (d.type === 'array' || d.type === 'structure' || d.type === 'compact-array') {
    const head = `${indent}${d.type} (${d.items.length})`;
    return [head, ...d.items.map((x) => renderData(x, `${indent}  `))].join('\n');
  }
  return `${indent}${d.type} ${scalarText(d)}`;
}
