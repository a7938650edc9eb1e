/**
 * `dcu plan` (a mass plan: meters × commands × window × deadline × retries, queued in the
 * running daemon) and `dcu jobs list|show|cancel`. list/show read the store on this box
 * (read-only, works while the daemon runs or not); plan and cancel go through the daemon's
 * local socket, or the API with --host (`plan --follow` streams there too). With --follow on a
 * terminal a progress line (meters done / total) stays below the results. Exit 0 ok, 2 bad
 * request, 3 daemon not reachable, 4 token refused, 5 a meter failed or was cancelled (--follow).
 */
import type { Command } from 'commander';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { JobStore, type JobState } from '../storage/jobs';
import { READ_WHAT } from '../daemon/jobs/request';
import { ask, notReachable, socketPath, type Answer } from './daemon-socket';
import { ExitCode } from '../common/exit-codes';
import { progressFor, type Progress } from './progress';
import { aboveBar, jobProgress, resultText } from './read-command';
import { remoteJob, remoteJobsCancel, remoteJobsList, remoteJobsShow, remoteOf, runAsync } from './remote-commands';
import { table } from '../common/render';
import { iso, openReadOnly, run, stateDirOf, type StoreIo } from './store-commands';

const JOB_STATES: readonly JobState[] = ['queued', 'running', 'done', 'cancelled', 'expired'];
const list = (text: string | undefined): string[] | undefined => text?.split(',').map((s) => s.trim()).filter((s) => s !== '');

interface PlanOptions {
  meters?: string;
  lines?: string;
  all?: boolean;
  what: string;
  window?: string;
  notBefore?: string;
  deadline?: string;
  retries?: string;
  retryInterval?: string;
  priority?: string;
  id?: string;
  follow?: boolean;
  state?: string;
  json?: boolean;
}

/** The plan request as the daemon validates it (daemon/jobs/request.ts). */
export function planRequest(o: PlanOptions): Record<string, unknown> {
  const retries = o.retries === undefined ? undefined : Number(o.retries);
  if (retries !== undefined && !Number.isInteger(retries)) throw new DcuError(ErrorCode.Usage, `--retries must be a whole number; got "${o.retries ?? ''}"`);
  const doc: Record<string, unknown> = {
    cmd: 'plan',
    what: list(o.what),
    meters: list(o.meters),
    lines: list(o.lines),
    all: o.all,
    window: list(o.window),
    notBefore: o.notBefore,
    deadline: o.deadline,
    retries,
    retryInterval: o.retryInterval,
    priority: o.priority,
    jobId: o.id,
    follow: o.follow,
  };
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined));
}

async function viaSocket(io: StoreIo, onExit: (code: number) => void, command: string, stateDir: string, request: object, last: (a: Answer) => boolean, print: (a: Answer) => void, bar?: Progress): Promise<void> {
  let code: number = ExitCode.ok;
  let ended = false as boolean; // set by the answer handler
  try {
    await ask(
      stateDir,
      request,
      (a) => {
        ended ||= a.type === 'error' || last(a);
        if (a.type === 'error') {
          bar?.finish();
          io.err(`${command}: ${a.error?.message ?? 'refused'}`);
          code = ExitCode.usage;
          return;
        }
        if (a.type === 'done' && (a.fail ?? 0) + (a.cancelled ?? 0) > 0) code = ExitCode.meter;
        print(a);
      },
      last,
    );
    if (!ended) {
      bar?.finish();
      io.err(`${command}: the daemon closed ${socketPath(stateDir)} before the answer ended (stopped?)`);
      code = ExitCode.transport;
    }
  } catch (e) {
    bar?.finish();
    io.err(notReachable(command, stateDir, e));
    code = ExitCode.transport;
  }
  bar?.finish();
  onExit(code);
}

