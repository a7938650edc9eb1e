/**
 * Firmware images over the API (admin): `POST /api/v1/firmware/images` takes the image's
 * bytes as the body (`Content-Type: application/octet-stream`, up to MAX_IMAGE_BYTES) and its
 * manifest as JSON in the `Dcu-Manifest` header, base64url-encoded; the answer is the image's
 * status, as `dcu firmware upload` on the box gets it. The same ImageLibrary.upload checks
 * (size, SHA-256, signature policy) decide; a rejected image leaves nothing behind. The token
 * and role are checked before a byte of the body is read.
 *
 * Firmware campaigns over the API: a campaign's state (viewer), the same answer as the HES
 * `fw-campaign-status` command and `dcu firmware campaign status` on the box, so
 * `dcu --host … firmware campaign status ID [--watch]` works from a laptop. The images and
 * campaigns lists (viewer), create (admin, 201; the fw-campaign-create body) and
 * cancel / retry / activate (admin) run the same firmware commands as the HES and the local
 * socket (runFirmwareCommand), with the same body schemas; an unknown image or campaign is 404.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { FIRMWARE_COMMAND_BODIES, runFirmwareCommand, type Firmware, type FirmwareCommand } from '../../firmware/commands';
import { MAX_IMAGE_BYTES } from '../../firmware/images';
import { parseCampaignRequest } from '../../firmware/request';
import { notFound, type ApiContext } from '../context';
import { hesCommand } from './meters';

export const MANIFEST_HEADER = 'dcu-manifest';

const CampaignParams = Type.Object({ campaign: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'campaign id' }) }, { additionalProperties: false });
const CreateBody = Type.Object(FIRMWARE_COMMAND_BODIES['fw-campaign-create'].props, { additionalProperties: false, description: FIRMWARE_COMMAND_BODIES['fw-campaign-create'].description });
type Doc = Record<string, unknown>;

/** The answer of a firmware command without its envelope (`type`), as the API sends it. */
const bare = (a: Doc): Doc => Object.fromEntries(Object.entries(a).filter(([k]) => k !== 'type' && k !== 'command'));

function manifestOf(req: FastifyRequest): unknown {
  const raw = req.headers[MANIFEST_HEADER];
  if (typeof raw !== 'string' || raw === '') throw new DcuError(ErrorCode.Usage, `the ${MANIFEST_HEADER} header is missing: send the manifest as base64url JSON there (dcu firmware upload --host does)`);
  try {
    return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw new DcuError(ErrorCode.InvalidJson, `the ${MANIFEST_HEADER} header is not base64url-encoded JSON; encode the manifest file with base64url`);
  }
}

export function firmwareRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const firmware = ctx.deps.firmware;
  // its own plugin: only this route takes a raw body, every other one stays JSON-only (415)
  void app.register((scope: FastifyInstance, _opts: object, done: (err?: Error) => void) => {
    scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MAX_IMAGE_BYTES }, (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: Buffer) => void) => done(null, body));
    scope.post('/api/v1/firmware/images', { config: { role: 'admin' }, bodyLimit: MAX_IMAGE_BYTES }, async (req, reply) => {
      if (firmware === undefined) throw new DcuError(ErrorCode.Usage, 'this daemon has no firmware library', { context: { status: 404 } });
      if (!Buffer.isBuffer(req.body)) throw new DcuError(ErrorCode.Usage, 'send the image bytes with Content-Type: application/octet-stream', { context: { status: 415 } });
      const image = firmware.images.upload(manifestOf(req), req.body);
      ctx.deps.logger.info({ image: image.id, bytes: req.body.length, user: req.user?.name }, 'firmware image uploaded over the API');
      return reply.code(201).send({ type: 'ok', image });
    });
    done();
  });
  const fw = (): Firmware => {
    if (firmware === undefined) throw notFound('this daemon has no firmware library');
    return firmware;
  };
  const needCampaign = (id: string): void => {
    if (!fw().campaigns.list().some((c) => c.id === id)) throw notFound(`no firmware campaign ${id}; GET /api/v1/firmware/campaigns lists them (dcu firmware campaign list)`);
  };
  const run = (cmd: FirmwareCommand, body: Doc, user: string | undefined): Doc => bare(runFirmwareCommand(fw(), cmd, body, `api:${user ?? '?'}`));

  app.get('/api/v1/firmware/images', { config: { role: 'viewer' } }, (req) => run('fw-images', {}, req.user?.name));
  app.get('/api/v1/firmware/campaigns', { config: { role: 'viewer' } }, (req) => run('fw-campaigns', {}, req.user?.name));
  app.post('/api/v1/firmware/campaigns', { config: { role: 'admin' }, schema: { body: CreateBody } }, async (req, reply) => {
    const body = req.body as Doc;
    const image = parseCampaignRequest(body).image; // a bad request is 400 before an unknown image is 404
    if (!fw().images.list().some((i) => i.id === image)) throw notFound(`no image ${image}; upload it first (dcu firmware upload, POST /api/v1/firmware/images)`);
    const a = run('fw-campaign-create', body, req.user?.name);
    ctx.deps.logger.info({ campaign: a.campaign, image, user: req.user?.name }, 'firmware campaign created over the API');
    return reply.code(a.created === false ? 200 : 201).send(a);
  });
  app.get('/api/v1/firmware/campaigns/:campaign', { config: { role: 'viewer' }, schema: { params: CampaignParams } }, (req) => {
    needCampaign((req.params as { campaign: string }).campaign);
    return hesCommand(ctx, 'fw-campaign-status', req.params as object).status;
  });
  for (const action of ['cancel', 'retry', 'activate'] as const) {
    app.post(`/api/v1/firmware/campaigns/:campaign/${action}`, { config: { role: 'admin' }, schema: { params: CampaignParams } }, (req) => {
      const { campaign } = req.params as { campaign: string };
      needCampaign(campaign);
      return run(`fw-campaign-${action}`, { campaign }, req.user?.name);
    });
  }
}
