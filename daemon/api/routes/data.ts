/**
 * Alarms and exports (viewer). An export streams one data class over a time range as CSV or
 * JSON, with the rows `dcu export` prints on the box; a range over MAX_EXPORT_DAYS and a
 * file name that is not a plain name are refused before anything is read.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { parseRange } from '../../../common/instant';
import Database from 'better-sqlite3';
import type { Db } from '../../../storage/db';
import { csvCell, EXPORT_CLASSES, exportQuery, exportRows, type ExportClass, type ExportRow } from '../../export';
import type { ApiContext } from '../context';

export const MAX_EXPORT_DAYS = 400;
/** A plain file name: no directory part, no "..", no control characters. */
export const FILE_NAME = '^(?!.*\\.\\.)[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';

const ExportQuery = Type.Object(
  {
    from: Type.String({ minLength: 10, maxLength: 40, description: 'start, ISO date-time' }),
    to: Type.String({ minLength: 10, maxLength: 40, description: 'end, inclusive' }),
    class: Type.Union(EXPORT_CLASSES.map((c) => Type.Literal(c)), { default: 'load-profile' }),
    format: Type.Union([Type.Literal('csv'), Type.Literal('json')], { default: 'csv' }),
    meters: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}(,[A-Za-z0-9_.-]{1,32}){0,999}$', description: 'comma-separated serial numbers' })),
    filename: Type.Optional(Type.String({ pattern: FILE_NAME, description: 'suggested file name (Content-Disposition)' })),
  },
  { additionalProperties: false },
);

function* csvLines(header: string[], rows: Iterable<ExportRow>): Generator<string> {
  yield `${header.map(csvCell).join(',')}\n`;
  for (const r of rows) yield `${r.map(csvCell).join(',')}\n`;
}

function* jsonChunks(head: object, header: string[], rows: Iterable<ExportRow>): Generator<string> {
  const open = JSON.stringify({ ...head, columns: header, rows: [] });
  yield `${open.slice(0, -2)}\n`;
  let first = true;
  for (const r of rows) {
    yield `${first ? '' : ',\n'}${JSON.stringify(r)}`;
    first = false;
  }
  yield '\n]}\n';
}

type Body = (header: string[], rows: Iterable<ExportRow>) => Generator<string>;

/**
 * The rows read as the answer is sent, on a read-only connection of the export's own (WAL:
 * the daemon's writes go on, and its connection is never held across the stream's pauses),
 * closed when the stream ends or the client leaves: a long range never sits in memory at
 * once. An in-memory store (tests) is read in one go on the daemon's connection.
 */
function exportStream(db: Db, onClose: (close: () => void) => void, query: (from: Db, lazy: boolean) => { header: string[]; rows: Iterable<ExportRow> }, body: Body): Iterable<string> {
  if (db.memory) {
    const { header, rows } = query(db, false);
    return body(header, rows);
  }
  const ro = new Database(db.name, { readonly: true, fileMustExist: true });
  let started = false;
  const close = (): void => {
    try {
      if (ro.open) ro.close();
    } catch {
      /* closing a read-only connection: nothing to lose */
    }
  };
  // a client gone before the first row: the generator never ran, so its finally will not
  onClose(() => {
    if (!started) close();
  });
  const { header, rows } = query(ro, true);
  return (function* () {
    started = true;
    try {
      yield* body(header, rows);
    } finally {
      close();
    }
  })();
}

export function dataRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db, meters } = ctx.deps;
  app.get('/api/v1/alarms', { config: { role: 'viewer' }, schema: { querystring: Type.Object({ open: Type.Boolean({ default: true }), meter: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}$' })), limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 200 }) }, { additionalProperties: false }) } }, (req) => {
    const q = req.query as { open: boolean; meter?: string; limit: number };
    const where = [q.open ? 'cleared_at IS NULL' : '1', q.meter === undefined ? '1' : 'meter = ?'].join(' AND ');
    const rows = db.prepare(`SELECT id, meter, code, detail, raised_at, cleared_at FROM alarms WHERE ${where} ORDER BY raised_at DESC, id DESC LIMIT ?`).all(...(q.meter === undefined ? [] : [q.meter]), q.limit) as { id: number; meter: string | null; code: string; detail: string; raised_at: number; cleared_at: number | null }[];
    return { count: rows.length, alarms: rows.map((r) => ({ id: r.id, meter: r.meter, code: r.code, detail: r.detail, raisedAt: new Date(r.raised_at).toISOString(), clearedAt: r.cleared_at === null ? null : new Date(r.cleared_at).toISOString() })) };
  });

  app.get('/api/v1/export', { config: { role: 'viewer' }, schema: { querystring: ExportQuery } }, async (req, reply) => {
    const q = req.query as { from: string; to: string; class: ExportClass; format: 'csv' | 'json'; meters?: string; filename?: string };
    const range = parseRange(q.from, q.to);
    if (range === undefined) throw new DcuError(ErrorCode.Usage, 'from and to are required');
    const days = (range.to.ms - range.from.ms) / 86_400_000;
    if (days > MAX_EXPORT_DAYS) throw new DcuError(ErrorCode.InvalidValue, `the range is ${Math.ceil(days)} days; at most ${MAX_EXPORT_DAYS} per export: split it`);
    const list = q.meters?.split(',');
    const unknown = (list ?? []).filter((s) => meters.get(s) === undefined);
    if (unknown.length > 0) throw new DcuError(ErrorCode.UnknownMeter, `not registered: ${unknown.join(', ')} (GET /api/v1/meters lists them)`);
    const name = q.filename ?? `${q.class}.${q.format}`;
    void reply.header('content-disposition', `attachment; filename="${name}"`);
    const head = { class: q.class, from: new Date(range.from.ms).toISOString(), to: new Date(range.to.ms).toISOString() };
    const chunks = exportStream(
      db,
      (close) => reply.raw.once('close', close),
      (from, lazy) => (lazy ? exportQuery : exportRows)(from, q.class, range.from.ms, range.to.ms, list),
      (header, rows) => (q.format === 'csv' ? csvLines(header, rows) : jsonChunks(head, header, rows)),
    );
    return reply.type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json').send(Readable.from(chunks));
  });
}
