/**
 * The fuzz loop: input `index` under `seed` goes to one target (every CLIENT_EVERY-th to the
 * client, the others round-robin over the decoders and the meter side) as a mutated valid input
 * (or plain random bytes). Fails on a foreign exception (anything but DcuError), a client that
 * never gives up, an input slower than the time limit (confirmed by running it twice more),
 * and heap growth over the limit (after a full GC when one can be had).
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { toHex } from '../../protocol/common/hex';
import { buildCorpus, type Corpus } from './corpus';
import type { JsonMutationOptions } from './json';
import { inputRng, type Rng } from './rng';
import { disposeDaemonTargets } from './targets-daemon';
import { SYNC_TARGETS, clientScenario, runClient, type SyncTarget } from './targets';

export interface FuzzOptions {
  /** Inputs [from, n) run (from defaults to 0; `--index i` is from i, n i + 1). */
  readonly n: number;
  readonly seed: number;
  readonly from?: number;
  /** Called before each input (the worker publishes it, so a crash names its input). */
  readonly onInput?: (index: number) => void;
  /** Run only these targets ('client' included). */
  readonly only?: readonly string[];
  /** Extra valid inputs per target (the jest run adds the trace vectors). */
  readonly extraSeeds?: Readonly<Record<string, readonly Uint8Array[]>>;
  /** Per input (default 100 ms; client runs: 20 × this, they are whole associations; HES and API: 5 ×). */
  readonly timeLimitMs?: number;
  /** Default 64 MiB. */
  readonly heapLimitBytes?: number;
  /** Progress line every so many inputs (0: none). */
  readonly reportEvery?: number;
  readonly log?: (line: string) => void;
  /** Deeply nested JSON for the HES and API targets (default true; see json.ts). */
  readonly deepJson?: boolean;
}

export interface FuzzFailure {
  readonly target: string;
  readonly index: number;
  readonly reason: 'exception' | 'slow' | 'heap' | 'hung' | 'crash';
  readonly message: string;
  /** The input (decoders, meter side) or the scenario (client). */
  readonly input: string;
}

export interface FuzzReport {
  readonly seed: number;
  readonly inputs: number;
  readonly perTarget: Readonly<Record<string, number>>;
  readonly failures: readonly FuzzFailure[];
  readonly slowest: { readonly target: string; readonly index: number; readonly ms: number };
  readonly heapGrowthBytes: number;
  readonly gc: boolean;
  readonly durationMs: number;
  /** Options the run had that a reproducer must repeat. */
  readonly flags?: string;
}

/** Every CLIENT_EVERY-th input is a whole client association. */
export const CLIENT_EVERY = 200;
const MAX_FAILURES = 20;

/** A full GC, if node lets us have one (--expose-gc, or the V8 flag set at run time). */
function findGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    return typeof fn === 'function' ? (fn as () => void) : undefined;
  } catch {
    return undefined;
  }
}

function heapUsed(gc: (() => void) | undefined): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

export type Plan = { kind: 'sync'; target: SyncTarget } | { kind: 'client' };

const schedules = new WeakMap<readonly SyncTarget[], readonly SyncTarget[]>();

/** Round-robin slots: each target `weight` times (default 4), interleaved. */
function schedule(targets: readonly SyncTarget[]): readonly SyncTarget[] {
  let s = schedules.get(targets);
  if (s === undefined) {
    const slots: SyncTarget[] = [];
    const most = Math.max(0, ...targets.map((t) => t.weight ?? DEFAULT_WEIGHT));
    for (let round = 0; round < most; round++) for (const t of targets) if (round < (t.weight ?? DEFAULT_WEIGHT)) slots.push(t);
    s = slots;
    schedules.set(targets, s);
  }
  return s;
}

const DEFAULT_WEIGHT = 4;

export function planFor(index: number, targets: readonly SyncTarget[], withClient: boolean): Plan {
  const slots = schedule(targets);
  if (withClient && (index % CLIENT_EVERY === CLIENT_EVERY - 1 || slots.length === 0)) return { kind: 'client' };
  const t = slots[index % Math.max(1, slots.length)];
  return t === undefined ? { kind: 'client' } : { kind: 'sync', target: t };
}

