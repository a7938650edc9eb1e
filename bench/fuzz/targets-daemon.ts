/**
 * Fuzz targets of the daemon's doors: HES command payloads (HesCommands.handle, the handler
 * MQTT `cmd/<name>` feeds) and API bodies (the fastify app in-process through inject(), with
 * an admin token). One daemon per worker, on a FakeClock, in a temporary state directory;
 * reads go to a stub meter (no line is ever opened, nothing leaves the process).
 *
 * A finding is any answer that is not typed: a HES error with code Internal (900), an answer
 * that is not JSON-serialisable, an API status ≥ 500 or a 4xx without the typed error body,
 * or anything thrown out of the handler.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema';
import { validateConfig } from '../../config/validate';
import { Authenticator } from '../../daemon/api/auth';
import type { ApiContext } from '../../daemon/api/context';
import { buildApp } from '../../daemon/api/http';
import { FirmwareCampaigns } from '../../daemon/firmware/campaigns';
import { ImageLibrary } from '../../daemon/firmware/images';
import { HesCommands } from '../../daemon/hes/commands';
import { Scheduler } from '../../daemon/jobs/scheduler';
import { LineArbiter } from '../../daemon/lines/arbiter';
import type { LineRuntime } from '../../daemon/lines/line';
import type { Registry } from '../../daemon/registry/registry';
import type { MeterMetadataCache } from '../../protocol/client/meta-cache';
import { FakeClock } from '../../protocol/common/clock';
import { ErrorCode } from '../../protocol/common/errors';
import { nullLogger } from '../../protocol/common/log';
import type { InvocationCounterStore } from '../../protocol/security/counters';
import { openStore, type Db } from '../../storage/db';
import { FirmwareStore } from '../../storage/firmware';
import { JobStore } from '../../storage/jobs';
import { MeterRepository } from '../../storage/meters';
import { SecretBox } from '../../storage/secret-box';
import type { ReadingsStore } from '../../storage/readings';
import { AuditLog, UserStore } from '../../storage/users';
import { hostileJson, type JsonMutationOptions } from './json';
import type { Rng } from './rng';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const ADMIN = 'fuzz-admin';

interface Fixture {
  readonly dir: string;
  readonly db: Db;
  readonly clock: FakeClock;
  readonly hes: HesCommands;
  readonly app: FastifyInstance;
  readonly users: UserStore;
  token: string;
}

let fixture: Fixture | undefined;

function fuzzConfig(stateDir: string): Config {
  return validateConfig({
    id: 'dcu-fuzz',
    stateDir,
    lines: [{ name: 'plc0', serial: { path: '/dev/null' } }, { name: 'ip', tcp: {} }],
    meters: [
      { serial: 'A1', line: 'plc0', address: '1/17', client: 17, auth: 'low', password: '00000000' },
      { serial: 'A2', line: 'ip', address: '127.0.0.1:1', client: 16 },
    ],
  });
}

/** The daemon's parts the two doors reach, built once per worker (a fresh store each run). */
function setup(): Fixture {
  if (fixture !== undefined) return fixture;
  const dir = mkdtempSync(join(tmpdir(), 'dcu-fuzz-'));
  const config = fuzzConfig(dir);
  const clock = new FakeClock(T0);
  const db = openStore(join(dir, 'dcu.sqlite'));
  const meters = new MeterRepository(db, new SecretBox(randomBytes(32)));
  meters.applySeed(config.meters, T0);
  const lines = new Map(config.lines.map((l) => [l.name, { name: l.name, arbiter: new LineArbiter(l.name, 1) } as unknown as LineRuntime]));
  const shared = {
    config,
    clock,
    logger: nullLogger,
    lines,
    meters,
    registry: {} as unknown as Registry,
    readings: {} as unknown as ReadingsStore,
    metaCache: {} as unknown as MeterMetadataCache,
    counters: {} as unknown as InvocationCounterStore,
  };
  const jobs = new JobStore(db);
  const scheduler = new Scheduler({
    ...shared,
    jobs,
    timeZone: 'UTC',
    // A stub meter: every read succeeds at once (no line, no network).
    execute: (_d, m, what) => Promise.resolve({ meter: m, status: 'EXE', observations: [], attributes: what.map((w) => ({ ref: w, value: { uint32: 7 } })), requestedAt: clock.now(), finishedAt: clock.now() }),
  });
  scheduler.start();
  const store = new FirmwareStore(db);
  const library = new ImageLibrary({ config, clock, store });
  // Not started: campaigns are stored and checked, never run.
  const firmware = { images: library, campaigns: new FirmwareCampaigns({ ...shared, db, store, library, timeZone: 'UTC' }) };
  const health = (): Record<string, unknown> => ({ id: config.id, uptimeS: 1 });
  const hes = new HesCommands({ config, clock, logger: nullLogger, scheduler, meters, status: health, firmware });
  const users = new UserStore(db);
  const ctx: ApiContext = {
    deps: { config, clock, logger: nullLogger, db, meters, scheduler, jobs, hes, health, lines, uplink: undefined, firmware },
    users,
    audit: new AuditLog(db),
    auth: new Authenticator(users, clock),
    fingerprint: undefined,
    streams: new Set(),
  };
  const app = buildApp(ctx, { unix: true });
  fixture = { dir, db, clock, hes, app, users, token: users.add(ADMIN, 'admin', 'fuzz', T0) };
  return fixture;
}