export function registerJobs(program: Command, onExit: (code: number) => void, io: StoreIo): void {
  program
    .command('plan')
    .description('queue a mass plan in the running daemon: commands over meters within a time window, with retries')
    .requiredOption('--what <list>', `comma-separated commands: ${READ_WHAT.join(', ')} or CLASS:OBIS:ATTR`)
    .option('--meters <serials>', 'comma-separated serial numbers')
    .option('--lines <names>', 'every meter on these lines')
    .option('--all', 'every registered meter')
    .option('--window <list>', 'daily windows, e.g. 22:00-06:00 (concentrator time zone)')
    .option('--not-before <iso>', 'no attempt before this instant')
    .option('--deadline <when>', 'ISO instant or a duration from now (default 1d)')
    .option('--retries <n>', 'attempts after the first, per meter (default 3)')
    .option('--retry-interval <duration>', 'first pause before a retry, doubling (default 15m)')
    .option('--priority <class>', 'on-demand, firmware, scheduled (default) or background')
    .option('--id <id>', 'job id (a re-sent plan with the same id is the same job)')
    .option('--follow', 'stay and print each meter result until the plan ends')
    .option('--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)')
    .option('--json', 'one JSON document per line, as the daemon answers')
    .action(async (opts: PlanOptions, cmd: Command) => {
      let request;
      try {
        request = planRequest(opts);
      } catch (e) {
        io.err(`dcu plan: ${e instanceof Error ? e.message : String(e)}`);
        onExit(ExitCode.usage);
        return;
      }
      const bar = progressFor('plan', { json: opts.json === true || opts.follow !== true, env: io.env });
      const track = jobProgress(bar);
      const show = aboveBar(io, bar);
      const print = (a: Answer): void => {
        track(a);
        if (opts.json === true) show.out(JSON.stringify(a));
        else if (a.type === 'accepted') show.out(`${a.job ?? '?'} ${a.created === false ? 'exists already' : 'queued'}: ${a.meters ?? 0} meter(s)`);
        else if (a.type === 'result' && a.result !== undefined) show.out(resultText(a.result));
        else if (a.type === 'done') show.out(`${a.job ?? ''} ${a.state ?? ''}: ${a.exe ?? 0} EXE, ${a.warn ?? 0} WARN, ${a.fail ?? 0} FAIL, ${a.cancelled ?? 0} cancelled`);
      };
      const remote = remoteOf(cmd, io.env);
      if (remote !== undefined) {
        // over the API: POST /api/v1/plan, with ?follow=true answered as NDJSON until the plan ends
        const body = Object.fromEntries(Object.entries(request).filter(([k]) => k !== 'cmd' && k !== 'follow').map(([k, v]) => [k === 'jobId' ? 'id' : k, v]));
        await runAsync(io, onExit, () => remoteJob(remote, 'plan', body, print, opts.follow === true).finally(() => bar.finish()));
        return;
      }
      await viaSocket(io, onExit, 'dcu plan', stateDirOf(opts, io.env), request, (a) => (opts.follow === true ? a.type === 'done' : a.type === 'accepted'), print, bar);
    });

  const jobs = program.command('jobs').description('jobs of the concentrator (reads, plans): list, show, cancel');
  jobs
    .command('list')
    .description('the newest jobs with their per-meter counts (read from the store on this box)')
    .option('--status <state>', `only jobs in this state: ${JOB_STATES.join(', ')}`)
    .option('--limit <n>', 'at most this many', '50')
    .option('--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)')
    .option('--json', 'print one JSON document')
    .action((opts: { status?: string; limit: string; state?: string; json?: boolean }, cmd: Command) => {
      const remote = remoteOf(cmd, io.env);
      if (remote !== undefined) return runAsync(io, onExit, () => remoteJobsList(remote, opts, io));
      return run(io, onExit, () => {
        if (opts.status !== undefined && !(JOB_STATES as readonly string[]).includes(opts.status)) throw new DcuError(ErrorCode.Usage, `--status is one of ${JOB_STATES.join(', ')}; got "${opts.status}"`);
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new DcuError(ErrorCode.Usage, `--limit must be a positive whole number; got "${opts.limit}"`);
        const db = openReadOnly(stateDirOf(opts, io.env));
        try {
          const store = new JobStore(db);
          const found = store.list({ ...(opts.status === undefined ? {} : { state: opts.status as JobState }), limit }).map((j) => ({ ...j, counts: store.counts(j.id) }));
          if (opts.json === true) io.out(JSON.stringify(found, null, 2));
          else
            io.out(
              table(
                ['job', 'kind', 'source', 'priority', 'state', 'created', 'queued', 'running', 'EXE', 'WARN', 'FAIL', 'cancelled'],
                found.map((j) => [j.id, j.kind, j.source, j.priority, j.state, iso(j.createdAt), j.counts.queued, j.counts.running, j.counts.EXE, j.counts.WARN, j.counts.FAIL, j.counts.cancelled].map(String)),
              ) + `\n${found.length} job(s)`,
            );
        } finally {
          db.close();
        }
      });
    });
  jobs
    .command('show <id>')
    .description('one job: its request and each meter with state, attempts, next attempt and result')
    .option('--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)')
    .option('--json', 'print one JSON document')
    .action((id: string, opts: { state?: string; json?: boolean }, cmd: Command) => {
      const remote = remoteOf(cmd, io.env);
      if (remote !== undefined) return runAsync(io, onExit, () => remoteJobsShow(remote, id, opts.json === true, io));
      return run(io, onExit, () => {
        const db = openReadOnly(stateDirOf(opts, io.env));
        try {
          const store = new JobStore(db);
          const job = store.get(id);
          if (job === undefined) throw new DcuError(ErrorCode.Usage, `no job ${id} (dcu jobs list shows them)`);
          const meters = store.meters(id);
          if (opts.json === true) {
            io.out(JSON.stringify({ ...job, counts: store.counts(id), meters }, null, 2));
            return;
          }
          io.out(`${job.id}  ${job.kind} (${job.source}, ${job.priority})  ${job.state}\nrequest: ${JSON.stringify(job.request)}\ncreated ${iso(job.createdAt)}  deadline ${iso(job.deadline)}  finished ${iso(job.finishedAt)}`);
          io.out(table(['meter', 'state', 'attempts', 'next attempt', 'reason'], meters.map((m) => [m.meter, m.state, String(m.attempts), m.state === 'queued' ? iso(m.nextAt) : '-', m.reason ?? ''])));
        } finally {
          db.close();
        }
      });
    });
  jobs
    .command('cancel <id>')
    .description('cancel a job in the running daemon: queued meters end now, a running one after its request in flight')
    .option('--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)')
    .action(async (id: string, opts: { state?: string }, cmd: Command) => {
      const remote = remoteOf(cmd, io.env);
      if (remote !== undefined) return runAsync(io, onExit, () => remoteJobsCancel(remote, id, io));
      await viaSocket(io, onExit, 'dcu jobs cancel', stateDirOf(opts, io.env), { cmd: 'cancel', job: id }, (a) => a.type === 'cancelled', (a) => io.out(`${a.job ?? id} ${a.state ?? ''}`));
    });
}
