/**
 * The local API (fastify): HTTPS on `api.listen` for the technician's laptop, and plain HTTP
 * on the Unix socket `<stateDir>/dcu-api.sock` (mode 0660) on the box. Both serve the same
 * routes with the same rules: a bearer token, a role per route, typed JSON errors
 * (`{"error":{"code","name","message"}}`), and an audit row for every write. Only `GET /live`
 * on the socket answers without a token.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DcuError, ErrorCode, errorCodeName, isDcuError } from '../../protocol/common/errors';
import { AuditLog, UserStore } from '../../storage/users';
import { Authenticator, authorize } from './auth';
import { statusFor, sourceOf, type ApiContext, type ApiDeps, type ApiRouteModule } from './context';
import { API_ROUTES } from './routes';
import { tlsIdentity } from './tls';
import { checkJsonDepth } from '../input-limits';

export const API_SOCKET_FILE = 'dcu-api.sock';
export const BODY_LIMIT = 256 * 1024;

export interface RunningApi {
  readonly port: number | undefined;
  readonly fingerprint: string | undefined;
  readonly socket: string;
  close(): Promise<void>;
}

/** Turns whatever a route or fastify threw into our typed error. */
export function asDcuError(err: FastifyError | Error, bodyLimit = BODY_LIMIT): DcuError {
  if (isDcuError(err)) return err;
  const f = err as FastifyError;
  if (f.validation !== undefined) return new DcuError(ErrorCode.Usage, `${f.message}; see the API section of the README for the request's fields`);
  switch (f.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new DcuError(ErrorCode.InvalidJson, `the body is not JSON (${f.message}); send one JSON object with Content-Type: application/json`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DcuError(ErrorCode.PayloadTooLarge, `the body is over ${bodyLimit} bytes${bodyLimit >= 1024 * 1024 ? ` (${bodyLimit / (1024 * 1024)} MiB)` : ''}, this endpoint's limit; ${bodyLimit === BODY_LIMIT ? 'split the request' : 'send a smaller one'}`, { context: { limit: bodyLimit } });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new DcuError(ErrorCode.Usage, `${f.message}: send Content-Type: application/json`, { context: { status: 415 } });
    default:
      if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) return new DcuError(ErrorCode.Usage, f.message, { context: { status: f.statusCode } });
      return new DcuError(ErrorCode.Internal, `internal error: ${err.message}`);
  }
}

export function errorBody(e: DcuError): object {
  return { error: { code: e.code, name: errorCodeName(e.code), message: e.message } };
}

const AUDIT_KEYS = ['serial', 'name', 'role', 'meters', 'lines', 'all', 'what', 'id', 'job', 'image'] as const;

function auditTarget(req: FastifyRequest): string | null {
  const params = (req.params ?? {}) as Record<string, unknown>;
  const body = req.body !== null && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
  const meter = body.meter !== null && typeof body.meter === 'object' ? { serial: (body.meter as Record<string, unknown>).serial } : {};
  const picked = Object.fromEntries(AUDIT_KEYS.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]));
  const doc = { ...params, ...meter, ...picked };
  return Object.keys(doc).length === 0 ? null : JSON.stringify(doc).slice(0, 1000);
}

/**
 * The limiter's source: the client address over HTTPS; on the Unix socket, where every client
 * is 'unix' and Node gives no peer uid (SO_PEERCRED needs a native module), the connection.
 * A guesser opening a connection per guess is still limited per user the tokens name.
 */
const connections = new WeakMap<object, number>();
let nextConnection = 0;
function limiterSource(req: FastifyRequest, unix: boolean): string {
  if (!unix) return sourceOf(req.ip, false);
  const socket = req.raw.socket;
  let n = connections.get(socket);
  if (n === undefined) {
    n = ++nextConnection;
    connections.set(socket, n);
  }
  return `unix connection #${n}`;
}

