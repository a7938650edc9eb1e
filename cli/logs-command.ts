/**
 * `dcu logs [--follow] [--since WHEN] [--level LEVEL] [--limit N]`: the running daemon's
 * recent log lines (it keeps the last ~2000 in memory; journald has them all), then with
 * --follow each new one until Ctrl-C. On the box through the daemon's local socket (file
 * permissions are the access), with --host through the API (GET /api/v1/logs, operator).
 * Lines for people (`2026-12-01 10:30:00.123 WARN  msg  key=value`), --json the daemon's raw
 * pino JSON lines. Exit 0 (Ctrl-C on --follow included), 2 bad flags, 3 daemon not reachable,
 * 4 token refused.
 */
import type { Command } from 'commander';
import { parseDuration } from '../config/units';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { prettyLine } from '../daemon/log-pretty';
import { isLogLevelName, LOG_LEVELS } from '../daemon/log-ring';
import { callLines } from './api-client';
import { ask, notReachable, type Answer } from './daemon-socket';
import { ExitCode } from '../common/exit-codes';
import { query, remoteOf, runAsync } from './remote-commands';
import { stateDirOf, type StoreIo } from './store-commands';

interface LogsOptions {
  follow?: boolean;
  since?: string;
  level?: string;
  limit: string;
  state?: string;
  json?: boolean;
}

/** --since: a duration back from now (10m, 2h, 1d) or an ISO date-time; as ISO for the daemon. */
export function sinceInstant(text: string | undefined, now: number): string | undefined {
  if (text === undefined) return undefined;
  const back = parseDuration(text.trim());
  if (back !== undefined) return new Date(now - back).toISOString();
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new DcuError(ErrorCode.Usage, `--since takes a duration back from now (10m, 2h, 1d) or an ISO date-time (2026-12-01T10:00:00Z); got "${text}"`);
  return new Date(at).toISOString();
}

/** One log line for a person: the date, then pino's line as `dcu probe --verbose` shows it. */
export function logText(line: Record<string, unknown>, colour = false): string {
  const time = typeof line.time === 'number' ? new Date(line.time) : undefined;
  const p = (n: number): string => String(n).padStart(2, '0');
  const date = time === undefined ? '----------' : `${time.getFullYear()}-${p(time.getMonth() + 1)}-${p(time.getDate())}`;
  return `${date} ${prettyLine(JSON.stringify(line), colour)}`;
}

export function registerLogs(program: Command, onExit: (code: number) => void, io: StoreIo): void {
  program
    .command('logs')
    .description("the running daemon's recent log lines; --follow stays and prints new ones until Ctrl-C (operator over --host)")
    .option('--follow', 'stay and print each new line until Ctrl-C')
    .option('--since <when>', 'only lines since: a duration back from now (10m, 2h) or an ISO date-time')
    .option('--level <level>', `least level: ${Object.keys(LOG_LEVELS).join(', ')}`)
    .option('--limit <n>', 'at most this many of the kept lines (the newest)', '200')
    .option('--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)')
    .option('--json', "the daemon's JSON lines as they are (NDJSON)")
    .action(async (opts: LogsOptions, cmd: Command) => {
      let request: { since?: string; level?: string; limit: number; follow: boolean };
      try {
        if (opts.level !== undefined && !isLogLevelName(opts.level)) throw new DcuError(ErrorCode.Usage, `--level is one of ${Object.keys(LOG_LEVELS).join(', ')}; got "${opts.level}"`);
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new DcuError(ErrorCode.Usage, `--limit is a whole number from 1 to 10000; got "${opts.limit}"`);
        const since = sinceInstant(opts.since, Date.now());
        request = { ...(since === undefined ? {} : { since }), ...(opts.level === undefined ? {} : { level: opts.level }), limit, follow: opts.follow === true };
      } catch (e) {
        io.err(`dcu logs: ${e instanceof Error ? e.message : String(e)}`);
        onExit(ExitCode.usage);
        return;
      }
      const colour = process.stdout.isTTY && io.env.NO_COLOR === undefined;
      const print = (line: Record<string, unknown>): void => io.out(opts.json === true ? JSON.stringify(line) : logText(line, colour));
      // Ctrl-C ends a --follow: the normal way out, exit 0
      const stop = new AbortController();
      const onSigint = (): void => stop.abort();
      process.once('SIGINT', onSigint);
      try {
        const remote = remoteOf(cmd, io.env);
        if (remote !== undefined) {
          await runAsync(io, onExit, async () => {
            try {
              await callLines(remote, { method: 'GET', path: `/api/v1/logs${query(request)}`, signal: stop.signal }, (text) => print(JSON.parse(text) as Record<string, unknown>));
            } catch (e) {
              if (!stop.signal.aborted) throw e;
            }
          });
          return;
        }
        const stateDir = stateDirOf(opts, io.env);
        let code: number = ExitCode.ok;
        try {
          await ask(
            stateDir,
            { cmd: 'logs', ...request },
            (a: Answer) => {
              if (a.type === 'log' && a.line !== undefined) print(a.line);
              else if (a.type === 'error') {
                io.err(`dcu logs: ${a.error?.message ?? 'refused'}`);
                code = ExitCode.usage;
              }
            },
            (a) => a.type === 'end',
            stop.signal,
          );
        } catch (e) {
          io.err(notReachable('dcu logs', stateDir, e));
          code = ExitCode.transport;
        }
        onExit(code);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
