/**
 * `dcu read SERIAL… [--what registers,clock,load-profile,daily,billing]`: asks the running
 * daemon on this box (its local socket) for an on-demand read and prints each meter's result
 * as it arrives: EXE, WARN (with observations) or FAIL (with the reason). Exit 0 when no meter
 * failed, 5 when one did, 3 when the daemon is not reachable, 2 for a bad request.
 */
import type { Command } from 'commander';
import { connect } from 'node:net';
import { join } from 'node:path';
import { SOCKET_FILE } from '../api/socket';
import type { OnDemandResult } from '../jobs/on-demand';
import { READ_WHAT } from '../jobs/on-demand';
import { ExitCode } from './exit-codes';
import type { StoreIo } from './store-commands';

interface Answer {
  type: 'accepted' | 'result' | 'done' | 'error';
  result?: OnDemandResult;
  error?: { code: number; message: string };
  fail?: number;
}

export function resultText(r: OnDemandResult): string {
  const parts = [`${r.meter} ${r.status}`];
  for (const reg of r.registers ?? []) parts.push(`${reg.name} ${reg.value} ${reg.unit}`);
  if (r.clock !== undefined) parts.push(`clock ${r.clock.meterTime === null ? 'not set' : new Date(r.clock.meterTime).toISOString()} (drift ${r.clock.driftMs === null ? '?' : (r.clock.driftMs / 1000).toFixed(1)} s)`);
  for (const [cls, p] of Object.entries(r.profiles ?? {})) parts.push(`${cls} +${p.inserted} rows (to ${new Date(p.collectedTo).toISOString()})`);
  if (r.reason !== undefined) parts.push(`reason: ${r.reason}`);
  if (r.observations.length > 0) parts.push(`observations: ${r.observations.join('; ')}`);
  parts.push(`${((r.finishedAt - r.requestedAt) / 1000).toFixed(1)} s`);
  return parts.join('  ');
}

function ask(stateDir: string, request: object, onAnswer: (a: Answer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(join(stateDir, SOCKET_FILE));
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const a = JSON.parse(buffer.slice(0, nl)) as Answer;
        buffer = buffer.slice(nl + 1);
        onAnswer(a);
        if (a.type === 'done' || a.type === 'error') {
          socket.end();
          resolve();
        }
      }
    });
    socket.on('close', () => resolve());
  });
}

export function registerRead(program: Command, onExit: (code: number) => void, io: StoreIo): void {
  program
    .command('read <serial...>')
    .description('an on-demand read by the running daemon on this box: EXE, WARN or FAIL per meter')
    .option('--what <list>', `comma-separated: ${READ_WHAT.join(', ')}`, 'registers,clock')
    .option('--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)')
    .option('--json', 'one JSON document per line, as the daemon answers')
    .action(async (serials: string[], opts: { what: string; state?: string; json?: boolean }) => {
      const stateDir = opts.state ?? io.env.DCU_STATE_DIR ?? '/var/lib/dcu';
      const what = opts.what.split(',').map((w) => w.trim()).filter((w) => w !== '');
      const bad = what.filter((w) => !(READ_WHAT as readonly string[]).includes(w));
      if (bad.length > 0) {
        io.err(`dcu read: --what ${bad.join(', ')} is not one of ${READ_WHAT.join(', ')}`);
        onExit(ExitCode.usage);
        return;
      }
      let code: number = ExitCode.ok;
      try {
        await ask(stateDir, { id: String(process.pid), cmd: 'read', meters: serials, what }, (a) => {
          if (opts.json === true) io.out(JSON.stringify(a));
          if (a.type === 'error') {
            if (opts.json !== true) io.err(`dcu read: ${a.error?.message ?? 'refused'}`);
            code = ExitCode.usage;
          } else if (a.type === 'result' && a.result !== undefined) {
            if (opts.json !== true) io.out(resultText(a.result));
          } else if (a.type === 'done' && (a.fail ?? 0) > 0) {
            code = ExitCode.meter;
          }
        });
      } catch (e) {
        io.err(`dcu read: the daemon is not reachable on ${join(stateDir, SOCKET_FILE)} (${(e as NodeJS.ErrnoException).code ?? String(e)}): is dcud running with this stateDir? (--state DIR)`);
        code = ExitCode.transport;
      }
      onExit(code);
    });
}
