/**
 * On-demand reads (HES or technician): the most urgent job class. A read takes the line
 * ahead of scheduled work (a running collection yields after its request in flight), runs
 * one association and answers EXE (ok), WARN (ok with observations) or FAIL (with the
 * reason). Profiles asked for are collected from their watermark and stored like scheduled
 * ones; every result also goes to the outbox stream `results`.
 */
import { parseDuration } from '../../config/units';
import type { DlmsClient } from '../../protocol/client/client';
import { readClock } from '../../protocol/client/reads';
import { withMeterSession } from '../meters/session';
import type { JobDeps } from './deps';
import { readEnergyRegisters, type ReadStatus, type RegisterValue } from './basic-read';
import { collectProfile } from './collect-profile';
import { PROFILE_CLASSES, type ProfileClass } from './profile-classes';

export const READ_WHAT = ['registers', 'clock', 'load-profile', 'daily', 'billing'] as const;
export type ReadWhat = (typeof READ_WHAT)[number];

export interface OnDemandDeps extends JobDeps {
  /** Stores a result (outbox stream `results`). */
  readonly publish: (result: OnDemandResult) => void;
}

export interface OnDemandResult {
  readonly meter: string;
  readonly status: ReadStatus;
  readonly reason?: string;
  readonly observations: readonly string[];
  readonly registers?: readonly RegisterValue[];
  readonly clock?: { readonly meterTime: number | null; readonly driftMs: number | null };
  readonly profiles?: Partial<Record<ProfileClass, { readonly inserted: number; readonly collectedTo: number }>>;
  readonly requestedAt: number;
  readonly finishedAt: number;
}

async function readWhat(client: DlmsClient, meter: string, what: readonly ReadWhat[], deps: OnDemandDeps, observations: string[]): Promise<Omit<OnDemandResult, 'meter' | 'status' | 'observations' | 'requestedAt' | 'finishedAt'>> {
  const out: { registers?: RegisterValue[]; clock?: NonNullable<OnDemandResult['clock']>; profiles?: NonNullable<OnDemandResult['profiles']> } = {};
  for (const w of what) {
    if (w === 'registers') {
      const r = await readEnergyRegisters(client);
      deps.readings.storeRegisters(meter, deps.clock.now(), r.registers);
      out.registers = r.registers;
      observations.push(...r.observations);
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

/** Reads one meter now, at on-demand priority. Never throws: failures are FAIL results. */
export async function readOnDemand(deps: OnDemandDeps, serial: string, what: readonly ReadWhat[]): Promise<OnDemandResult> {
  const requestedAt = deps.clock.now();
  const done = (r: Omit<OnDemandResult, 'meter' | 'requestedAt' | 'finishedAt'>): OnDemandResult => {
    const result = { meter: serial, ...r, requestedAt, finishedAt: deps.clock.now() };
    try {
      deps.publish(result);
    } catch (e) {
      deps.logger.error({ meter: serial, err: e instanceof Error ? e.message : String(e) }, 'on-demand result not stored');
    }
    return result;
  };
  const m = deps.meters.get(serial);
  if (m === undefined) return done({ status: 'FAIL', reason: `meter ${serial} is not registered`, observations: [] });
  const line = deps.lines.get(m.line);
  if (line === undefined) return done({ status: 'FAIL', reason: `line ${m.line} is not configured`, observations: [] });
  const log = deps.logger.child({ meter: serial, line: line.name, job: 'on-demand' });
  let lease;
  try {
    lease = await line.arbiter.acquire(`${serial} on-demand`, 'on-demand');
  } catch (e) {
    return done({ status: 'FAIL', reason: e instanceof Error ? e.message : String(e), observations: [] });
  }
  try {
    const observations: string[] = [];
    const outcome = await withMeterSession(m, line, deps, log, (client) => readWhat(client, serial, what, deps, observations));
    if (!outcome.ok) return done({ status: 'FAIL', reason: outcome.reason, observations });
    return done({ status: observations.length > 0 ? 'WARN' : 'EXE', observations, ...outcome.value });
  } finally {
    lease.release();
  }
}
