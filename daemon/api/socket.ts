/**
 * The daemon's local socket on the box (`<stateDir>/dcud.sock`, mode 0660: file permissions
 * are the access control): newline-delimited JSON, one request per line, answers as lines
 * tagged with the request's id. Today it serves on-demand reads for `dcu read`; the HTTP API
 * of the local-access issue will take over and keep the same job code paths.
 *
 *   → {"id":"1","cmd":"read","meters":["SIM000001"],"what":["registers","clock"]}
 *   ← {"id":"1","type":"accepted","meters":1}
 *   ← {"id":"1","type":"result","result":{"meter":"SIM000001","status":"EXE",…}}
 *   ← {"id":"1","type":"done","exe":1,"warn":0,"fail":0}
 *   ← {"id":"1","type":"error","error":{"code":800,"message":"…"}}   (bad request: nothing run)
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import type { Logger } from '../../protocol/common/log';
import { READ_WHAT, type OnDemandResult, type ReadWhat } from '../jobs/on-demand';

export const SOCKET_FILE = 'dcud.sock';
const MAX_REQUEST_BYTES = 64 * 1024;

export interface SocketHandlers {
  read(serial: string, what: readonly ReadWhat[]): Promise<OnDemandResult>;
  isRegistered(serial: string): boolean;
}

interface ReadRequest {
  readonly id: string;
  readonly meters: readonly string[];
  readonly what: readonly ReadWhat[];
}

function parseRequest(line: string, isRegistered: (s: string) => boolean): ReadRequest | { id: string; error: DcuError } {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return { id: '', error: new DcuError(ErrorCode.Usage, 'the request is not JSON') };
  }
  const o = (doc ?? {}) as Record<string, unknown>;
  const id = typeof o.id === 'string' ? o.id : '';
  const bad = (message: string): { id: string; error: DcuError } => ({ id, error: new DcuError(ErrorCode.Usage, message) });
  if (o.cmd !== 'read') return bad(`unknown command ${JSON.stringify(o.cmd)}; known: read`);
  if (!Array.isArray(o.meters) || o.meters.length === 0 || !o.meters.every((m) => typeof m === 'string')) return bad('"meters" must be a non-empty list of serial numbers');
  const meters = o.meters;
  const unknown = meters.filter((m) => !isRegistered(m));
  if (unknown.length > 0) return bad(`not registered: ${unknown.join(', ')}`);
  const what = o.what === undefined ? ['registers', 'clock'] : o.what;
  if (!Array.isArray(what) || what.length === 0 || !what.every((w) => (READ_WHAT as readonly unknown[]).includes(w))) return bad(`"what" is a list of ${READ_WHAT.join(', ')}`);
  return { id, meters, what: what as ReadWhat[] };
}

export function startLocalSocket(path: string, handlers: SocketHandlers, logger: Logger): Promise<{ close(): Promise<void> }> {
  // A socket file left by a killed daemon: the state directory lock says we are the only one.
  if (existsSync(path)) unlinkSync(path);
  const serve = (socket: Socket): void => {
    let buffer = '';
    const send = (doc: object): void => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(doc)}\n`);
    };
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) {
        send({ id: '', type: 'error', error: { code: ErrorCode.Usage, message: `request over ${MAX_REQUEST_BYTES} bytes` } });
        socket.end();
        return;
      }
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line === '') continue;
        const req = parseRequest(line, (s) => handlers.isRegistered(s));
        if ('error' in req) {
          send({ id: req.id, type: 'error', error: { code: req.error.code, message: req.error.message } });
          continue;
        }
        logger.info({ id: req.id, meters: req.meters.length, what: req.what }, 'on-demand read requested');
        send({ id: req.id, type: 'accepted', meters: req.meters.length });
        void Promise.all(
          req.meters.map(async (serial) => {
            const result = await handlers.read(serial, req.what);
            send({ id: req.id, type: 'result', result });
            return result.status;
          }),
        ).then((statuses) => {
          const n = (s: string): number => statuses.filter((x) => x === s).length;
          send({ id: req.id, type: 'done', exe: n('EXE'), warn: n('WARN'), fail: n('FAIL') });
        });
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
            server.close(() => done());
          }),
      });
    });
  });
}
