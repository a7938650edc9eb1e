/**
 * Reads now, plans and jobs. `POST /api/v1/read` answers NDJSON as the job runs — the same
 * lines as the local socket: accepted, attempt (a failed try, retried), result (per meter),
 * done. Plans are accepted with their job id; jobs are listed, shown and cancelled.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PassThrough } from 'node:stream';
import type { JobState } from '../../../storage/jobs';
import { JobRequestSchema } from '../../jobs/request';
import { notFound, type ApiContext } from '../context';

const JOB_STATES = ['queued', 'running', 'done', 'cancelled', 'expired'] as const;
const JobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' }) }, { additionalProperties: false });
const requestProps = Object.fromEntries(Object.entries(JobRequestSchema.properties).filter(([k]) => k !== 'kind'));
export const JobBody = Type.Object(requestProps, { additionalProperties: false });

export function jobRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { scheduler, jobs } = ctx.deps;
  const source = (name: string | undefined): string => `api:${name ?? '?'}`;

  app.post('/api/v1/read', { config: { role: 'operator' }, schema: { body: JobBody } }, async (req, reply) => {
    const s = scheduler.submit({ ...(req.body as object), kind: 'read' }, source(req.user?.name));
    const out = new PassThrough();
    const send = (doc: object): void => {
      if (!out.writableEnded) out.write(`${JSON.stringify(doc)}\n`);
    };
    const job = s.job.id;
    send({ type: 'accepted', job, meters: s.meters.length, created: s.created });
    const stop = (): void => {
      off();
      ctx.streams.delete(stop);
      out.end();
    };
    const done = (state: JobState | undefined): void => {
      const c = jobs.counts(job);
      send({ type: 'done', job, state, exe: c.EXE, warn: c.WARN, fail: c.FAIL, cancelled: c.cancelled });
      stop();
    };
    const off = scheduler.on((e) => {
      if (e.job !== job) return;
      if (e.type === 'result') send({ type: e.final ? 'result' : 'attempt', result: e.result });
      else done(e.state);
    });
    ctx.streams.add(stop);
    reply.raw.on('close', () => {
      if (!out.writableEnded) stop(); // the client left: the job runs on, nobody listens
    });
    const now = jobs.get(job);
    if (now !== undefined && now.state !== 'queued' && now.state !== 'running') done(now.state);
    return reply.type('application/x-ndjson').send(out);
  });

  app.post('/api/v1/plan', { config: { role: 'operator' }, schema: { body: JobBody } }, async (req, reply) => {
    const s = scheduler.submit({ ...(req.body as object), kind: 'plan' }, source(req.user?.name));
    return reply.code(s.created ? 202 : 200).send({ job: s.job.id, meters: s.meters.length, created: s.created });
  });

  app.get('/api/v1/jobs', { config: { role: 'viewer' }, schema: { querystring: Type.Object({ state: Type.Optional(Type.Union(JOB_STATES.map((s) => Type.Literal(s)))), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }) }, { additionalProperties: false }) } }, (req) => {
    const q = req.query as { state?: JobState; limit: number };
    return { jobs: jobs.list({ ...(q.state === undefined ? {} : { state: q.state }), limit: q.limit }).map((j) => ({ ...j, counts: jobs.counts(j.id) })) };
  });

  app.get('/api/v1/jobs/:id', { config: { role: 'viewer' }, schema: { params: JobParams } }, (req) => {
    const { id } = req.params as { id: string };
    const job = jobs.get(id);
    if (job === undefined) throw notFound(`no job ${id} (GET /api/v1/jobs lists them)`);
    return { ...job, counts: jobs.counts(id), meters: jobs.meters(id) };
  });

  app.post('/api/v1/jobs/:id/cancel', { config: { role: 'operator' }, schema: { params: JobParams } }, (req) => {
    const { id } = req.params as { id: string };
    const r = scheduler.cancel(id);
    if (!r.found) throw notFound(`no job ${id} (GET /api/v1/jobs lists them)`);
    return { job: id, state: r.state };
  });
}
