/**
 * `dcu meters list|show` and `dcu export`: the technician's view of the concentrator's store
 * on the box, when the WAN is down. Read-only SQLite access (WAL): it never blocks the daemon
 * and never changes the store.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { DcuError, ErrorCode, isDcuError } from '../protocol/common/errors';
import { openStore, type Db } from '../storage/db';
import { MeterRepository } from '../storage/meters';
import { STORE_FILE } from '../daemon/dcud';
import { csvCell, EXPORT_CLASSES, exportQuery, iso, meterJson, type ExportClass } from '../daemon/export';
import { ExitCode, exitCodeFor } from '../common/exit-codes';
import { progressFor } from './progress';
import { remoteExport, remoteMetersList, remoteMetersShow, remoteOf, runAsync } from './remote-commands';
import { describeInstant, parseRange } from '../common/instant';
import { table } from '../common/render';

export { EXPORT_CLASSES, iso, meterJson };

export interface StoreIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}


export const stateDirOf = (opts: { state?: string }, env: NodeJS.ProcessEnv): string => opts.state ?? env.DCU_STATE_DIR ?? '/var/lib/dcu';

export function openReadOnly(stateDir: string): Db {
  try {
    return openStore(join(stateDir, STORE_FILE), { readonly: true });
  } catch (e) {
    if (isDcuError(e) && e.code === ErrorCode.Storage) {
      throw new DcuError(ErrorCode.Storage, `no concentrator store in ${stateDir} (${STORE_FILE}): give --state DIR, the daemon's stateDir`, { cause: e });
    }
    throw e;
  }
}


export function run(io: StoreIo, onExit: (code: number) => void, fn: () => void): void {
  try {
    fn();
    onExit(ExitCode.ok);
  } catch (e) {
    io.err(`dcu: ${e instanceof Error ? e.message : String(e)}`);
    onExit(exitCodeFor(e));
  }
}

export function registerStoreCommands(program: Command, onExit: (code: number) => void, io: StoreIo): void {
  const meters = program.command('meters').description("the concentrator's meters and their states (read from the store on this box)");
  meters
    .command('list')
    .description('every registered meter: line, address, stage, reachability, last seen')
    .option('--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)')
    .option('--json', 'print one JSON document')
    .action((opts: { state?: string; json?: boolean }, cmd: Command) => {
      const remote = remoteOf(cmd, io.env);
      if (remote !== undefined) return runAsync(io, onExit, () => remoteMetersList(remote, opts.json === true, io));
      return run(io, onExit, () => {
        const db = openReadOnly(stateDirOf(opts, io.env));
        try {
          const list = new MeterRepository(db).list();
          io.out(
            opts.json === true
              ? JSON.stringify(list.map(meterJson), null, 2)
              : table(
                  ['serial', 'line', 'address', 'stage', 'reachability', 'last seen', 'firmware', 'last error'],
                  list.map((m) => [m.serial, m.line, m.address, m.state.stage, m.state.reachability, iso(m.state.lastSeen), m.state.identity.firmwareId ?? '-', m.state.lastError ?? '']),
                ) + `\n${list.length} meter(s)`,
          );
        } finally {
          db.close();
        }
      });
    });
  meters
    .command('show <serial>')
    .description('one meter: access (credentials not shown), state, identity, watermarks')
    .option('--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)')
    .option('--json', 'print one JSON document')
    .action((serial: string, opts: { state?: string; json?: boolean }, cmd: Command) => {
      const remote = remoteOf(cmd, io.env);
      if (remote !== undefined) return runAsync(io, onExit, () => remoteMetersShow(remote, serial, opts.json === true, io));
      return run(io, onExit, () => {
        const db = openReadOnly(stateDirOf(opts, io.env));
        try {
          const m = new MeterRepository(db).get(serial);
          if (m === undefined) throw new DcuError(ErrorCode.Usage, `meter ${serial} is not registered (dcu meters list shows the registered ones)`);
          const marks = db.prepare('SELECT profile, collected_to FROM watermarks WHERE meter = ? ORDER BY profile').all(serial) as { profile: string; collected_to: number }[];
          const doc = { ...meterJson(m), watermarks: Object.fromEntries(marks.map((w) => [w.profile, iso(w.collected_to)])) };
          io.out(opts.json === true ? JSON.stringify(doc, null, 2) : Object.entries(doc).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n'));
        } finally {
          db.close();
        }
      });
    });
  program
    .command('export')
    .description('stored data for a time range as CSV or JSON (works while the WAN is down)')
    .requiredOption('--from <iso>', 'start, ISO date-time (no offset: local time)')
    .requiredOption('--to <iso>', 'end, inclusive')
    .option('--meters <serials>', 'comma-separated serial numbers (default: all)')
    .option('--class <class>', `data class: ${EXPORT_CLASSES.join(', ')}`, 'load-profile')
    .option('--format <format>', 'csv or json', 'csv')
    .option('--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)')
    .action((opts: { from: string; to: string; meters?: string; class: string; format: string; state?: string }, cmd: Command) => {
      const remote = remoteOf(cmd, io.env);
      // the progress line only when the data goes to a file or a pipe, not between its lines on the terminal
      if (remote !== undefined) return runAsync(io, onExit, () => remoteExport(remote, opts, io, progressFor('export', { json: process.stdout.isTTY, env: io.env })));
      return run(io, onExit, () => {
        const range = parseRange(opts.from, opts.to);
        if (range === undefined) throw new DcuError(ErrorCode.Usage, '--from and --to are required');
        if (!(EXPORT_CLASSES as readonly string[]).includes(opts.class)) throw new DcuError(ErrorCode.Usage, `--class is one of ${EXPORT_CLASSES.join(', ')}; got "${opts.class}"`);
        if (opts.format !== 'csv' && opts.format !== 'json') throw new DcuError(ErrorCode.Usage, `--format is csv or json; got "${opts.format}"`);
        const db = openReadOnly(stateDirOf(opts, io.env));
        try {
          const meterList = opts.meters?.split(',').map((s) => s.trim()).filter((s) => s !== '');
          const { header, rows } = exportQuery(db, opts.class as ExportClass, range.from.ms, range.to.ms, meterList);
          // streamed from SQLite in chunks (flat memory however long the range), with a progress line when stdout is a file or a pipe
          const bar = progressFor('export', { json: process.stdout.isTTY, env: io.env });
          const json = opts.format === 'json';
          // JSON: one row per line, each after the first led by its comma, so it streams
          let lines = [json ? `{"class":${JSON.stringify(opts.class)},"from":${JSON.stringify(describeInstant(range.from))},"to":${JSON.stringify(describeInstant(range.to))},"columns":${JSON.stringify(header)},"rows":[` : header.map(csvCell).join(',')];
          let count = 0;
          let bytes = 0;
          const flush = (): void => {
            const text = lines.join('\n');
            bytes += Buffer.byteLength(text) + 1;
            io.out(text);
            lines = [];
          };
          try {
            for (const r of rows) {
              lines.push(json ? `${count === 0 ? '' : ','}${JSON.stringify(r)}` : r.map(csvCell).join(','));
              if (++count % 1000 === 0) {
                flush();
                bar.update({ done: bytes, unit: 'bytes', detail: `${count} rows` });
              }
            }
            if (json) lines.push(']}');
            if (lines.length > 0) flush();
          } finally {
            bar.finish();
          }
          if (range.from.local) io.err(`dcu: range ${describeInstant(range.from)} .. ${describeInstant(range.to)}`);
        } finally {
          db.close();
        }
      });
    });
}
