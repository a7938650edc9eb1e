/**
 * Firmware campaigns over the API: a campaign's state (viewer), the same answer as the HES
 * `fw-campaign-status` command and `dcu firmware campaign status` on the box, so
 * `dcu --host … firmware campaign status ID [--watch]` works from a laptop.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context';
import { hesCommand } from './meters';

const CampaignParams = Type.Object({ campaign: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'campaign id' }) }, { additionalProperties: false });

export function firmwareRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/firmware/campaigns/:campaign', { config: { role: 'viewer' }, schema: { params: CampaignParams } }, (req) => hesCommand(ctx, 'fw-campaign-status', req.params as object).status);
}
