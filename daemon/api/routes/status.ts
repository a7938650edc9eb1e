/**
 * Status (the health snapshot, the uplink's state and the TLS fingerprint) and `/metrics`.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context';
import { createMetrics } from '../metrics';

export function statusRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const metrics = createMetrics(ctx.deps);
  app.addHook('onClose', (_app, done) => {
    metrics.stop();
    done();
  });
  app.get('/api/v1/status', { config: { role: 'viewer' } }, () => {
    const uplink = ctx.deps.uplink?.health();
    return { ...ctx.deps.health(), ...(uplink === undefined ? {} : { mqtt: uplink }), tls: { fingerprint: ctx.fingerprint ?? null } };
  });
  app.get('/metrics', { config: { role: 'viewer' } }, async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}