/** The bytes of input `index` for a synchronous target (pure function of seed and index). */
export function inputFor(target: SyncTarget, corpus: Corpus, extra: readonly Uint8Array[], rng: Rng, o: JsonMutationOptions = {}): Uint8Array {
  if (target.input !== undefined) return target.input(rng, o);
  const seeds = [...target.seeds(corpus), ...extra];
  if (seeds.length === 0 || rng.chance(0.08)) return rng.bytes(rng.int(rng.chance(0.5) ? 64 : 1024));
  const base = rng.pick(seeds);
  if (rng.chance(0.05)) return base;
  return rng.mutate(base, rng.pick(seeds));
}

function message(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}${e.stack === undefined ? '' : `\n${e.stack.split('\n').slice(1, 6).join('\n')}`}` : String(e);
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => undefined);
  const limitMs = o.timeLimitMs ?? 100;
  const heapLimit = o.heapLimitBytes ?? 64 * 1024 * 1024;
  const corpus = buildCorpus();
  const targets = SYNC_TARGETS.filter((t) => o.only === undefined || o.only.includes(t.name));
  const withClient = o.only === undefined || o.only.includes('client');
  const gc = findGc();
  const perTarget: Record<string, number> = {};
  const failures: FuzzFailure[] = [];
  let slowest = { target: '', index: -1, ms: 0 };
  const started = performance.now();
  const baseline = heapUsed(gc);
  let maxGrowth = 0;
  const first = o.from ?? 0;
  const end = o.n;

  const checkHeap = (index: number): void => {
    const growth = heapUsed(gc) - baseline;
    maxGrowth = Math.max(maxGrowth, growth);
    if (growth > heapLimit) {
      failures.push({ target: '*', index, reason: 'heap', message: `heap grew by ${(growth / 1048576).toFixed(1)} MiB (limit ${heapLimit / 1048576} MiB) by input ${index}`, input: '' });
    }
  };

  for (let index = first; index < end && failures.length < MAX_FAILURES; index++) {
    o.onInput?.(index);
    const plan = planFor(index, targets, withClient);
    const name = plan.kind === 'client' ? 'client' : plan.target.name;
    perTarget[name] = (perTarget[name] ?? 0) + 1;
    if (plan.kind === 'client') {
      const scenario = clientScenario(inputRng(o.seed, index));
      const once = async (): Promise<number> => {
        const rng = inputRng(o.seed, index);
        clientScenario(rng); // the same draws as above, then the run's own
        const t0 = performance.now();
        await runClient(scenario, rng);
        return performance.now() - t0;
      };
      try {
        let ms = await once();
        if (ms > 20 * limitMs) ms = Math.min(ms, await once(), await once());
        if (ms > slowest.ms) slowest = { target: name, index, ms };
        if (ms > 20 * limitMs) failures.push({ target: name, index, reason: 'slow', message: `client run took ${ms.toFixed(0)} ms (limit ${20 * limitMs} ms)`, input: JSON.stringify(scenario) });
      } catch (e) {
        const hung = e instanceof Error && e.message.startsWith('the client never gave up');
        failures.push({ target: name, index, reason: hung ? 'hung' : 'exception', message: message(e), input: JSON.stringify(scenario) });
      }
    } else {
      const target = plan.target;
      const json = { deepJson: o.deepJson !== false };
      const input = inputFor(target, corpus, o.extraSeeds?.[target.name] ?? [], inputRng(o.seed, index), json);
      const once = async (): Promise<number> => {
        const rng = inputRng(o.seed, index);
        inputFor(target, corpus, o.extraSeeds?.[target.name] ?? [], rng, json); // same draws, then the run's own
        const t0 = performance.now();
        await target.run(input, rng);
        return performance.now() - t0;
      };
      try {
        let ms = await once();
        const limit = limitMs * (target.timeFactor ?? 1);
        // A GC pause or a loaded machine is not the input's fault: slow only if slow every time.
        if (ms > limit) ms = Math.min(ms, await once(), await once());
        if (ms > slowest.ms) slowest = { target: name, index, ms };
        if (ms > limit) failures.push({ target: name, index, reason: 'slow', message: `took ${ms.toFixed(1)} ms (limit ${limit} ms)`, input: toHex(input) });
      } catch (e) {
        failures.push({ target: name, index, reason: 'exception', message: message(e), input: toHex(input) });
      }
    }
    const done = index - first + 1;
    if (done % 10_000 === 0) checkHeap(index);
    if (o.reportEvery !== undefined && o.reportEvery > 0 && done % o.reportEvery === 0) {
      log(`  ${done} inputs, ${failures.length} failures, slowest ${slowest.ms.toFixed(1)} ms (${slowest.target}), heap +${(maxGrowth / 1048576).toFixed(1)} MiB`);
    }
  }
  if (end > first) checkHeap(end - 1);
  await disposeDaemonTargets();
  return {
    seed: o.seed,
    ...(o.deepJson === false ? { flags: '--deep-json off' } : {}),
    inputs: Math.max(0, end - first),
    perTarget,
    failures,
    slowest,
    heapGrowthBytes: maxGrowth,
    gc: gc !== undefined,
    durationMs: performance.now() - started,
  };
}

/** Summary lines, and a reproducer per failure (seed, index, target, input hex). */
export function formatReport(r: FuzzReport): string[] {
  const lines = [
    `fuzz: ${r.inputs} inputs, seed ${r.seed}, ${(r.durationMs / 1000).toFixed(1)} s`,
    `  per target: ${Object.entries(r.perTarget)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  slowest input: ${r.slowest.ms.toFixed(1)} ms (${r.slowest.target} #${r.slowest.index}); heap growth ${(r.heapGrowthBytes / 1048576).toFixed(1)} MiB${r.gc ? ' after GC' : ' (no GC available)'}`,
    r.failures.length === 0 ? '  no failures' : `  ${r.failures.length} FAILURE(S):`,
  ];
  for (const f of r.failures) {
    lines.push(`  - ${f.reason} in ${f.target} at index ${f.index}: ${f.message}`);
    if (f.index >= 0 && f.target !== '*') lines.push(`    reproduce: npm run fuzz -- --seed ${r.seed} --index ${f.index}${r.flags === undefined ? '' : ` ${r.flags}`}`);
    if (f.input !== '') lines.push(`    input: ${f.input.length > 600 ? `${f.input.slice(0, 600)}… (${f.input.length} characters; --index replays it whole)` : f.input}`);
  }
  return lines;
}

