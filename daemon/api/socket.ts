/**
 * The daemon's local socket on the box (`<stateDir>/dcud.sock`, mode 0660: file permissions
 * are the access control): newline-delimited JSON, one request per line, answers as lines
 * tagged with the request's id. It serves `dcu read`, `dcu plan` and `dcu jobs cancel`; the
 * HTTP API of the local-access issue will take over and keep the same job code paths. A
 * request's other fields are a job request (daemon/jobs/request.ts; `jobId` names the job).
 *
 *   → {"id":"1","cmd":"read","meters":["SIM000001"],"what":["registers","clock"]}
 *   ← {"id":"1","type":"accepted","job":"j-…","meters":1,"created":true}
 *   ← {"id":"1","type":"attempt","result":{…,"status":"FAIL",…}}       (failed, retried later)
 *   ← {"id":"1","type":"result","result":{"meter":"SIM000001","status":"EXE",…}}
 *   ← {"id":"1","type":"done","job":"j-…","state":"done","exe":1,"warn":0,"fail":0,"cancelled":0}
 *   → {"id":"2","cmd":"plan","lines":["plc0"],"what":["daily"],"window":["22:00-06:00"]}
 *   ← {"id":"2","type":"accepted",…}                                        (add "follow":true to stream)
 *   → {"id":"3","cmd":"cancel","job":"j-…"}     ← {"id":"3","type":"cancelled","job":"j-…","state":"cancelled"}
 *   → {"id":"4","cmd":"follow","job":"j-…"}     ← results as they come, then done
 *   → {"id":"5","cmd":"logs","since":"2026-12-01T10:00:00Z","level":"warn","limit":200,"follow":true}
 *   ← {"id":"5","type":"log","line":{"level":40,"time":…,"msg":"…",…}}   (kept lines, then new ones with follow)
 *   ← {"id":"5","type":"end"}                                               (without follow: after the kept lines)
 *   ← {"id":"1","type":"error","error":{"code":800,"message":"…"}}          (bad request: nothing queued)
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { DcuError, ErrorCode, isDcuError } from '../../protocol/common/errors';
import type { Logger } from '../../protocol/common/log';
import type { JobCounts, JobRecord, JobState } from '../../storage/jobs';
import type { JobEvent, Submitted } from '../jobs/scheduler';
import { isFirmwareCommand, runFirmwareCommand, type Firmware } from '../firmware/commands';
import { isLogLevelName, LOG_LEVELS, LogRing } from '../log-ring';
import { parseJsonLimited } from '../input-limits';

export const SOCKET_FILE = 'dcud.sock';
const MAX_REQUEST_BYTES = 256 * 1024;
const COMMANDS = ['read', 'plan', 'cancel', 'follow', 'logs'] as const;

/** What the socket needs of the scheduler. */
export interface SocketHandlers {
  submit(doc: unknown, source: string): Submitted;
  cancel(job: string): { found: boolean; state: JobState | undefined };
  on(listener: (e: JobEvent) => void): () => void;
  readonly jobs: { get(id: string): JobRecord | undefined; counts(id: string): JobCounts };
}

function doneMessage(id: string, job: string, state: JobState | undefined, c: JobCounts): object {
  return { id, type: 'done', job, state, exe: c.EXE, warn: c.WARN, fail: c.FAIL, cancelled: c.cancelled };
}