/** Ends the worker's daemon (its store and state directory). */
export async function disposeDaemonTargets(): Promise<void> {
  const f = fixture;
  fixture = undefined;
  if (f === undefined) return;
  await f.app.close();
  f.db.close();
  rmSync(f.dir, { recursive: true, force: true });
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 30; i++) await Promise.resolve();
};

const enc = new TextEncoder();
const dec = new TextDecoder();

/** "head\nbody": the command name or "METHOD /path" on the first line, the JSON after it. */
function splitInput(input: Uint8Array): { head: string; body: Uint8Array } {
  const nl = input.indexOf(0x0a);
  return nl < 0 ? { head: dec.decode(input), body: new Uint8Array(0) } : { head: dec.decode(input.subarray(0, nl)), body: input.subarray(nl + 1) };
}

const join2 = (head: string, body: Uint8Array): Uint8Array => {
  const h = enc.encode(`${head}\n`);
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
};

const HES_SEEDS: readonly [string, unknown][] = [
  ['read', { meters: ['A1', 'A2'], what: ['registers', '3:1.0.1.8.0.255:2'], replyTo: 'hes/replies/7', correlationId: 'c-7', expiresAt: '2027-01-01T00:00:00Z' }],
  ['read', { all: true, what: ['clock'], priority: 'high', deadline: '1h', id: 'r-1' }],
  ['plan', { lines: ['plc0'], what: ['daily'], from: '2026-11-30T00:00:00Z', to: '2026-12-01T00:00:00Z' }],
  ['clock-sync', { meters: ['A1'] }],
  ['cancel', { job: 'r-1' }],
  ['meter-add', { meter: { serial: 'N1', line: 'ip', address: '127.0.0.1:2', client: 16 } }],
  ['meter-add', { meter: { serial: 'N2', line: 'plc0', address: '1/19', client: 1, auth: 'low', password: '12345678' } }],
  ['meter-update', { serial: 'A1', changes: { client: 16, auth: 'none' } }],
  ['meter-remove', { serial: 'N1' }],
  ['meters', { line: 'plc0', stage: 'registered' }],
  ['status', {}],
  ['fw-image', { image: 'img-1', chunk: 0, data: 'AAAA' }],
  ['fw-image', { manifest: { id: 'img-1', size: 4, sha256: '0'.repeat(64) } }],
  ['fw-campaign-create', { image: 'img-1', meters: ['A1'], activate: 'manual' }],
  ['fw-campaign-status', { campaign: 'fw-1' }],
  ['fw-campaign-cancel', { campaign: 'fw-1' }],
  ['fw-campaign-retry', { campaign: 'fw-1' }],
  ['fw-campaign-activate', { campaign: 'fw-1' }],
];

const API_SEEDS: readonly [string, unknown][] = [
  ['POST /api/v1/meters', { meter: { serial: 'N3', line: 'ip', address: '127.0.0.1:3', client: 16 } }],
  ['POST /api/v1/read', { meters: ['A1'], what: ['registers'] }],
  ['POST /api/v1/plan', { meters: ['A1'], what: ['daily'] }],
  ['POST /api/v1/plan?follow=true', { meters: ['A2'], what: ['daily'] }],
  ['POST /api/v1/meters/A2/commission', {}],
  ['DELETE /api/v1/meters/N3', {}],
  ['POST /api/v1/jobs/nope/cancel', {}],
  ['POST /api/v1/users', { name: 'nobody', role: 'viewer' }],
  ['DELETE /api/v1/users/nobody', {}],
  ['POST /api/v1/firmware/campaigns', { image: 'nope', meters: ['A1'] }],
  ['POST /api/v1/firmware/campaigns/nope/retry', {}],
  ['GET /api/v1/export?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&format=csv', {}],
  ['GET /api/v1/jobs?state=done&limit=5', {}],
  ['GET /api/v1/meters?line=ip&stage=registered', {}],
  ['GET /api/v1/alarms?open=false&meter=A1&limit=3', {}],
  ['GET /api/v1/logs?level=warn&limit=5', {}],
];

