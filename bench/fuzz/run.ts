/**
 * `npm run fuzz [-- --n 1000000 --seed 42 --index 123 --only axdr,hes,api --deep-json off]` (or
 * FUZZ_N / FUZZ_SEED): seeded fuzzing of every decoder, the meter side (HDLC and wrapper
 * stations, parameter negotiation, InitiateRequest, GBT), the client against a hostile meter,
 * HES command payloads and API bodies. Prints a summary and a reproducer per failure; exit
 * code 1 on any failure. `--deep-json off` leaves out the deeply nested JSON inputs.
 *
 * The inputs run in a worker thread with a bounded heap; an input that kills the worker (out
 * of memory) or stops it making progress (endless loop) is reported as a failure with its
 * reproducer, and the run goes on with the next input in a fresh worker.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { countTargets, describeInput, formatReport, mergeReports, type FuzzFailure, type FuzzReport } from './core';
import type { WorkerTask } from './worker';

/** Heap of the worker: a decoder that allocates without end dies here, not the runner. */
const WORKER_HEAP_MB = 512;
/** One input in progress this long means an endless loop. */
const STUCK_MS = 60_000;

function arg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

function int(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text === '') return fallback;
  const v = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(v) || v < 0) {
    console.error(`fuzz: ${what} must be a non-negative integer, got "${text}"`);
    process.exit(2);
  }
  return v;
}

type Outcome = { kind: 'report'; report: FuzzReport } | { kind: 'died'; index: number; why: string; stuck: boolean };

function runWorker(task: Omit<WorkerTask, 'progress'>): Promise<Outcome> {
  const progress = new SharedArrayBuffer(4);
  const current = new Int32Array(progress);
  Atomics.store(current, 0, task.from);
  const worker = new Worker(join(__dirname, 'worker.js'), {
    workerData: { ...task, progress },
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
  });
  return new Promise((resolve) => {
    let settled = false;
    let last = -1;
    let since = Date.now();
    const watch = setInterval(() => {
      const now = Atomics.load(current, 0);
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since > STUCK_MS) {
        finish({ kind: 'died', index: now, why: `no progress for ${STUCK_MS / 1000} s (endless loop?)`, stuck: true });
        void worker.terminate();
      }
    }, 1000);
    const finish = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      resolve(o);
    };
    worker.on('message', (report: FuzzReport) => finish({ kind: 'report', report }));
    worker.on('error', (e) => finish({ kind: 'died', index: Atomics.load(current, 0), why: e.message, stuck: false }));
    worker.on('exit', (code) => finish({ kind: 'died', index: Atomics.load(current, 0), why: `worker exited with code ${code}`, stuck: false }));
  });
}

async function main(): Promise<void> {
  const seed = int(arg('seed') ?? process.env.FUZZ_SEED, Date.now() % 1_000_000, '--seed / FUZZ_SEED');
  const index = arg('index');
  const from = index === undefined ? 0 : int(index, 0, '--index');
  const n = index === undefined ? int(arg('n') ?? process.env.FUZZ_N, 100_000, '--n / FUZZ_N') : from + 1;
  const only = arg('only')?.split(',').filter((s) => s !== '');
  const deepJson = arg('deep-json') !== 'off';
  console.log(`fuzz: seed ${seed}${index === undefined ? `, ${n} inputs` : `, input ${index} only`} (replay with --seed ${seed})`);
  const started = performance.now();
  const reports: FuzzReport[] = [];
  const died: FuzzFailure[] = [];
  for (let next = from; next < n; ) {
    const outcome = await runWorker({ seed, from: next, n, deepJson, ...(only === undefined ? {} : { only }) });
    if (outcome.kind === 'report') {
      reports.push(outcome.report);
      break;
    }
    // Inputs before the one that killed the worker passed; that one failed.
    const what = describeInput(seed, outcome.index, only, deepJson);
    reports.push({ ...mergeReports(seed, [], []), inputs: outcome.index + 1 - next, perTarget: countTargets(next, outcome.index + 1, only) });
    died.push({ target: what.target, index: outcome.index, reason: outcome.stuck ? 'hung' : 'crash', message: outcome.why, input: what.input });
    console.log(`  input ${outcome.index} (${what.target}) killed the worker: ${outcome.why}; going on`);
    if (died.length >= 20) break;
    next = outcome.index + 1;
  }
  const report = { ...mergeReports(seed, reports, died), durationMs: performance.now() - started };
  for (const line of formatReport(report)) console.log(line);
  process.exitCode = report.failures.length === 0 ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
