/**
 * Firmware campaigns at run time: each meter of a running campaign is updated in slices
 * (transfer.ts), one association each, at the `firmware` line priority — between on-demand
 * reads (which preempt it between two blocks) and scheduled collection (which gets the line
 * whenever a slice's share of line time is spent and it waits). Every transition is persisted
 * (storage/firmware.ts), so a restart resumes each meter where it was; the meter keeps its
 * received blocks. Final results (OK, KO with a typed reason) and the campaign's end with its
 * field-work-order list go to the outbox (`results`) with the state change.
 */
import { randomBytes } from 'node:crypto';
import { parseDuration } from '../../config/units';
import type { TimerHandle } from '../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import type { Db } from '../../storage/db';
import type { ByteCounts, CampaignMeterRecord, CampaignMeterState, CampaignRecord, FirmwareStore, KoReason } from '../../storage/firmware';
import type { JobDeps } from '../jobs/deps';
import { inWindows, nextWindowStart, parseWindow } from '../jobs/windows';
import { withMeterSession } from '../meters/session';
import { lineBytes, meterBytes, type CampaignBytes, type LineCampaignBytes } from './bytes';
import { checkCoherence, registerBaseline } from './coherence';
import type { ImageLibrary, Manifest } from './images';
import { CAMPAIGN_DEFAULTS, deadlineOf, parseCampaignRequest, type CampaignRequest } from './request';
import { runSlice, type SliceOutcome } from './transfer';

/** Line time a slice may keep while others wait for the line (collection goes between slices). */
export const SLICE_MS = 60_000;
const IDLE_LOOK_MS = 60_000;
const MAX_RETRY_PAUSE_MS = 12 * 3_600_000;
/** KO reasons a later attempt may fix. */
const RETRYABLE = new Set<KoReason>(['unreachable', 'verify-failed', 'activation-failed']);
/** Reasons a technician on site can act on (field work order). */
const FIELD_WORK = new Set<KoReason>(['unreachable', 'not-commissioned', 'deadline-passed', 'verify-failed', 'activation-failed', 'version-unchanged']);

export interface CampaignDeps extends JobDeps {
  readonly db: Db;
  readonly store: FirmwareStore;
  readonly library: ImageLibrary;
  readonly timeZone?: string;
  readonly random?: () => number;
}

export interface CampaignStatus {
  readonly campaign: string;
  readonly image: string;
  readonly state: CampaignRecord['state'];
  readonly deadline: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly meters: readonly { meter: string; state: CampaignMeterState; progress: number; attempts: number; reason: KoReason | null; detail: string | null; line: string; bytes: CampaignBytes }[];
  readonly fieldWorkOrder: readonly { meter: string; reason: KoReason; detail: string | null }[];
  /** Per line: what the campaign put on it (bytes.ts). */
  readonly lines: readonly LineCampaignBytes[];
}

interface Running {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

export class FirmwareCampaigns {
  private timer: TimerHandle | undefined;
  private readonly running = new Map<string, Running>();
  private readonly slots = new Map<string, number>();
  private readonly images = new Map<string, { manifest: Manifest; bytes: Uint8Array }>();
  private stopping = false;
  private started = false;
  private readonly timeZone: string;
  private readonly random: () => number;

  constructor(private readonly deps: CampaignDeps) {
    this.timeZone = deps.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    this.random = deps.random ?? Math.random;
  }