export function startLocalSocket(path: string, handlers: SocketHandlers, logger: Logger, firmware?: Firmware, logs: LogRing = new LogRing()): Promise<{ close(): Promise<void> }> {
  // A socket file left by a killed daemon: the state directory lock says we are the only one.
  if (existsSync(path)) unlinkSync(path);
  const subscriptions = new Set<() => void>();
  const connections = new Set<Socket>();

  const serve = (socket: Socket): void => {
    let buffer = '';
    connections.add(socket);
    const mine = new Set<() => void>();
    const send = (doc: object): void => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(doc)}\n`);
    };
    const fail = (id: string, e: unknown): void => {
      const err = isDcuError(e) ? e : new DcuError(ErrorCode.Internal, e instanceof Error ? e.message : String(e));
      send({ id, type: 'error', error: { code: err.code, message: err.message } });
    };
    /** Keeps an unsubscribe until the stream ends or the client leaves; returns what ends it. */
    const subscribe = (off: () => void): (() => void) => {
      const stop = (): void => {
        off();
        mine.delete(stop);
        subscriptions.delete(stop);
      };
      mine.add(stop);
      subscriptions.add(stop);
      return stop;
    };
    /** Streams a job's results to this connection until it ends (or the client leaves). */
    const follow = (id: string, job: string): void => {
      const off = handlers.on((e) => {
        if (e.job !== job) return;
        if (e.type === 'result') send({ id, type: e.final ? 'result' : 'attempt', result: e.result });
        else {
          send(doneMessage(id, job, e.state, e.counts));
          stop();
        }
      });
      const stop = subscribe(() => off());
      const j = handlers.jobs.get(job);
      if (j !== undefined && j.state !== 'queued' && j.state !== 'running') {
        send(doneMessage(id, job, j.state, handlers.jobs.counts(job)));
        stop();
      }
    };
    /** The kept log lines that match, then (follow) each new one until the client leaves. */
    const tail = (id: string, doc: Record<string, unknown>): void => {
      const { since, level, limit, follow: keep } = doc;
      if (level !== undefined && !isLogLevelName(level)) throw new DcuError(ErrorCode.Usage, `"level" is one of ${Object.keys(LOG_LEVELS).join(', ')}`);
      const from = since === undefined ? undefined : typeof since === 'string' ? Date.parse(since) : Number.NaN;
      if (from !== undefined && Number.isNaN(from)) throw new DcuError(ErrorCode.Usage, '"since" is an ISO date-time, e.g. 2026-12-01T10:00:00Z');
      const n = limit === undefined ? 200 : Number(limit);
      if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new DcuError(ErrorCode.Usage, '"limit" is a whole number from 1 to 10000');
      for (const l of logs.query({ ...(from === undefined ? {} : { since: from }), ...(level === undefined ? {} : { level }), limit: n })) send({ id, type: 'log', line: l });
      if (keep !== true) {
        send({ id, type: 'end' });
        return;
      }
      subscribe(logs.follow(level, (l) => send({ id, type: 'log', line: l })));
    };
    const handle = (line: string): void => {
      let doc: unknown;
      try {
        doc = parseJsonLimited(line, 'the request');
      } catch (e) {
        fail('', isDcuError(e) ? e : new DcuError(ErrorCode.Usage, 'the request is not JSON'));
        return;
      }
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
        fail('', new DcuError(ErrorCode.Usage, 'the request is not a JSON object'));
        return;
      }
      const { id: rawId, cmd, jobId, follow: wantsFollow, job, ...rest } = doc as Record<string, unknown>;
      const id = typeof rawId === 'string' ? rawId : '';
      try {
        if (cmd === 'read' || cmd === 'plan') {
          const request = { ...rest, kind: cmd, ...(jobId === undefined ? {} : { id: jobId }) };
          const s = handlers.submit(request, 'local');
          logger.info({ id, job: s.job.id, kind: cmd, meters: s.meters.length }, 'job requested on the local socket');
          send({ id, type: 'accepted', job: s.job.id, meters: s.meters.length, created: s.created });
          if (cmd === 'read' || wantsFollow === true) follow(id, s.job.id);
        } else if (cmd === 'cancel' || cmd === 'follow') {
          if (typeof job !== 'string') throw new DcuError(ErrorCode.Usage, `"${cmd}" needs "job": the job id`);
          if (cmd === 'follow') {
            if (handlers.jobs.get(job) === undefined) throw new DcuError(ErrorCode.Usage, `no job ${job}`);
            follow(id, job);
          } else {
            const r = handlers.cancel(job);
            if (!r.found) throw new DcuError(ErrorCode.Usage, `no job ${job}`);
            send({ id, type: 'cancelled', job, state: r.state });
          }
        } else if (cmd === 'logs') {
          tail(id, doc as Record<string, unknown>);
        } else if (isFirmwareCommand(cmd) && firmware !== undefined) {
          // fw-* (dcu firmware …): the same handlers as the HES commands.
          send({ id, ...runFirmwareCommand(firmware, cmd, { ...rest, ...(jobId === undefined ? {} : { id: jobId }) }, 'local') });
        } else {
          throw new DcuError(ErrorCode.Usage, `unknown command ${JSON.stringify(cmd)}; known: ${COMMANDS.join(', ')}`);
        }
      } catch (e) {
        fail(id, e);
      }
    };
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('close', () => {
      connections.delete(socket);
      for (const stop of [...mine]) stop();
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) {
        fail('', new DcuError(ErrorCode.Usage, `request over ${MAX_REQUEST_BYTES} bytes`));
        socket.end();
        return;
      }
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line !== '') handle(line);
      }
    });
  };
  const server: Server = createServer(serve);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      chmodSync(path, 0o660);
      resolve({
        close: () =>
          new Promise<void>((done) => {
            for (const stop of [...subscriptions]) stop();
            server.close(() => done());
            for (const c of connections) c.end();
          }),
      });
    });
  });
}
