/**
 * `dcu read SERIAL… [--what registers,clock,load-profile,daily,billing,CLASS:OBIS:ATTR]`: asks
 * the running daemon on this box (its local socket) for an on-demand read — a job, persisted,
 * retried once — and prints each meter's result as it arrives: EXE, WARN (with observations)
 * or FAIL (with the reason). Exit 0 when no meter
 * failed, 5 when one did, 3 when the daemon is not reachable, 2 for a bad request.
 */
import type { Command } from 'commander';
import { isDcuError } from '../../protocol/common/errors';
import { parseAttributeRef } from '../../protocol/cosem/classes';
import type { OnDemandResult } from '../jobs/on-demand';
import { isReadWhat, READ_WHAT } from '../jobs/request';
import { ask, notReachable } from './daemon-socket';
import { ExitCode } from './exit-codes';
import { remoteJob, remoteOf } from './remote-commands';
import type { StoreIo } from './store-commands';
import type { Answer } from './daemon-socket';
import { exitCodeFor } from './exit-codes';

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
      const print = (a: Answer): void => {
        if (opts.json === true) io.out(JSON.stringify(a));
        if (a.type === 'error') {
          if (opts.json !== true) io.err(`dcu read: ${a.error?.message ?? 'refused'}`);
          code = ExitCode.usage;
        } else if (a.type === 'result' && a.result !== undefined) {
          if (opts.json !== true) io.out(resultText(a.result));
        } else if (a.type === 'attempt' && a.result !== undefined) {
          if (opts.json !== true) io.err(`${a.result.meter}: attempt ${a.result.attempt ?? '?'} failed (${a.result.reason ?? '?'}); trying again`);
        } else if (a.type === 'done' && (a.fail ?? 0) > 0) {
          code = ExitCode.meter;
        }
      };
      try {
        const remote = remoteOf(cmd, io.env);
        if (remote !== undefined) {
          const done = await remoteJob(remote, 'read', { meters: serials, what }, print);
          onExit(code === ExitCode.ok ? done : code);
          return;
        }
      } catch (e) {
        io.err(`dcu read: ${e instanceof Error ? e.message : String(e)}`);
        onExit(exitCodeFor(e));
        return;
      }
      try {
        await ask(stateDir, { cmd: 'read', meters: serials, what }, print);
      } catch (e) {
        io.err(notReachable('dcu read', stateDir, e));
        code = ExitCode.transport;
      }
      onExit(code);
    });
}