/** What input `index` is, for a reproducer when its run could not report itself (crash, hang). */
export function describeInput(seed: number, index: number, only?: readonly string[], deepJson = true): { target: string; input: string } {
  const targets = SYNC_TARGETS.filter((t) => only === undefined || only.includes(t.name));
  const plan = planFor(index, targets, only === undefined || only.includes('client'));
  if (plan.kind === 'client') return { target: 'client', input: JSON.stringify(clientScenario(inputRng(seed, index))) };
  return { target: plan.target.name, input: toHex(inputFor(plan.target, buildCorpus(), [], inputRng(seed, index), { deepJson })) };
}

/** Inputs per target in [from, to) (what a run that died before reporting did). */
export function countTargets(from: number, to: number, only?: readonly string[]): Record<string, number> {
  const targets = SYNC_TARGETS.filter((t) => only === undefined || only.includes(t.name));
  const withClient = only === undefined || only.includes('client');
  const counts: Record<string, number> = {};
  for (let i = from; i < to; i++) {
    const plan = planFor(i, targets, withClient);
    const name = plan.kind === 'client' ? 'client' : plan.target.name;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** One report out of the reports of consecutive runs. */
export function mergeReports(seed: number, reports: readonly FuzzReport[], extra: readonly FuzzFailure[]): FuzzReport {
  const perTarget: Record<string, number> = {};
  let slowest = { target: '', index: -1, ms: 0 };
  for (const r of reports) {
    for (const [k, v] of Object.entries(r.perTarget)) perTarget[k] = (perTarget[k] ?? 0) + v;
    if (r.slowest.ms > slowest.ms) slowest = r.slowest;
  }
  const flags = reports.find((r) => r.flags !== undefined)?.flags;
  return {
    seed,
    ...(flags === undefined ? {} : { flags }),
    inputs: reports.reduce((n, r) => n + r.inputs, 0),
    perTarget,
    failures: [...reports.flatMap((r) => r.failures), ...extra].sort((a, b) => a.index - b.index),
    slowest,
    heapGrowthBytes: Math.max(0, ...reports.map((r) => r.heapGrowthBytes)),
    gc: reports.every((r) => r.gc),
    durationMs: reports.reduce((n, r) => n + r.durationMs, 0),
  };
}
