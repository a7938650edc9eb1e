/**
 * `dcu read SERIAL… [--what registers,clock,load-profile,daily,billing,CLASS:OBIS:ATTR]`: asks
 * the running daemon on this box (its local socket) for an on-demand read — a job, persisted,
 * retried once — and prints each meter's result as it arrives: EXE, WARN (with observations)
 * or FAIL (with the reason). On a terminal a progress line (meters done / total, elapsed)
 * stays below the results on stderr; with --json the daemon's NDJSON answers, nothing else.
 * With --host the same through the API (POST /api/v1/read answers NDJSON as the job runs).
 * Exit 0 when no meter failed, 5 when one did, 3 when the daemon is not reachable, 2 for a
 * bad request, 4 when the API refuses the token.
 */
import type { Command } from 'commander';
import { isDcuError } from '../protocol/common/errors';
import { parseAttributeRef } from '../protocol/cosem/classes';
import type { OnDemandResult } from '../daemon/jobs/on-demand';
import { isReadWhat, READ_WHAT } from '../daemon/jobs/request';
import { ask, notReachable, socketPath } from './daemon-socket';
import { ExitCode } from '../common/exit-codes';
import { progressFor, type Progress } from './progress';
import { remoteJob, remoteOf } from './remote-commands';
import type { StoreIo } from './store-commands';
import type { Answer } from './daemon-socket';
import { exitCodeFor } from '../common/exit-codes';

export function resultText(r: OnDemandResult): string {
  const parts = [`${r.meter} ${r.status}`];
  for (const reg of r.registers ?? []) parts.push(`${reg.name} ${reg.value} ${reg.unit}`);
  if (r.clock !== undefined) parts.push(`clock ${r.clock.meterTime === null ? 'not set' : new Date(r.clock.meterTime).toISOString()} (drift ${r.clock.driftMs === null ? '?' : (r.clock.driftMs / 1000).toFixed(1)} s)`);
  for (const [cls, p] of Object.entries(r.profiles ?? {})) parts.push(`${cls} +${p.inserted} rows (to ${new Date(p.collectedTo).toISOString()})`);
  for (const a of r.attributes ?? []) parts.push(`${a.ref} = ${a.value === undefined ? `refused (${a.error ?? '?'})` : JSON.stringify(a.value)}`);
  if (r.reason !== undefined) parts.push(`reason: ${r.reason}`);
  if (r.observations.length > 0) parts.push(`observations: ${r.observations.join('; ')}`);
  parts.push(`${((r.finishedAt - r.requestedAt) / 1000).toFixed(1)} s`);
  return parts.join('  ');
}

/** Follows a job's answers on the progress line: the total from `accepted`, one more per meter's final result. */
export function jobProgress(bar: Progress): (a: Answer) => void {
  let total: number | undefined;
  let done = 0;
  return (a) => {
    if (a.type === 'accepted') total = a.meters;
    else if (a.type === 'result') done++;
    bar.update({ done, unit: 'meters', ...(total === undefined ? {} : { total }) });
  };
}

/** The command's output with the progress line wiped before each line and redrawn after. */
export function aboveBar<T extends { out: (t: string) => void; err: (t: string) => void }>(io: T, bar: Progress): T {
  return { ...io, out: (t: string) => bar.above(() => io.out(t)), err: (t: string) => bar.above(() => io.err(t)) };
}

export function registerRead(program: Command, onExit: (code: number) => void, io: StoreIo): void {
  program
    .command('read <serial...>')
    .description('an on-demand read by the running daemon on this box: EXE, WARN or FAIL per meter')
    .option('--what <list>', `comma-separated: ${READ_WHAT.join(', ')} or CLASS:OBIS:ATTR`, 'registers,clock')
    .option('--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)')
    .option('--json', 'one JSON document per line, as the daemon answers')
    .action(async (serials: string[], opts: { what: string; state?: string; json?: boolean }, cmd: Command) => {
      const stateDir = opts.state ?? io.env.DCU_STATE_DIR ?? '/var/lib/dcu';
      const what = opts.what.split(',').map((w) => w.trim()).filter((w) => w !== '');
      const bad = what.flatMap((w) => {
        if (isReadWhat(w)) return [];
        try {
          parseAttributeRef(w);
          return [];
        } catch (e) {
          return [`${w} (${isDcuError(e) ? e.message : String(e)})`];
        }
      });
      if (bad.length > 0) {
        io.err(`dcu read: --what ${bad.join(', ')}: give ${READ_WHAT.join(', ')} or CLASS:OBIS:ATTR`);
        onExit(ExitCode.usage);
        return;
      }
      let code: number = ExitCode.ok;
      const bar = progressFor('read', { json: opts.json, env: io.env });
      const track = jobProgress(bar);
      const show = aboveBar(io, bar);
      const print = (a: Answer): void => {
        track(a);
        if (opts.json === true) show.out(JSON.stringify(a));
        if (a.type === 'error') {
          if (opts.json !== true) show.err(`dcu read: ${a.error?.message ?? 'refused'}`);
          code = ExitCode.usage;
        } else if (a.type === 'result' && a.result !== undefined) {
          if (opts.json !== true) show.out(resultText(a.result));
        } else if (a.type === 'attempt' && a.result !== undefined) {
          if (opts.json !== true) show.err(`${a.result.meter}: attempt ${a.result.attempt ?? '?'} failed (${a.result.reason ?? '?'}); trying again`);
        } else if (a.type === 'done' && (a.fail ?? 0) > 0) {
          code = ExitCode.meter;
        }
      };
      try {
        const remote = remoteOf(cmd, io.env);
        if (remote !== undefined) {
          const done = await remoteJob(remote, 'read', { meters: serials, what }, print).finally(() => bar.finish());
          onExit(code === ExitCode.ok ? done : code);
          return;
        }
      } catch (e) {
        bar.finish();
        io.err(`dcu read: ${e instanceof Error ? e.message : String(e)}`);
        onExit(exitCodeFor(e));
        return;
      }
      let ended = false as boolean; // set by print
      try {
        await ask(stateDir, { cmd: 'read', meters: serials, what }, (a) => {
          ended ||= a.type === 'done' || a.type === 'error';
          print(a);
        });
        if (!ended) {
          bar.finish();
          io.err(`dcu read: the daemon closed ${socketPath(stateDir)} before the job ended (stopped?); the job is kept: dcu jobs list`);
          code = ExitCode.transport;
        }
      } catch (e) {
        bar.finish();
        io.err(notReachable('dcu read', stateDir, e));
        code = ExitCode.transport;
      }
      bar.finish();
      onExit(code);
    });
}
