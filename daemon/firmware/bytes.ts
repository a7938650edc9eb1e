/**
 * What a campaign put on the lines, from the counts the daemon persists per campaign meter
 * (storage/firmware.ts, migration 013): the image payload sent in image_block_transfer
 * (re-sent blocks included) against the image size, and every byte of the meter's firmware
 * sessions both ways. Overhead is the rest: HDLC framing and RR, xDLMS and ciphering headers
 * of each block, associations and releases, status reads and polls, link-level re-sends.
 * The acceptance reads: image bytes sent ≤ 1.1 × image size × meters, per line.
 */
import type { CampaignMeterRecord } from '../../storage/firmware';

export interface CampaignBytes {
  /** Image size (× meters for a line). */
  readonly imageBytes: number;
  /** Image payload sent in image_block_transfer, re-sent blocks included. */
  readonly imageBytesSent: number;
  /** imageBytesSent ÷ imageBytes (goal ≤ 1.1); 0 before anything was sent. */
  readonly ratio: number;
  /** Session bytes dcu → meter and meter → dcu. */
  readonly lineBytesSent: number;
  readonly lineBytesReceived: number;
  /** lineBytesSent + lineBytesReceived − imageBytesSent. */
  readonly overheadBytes: number;
}

export interface LineCampaignBytes {
  readonly line: string;
  readonly meters: number;
  readonly bytes: CampaignBytes;
}

/** The ratio goal of the acceptance: image bytes sent ÷ (image size × meters). */
export const IMAGE_BYTES_GOAL = 1.1;

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

function summary(imageBytes: number, imageBytesSent: number, lineBytesSent: number, lineBytesReceived: number): CampaignBytes {
  return {
    imageBytes,
    imageBytesSent,
    ratio: imageBytes > 0 ? round4(imageBytesSent / imageBytes) : 0,
    lineBytesSent,
    lineBytesReceived,
    overheadBytes: Math.max(0, lineBytesSent + lineBytesReceived - imageBytesSent),
  };
}

export function meterBytes(m: Pick<CampaignMeterRecord, 'imageBytesSent' | 'lineBytesSent' | 'lineBytesReceived'>, imageSize: number): CampaignBytes {
  return summary(imageSize, m.imageBytesSent, m.lineBytesSent, m.lineBytesReceived);
}

/** Per line, in the order lines first appear. */
export function lineBytes(meters: readonly { readonly line: string; readonly bytes: CampaignBytes }[]): LineCampaignBytes[] {
  const by = new Map<string, { meters: number; image: number; sent: number; out: number; in: number }>();
  for (const m of meters) {
    const t = by.get(m.line) ?? { meters: 0, image: 0, sent: 0, out: 0, in: 0 };
    t.meters++;
    t.image += m.bytes.imageBytes;
    t.sent += m.bytes.imageBytesSent;
    t.out += m.bytes.lineBytesSent;
    t.in += m.bytes.lineBytesReceived;
    by.set(m.line, t);
  }
  return [...by].map(([line, t]) => ({ line, meters: t.meters, bytes: summary(t.image, t.sent, t.out, t.in) }));
}
