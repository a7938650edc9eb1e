/**
 * Meters: list and show (viewer); add, remove and commission (operator). Add and remove run
 * the HES command handler's checks and writes (`meter-add`, `meter-remove`), so a meter
 * registered by the HES or by a technician passes the same rules. Commissioning queues an
 * on-demand read (registers and clock) that links and identifies the meter.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { meterJson } from '../../export';
import { notFound, type ApiContext } from '../context';

export const SERIAL = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}$', description: 'meter serial number' });
const SerialParams = Type.Object({ serial: SERIAL }, { additionalProperties: false });

/** Runs one HES registry command and returns its answer, or throws its typed error. */
export function hesCommand(ctx: ApiContext, name: string, doc: object): Record<string, unknown> {
  let answer: Record<string, unknown> | undefined;
  ctx.deps.hes.handle(name, Buffer.from(JSON.stringify(doc)), (a) => {
    answer = a;
  });
  if (answer === undefined) throw new DcuError(ErrorCode.Internal, `${name}: no answer from the command handler`);
  const err = answer.error as { code?: number; message?: string } | undefined;
  if (answer.type === 'error' && err !== undefined) throw new DcuError((err.code ?? ErrorCode.Internal) as ErrorCode, err.message ?? 'refused');
  return answer;
}

export function meterRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { meters, db } = ctx.deps;
  app.get('/api/v1/meters', { config: { role: 'viewer' }, schema: { querystring: Type.Object({ line: Type.Optional(Type.String({ maxLength: 64 })), stage: Type.Optional(Type.Union([Type.Literal('registered'), Type.Literal('linked'), Type.Literal('commissioned')])) }, { additionalProperties: false }) } }, (req) => {
    const q = req.query as { line?: string; stage?: string };
    const list = meters.list().filter((m) => (q.line === undefined || m.line === q.line) && (q.stage === undefined || m.state.stage === q.stage));
    return { count: list.length, meters: list.map((m) => ({ ...meterJson(m) })) };
  });
  app.get('/api/v1/meters/:serial', { config: { role: 'viewer' }, schema: { params: SerialParams } }, (req) => {
    const { serial } = req.params as { serial: string };
    const m = meters.get(serial);
    if (m === undefined) throw new DcuError(ErrorCode.UnknownMeter, `meter ${serial} is not registered (GET /api/v1/meters lists them)`);
    const marks = db.prepare<[string], { profile: string; collected_to: number }>('SELECT profile, collected_to FROM watermarks WHERE meter = ? ORDER BY profile').all(serial);
    return { ...meterJson(m), watermarks: Object.fromEntries(marks.map((w) => [w.profile, new Date(w.collected_to).toISOString()])) };
  });
  app.post('/api/v1/meters', { config: { role: 'operator' }, schema: { body: Type.Object({ meter: Type.Object({ serial: SERIAL }, { additionalProperties: true, description: 'a meter as in the configuration' }) }, { additionalProperties: false }) } }, async (req, reply) => {
    const a = hesCommand(ctx, 'meter-add', req.body as object);
    return reply.code(201).send({ serial: a.serial, result: a.result });
  });
  app.delete('/api/v1/meters/:serial', { config: { role: 'operator' }, schema: { params: SerialParams } }, (req) => {
    const a = hesCommand(ctx, 'meter-remove', req.params as object);
    return { serial: a.serial, result: a.result };
  });
  app.post('/api/v1/meters/:serial/commission', { config: { role: 'operator' }, schema: { params: SerialParams } }, async (req, reply) => {
    const { serial } = req.params as { serial: string };
    if (meters.get(serial) === undefined) throw notFound(`meter ${serial} is not registered: add it first (POST /api/v1/meters)`);
    const s = ctx.deps.scheduler.submit({ kind: 'read', meters: [serial], what: ['registers', 'clock'] }, `api:${req.user?.name ?? '?'}`);
    return reply.code(202).send({ job: s.job.id, meters: s.meters.length, created: s.created });
  });
}
