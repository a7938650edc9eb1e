/**
 * Reads now, plans and jobs. `POST /api/v1/read` answers NDJSON as the job runs — the same
 * lines as the local socket: accepted, attempt (a failed try, retried), result (per meter),
 * done. Plans are accepted with their job id (or, with `?follow=true`, streamed like a read);
 * jobs are listed, shown and cancelled.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { JobState } from '../../../storage/jobs';
import { JobRequestSchema } from '../../jobs/request';
import { notFound, type ApiContext } from '../context';
import { ndjson, streamJob } from '../stream';

const JOB_STATES = ['queued', 'running', 'done', 'cancelled', 'expired'] as const;
const JobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' }) }, { additionalProperties: false });
const requestProps = Object.fromEntries(Object.entries(JobRequestSchema.properties).filter(([k]) => k !== 'kind'));
export const JobBody = Type.Object(requestProps, { additionalProperties: false });
/** `?follow=true`: answer NDJSON like a read, with each meter's result as it comes, until the plan ends. */
const PlanQuery = Type.Object({ follow: Type.Boolean({ default: false }) }, { additionalProperties: false });

export function jobRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { scheduler, jobs } = ctx.deps;
  const source = (name: string | undefined): string => `api:${name ?? '?'}`;

  app.post('/api/v1/read', { config: { role: 'operator' }, schema: { body: JobBody } }, async (req, reply) => {
    const s = scheduler.submit({ ...(req.body as object), kind: 'read' }, source(req.user?.name));
    const out = ndjson(ctx, reply);
    out.send({ type: 'accepted', job: s.job.id, meters: s.meters.length, created: s.created });
    streamJob(ctx, out, s.job.id);
    return out.reply();
  });

  app.post('/api/v1/plan', { config: { role: 'operator' }, schema: { body: JobBody, querystring: PlanQuery } }, async (req, reply) => {
    const s = scheduler.submit({ ...(req.body as object), kind: 'plan' }, source(req.user?.name));
    const accepted = { job: s.job.id, meters: s.meters.length, created: s.created };
    if (!(req.query as { follow: boolean }).follow) return reply.code(s.created ? 202 : 200).send(accepted);
    const out = ndjson(ctx, reply);
    out.send({ type: 'accepted', ...accepted });
    streamJob(ctx, out, s.job.id);
    return out.reply();
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