export function buildApp(ctx: ApiContext, opts: { unix: boolean; https?: { key: string; cert: string } }, routes: readonly ApiRouteModule[] = API_ROUTES): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true } },
    // The router's own refusals (a URL that does not decode, a path parameter over 100
    // characters) come before any hook: without this they were fastify's untyped JSON.
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const e = new DcuError(ErrorCode.Usage, `${err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is over 100 characters' : 'the URL does not decode'} (${req.url.slice(0, 80)}${req.url.length > 80 ? '…' : ''}); GET /api/v1 lists the endpoints`, { context: { status: err.statusCode ?? 400 } });
      req.failure = e;
      void reply.code(statusFor(e)).send(errorBody(e));
    },
    ...(opts.https === undefined ? {} : { https: opts.https }),
  }) as unknown as FastifyInstance;
  const log = ctx.deps.logger;

  // JSON bodies: the nesting depth is checked before the parse, so a deeply nested body is a
  // typed 400 and never reaches a recursive consumer (schema validation, stringify).
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    try {
      checkJsonDepth(String(body), 'the body');
    } catch (e) {
      done(e as Error);
      return;
    }
    void json(req, String(body), done);
  });

  /** Who asks, and may they: a typed 401/403/429 before the body is even read. */
  const admit = (req: FastifyRequest): void => {
    const role = req.routeOptions.config.role;
    if (role === undefined && opts.unix && req.url === '/live') return;
    const source = limiterSource(req, opts.unix);
    try {
      req.user = ctx.auth.authenticate(req.headers.authorization, source);
    } catch (e) {
      if (isDcuError(e)) log.warn({ source, url: req.url, code: e.code }, 'API request refused: not authenticated');
      throw e;
    }
    if (role !== undefined) authorize(req.user, role, `${req.method} ${req.routeOptions.url ?? req.url}`);
  };
  app.addHook('onRequest', (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    try {
      admit(req);
    } catch (e) {
      done(e as Error);
      return;
    }
    done();
  });

  // `Expect: 100-continue` (dcu firmware upload, curl on large bodies): "100 Continue" only once
  // the request is admitted, so a refused client never sends its body. Node would answer it on
  // its own before any check; a refused upload then raced the connection's close with its
  // body and could see a reset instead of its 401/403.
  app.server.on('checkContinue', (req, res) => app.server.emit('request', req, res));
  app.addHook('preParsing', (req: FastifyRequest, reply: FastifyReply, payload, done) => {
    if ((req.headers.expect ?? '').toLowerCase() === '100-continue') reply.raw.writeContinue();
    done(null, payload);
  });

  app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.user === undefined || req.routeOptions.config.role === undefined) {
      done();
      return;
    }
    try {
      ctx.audit.record({
        at: ctx.deps.clock.now(),
        user: req.user.name,
        source: sourceOf(req.ip, opts.unix),
        action: `${req.method} ${req.routeOptions.url ?? req.url}`,
        target: auditTarget(req),
        status: reply.statusCode,
        result: reply.statusCode < 400 ? 'ok' : errorCodeName(req.failure?.code ?? ErrorCode.Internal),
      });
    } catch (e) {
      log.error({ err: (e as Error).message }, 'audit row not written');
    }
    done();
  });

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const e = asDcuError(err, req.routeOptions.bodyLimit); // the route's own limit (16 MiB for an image)
    req.failure = e;
    const status = statusFor(e);
    if (status >= 500) log.error({ url: req.url, err: e.message }, 'API request failed');
    const retry = e.context['retryAfterS'];
    if (typeof retry === 'number') void reply.header('retry-after', String(retry));
    return reply.code(status).send(errorBody(e));
  });

  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const e = new DcuError(ErrorCode.UnknownCommand, `no endpoint ${req.method} ${req.url.split('?')[0] ?? ''}; GET /api/v1 lists them`);
    req.failure = e;
    return reply.code(404).send(errorBody(e));
  });

  if (opts.unix) app.get('/live', () => ({ live: true }));
  for (const register of routes) register(app, ctx);
  app.get('/api/v1', { config: { role: 'viewer' } }, () => ({ endpoints: app.printRoutes({ commonPrefix: false }).split('\n').filter((l) => l.trim() !== '') }));
  app.addHook('onClose', (_app: FastifyInstance, done: () => void) => {
    for (const stop of [...ctx.streams]) stop();
    done();
  });
  return app;
}

function hostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) };
}

export async function startApi(deps: ApiDeps, routes: readonly ApiRouteModule[] = API_ROUTES): Promise<RunningApi> {
  const { config } = deps;
  const users = new UserStore(deps.db);
  const tls = config.api === undefined ? undefined : await tlsIdentity(config.stateDir, config.id, { ...(config.api.cert === undefined ? {} : { cert: config.api.cert }), ...(config.api.key === undefined ? {} : { key: config.api.key }) }, deps.clock.now());
  const ctx: ApiContext = { deps, users, audit: new AuditLog(deps.db), auth: new Authenticator(users, deps.clock), fingerprint: tls?.fingerprint, streams: new Set() };
  const socket = join(config.stateDir, API_SOCKET_FILE);
  if (existsSync(socket)) unlinkSync(socket); // left by a killed daemon: the state directory lock says we are the only one
  const local = buildApp(ctx, { unix: true }, routes);
  await local.listen({ path: socket });
  chmodSync(socket, 0o660);
  let remote: FastifyInstance | undefined;
  let port: number | undefined;
  if (config.api !== undefined && tls !== undefined) {
    remote = buildApp(ctx, { unix: false, https: { key: tls.key, cert: tls.cert } }, routes);
    try {
      const { host, port: wanted } = hostPort(config.api.listen);
      await remote.listen({ host, port: wanted });
      const addr = remote.server.address();
      port = typeof addr === 'object' && addr !== null ? addr.port : wanted;
    } catch (e) {
      await local.close();
      throw new DcuError(ErrorCode.Config, `api.listen ${config.api.listen}: cannot listen (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); is the port in use or the address not on this box?`, { cause: e });
    }
  }
  deps.logger.info({ port, socket, fingerprint: tls?.fingerprint, users: users.count() }, users.count() === 0 ? 'local API listening; no users yet: dcu users add NAME --role admin --state DIR' : 'local API listening');
  return {
    port,
    fingerprint: tls?.fingerprint,
    socket,
    close: async () => {
      await Promise.all([local.close(), remote?.close()]);
    },
  };
}
