/**
 * An NDJSON answer that stays open while something happens in the daemon (a job's results,
 * new log lines): one JSON document per line, written as it comes, chunked. It ends when the
 * route says so, when the client leaves, or when the server closes (ctx.streams).
 */
import type { FastifyReply } from 'fastify';
import { PassThrough } from 'node:stream';
import type { JobState } from '../../storage/jobs';
import type { ApiContext } from './context';

export interface NdjsonStream {
  send(doc: object): void;
  /** Ends the answer and runs the route's clean-up once. */
  end(): void;
  /** Clean-up to run at the end (unsubscribe). */
  onEnd(fn: () => void): void;
  /** Hands the stream to fastify as the answer. */
  reply(): FastifyReply;
}

export function ndjson(ctx: ApiContext, reply: FastifyReply): NdjsonStream {
  const out = new PassThrough();
  const cleanups: (() => void)[] = [];
  const end = (): void => {
    if (out.writableEnded) return;
    ctx.streams.delete(end);
    for (const fn of cleanups.splice(0)) fn();
    out.end();
  };
  ctx.streams.add(end);
  reply.raw.on('close', end); // the client left: whatever runs goes on, nobody listens
  return {
    send: (doc) => {
      if (!out.writableEnded) out.write(`${JSON.stringify(doc)}\n`);
    },
    end,
    onEnd: (fn) => {
      if (out.writableEnded) fn();
      else cleanups.push(fn);
    },
    reply: () => reply.type('application/x-ndjson').send(out),
  };
}

/**
 * Streams a job as the local socket does: results (`attempt` for a failed try that will be
 * retried, `result` per meter) as they come, then `done` with the counts. Subscribed in the
 * same tick as the job was submitted, so no result is missed.
 */
export function streamJob(ctx: ApiContext, s: NdjsonStream, job: string): void {
  const { scheduler, jobs } = ctx.deps;
  const done = (state: JobState | undefined): void => {
    const c = jobs.counts(job);
    s.send({ type: 'done', job, state, exe: c.EXE, warn: c.WARN, fail: c.FAIL, cancelled: c.cancelled });
    s.end();
  };
  s.onEnd(
    scheduler.on((e) => {
      if (e.job !== job) return;
      if (e.type === 'result') s.send({ type: e.final ? 'result' : 'attempt', result: e.result });
      else done(e.state);
    }),
  );
  const now = jobs.get(job);
  if (now !== undefined && now.state !== 'queued' && now.state !== 'running') done(now.state);
}