function seedInputs(seeds: readonly [string, unknown][]): Uint8Array[] {
  return seeds.map(([head, doc]) => join2(head, enc.encode(JSON.stringify(doc))));
}

/** Input `index` of a JSON target: a seed's head (now and then mutated) with a hostile body. */
function jsonInput(seeds: readonly [string, unknown][], rng: Rng, o: JsonMutationOptions, heads: readonly string[]): Uint8Array {
  const [head, doc] = rng.pick(seeds);
  const body = hostileJson(doc, rng, o);
  const h = rng.chance(0.05) ? rng.pick(heads) : rng.chance(0.05) ? dec.decode(rng.mutate(enc.encode(head))) : head;
  return join2(h.replace(/\n/g, ''), body);
}

export function hesInput(rng: Rng, o: JsonMutationOptions): Uint8Array {
  return jsonInput(HES_SEEDS, rng, o, ['', 'nope', 'fw-upload', 'fw-images', '__proto__', 'read/../status']);
}

export function apiInput(rng: Rng, o: JsonMutationOptions): Uint8Array {
  return jsonInput(API_SEEDS, rng, o, ['PUT /api/v1/meters', 'POST /api/v1/meters/%00', 'GET /api/v1/meters/' + 'A'.repeat(5000), 'POST /api/v1/jobs/%2e%2e/cancel', 'GET /../../etc/passwd']);
}

/** One HES command; throws (a finding) on an untyped answer. */
export async function runHes(input: Uint8Array): Promise<void> {
  const f = setup();
  const { head, body } = splitInput(input);
  const problems: string[] = [];
  f.hes.handle(head, body, (doc) => {
    try {
      JSON.stringify(doc);
    } catch (e) {
      problems.push(`an answer is not JSON (${(e as Error).message})`);
    }
    const err = doc.type === 'error' ? (doc.error as { code?: unknown; message?: unknown } | undefined) : undefined;
    if (err !== undefined && (typeof err.code !== 'number' || err.code === ErrorCode.Internal)) problems.push(`untyped error ${String(err.code)}: ${String(err.message).slice(0, 300)}`);
  });
  await settle();
  if (problems.length > 0) throw new Error(`HES command "${head.slice(0, 40)}": ${problems.join('; ')}`);
}

const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'] as const;

/** One API request; throws (a finding) on a 5xx or an untyped 4xx. */
export async function runApi(input: Uint8Array, rng: Rng): Promise<void> {
  const f = setup();
  const { head, body } = splitInput(input);
  const sp = head.indexOf(' ');
  const word = (sp < 0 ? head : head.slice(0, sp)).toUpperCase();
  const method = (METHODS as readonly string[]).includes(word) ? (word as (typeof METHODS)[number]) : 'POST';
  let url = sp < 0 ? '/api/v1' : head.slice(sp + 1);
  if (!url.startsWith('/')) url = `/${url}`;
  // GET /api/v1/logs?follow=true stays open for ever (by design): keep the fuzz off it.
  let decoded = url;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    // not percent-decodable: the router refuses it
  }
  if (/logs/i.test(decoded)) url = url.split('?')[0] ?? url;
  const contentType = rng.chance(0.9) ? 'application/json' : rng.pick(['text/plain', 'application/json; charset=latin1', 'application/octet-stream', '']);
  const payload = method === 'GET' || method === 'HEAD' ? undefined : Buffer.from(body);
  const res = await f.app.inject({ method, url, headers: { authorization: `Bearer ${f.token}`, ...(contentType === '' ? {} : { 'content-type': contentType }) }, ...(payload === undefined ? {} : { payload }) });
  // A fuzzed DELETE /users/… may have removed our own admin: make a new one for the next input.
  if (f.users.get(ADMIN) === undefined) f.token = f.users.add(ADMIN, 'admin', 'fuzz', T0);
  const what = `${method} ${url.slice(0, 80)}`;
  if (res.statusCode >= 500) throw new Error(`API ${what}: status ${res.statusCode}: ${res.body.slice(0, 300)}`);
  if (res.statusCode >= 400 && method !== 'HEAD') {
    let typed = false;
    try {
      const e = (JSON.parse(res.body) as { error?: { code?: unknown; name?: unknown } }).error;
      typed = typeof e?.code === 'number' && typeof e.name === 'string' && e.code !== ErrorCode.Internal;
    } catch {
      typed = false;
    }
    if (!typed) throw new Error(`API ${what}: status ${res.statusCode} without a typed error: ${res.body.slice(0, 300)}`);
  }
}

export const HES_SEED_INPUTS = (): Uint8Array[] => seedInputs(HES_SEEDS);
export const API_SEED_INPUTS = (): Uint8Array[] => seedInputs(API_SEEDS);
