/**
 * The CLI's side of the local API: HTTPS to `--host HOST[:PORT]` with a bearer token, the
 * server pinned by its certificate's SHA-256 fingerprint (self-signed: no CA vouches for it),
 * or HTTP on `<stateDir>/dcu-api.sock` on the box. The TLS handshake is finished and the
 * fingerprint compared before a byte of the request (and its token) is written.
 */
import { readFileSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { API_SOCKET_FILE } from '../daemon/api/http';

export const DEFAULT_API_PORT = 8443;

export interface ApiTarget {
  /** host + port over TLS, or the Unix socket. */
  readonly host?: string;
  readonly port?: number;
  readonly socket?: string;
  readonly token: string | undefined;
  /** Expected certificate fingerprint (normalised: upper-case hex, no colons). */
  readonly fingerprint?: string;
}

export interface GlobalOptions {
  host?: string;
  tokenFile?: string;
  fingerprint?: string;
  trustFile?: string;
  state?: string;
}

export const normaliseFingerprint = (fp: string): string => fp.trim().replace(/^sha256[:=]?/i, '').replace(/[:\s]/g, '').toUpperCase();
const colons = (fp: string): string => fp.replace(/(..)(?!$)/g, '$1:');

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new DcuError(ErrorCode.Usage, `${what} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`);
  }
}

/**
 * The token, checked here: a token is one word, so one with a space or line break inside
 * (pasted in two pieces, or with its `dcu users add` message) is named as such, not sent.
 */
function token(o: GlobalOptions, env: NodeJS.ProcessEnv): string | undefined {
  const file = o.tokenFile ?? env.DCU_TOKEN_FILE;
  const value = file !== undefined ? readText(file, '--token-file') : env.DCU_TOKEN?.trim();
  if (value !== undefined && /\s/.test(value)) {
    const from = file !== undefined ? `the token in ${file}` : 'the token in DCU_TOKEN';
    throw new DcuError(ErrorCode.AssociationAuthFailed, `${from} has a space or line break inside: a token is one word (dcu_NAME_…); copy it whole, alone on its line`);
  }
  return value;
}

/** The remote API when --host (or DCU_HOST) is given; undefined means "on the box". */
export function remoteTarget(o: GlobalOptions, env: NodeJS.ProcessEnv): ApiTarget | undefined {
  const hostPort = o.host ?? env.DCU_HOST;
  if (hostPort === undefined || hostPort === '') return undefined;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(hostPort);
  if (m === null) throw new DcuError(ErrorCode.Usage, `--host ${hostPort}: give HOST or HOST:PORT (IPv6 as [ADDR]:PORT)`);
  const pinned = o.fingerprint ?? env.DCU_FINGERPRINT ?? (o.trustFile === undefined ? undefined : readText(o.trustFile, '--trust-file'));
  return {
    host: (m[1] as string).replace(/^\[(.*)\]$/, '$1'),
    port: m[2] === undefined ? DEFAULT_API_PORT : Number(m[2]),
    token: token(o, env),
    ...(pinned === undefined ? {} : { fingerprint: normaliseFingerprint(pinned) }),
  };
}

/** The API socket on the box (`--state DIR`). */
export function localTarget(o: GlobalOptions, env: NodeJS.ProcessEnv, stateDir: string): ApiTarget {
  return { socket: join(stateDir, API_SOCKET_FILE), token: token(o, env) };
}

export const describeTarget = (t: ApiTarget): string => (t.socket ?? `${t.host ?? '?'}:${t.port ?? DEFAULT_API_PORT}`);

/** A TLS connection to the target whose certificate has the pinned fingerprint. */
function pinnedSocket(t: ApiTarget): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: t.host, port: t.port, rejectUnauthorized: false, ...(t.host !== undefined && /^[a-z]/i.test(t.host) ? { servername: t.host } : {}) });
    socket.once('error', (e: NodeJS.ErrnoException) => reject(new DcuError(ErrorCode.TransportOpenFailed, `cannot reach the concentrator at ${describeTarget(t)} (${e.code ?? e.message}): check --host and that dcud has api.listen`, { cause: e })));
    socket.once('secureConnect', () => {
      const got = normaliseFingerprint(socket.getPeerCertificate().fingerprint256);
      if (t.fingerprint === undefined || got !== t.fingerprint) {
        socket.destroy();
        const hint = `compare it with the fingerprint \`dcu status\` shows on the box, then pass --fingerprint ${colons(got)} (or put it in a --trust-file)`;
        reject(
          new DcuError(
            ErrorCode.AssociationAuthFailed,
            t.fingerprint === undefined ? `the concentrator's certificate is not pinned: its SHA-256 fingerprint is ${colons(got)}; ${hint}` : `the certificate at ${describeTarget(t)} has fingerprint ${colons(got)}, not the pinned ${colons(t.fingerprint)}: another box, a new certificate, or someone in between; ${hint} only if you are sure`,
          ),
        );
        return;
      }
      resolve(socket);
    });
  });
}