  start(): void {
    this.started = true;
    this.pump();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.timer?.cancel();
    for (const r of this.running.values()) r.controller.abort();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  /** Validates, checks the image again (size, hash, signature, model), stores and starts. */
  create(doc: unknown, source: string): { campaign: CampaignRecord; created: boolean; meters: readonly string[] } {
    const req = parseCampaignRequest(doc);
    const now = this.deps.clock.now();
    if (req.id !== undefined && this.deps.store.campaign(req.id) !== undefined) {
      return { campaign: this.deps.store.campaign(req.id) as CampaignRecord, created: false, meters: this.deps.store.meters(req.id).map((m) => m.meter) };
    }
    const image = this.deps.library.loadVerified(req.image);
    const meters = this.selectMeters(req);
    if (image.manifest.model !== undefined) {
      const other = meters.filter((s) => {
        const name = this.deps.meters.get(s)?.state.identity.logicalName;
        return name !== undefined && !name.startsWith(image.manifest.model ?? '');
      });
      if (other.length === meters.length) throw new DcuError(ErrorCode.ImageRejected, `image ${req.image} is for model ${image.manifest.model}; none of the ${meters.length} meters is (logical device names ${other.slice(0, 3).map((s) => this.deps.meters.get(s)?.state.identity.logicalName).join(', ')}…): the campaign is not started`);
    }
    const deadline = deadlineOf(req.deadline ?? CAMPAIGN_DEFAULTS.deadline, now);
    if (deadline <= now) throw new DcuError(ErrorCode.Usage, `invalid campaign request: deadline ${new Date(deadline).toISOString()} is not in the future`);
    if (req.activate !== undefined && req.activate !== 'now' && req.activate !== 'manual' && Number.isNaN(Date.parse(req.activate))) throw new DcuError(ErrorCode.Usage, `invalid campaign request: activate "${req.activate}"`);
    const id = req.id ?? `fw-${now.toString(36)}-${randomBytes(3).toString('hex')}`;
    const r = this.deps.store.createCampaign({ id, image: req.image, source, request: { ...req, id }, deadline }, meters, now);
    this.images.set(req.image, image);
    this.deps.logger.info({ campaign: id, image: req.image, meters: meters.length, source }, 'firmware campaign created');
    this.pump();
    return { ...r, meters };
  }

  cancel(id: string): CampaignStatus {
    const c = this.need(id);
    const now = this.deps.clock.now();
    if (c.state === 'running') {
      for (const [key, r] of this.running) if (key.startsWith(`${id}\u0000`)) r.controller.abort();
      this.deps.store.closeOpen(id, 'cancelled', now);
      this.finish(id, 'cancelled');
    }
    return this.status(id);
  }

  /** Every KO meter queued again (attempts from 0), the deadline pushed out by the campaign's duration from now. */
  retry(id: string): { queued: number; status: CampaignStatus } {
    const c = this.need(id);
    const req = c.request as CampaignRequest;
    const now = this.deps.clock.now();
    this.deps.library.loadVerified(c.image);
    const queued = this.deps.store.retry(id, deadlineOf(req.deadline ?? CAMPAIGN_DEFAULTS.deadline, now), now);
    this.pump();
    return { queued, status: this.status(id) };
  }

  /** Manual activation: meters ready (or later) activate at their next slice. */
  activate(id: string): CampaignStatus {
    const c = this.need(id);
    const now = this.deps.clock.now();
    this.deps.db.prepare('UPDATE fw_campaigns SET request = json_set(request, ?, ?) WHERE id = ?').run('$.activate', 'now', id);
    for (const m of this.deps.store.meters(c.id)) if (m.state === 'ready') this.deps.store.update(id, m.meter, { nextAt: now }, now);
    this.pump();
    return this.status(id);
  }

  status(id: string): CampaignStatus {
    const c = this.need(id);
    const meters = this.deps.store.meters(id);
    const counts: Record<string, number> = {};
    for (const m of meters) counts[m.state] = (counts[m.state] ?? 0) + 1;
    const size = this.deps.store.image(c.image)?.size ?? 0;
    const rows = meters.map((m) => ({ meter: m.meter, state: m.state, progress: progressOf(m), attempts: m.attempts, reason: m.reason, detail: m.detail, line: this.deps.meters.get(m.meter)?.line ?? '', bytes: meterBytes(m, size) }));
    return {
      campaign: c.id,
      image: c.image,
      state: c.state,
      deadline: new Date(c.deadline).toISOString(),
      counts,
      meters: rows,
      fieldWorkOrder: fieldWork(meters),
      lines: lineBytes(rows),
    };
  }

  list(): CampaignRecord[] {
    return this.deps.store.campaigns();
  }

  private need(id: string): CampaignRecord {
    const c = this.deps.store.campaign(id);
    if (c === undefined) throw new DcuError(ErrorCode.Usage, `no firmware campaign ${id}; list them with dcu firmware campaign list`);
    return c;
  }

  private selectMeters(req: CampaignRequest): string[] {
    const { meters, lines } = this.deps;
    if (req.meters !== undefined) {
      const unknown = req.meters.filter((m) => meters.get(m) === undefined);
      if (unknown.length > 0) throw new DcuError(ErrorCode.UnknownMeter, `not registered: ${unknown.slice(0, 20).join(', ')}`);
      return [...new Set(req.meters)];
    }
    if (req.lines !== undefined) {
      const missing = req.lines.filter((l) => !lines.has(l));
      if (missing.length > 0) throw new DcuError(ErrorCode.Usage, `unknown line(s): ${missing.join(', ')}; configured: ${[...lines.keys()].join(', ')}`);
    }
    const chosen = meters.list().filter((m) => req.lines === undefined || req.lines.includes(m.line));
    if (chosen.length === 0) throw new DcuError(ErrorCode.Usage, 'no registered meter matches the campaign');
    return chosen.map((m) => m.serial);
  }

  private imageOf(id: string): { manifest: Manifest; bytes: Uint8Array } {
    let i = this.images.get(id);
    if (i === undefined) {
      i = this.deps.library.loadVerified(id);
      this.images.set(id, i);
    }
    return i;
  }

  private finish(id: string, state: 'done' | 'cancelled'): void {
    const now = this.deps.clock.now();
    const meters = this.deps.store.meters(id);
    const work = fieldWork(meters);
    const counts = { ok: meters.filter((m) => m.state === 'OK').length, ko: meters.filter((m) => m.state === 'KO').length };
    const payloads: unknown[] = [{ type: 'fw-campaign-done', campaign: id, state, ...counts, at: now }];
    if (work.length > 0) payloads.push({ type: 'field-work-order', campaign: id, image: this.deps.store.campaign(id)?.image, meters: work, at: now });
    if (this.deps.store.finishCampaign(id, state, now, payloads)) this.deps.logger.info({ campaign: id, state, ...counts, fieldWork: work.length }, 'firmware campaign ended');
  }

  private pump(): void {
    if (this.stopping || !this.started) return;
    const { store, clock } = this.deps;
    const now = clock.now();
    try {
      for (const c of store.campaigns()) {
        if (c.state !== 'running') continue;
        if (c.deadline <= now) {
          const busy = [...this.running.keys()].filter((k) => k.startsWith(`${c.id}\u0000`)).map((k) => k.slice(c.id.length + 1));
          store.closeOpen(c.id, 'deadline-passed', now, busy);
        }
        if (store.openMeters(c.id) === 0) this.finish(c.id, 'done');
      }
      const byCampaign = new Map<string, CampaignRecord>();
      for (const due of store.due(now)) {
        const key = `${due.campaign}\u0000${due.meter}`;
        if (this.running.has(key)) continue;
        const c = byCampaign.get(due.campaign) ?? store.campaign(due.campaign);
        if (c === undefined) continue;
        byCampaign.set(c.id, c);
        const req = c.request as CampaignRequest;
        const windows = (req.window ?? []).map(parseWindow);
        if (!inWindows(now, windows, this.timeZone)) {
          store.update(c.id, due.meter, { nextAt: nextWindowStart(now, windows, this.timeZone) }, now);
          continue;
        }
        const lineName = this.deps.meters.get(due.meter)?.line ?? '';
        const capacity = req.concurrency ?? this.deps.lines.get(lineName)?.arbiter.capacity ?? 1;
        if ((this.slots.get(lineName) ?? 0) >= capacity) continue;
        this.slots.set(lineName, (this.slots.get(lineName) ?? 0) + 1);
        this.launch(key, c, due, () => this.slots.set(lineName, (this.slots.get(lineName) ?? 1) - 1));
      }
    } catch (e) {
      this.deps.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'firmware campaign scheduling failed; retrying in a minute');
    }
    this.timer?.cancel();
    const next = store.nextDueAfter(now);
    const deadlines = store.campaigns().filter((c) => c.state === 'running').map((c) => c.deadline);
    const wait = Math.max(1, Math.min(IDLE_LOOK_MS, (next ?? Infinity) - now, Math.min(...deadlines, Infinity) - now));
    this.timer = clock.setTimer(wait, () => this.pump());
  }

