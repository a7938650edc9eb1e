/**
 * The daemon's recent log lines (operator): `GET /api/v1/logs?since=ISO&level=warn&limit=200`
 * answers NDJSON, one pino line per line (keys and tokens scrubbed, see daemon/log-ring.ts);
 * with `follow=true` the answer stays open and carries each new line until the client leaves.
 * Operator, not viewer: the lines name meters, addresses, users and failure details of the
 * box — what a technician needs to diagnose it, more than a data reader needs to see.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { LOG_LEVELS, LogRing, type LogLevelName } from '../../log-ring';
import type { ApiContext } from '../context';
import { ndjson } from '../stream';

export const LogsQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ minLength: 10, maxLength: 40, description: 'only lines at or after this ISO date-time' })),
    level: Type.Optional(Type.Union(Object.keys(LOG_LEVELS).map((l) => Type.Literal(l)), { description: 'least level' })),
    limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 200, description: 'the newest lines that match' }),
    follow: Type.Boolean({ default: false, description: 'stay and send new lines as they are written' }),
  },
  { additionalProperties: false },
);

export function logRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const ring = ctx.deps.logs ?? new LogRing();
  app.get('/api/v1/logs', { config: { role: 'operator' }, schema: { querystring: LogsQuery } }, async (req, reply) => {
    const q = req.query as { since?: string; level?: LogLevelName; limit: number; follow: boolean };
    const since = q.since === undefined ? undefined : Date.parse(q.since);
    if (since !== undefined && Number.isNaN(since)) throw new DcuError(ErrorCode.Usage, `since: "${q.since ?? ''}" is not an ISO date-time (e.g. 2026-12-01T10:00:00Z)`);
    const out = ndjson(ctx, reply);
    for (const line of ring.query({ ...(since === undefined ? {} : { since }), ...(q.level === undefined ? {} : { level: q.level }), limit: q.limit })) out.send(line);
    if (q.follow) out.onEnd(ring.follow(q.level, (line) => out.send(line)));
    else out.end();
    return out.reply();
  });
}
