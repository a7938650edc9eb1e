/**
 * Firmware images and campaigns in SQLite (migration 011). Every per-meter transition of a
 * campaign is one row update; a meter's final OK/KO is written in the same transaction as its
 * outbox message (stream `results`), so the HES gets each result exactly as stored, even after
 * a crash. Bookkeeping is small and may use the store's reserve.
 */
import { inReserve, write as writeData, type Db } from './db';
import { Outbox } from './outbox';

function write<T>(db: Db, what: string, fn: () => T): T {
  return inReserve(db, () => writeData(db, what, fn));
}

export type ImageState = 'receiving' | 'complete' | 'rejected';

export interface ImageRecord {
  readonly id: string;
  readonly manifest: unknown;
  readonly size: number;
  readonly sha256: string;
  readonly chunks: number;
  readonly state: ImageState;
  /** Path relative to the state directory, once complete. */
  readonly file: string | null;
  readonly reason: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export const CAMPAIGN_METER_STATES = ['queued', 'transferring', 'verifying', 'ready', 'activating', 'confirming', 'OK', 'KO'] as const;
export type CampaignMeterState = (typeof CAMPAIGN_METER_STATES)[number];
export const KO_REASONS = ['unreachable', 'not-commissioned', 'refused', 'verify-failed', 'activation-failed', 'version-unchanged', 'deadline-passed', 'cancelled'] as const;
export type KoReason = (typeof KO_REASONS)[number];
export type CampaignState = 'running' | 'done' | 'cancelled';

export interface CampaignRecord {
  readonly id: string;
  readonly image: string;
  readonly source: string;
  readonly request: unknown;
  readonly state: CampaignState;
  readonly deadline: number;
  readonly createdAt: number;
  readonly finishedAt: number | null;
}

export interface CampaignMeterRecord {
  readonly campaign: string;
  readonly meter: string;
  readonly state: CampaignMeterState;
  readonly blocksDone: number;
  readonly blocksTotal: number;
  readonly attempts: number;
  readonly nextAt: number;
  readonly reason: KoReason | null;
  readonly detail: string | null;
  readonly updatedAt: number;
  /** Image payload sent in image_block_transfer, re-sent blocks included (migration 013). */
  readonly imageBytesSent: number;
  /** Every byte of this meter's firmware sessions, dcu → meter and meter → dcu. */
  readonly lineBytesSent: number;
  readonly lineBytesReceived: number;
}

/** Bytes counted since the last write, added to the meter's totals in the same transaction as the progress. */
export interface ByteCounts {
  readonly image: number;
  readonly sent: number;
  readonly received: number;
}

export type CampaignMeterPatch = Partial<Pick<CampaignMeterRecord, 'state' | 'blocksDone' | 'blocksTotal' | 'attempts' | 'nextAt' | 'reason' | 'detail'>> & { readonly addBytes?: ByteCounts };

type ImageRow = { id: string; manifest: string; size: number; sha256: string; chunks: number; state: string; file: string | null; reason: string | null; created_at: number; updated_at: number };
type CampaignRow = { id: string; image: string; source: string; request: string; state: string; deadline: number; created_at: number; finished_at: number | null };
type MeterRow = {
  campaign: string;
  meter: string;
  state: string;
  blocks_done: number;
  blocks_total: number;
  attempts: number;
  next_at: number;
  reason: string | null;
  detail: string | null;
  updated_at: number;
  image_bytes_sent: number;
  line_bytes_sent: number;
  line_bytes_received: number;
};

const image = (r: ImageRow): ImageRecord => ({
  id: r.id,
  manifest: JSON.parse(r.manifest) as unknown,
  size: r.size,
  sha256: r.sha256,
  chunks: r.chunks,
  state: r.state as ImageState,
  file: r.file,
  reason: r.reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const campaign = (r: CampaignRow): CampaignRecord => ({
  id: r.id,
  image: r.image,
  source: r.source,
  request: JSON.parse(r.request) as unknown,
  state: r.state as CampaignState,
  deadline: r.deadline,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});
const meterRow = (r: MeterRow): CampaignMeterRecord => ({
  campaign: r.campaign,
  meter: r.meter,
  state: r.state as CampaignMeterState,
  blocksDone: r.blocks_done,
  blocksTotal: r.blocks_total,
  attempts: r.attempts,
  nextAt: r.next_at,
  reason: r.reason as KoReason | null,
  detail: r.detail,
  updatedAt: r.updated_at,
  imageBytesSent: r.image_bytes_sent,
  lineBytesSent: r.line_bytes_sent,
  lineBytesReceived: r.line_bytes_received,
});

const FINAL = "('OK', 'KO')";

export class FirmwareStore {
  private readonly outbox: Outbox;

  constructor(private readonly db: Db) {
    this.outbox = new Outbox(db);
  }

  // ---------------------------------------------------------------- images

  /** A new image (state receiving); an existing id is replaced only when it was rejected. */
  putImage(r: { id: string; manifest: unknown; size: number; sha256: string; chunks: number }, now: number): ImageRecord {
    write(this.db, `image ${r.id}`, () => {
      this.db.prepare("DELETE FROM fw_images WHERE id = ? AND state = 'rejected'").run(r.id);
      this.db
        .prepare("INSERT OR IGNORE INTO fw_images (id, manifest, size, sha256, chunks, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'receiving', ?, ?)")
        .run(r.id, JSON.stringify(r.manifest), r.size, r.sha256, r.chunks, now, now);
    });
    return this.image(r.id) as ImageRecord;
  }

  image(id: string): ImageRecord | undefined {
    const r = this.db.prepare<[string], ImageRow>('SELECT * FROM fw_images WHERE id = ?').get(id);
    return r === undefined ? undefined : image(r);
  }

  images(): ImageRecord[] {
    return this.db.prepare<[], ImageRow>('SELECT * FROM fw_images ORDER BY created_at, id').all().map(image);
  }

  putChunk(id: string, n: number, bytes: Uint8Array): void {
    write(this.db, `image ${id} chunk ${n}`, () => {
      this.db.prepare('INSERT OR REPLACE INTO fw_image_chunks (image, n, bytes) VALUES (?, ?, ?)').run(id, n, Buffer.from(bytes));
    });
  }

  /** The bytes of chunk n, when received. */
  chunk(id: string, n: number): Buffer | undefined {
    return this.db.prepare<[string, number], { bytes: Buffer }>('SELECT bytes FROM fw_image_chunks WHERE image = ? AND n = ?').get(id, n)?.bytes;
  }

  chunkNumbers(id: string): number[] {
    return this.db.prepare<[string], { n: number }>('SELECT n FROM fw_image_chunks WHERE image = ? ORDER BY n').all(id).map((r) => r.n);
  }

  chunkBytes(id: string): Buffer[] {
    return this.db.prepare<[string], { bytes: Buffer }>('SELECT bytes FROM fw_image_chunks WHERE image = ? ORDER BY n').all(id).map((r) => r.bytes);
  }

  /** Complete (file written) or rejected: the chunks are not needed any more. */
  settleImage(id: string, outcome: { state: 'complete'; file: string } | { state: 'rejected'; reason: string }, now: number): void {
    write(this.db, `image ${id}`, () => {
      this.db
        .prepare('UPDATE fw_images SET state = ?, file = ?, reason = ?, updated_at = ? WHERE id = ?')
        .run(outcome.state, outcome.state === 'complete' ? outcome.file : null, outcome.state === 'rejected' ? outcome.reason : null, now, id);
      this.db.prepare('DELETE FROM fw_image_chunks WHERE image = ?').run(id);
    });
  }

  // ---------------------------------------------------------------- campaigns

  /** Creates a campaign with its meters (all queued); an existing id is returned unchanged. */
  createCampaign(c: Omit<CampaignRecord, 'state' | 'finishedAt' | 'createdAt'>, meters: readonly string[], now: number): { campaign: CampaignRecord; created: boolean } {
    const created = write(this.db, `campaign ${c.id}`, () => {
      const ins = this.db
        .prepare("INSERT OR IGNORE INTO fw_campaigns (id, image, source, request, state, deadline, created_at) VALUES (?, ?, ?, ?, 'running', ?, ?)")
        .run(c.id, c.image, c.source, JSON.stringify(c.request), c.deadline, now);
      if (ins.changes === 0) return false;
      const m = this.db.prepare("INSERT INTO fw_campaign_meters (campaign, meter, state, next_at, updated_at) VALUES (?, ?, 'queued', ?, ?)");
      for (const s of meters) m.run(c.id, s, now, now);
      return true;
    });
    return { campaign: this.campaign(c.id) as CampaignRecord, created };
  }

  campaign(id: string): CampaignRecord | undefined {
    const r = this.db.prepare<[string], CampaignRow>('SELECT * FROM fw_campaigns WHERE id = ?').get(id);
    return r === undefined ? undefined : campaign(r);
  }

  campaigns(): CampaignRecord[] {
    return this.db.prepare<[], CampaignRow>('SELECT * FROM fw_campaigns ORDER BY created_at, id').all().map(campaign);
  }

  meters(id: string): CampaignMeterRecord[] {
    return this.db.prepare<[string], MeterRow>('SELECT * FROM fw_campaign_meters WHERE campaign = ? ORDER BY meter').all(id).map(meterRow);
  }

  meter(id: string, meter: string): CampaignMeterRecord | undefined {
    const r = this.db.prepare<[string, string], MeterRow>('SELECT * FROM fw_campaign_meters WHERE campaign = ? AND meter = ?').get(id, meter);
    return r === undefined ? undefined : meterRow(r);
  }

  /** Meters of running campaigns not final, due at `now`: higher campaign priority first, then the oldest. */
  due(now: number): CampaignMeterRecord[] {
    return this.db
      .prepare<[number], MeterRow>(
        `SELECT m.* FROM fw_campaign_meters m JOIN fw_campaigns c ON c.id = m.campaign
         WHERE c.state = 'running' AND m.state NOT IN ${FINAL} AND m.next_at <= ?
         ORDER BY coalesce(json_extract(c.request, '$.priority'), 5) DESC, c.created_at, m.next_at, m.meter`,
      )
      .all(now)
      .map(meterRow);
  }

  nextDueAfter(now: number): number | undefined {
    const r = this.db
      .prepare<[number], { t: number | null }>(`SELECT min(m.next_at) AS t FROM fw_campaign_meters m JOIN fw_campaigns c ON c.id = m.campaign WHERE c.state = 'running' AND m.state NOT IN ${FINAL} AND m.next_at > ?`)
      .get(now);
    return r?.t ?? undefined;
  }

  update(id: string, meter: string, p: CampaignMeterPatch, now: number, message?: { payload: unknown }): void {
    write(this.db, `campaign ${id} meter ${meter}`, () => {
      const sets: string[] = [];
      const args: (string | number | null)[] = [];
      const col = { state: 'state', blocksDone: 'blocks_done', blocksTotal: 'blocks_total', attempts: 'attempts', nextAt: 'next_at', reason: 'reason', detail: 'detail' } as const;
      for (const [k, c] of Object.entries(col) as [keyof typeof col, string][]) {
        const v = p[k];
        if (v === undefined) continue;
        sets.push(`${c} = ?`);
        args.push(v);
      }
      const b = p.addBytes;
      if (b !== undefined) {
        sets.push('image_bytes_sent = image_bytes_sent + ?', 'line_bytes_sent = line_bytes_sent + ?', 'line_bytes_received = line_bytes_received + ?');
        args.push(b.image, b.sent, b.received);
      }
      sets.push('updated_at = ?');
      args.push(now);
      this.db.prepare(`UPDATE fw_campaign_meters SET ${sets.join(', ')} WHERE campaign = ? AND meter = ?`).run(...args, id, meter);
      if (message !== undefined) this.outbox.append('results', message.payload, now);
    });
  }

  /** Ends a campaign (done or cancelled) with its closing message, once. */
  finishCampaign(id: string, state: 'done' | 'cancelled', now: number, payloads: readonly unknown[]): boolean {
    return write(this.db, `campaign ${id}`, () => {
      const r = this.db.prepare("UPDATE fw_campaigns SET state = ?, finished_at = ? WHERE id = ? AND state = 'running'").run(state, now, id);
      if (r.changes === 0) return false;
      for (const p of payloads) this.outbox.append('results', p, now);
      return true;
    });
  }

  /** Puts a campaign's KO meters back in the queue (and the campaign back to running). */
  retry(id: string, deadline: number, now: number): number {
    return write(this.db, `campaign ${id}`, () => {
      const r = this.db
        .prepare("UPDATE fw_campaign_meters SET state = 'queued', attempts = 0, next_at = ?, reason = NULL, updated_at = ? WHERE campaign = ? AND state = 'KO'")
        .run(now, now, id);
      if (r.changes > 0) this.db.prepare("UPDATE fw_campaigns SET state = 'running', finished_at = NULL, deadline = max(deadline, ?) WHERE id = ?").run(deadline, id);
      return r.changes;
    });
  }

  /** Ends every meter of a campaign not final yet as KO (deadline passed, cancelled), keeping the last detail. */
  closeOpen(id: string, reason: KoReason, now: number, except: readonly string[] = []): number {
    return write(this.db, `campaign ${id}`, () => {
      let n = 0;
      const upd = this.db.prepare("UPDATE fw_campaign_meters SET state = 'KO', reason = ?, updated_at = ? WHERE campaign = ? AND meter = ?");
      for (const m of this.meters(id)) {
        if (m.state === 'OK' || m.state === 'KO' || except.includes(m.meter)) continue;
        n += upd.run(reason, now, id, m.meter).changes;
      }
      return n;
    });
  }

  /** Meters not final of a campaign. */
  openMeters(id: string): number {
    return (this.db.prepare<[string], { n: number }>(`SELECT count(*) AS n FROM fw_campaign_meters WHERE campaign = ? AND state NOT IN ${FINAL}`).get(id) as { n: number }).n;
  }
}
