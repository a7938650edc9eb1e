/**
 * The remote path (`--host`) of the commands that work on the box without the API: meters
 * list|show, export, read, plan, jobs list|show|cancel. Same output as on the box: the same
 * tables, the same CSV, the same NDJSON answers for --json.
 */
import type { Command } from 'commander';
import { iso } from '../daemon/export';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { callJson, callLines, describeTarget, remoteTarget, type ApiTarget, type GlobalOptions } from './api-client';
import type { Answer } from './daemon-socket';
import { ExitCode, exitCodeFor } from '../common/exit-codes';
import type { Progress } from './progress';
import { table } from '../common/render';

interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}
type Exit = (code: number) => void;

/** The remote API when --host (or DCU_HOST) is given; undefined keeps the command on the box. */
export function remoteOf(cmd: Command, env: NodeJS.ProcessEnv): ApiTarget | undefined {
  return remoteTarget(cmd.optsWithGlobals<GlobalOptions>(), env);
}

/** Runs a remote command: its exit code when it returns a number, else 0; a typed error's code. */
export async function runAsync(io: Io, onExit: Exit, fn: () => Promise<unknown>): Promise<void> {
  try {
    const code = await fn();
    onExit(typeof code === 'number' ? code : ExitCode.ok);
  } catch (e) {
    io.err(`dcu: ${e instanceof Error ? e.message : String(e)}`);
    onExit(exitCodeFor(e));
  }
}

export const query = (params: Record<string, string | number | boolean | undefined>): string => {
  const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string | number | boolean] => e[1] !== undefined).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return s === '' ? '' : `?${s}`;
};

interface MeterDoc {
  serial: string;
  line: string;
  address: string;
  state: { stage: string; reachability: string; lastSeen: number | null; identity: { firmwareId?: string }; lastError: string | null };
}

export async function remoteMetersList(t: ApiTarget, json: boolean, io: Io): Promise<void> {
  const { meters } = await callJson<{ meters: MeterDoc[] }>(t, { method: 'GET', path: '/api/v1/meters' });
  io.out(
    json
      ? JSON.stringify(meters, null, 2)
      : table(
          ['serial', 'line', 'address', 'stage', 'reachability', 'last seen', 'firmware', 'last error'],
          meters.map((m) => [m.serial, m.line, m.address, m.state.stage, m.state.reachability, iso(m.state.lastSeen), m.state.identity.firmwareId ?? '-', m.state.lastError ?? '']),
        ) + `\n${meters.length} meter(s)`,
  );
}

export async function remoteMetersShow(t: ApiTarget, serial: string, json: boolean, io: Io): Promise<void> {
  const doc = await callJson<Record<string, unknown>>(t, { method: 'GET', path: `/api/v1/meters/${encodeURIComponent(serial)}` });
  io.out(json ? JSON.stringify(doc, null, 2) : Object.entries(doc).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v as string}`).join('\n'));
}

/** Streams an export to stdout; the progress line (bytes, rows) counts as it comes. */
export async function remoteExport(t: ApiTarget, o: { from: string; to: string; meters?: string; class: string; format: string }, io: Io, bar?: Progress): Promise<void> {
  const path = `/api/v1/export${query({ from: o.from, to: o.to, class: o.class, format: o.format, meters: o.meters?.replace(/\s/g, '') })}`;
  let bytes = 0;
  let lines = 0;
  try {
    await callLines(t, { method: 'GET', path }, (line) => {
      io.out(line);
      bytes += Buffer.byteLength(line) + 1;
      lines++;
      bar?.update({ done: bytes, unit: 'bytes', ...(o.format === 'csv' ? { detail: `${Math.max(0, lines - 1)} rows` } : {}) });
    });
  } finally {
    bar?.finish();
  }
}

/** Streams a job's NDJSON answers (read, plan --follow) to `onAnswer`; the exit code from `done`. */
export async function remoteJob(t: ApiTarget, kind: 'read' | 'plan', body: Record<string, unknown>, onAnswer: (a: Answer) => void, follow = false): Promise<number> {
  let code: number = ExitCode.ok;
  let ended = false as boolean; // set by handle()
  const handle = (a: Answer): void => {
    if (a.type === 'done') ended = true;
    if (a.type === 'done' && (a.fail ?? 0) + (a.cancelled ?? 0) > 0) code = ExitCode.meter;
    onAnswer(a);
  };
  if (kind === 'read' || follow) {
    await callLines(t, { method: 'POST', path: kind === 'read' ? '/api/v1/read' : '/api/v1/plan?follow=true', body }, (line) => handle(JSON.parse(line) as Answer));
    if (!ended) throw new DcuError(ErrorCode.TransportVanished, `the concentrator at ${describeTarget(t)} ended the answer before the job did (restarted?); the job goes on: see dcu jobs list / dcu jobs show ID`);
  } else handle({ type: 'accepted', ...(await callJson<{ job: string; meters: number; created: boolean }>(t, { method: 'POST', path: '/api/v1/plan', body })) });
  return code;
}

interface JobDoc {
  id: string;
  kind: string;
  source: string;
  priority: string;
  state: string;
  createdAt: number;
  deadline: number | null;
  finishedAt: number | null;
  request: unknown;
  counts: Record<'queued' | 'running' | 'EXE' | 'WARN' | 'FAIL' | 'cancelled', number>;
  meters?: { meter: string; state: string; attempts: number; nextAt: number | null; reason: string | null }[];
}

export async function remoteJobsList(t: ApiTarget, o: { status?: string; limit: string; json?: boolean }, io: Io): Promise<void> {
  const { jobs } = await callJson<{ jobs: JobDoc[] }>(t, { method: 'GET', path: `/api/v1/jobs${query({ state: o.status, limit: o.limit })}` });
  if (o.json === true) io.out(JSON.stringify(jobs, null, 2));
  else io.out(table(['job', 'kind', 'source', 'priority', 'state', 'created', 'queued', 'running', 'EXE', 'WARN', 'FAIL', 'cancelled'], jobs.map((j) => [j.id, j.kind, j.source, j.priority, j.state, iso(j.createdAt), j.counts.queued, j.counts.running, j.counts.EXE, j.counts.WARN, j.counts.FAIL, j.counts.cancelled].map(String))) + `\n${jobs.length} job(s)`);
}

export async function remoteJobsShow(t: ApiTarget, id: string, json: boolean, io: Io): Promise<void> {
  const job = await callJson<JobDoc>(t, { method: 'GET', path: `/api/v1/jobs/${encodeURIComponent(id)}` });
  if (json) {
    io.out(JSON.stringify(job, null, 2));
    return;
  }
  io.out(`${job.id}  ${job.kind} (${job.source}, ${job.priority})  ${job.state}\nrequest: ${JSON.stringify(job.request)}\ncreated ${iso(job.createdAt)}  deadline ${iso(job.deadline)}  finished ${iso(job.finishedAt)}`);
  io.out(table(['meter', 'state', 'attempts', 'next attempt', 'reason'], (job.meters ?? []).map((m) => [m.meter, m.state, String(m.attempts), m.state === 'queued' ? iso(m.nextAt) : '-', m.reason ?? ''])));
}

export async function remoteJobsCancel(t: ApiTarget, id: string, io: Io): Promise<void> {
  const r = await callJson<{ job: string; state: string }>(t, { method: 'POST', path: `/api/v1/jobs/${encodeURIComponent(id)}/cancel` });
  io.out(`${r.job} ${r.state}`);
}