export interface Call {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  /** Ends the call (a --follow stopped with Ctrl-C): the answer just stops, no error. */
  readonly signal?: AbortSignal;
  /** A raw body (firmware image) instead of JSON, written in slices; `onSent` after each. */
  readonly upload?: { readonly data: Uint8Array; readonly type: string; readonly headers?: Readonly<Record<string, string>>; readonly onSent?: (bytes: number) => void };
}

const SLICE = 64 * 1024;
/** How long an upload waits for "100 Continue" before it sends its body anyway. */
const CONTINUE_WAIT_MS = 1000;

/** Writes a raw body slice by slice, waiting when the socket's buffer is full, counting what went out. */
function writeSlices(req: ClientRequest, u: NonNullable<Call['upload']>): void {
  let at = 0;
  const next = (): void => {
    while (at < u.data.length) {
      const slice = u.data.subarray(at, Math.min(u.data.length, at + SLICE));
      at += slice.length;
      const sent = at;
      const more = req.write(slice, () => u.onSent?.(sent));
      if (!more) {
        req.once('drain', next);
        return;
      }
    }
    req.end();
  };
  next();
}

/** The API's typed error as a DcuError (401/403/429 count as authentication failures: exit 4). */
async function failure(res: IncomingMessage, t: ApiTarget): Promise<DcuError> {
  let text = '';
  for await (const chunk of res) text += String(chunk);
  let doc: { error?: { code?: number; message?: string } } = {};
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    /* not our JSON */
  }
  const code = (doc.error?.code ?? ErrorCode.Internal) as ErrorCode;
  const message = doc.error?.message ?? `HTTP ${res.statusCode ?? '?'} from ${describeTarget(t)}`;
  if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode === 429) return new DcuError(ErrorCode.AssociationAuthFailed, message, { context: { status: res.statusCode, apiCode: code } });
  return new DcuError(code, message, { context: { status: res.statusCode ?? 0 } });
}

/** Sends one call; resolves with the response once its status is 2xx, rejects with the typed error otherwise. */
export async function send(t: ApiTarget, c: Call): Promise<IncomingMessage> {
  // Exit 4 like a refused token: the call is not authenticated (2 is for a wrong command line).
  if (t.token === undefined || t.token === '') throw new DcuError(ErrorCode.AssociationAuthFailed, 'no token: give --token-file FILE (or DCU_TOKEN / DCU_TOKEN_FILE); on the box an admin makes one with `dcu users add NAME --role operator --state DIR`');
  const payload = c.body === undefined ? undefined : JSON.stringify(c.body);
  const headers: Record<string, string> = { authorization: `Bearer ${t.token}`, accept: 'application/json' };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  // the body goes only after "100 Continue": a refusal (401/403) comes before a byte of it
  if (c.upload !== undefined) Object.assign(headers, c.upload.headers, { 'content-type': c.upload.type, 'content-length': String(c.upload.data.length), expect: '100-continue' });
  const tls = t.socket === undefined ? await pinnedSocket(t) : undefined;
  return new Promise((resolve, reject) => {
    const options = { method: c.method, path: c.path, headers, ...(tls === undefined ? { socketPath: t.socket } : { createConnection: () => tls, host: t.host }) };
    const req: ClientRequest = request(options);
    c.signal?.addEventListener('abort', () => req.destroy(), { once: true });
    req.on('error', (e: NodeJS.ErrnoException) => reject(new DcuError(ErrorCode.TransportOpenFailed, `cannot reach the concentrator at ${describeTarget(t)} (${e.code ?? e.message}): is dcud running${t.socket === undefined ? ' with api.listen' : ' with this --state'}?`, { cause: e })));
    req.on('response', (res) => {
      if ((res.statusCode ?? 500) < 300) resolve(res);
      else failure(res, t).then(reject, reject);
    });
    if (c.upload !== undefined) {
      const upload = c.upload;
      let started = false;
      const start = (): void => {
        if (started) return;
        started = true;
        writeSlices(req, upload);
      };
      req.once('continue', start);
      // a server that ignores Expect: send anyway after a second, as curl does
      setTimeout(start, CONTINUE_WAIT_MS).unref();
      // answered before the body went (refused): no body follows, the connection is done
      req.once('response', (res) => {
        if (started) return;
        started = true;
        res.once('end', () => req.destroy());
      });
    } else req.end(payload);
  });
}

export async function callJson<T>(t: ApiTarget, c: Call): Promise<T> {
  const res = await send(t, c);
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return JSON.parse(text) as T;
}

/** Calls and hands over each complete line of the answer as it arrives. */
export async function callLines(t: ApiTarget, c: Call, onLine: (line: string) => void): Promise<void> {
  const res = await send(t, c);
  res.setEncoding('utf8');
  let buffer = '';
  try {
    for await (const chunk of res) {
      buffer += String(chunk);
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        onLine(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    }
  } catch (e) {
    if (c.signal?.aborted === true) return;
    throw new DcuError(ErrorCode.TransportVanished, `the answer from ${describeTarget(t)} broke off (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); try again`, { cause: e });
  }
  if (buffer !== '') onLine(buffer);
}
