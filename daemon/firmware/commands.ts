/**
 * Firmware commands, one code path for every transport (HES over MQTT, the local socket,
 * later the HTTP API): each takes the validated body and returns the answer document.
 */
import { Type } from '@sinclair/typebox';
import { readRegularFileOrThrow } from '../../config/regular-file';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import type { FirmwareCampaigns } from './campaigns';
import { ManifestSchema, MAX_IMAGE_BYTES, type ImageLibrary } from './images';
import { CampaignRequestSchema } from './request';

export interface Firmware {
  readonly images: ImageLibrary;
  readonly campaigns: FirmwareCampaigns;
}

const ImageId = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' });
const CampaignId = Type.Object({ campaign: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }) });

/** Bodies of the firmware commands (HES COMMAND_SCHEMAS adds the envelope). */
export const FIRMWARE_COMMAND_BODIES = {
  'fw-image': {
    props: {
      manifest: Type.Optional(ManifestSchema),
      image: Type.Optional(ImageId),
      chunk: Type.Optional(Type.Integer({ minimum: 0, description: 'chunk number, from 0' })),
      data: Type.Optional(Type.String({ maxLength: 60_000, description: 'the chunk, base64' })),
    },
    description: 'firmware image intake: the manifest first, then numbered base64 chunks ({image, chunk, data}); every answer gives the image state and the chunks still missing (resumable); {image} alone asks for the state',
  },
  'fw-campaign-create': { props: CampaignRequestSchema.properties, description: 'a firmware update campaign: accepted with its id once the image verifies; per-meter results on data/results' },
  'fw-campaign-status': { props: CampaignId.properties, description: "a campaign's state: counts, each meter's state and progress, the field-work-order list" },
  'fw-campaign-cancel': { props: CampaignId.properties, description: 'cancel a campaign (meters not done end KO cancelled)' },
  'fw-campaign-retry': { props: CampaignId.properties, description: 'queue the KO meters of a campaign again' },
  'fw-campaign-activate': { props: CampaignId.properties, description: 'activate now the meters of a campaign created with activate manual' },
} as const;

export type FirmwareCommand = keyof typeof FIRMWARE_COMMAND_BODIES | 'fw-images' | 'fw-upload' | 'fw-campaigns';

export function isFirmwareCommand(name: unknown): name is FirmwareCommand {
  return typeof name === 'string' && (name in FIRMWARE_COMMAND_BODIES || name === 'fw-images' || name === 'fw-upload' || name === 'fw-campaigns');
}

export function runFirmwareCommand(fw: Firmware, cmd: FirmwareCommand, body: Record<string, unknown>, source: string): Record<string, unknown> {
  const campaign = typeof body.campaign === 'string' ? body.campaign : '';
  switch (cmd) {
    case 'fw-image': {
      if (body.manifest !== undefined) return { type: 'ok', image: fw.images.manifest(body.manifest) };
      if (typeof body.image !== 'string') throw new DcuError(ErrorCode.Usage, 'fw-image needs "manifest", or "image" (with "chunk" and "data" for a chunk)');
      if (body.chunk === undefined) return { type: 'ok', image: fw.images.status(body.image) };
      if (typeof body.chunk !== 'number' || typeof body.data !== 'string') throw new DcuError(ErrorCode.Usage, 'a chunk needs "chunk" (number) and "data" (base64)');
      return { type: 'ok', image: fw.images.chunk(body.image, body.chunk, body.data) };
    }
    case 'fw-images':
      return { type: 'ok', images: fw.images.list() };
    case 'fw-upload': {
      if (typeof body.file !== 'string') throw new DcuError(ErrorCode.Usage, 'fw-upload needs "file": the image path on this box');
      // the box's own CLI over the Unix socket only (no remote command names a file): still a
      // regular file within the image limit, so a FIFO or /dev/zero named by mistake cannot hang dcud
      const bytes = readRegularFileOrThrow(body.file, MAX_IMAGE_BYTES, 'firmware image', (problem) => new DcuError(ErrorCode.Usage, `the image ${body.file as string} ${problem}; the daemon reads the file itself, so it must be readable by dcud`));
      return { type: 'ok', image: fw.images.upload(body.manifest, bytes) };
    }
    case 'fw-campaign-create': {
      const r = fw.campaigns.create(body, source);
      return { type: 'accepted', campaign: r.campaign.id, meters: r.meters.length, created: r.created };
    }
    case 'fw-campaigns':
      return { type: 'ok', campaigns: fw.campaigns.list().map((c) => ({ campaign: c.id, image: c.image, state: c.state, deadline: new Date(c.deadline).toISOString(), createdAt: new Date(c.createdAt).toISOString() })) };
    case 'fw-campaign-status':
      return { type: 'ok', status: fw.campaigns.status(campaign) };
    case 'fw-campaign-cancel':
      return { type: 'ok', status: fw.campaigns.cancel(campaign) };
    case 'fw-campaign-retry': {
      const r = fw.campaigns.retry(campaign);
      return { type: 'ok', queued: r.queued, status: r.status };
    }
    case 'fw-campaign-activate':
      return { type: 'ok', status: fw.campaigns.activate(campaign) };
  }
}
