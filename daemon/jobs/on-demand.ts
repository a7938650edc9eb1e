/**
 * One meter's part of a read job (on-demand or a mass plan): take the line at the job's
 * priority (a running collection yields after its request in flight), run one association,
 * execute the commands and answer EXE (ok), WARN (ok with observations) or FAIL (with the
 * reason). Profiles asked for are collected from their watermark and stored like scheduled
 * ones; registers are stored; any `CLASS:OBIS:ATTR` attribute is read (one get-with-list)
 * and returned in the data notation. The scheduler stores the result (job_meters + outbox).
 */
import { parseDuration } from '../../config/units';
import { dataToJson, type DataJson } from '../../protocol/axdr/json';
import type { DlmsClient } from '../../protocol/client/client';
import { setClockNow } from '../../protocol/client/clock-set';
import { readClock } from '../../protocol/client/reads';
import { dataAccessResultName } from '../../protocol/apdu/results';
import { DcuError, ErrorCode, isDcuError } from '../../protocol/common/errors';
import { formatRef, parseAttributeRef } from '../../protocol/cosem/classes';
import type { PriorityClass } from '../lines/arbiter';
import { failure, withMeterSession } from '../meters/session';
import type { JobDeps } from './deps';
import { readEnergyRegisters, type ReadStatus, type RegisterValue } from './basic-read';
import { collectProfile } from './collect-profile';
import { PROFILE_CLASSES, type ProfileClass } from './profile-classes';
import { isReadWhat, READ_WHAT, type ReadWhat } from './request';

export { READ_WHAT, type ReadWhat };

export interface AttributeValue {
  /** CLASS:OBIS:ATTR, canonical numeric form. */
  readonly ref: string;
  readonly value?: DataJson;
  /** The meter's data-access-result when it refused. */
  readonly error?: string;
}

export interface OnDemandResult {
  readonly meter: string;
  readonly status: ReadStatus;
  readonly reason?: string;
  /** DcuError code of a FAIL, when there is one. */
  readonly code?: number;
  readonly observations: readonly string[];
  readonly registers?: readonly RegisterValue[];
  readonly clock?: { readonly meterTime: number | null; readonly driftMs: number | null; readonly setTo?: number };
  readonly profiles?: Partial<Record<ProfileClass, { readonly inserted: number; readonly collectedTo: number }>>;
  readonly attributes?: readonly AttributeValue[];
  /** The job this result belongs to (set by the scheduler). */
  readonly job?: string;
  readonly attempt?: number;
  readonly requestedAt: number;
  readonly finishedAt: number;
}

type ReadBody = Omit<OnDemandResult, 'meter' | 'status' | 'observations' | 'requestedAt' | 'finishedAt'>;

async function readAttributes(client: DlmsClient, refs: readonly string[], observations: string[]): Promise<AttributeValue[]> {
  const parsed = refs.map((r) => parseAttributeRef(r));
  const outcomes = await client.getWithList(parsed);
  return outcomes.map((o, i) => {
    const asked = parsed[i];
    const ref = asked === undefined ? `#${i}` : formatRef(asked);
    if (o.ok) return { ref, value: dataToJson(o.data) };
    const why = dataAccessResultName(o.result);
    observations.push(`${ref} refused by the meter (${why})`);
    return { ref, error: why };
  });
}

