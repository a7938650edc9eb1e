/**
 * Stored data of one class over a time range as a table (header + rows): `dcu export` on the
 * box reads it from the store directly, the local API streams the same rows as CSV or JSON.
 */
import type { Db } from '../storage/db';
import { publicAccess, type MeterRecord } from '../storage/meters';
import { eventName, statusFlags } from './jobs/event-tables';

export const EXPORT_CLASSES = ['load-profile', 'daily', 'billing', 'registers', 'meter-events', 'events', 'alarms'] as const;
export type ExportClass = (typeof EXPORT_CLASSES)[number];

/** A registered meter for people and scripts; credentials never leave the store: key files by name only. */
export function meterJson(m: MeterRecord): object {
  const access: Record<string, unknown> = { ...publicAccess(m.access) };
  const keys = m.access.keys;
  if (keys !== undefined) access.keys = 'file' in keys ? { file: keys.file } : 'name' in keys ? { name: keys.name } : '(inline, not shown)';
  return { serial: m.serial, line: m.line, address: m.address, source: m.source, access, state: m.state };
}

export const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

export type ExportRow = (string | number | null)[];

/** Everything of a class in a range, read in one go (the API's answer; small exports). */
export function exportRows(db: Db, cls: ExportClass, from: number, to: number, meters: readonly string[] | undefined): { header: string[]; rows: ExportRow[] } {
  const q = exportQuery(db, cls, from, to, meters);
  return { header: q.header, rows: [...q.rows] };
}

/**
 * The same rows one at a time from SQLite (`iterate`): memory stays flat however long the
 * range. The connection is busy until the iteration ends: only for a connection of its own
 * read synchronously to the end (the on-box `dcu export`).
 */
export function exportQuery(db: Db, cls: ExportClass, from: number, to: number, meters: readonly string[] | undefined): { header: string[]; rows: IterableIterator<ExportRow> } {
  const filter = meters === undefined ? '' : ` AND meter IN (${meters.map(() => '?').join(', ')})`;
  const args = [from, to, ...(meters ?? [])];
  const profile = cls === 'load-profile' ? '1.0.99.1.0.255' : cls === 'daily' ? '1.0.99.2.0.255' : cls === 'billing' ? '0.0.98.1.0.255' : undefined;
  if (profile !== undefined) {
    const columns = db.prepare<[string], { meter: string; profile: string; columns: string }>('SELECT meter, profile, columns FROM profile_columns WHERE profile = ?').all(profile);
    const width = Math.max(0, ...columns.map((c) => (JSON.parse(c.columns) as unknown[]).length));
    const first = columns[0] === undefined ? [] : (JSON.parse(columns[0].columns) as { capture: string; unit?: string }[]);
    const names = Array.from({ length: width }, (_, i) => {
      const c = first[i];
      return c === undefined ? `c${i + 1}` : `${c.capture}${c.unit === undefined ? '' : ` [${c.unit}]`}`;
    });
    const rows = db
      .prepare(`SELECT meter, captured_at, status, cells FROM profile_rows WHERE profile = ? AND captured_at BETWEEN ? AND ?${filter} ORDER BY meter, captured_at`)
      .iterate(profile, ...args) as IterableIterator<{ meter: string; captured_at: number; status: number | null; cells: string }>;
    return {
      header: ['meter', 'captured_at', 'status', 'flags', ...names],
      rows: mapRows(rows, (r) => [r.meter, iso(r.captured_at), r.status, r.status === null ? '' : statusFlags(r.status).join(' '), ...(JSON.parse(r.cells) as (string | null)[])]),
    };
  }
  if (cls === 'registers') {
    const rows = db.prepare(`SELECT meter, read_at, name, obis, value, unit FROM register_values WHERE read_at BETWEEN ? AND ?${filter} ORDER BY meter, read_at, obis`).iterate(...args) as IterableIterator<{ meter: string; read_at: number; name: string; obis: string; value: string; unit: string }>;
    return { header: ['meter', 'read_at', 'name', 'obis', 'value', 'unit'], rows: mapRows(rows, (r) => [r.meter, iso(r.read_at), r.name, r.obis, r.value, r.unit]) };
  }
  if (cls === 'meter-events') {
    const rows = db.prepare(`SELECT meter, log, at, code FROM meter_events WHERE at BETWEEN ? AND ?${filter} ORDER BY meter, at, code`).iterate(...args) as IterableIterator<{ meter: string; log: string; at: number; code: number }>;
    return { header: ['meter', 'at', 'log', 'code', 'event'], rows: mapRows(rows, (r) => [r.meter, iso(r.at), r.log, r.code, eventName(r.code)]) };
  }
  const table_ = cls === 'events' ? 'events' : 'alarms';
  const at = cls === 'events' ? 'at' : 'raised_at';
  const rows = db.prepare(`SELECT meter, code, detail, ${at} AS at FROM ${table_} WHERE ${at} BETWEEN ? AND ?${filter} ORDER BY ${at}, id`).iterate(...args) as IterableIterator<{ meter: string | null; code: string; detail: string; at: number }>;
  return { header: ['meter', 'at', 'code', 'detail'], rows: mapRows(rows, (r) => [r.meter, iso(r.at), r.code, r.detail]) };
}

function* mapRows<T>(rows: IterableIterator<T>, f: (r: T) => ExportRow): IterableIterator<ExportRow> {
  for (const r of rows) yield f(r);
}

export function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