  private launch(key: string, c: CampaignRecord, row: CampaignMeterRecord, freeSlot: () => void): void {
    const controller = new AbortController();
    const done = this.attempt(c, row, controller.signal)
      .catch((e: unknown) => this.deps.logger.error({ campaign: c.id, meter: row.meter, err: e instanceof Error ? e.message : String(e) }, 'firmware slice could not be recorded; it runs again'))
      .finally(() => {
        this.running.delete(key);
        freeSlot();
        this.pump();
      });
    this.running.set(key, { controller, done });
  }

  private async attempt(c: CampaignRecord, row: CampaignMeterRecord, signal: AbortSignal): Promise<void> {
    const { clock, store, lines, meters, logger } = this.deps;
    const req = c.request as CampaignRequest;
    const m = meters.get(row.meter);
    const line = m === undefined ? undefined : lines.get(m.line);
    if (m === undefined || line === undefined) {
      this.conclude(c, row, { kind: 'ko', reason: 'not-commissioned', detail: `meter ${row.meter} is not registered on a configured line any more` });
      return;
    }
    const image = this.imageOf(c.image);
    const log = logger.child({ meter: row.meter, line: line.name, campaign: c.id });
    let lease;
    try {
      lease = await line.arbiter.acquire(`${row.meter} firmware`, 'firmware', signal);
    } catch {
      return; // stopping or cancelled while waiting: the row stays as it was
    }
    const windows = (req.window ?? []).map(parseWindow);
    let state = row.state;
    let blocksDone = row.blocksDone;
    let blocksTotal = row.blocksTotal;
    let lastSaved = row.state;
    // Bytes since the last write: they go into the store with the progress they belong to.
    const counted = { image: 0, sent: 0, received: 0 };
    const take = (): ByteCounts => {
      const b = { ...counted };
      counted.image = counted.sent = counted.received = 0;
      return b;
    };
    let outcome;
    try {
      const sliceStart = clock.now();
      const keepGoing = (): boolean => {
        const now = clock.now();
        if (signal.aborted || this.stopping || lease.preempted || now >= c.deadline) return false;
        if (!inWindows(now, windows, this.timeZone)) return false;
        return !(line.arbiter.queued > 0 && now - sliceStart >= SLICE_MS);
      };
      const activateAt = req.activate === undefined || req.activate === 'now' ? 0 : req.activate === 'manual' ? Infinity : Date.parse(req.activate);
      outcome = await withMeterSession(m, line, this.deps, log, async (client, identity) => {
        const out = await runSlice(client, {
          state: row.state,
          manifest: image.manifest,
          image: image.bytes,
          identity: { firmware: identity.firmwareId, model: identity.logicalName },
          activate: clock.now() >= activateAt,
          keepGoing,
          onProgress: (s, done, total) => {
            // Cancelled meters are KO already; at a stop the meter itself keeps its blocks.
            if (signal.aborted) return;
            state = s;
            if (done >= 0) blocksDone = done;
            if (total >= 0) blocksTotal = total;
            const changed = s !== lastSaved;
            lastSaved = s;
            store.update(c.id, row.meter, { state: s, blocksDone, blocksTotal, addBytes: take() }, clock.now(), changed ? { payload: progressMessage(c.id, row.meter, s, blocksDone, blocksTotal, clock.now()) } : undefined);
          },
          onBlockSent: (n) => {
            counted.image += n;
          },
          ...(row.state === 'queued' ? { beforeTransfer: () => registerBaseline(client, this.deps.readings, row.meter, clock.now()) } : {}),
        });
        const warnings = out.kind === 'ok' && out.transferred ? await checkCoherence(client, { db: this.deps.db, readings: this.deps.readings, meter: row.meter, now: clock.now(), since: c.createdAt }).catch((e: unknown) => [`coherence not checked: ${(e as Error).message}`]) : [];
        return { out, warnings };
      }, (sent, received) => {
        counted.sent += sent;
        counted.received += received;
      });
    } finally {
      lease.release();
    }
    const now = clock.now();
    const fresh = { ...row, state, blocksDone, blocksTotal };
    const addBytes = take();
    if (signal.aborted) {
      // Cancelled (the meter is KO cancelled) or stopping (resumes after the start): only the bytes are kept.
      if (addBytes.sent + addBytes.received > 0) store.update(c.id, row.meter, { addBytes }, now);
      return;
    }
    if (!outcome.ok) {
      const reason: KoReason = outcome.code === ErrorCode.MeterIdentityMismatch || (outcome.code !== undefined && outcome.code >= 300 && outcome.code < 400) ? 'not-commissioned' : 'unreachable';
      this.conclude(c, fresh, { kind: 'ko', reason, detail: outcome.reason }, [], addBytes);
      return;
    }
    const { out, warnings } = outcome.value;
    if (out.kind === 'paused') {
      store.update(c.id, row.meter, { nextAt: now, addBytes }, now);
    } else if (out.kind === 'pending') {
      store.update(c.id, row.meter, { state: out.state, nextAt: now + (parseDuration(req.pollInterval ?? CAMPAIGN_DEFAULTS.pollInterval) ?? 60_000), addBytes }, now);
    } else if (out.kind === 'ready') {
      const at = req.activate === undefined || req.activate === 'manual' ? c.deadline : Date.parse(req.activate);
      store.update(c.id, row.meter, { state: 'ready', nextAt: Math.min(c.deadline, Math.max(now, at)), addBytes }, now);
    } else {
      this.conclude(c, fresh, out, warnings, addBytes);
    }
  }