async function readWhat(client: DlmsClient, meter: string, what: readonly string[], deps: JobDeps, observations: string[], between: () => void): Promise<ReadBody> {
  const out: { registers?: RegisterValue[]; clock?: NonNullable<OnDemandResult['clock']>; profiles?: NonNullable<OnDemandResult['profiles']>; attributes?: AttributeValue[] } = {};
  const refs = what.filter((w) => !isReadWhat(w));
  if (refs.length > 0) out.attributes = await readAttributes(client, refs, observations);
  for (const w of what.filter(isReadWhat)) {
    between();
    if (w === 'registers') {
      const r = await readEnergyRegisters(client);
      try {
        deps.readings.storeRegisters(meter, deps.clock.now(), r.registers);
      } catch (e) {
        // The values are in hand: answer them (WARN) even when the store cannot keep them.
        if (!isDcuError(e) || e.code !== ErrorCode.StorageFull) throw e;
        observations.push(`register values not stored: ${e.message}`);
      }
      out.registers = r.registers;
      observations.push(...r.observations);
    } else if (w === 'clock-sync') {
      const before = await readClock(client);
      const set = await setClockNow(client, { now: () => deps.clock.now() });
      if (set.result !== 0) throw new DcuError(ErrorCode.MeterDataAccess, `the meter refused the clock (${dataAccessResultName(set.result)})`);
      out.clock = { meterTime: before.epoch, driftMs: before.driftMs, setTo: set.setTo };
      deps.registry.note(meter, 'clock-synchronised', `on request; drift was ${before.driftMs === null ? 'unknown (wildcards)' : `${(before.driftMs / 1000).toFixed(1)} s`}`);
    } else if (w === 'clock') {
      const c = await readClock(client);
      out.clock = { meterTime: c.epoch, driftMs: c.driftMs };
      if (c.driftMs === null) observations.push('meter clock not set (wildcards)');
      else if (Math.abs(c.driftMs) > (parseDuration(deps.config.clock.syncAbove) ?? 300_000)) observations.push(`clock drift ${(c.driftMs / 1000).toFixed(1)} s`);
    } else {
      const c = PROFILE_CLASSES[w];
      const plan = deps.config.collection[w];
      const r = await collectProfile(client, deps.readings, {
        meter,
        profile: c.profile,
        stream: w,
        now: deps.clock.now(),
        backfillMs: parseDuration(plan?.backfill ?? c.defaultBackfill) ?? 0,
        maxSpanMs: c.maxSpanMs,
        cache: { store: deps.metaCache, key: meter },
      });
      out.profiles = { ...out.profiles, [w]: { inserted: r.inserted, collectedTo: r.collectedTo } };
      observations.push(...r.observations);
    }
  }
  return out;
}

export interface ReadOptions {
  readonly priority?: PriorityClass;
  /** Cancellation: while waiting for the line it leaves the queue; in a session, it stops between commands. */
  readonly signal?: AbortSignal;
}

/** Reads one meter now. Never throws: failures are FAIL results (with the DcuError code). */
export async function readMeter(deps: JobDeps, serial: string, what: readonly string[], options: ReadOptions = {}): Promise<OnDemandResult> {
  const requestedAt = deps.clock.now();
  const done = (r: Omit<OnDemandResult, 'meter' | 'requestedAt' | 'finishedAt'>): OnDemandResult => ({ meter: serial, ...r, requestedAt, finishedAt: deps.clock.now() });
  const m = deps.meters.get(serial);
  if (m === undefined) return done({ status: 'FAIL', reason: `meter ${serial} is not registered`, code: ErrorCode.UnknownMeter, observations: [] });
  const line = deps.lines.get(m.line);
  if (line === undefined) return done({ status: 'FAIL', reason: `line ${m.line} is not configured`, code: ErrorCode.Config, observations: [] });
  const priority = options.priority ?? 'on-demand';
  const log = deps.logger.child({ meter: serial, line: line.name, job: priority });
  let lease;
  try {
    lease = await line.arbiter.acquire(`${serial} ${priority}`, priority, options.signal);
  } catch (e) {
    const f = failure(e);
    return done({ status: 'FAIL', reason: f.reason, ...(f.code === undefined ? {} : { code: f.code }), observations: [] });
  }
  try {
    const observations: string[] = [];
    const between = (): void => {
      if (options.signal?.aborted === true) throw new DcuError(ErrorCode.JobCancelled, `the read of ${serial} was cancelled`);
    };
    const outcome = await withMeterSession(m, line, deps, log, (client) => readWhat(client, serial, what, deps, observations, between));
    if (!outcome.ok) return done({ status: 'FAIL', reason: outcome.reason, ...(outcome.code === undefined ? {} : { code: outcome.code }), observations });
    return done({ status: observations.length > 0 ? 'WARN' : 'EXE', observations, ...outcome.value });
  } finally {
    lease.release();
  }
}