  /** OK, or KO: retried later when a retry may help and there are retries left, final otherwise. */
  private conclude(c: CampaignRecord, row: CampaignMeterRecord, out: Extract<SliceOutcome, { kind: 'ok' | 'ko' }>, warnings: readonly string[] = [], addBytes?: ByteCounts): void {
    const { store, clock, logger } = this.deps;
    const now = clock.now();
    const req = c.request as CampaignRequest;
    if (out.kind === 'ok') {
      // The attempt that succeeded counts too: the status shows what the message says.
      const attempts = row.attempts + 1;
      const payload = { type: 'fw-meter-result', campaign: c.id, meter: row.meter, status: 'OK', firmware: out.firmware, transferred: out.transferred, ...(warnings.length > 0 ? { warn: warnings } : {}), attempts, at: now };
      store.update(c.id, row.meter, { state: 'OK', attempts, blocksDone: row.blocksTotal, reason: null, detail: warnings.length > 0 ? `WARN: ${warnings.join('; ')}` : null, ...(addBytes === undefined ? {} : { addBytes }) }, now, { payload });
      logger.info({ campaign: c.id, meter: row.meter, firmware: out.firmware, warnings }, 'firmware update confirmed');
      return;
    }
    const attempts = row.attempts + 1;
    const retries = req.retries ?? CAMPAIGN_DEFAULTS.retries;
    if (RETRYABLE.has(out.reason) && attempts <= retries) {
      const base = parseDuration(req.retryInterval ?? CAMPAIGN_DEFAULTS.retryInterval) ?? 1_800_000;
      const pause = Math.min(MAX_RETRY_PAUSE_MS, base * 2 ** (attempts - 1)) * (0.8 + 0.4 * this.random());
      const at = now + Math.round(pause);
      if (at < c.deadline) {
        // A meter that failed verification starts its transfer again; one unreachable resumes.
        const state = out.reason === 'unreachable' ? row.state : 'queued';
        store.update(c.id, row.meter, { state, attempts, nextAt: at, detail: `${out.reason}: ${out.detail}`, ...(addBytes === undefined ? {} : { addBytes }) }, now);
        logger.info({ campaign: c.id, meter: row.meter, attempts, reason: out.reason, next: new Date(at).toISOString() }, 'firmware attempt failed: retried later');
        return;
      }
    }
    const payload = { type: 'fw-meter-result', campaign: c.id, meter: row.meter, status: 'KO', reason: out.reason, detail: out.detail, attempts, at: now };
    store.update(c.id, row.meter, { state: 'KO', attempts, reason: out.reason, detail: out.detail, ...(addBytes === undefined ? {} : { addBytes }) }, now, { payload });
    logger.warn({ campaign: c.id, meter: row.meter, reason: out.reason, detail: out.detail }, 'firmware update KO');
  }
}

function progressOf(m: CampaignMeterRecord): number {
  if (m.state === 'OK') return 100;
  return m.blocksTotal > 0 ? Math.floor((100 * m.blocksDone) / m.blocksTotal) : 0;
}

function progressMessage(campaign: string, meter: string, state: CampaignMeterState, done: number, total: number, at: number): unknown {
  return { type: 'fw-meter-progress', campaign, meter, state, progress: total > 0 ? Math.floor((100 * done) / total) : 0, at };
}

function fieldWork(meters: readonly CampaignMeterRecord[]): { meter: string; reason: KoReason; detail: string | null }[] {
  return meters.filter((m) => m.state === 'KO' && m.reason !== null && FIELD_WORK.has(m.reason)).map((m) => ({ meter: m.meter, reason: m.reason as KoReason, detail: m.detail }));
}
