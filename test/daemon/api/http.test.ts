/**
 * The local API against an in-process daemon: every endpoint refuses no token and a wrong
 * token (401) and a role too low (403); bad requests get a typed 4xx and change nothing;
 * writes leave audit rows; the certificate's fingerprint survives a restart; the Unix socket
 * answers /live without a token and nothing else.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../../config/validate';
import { API_SOCKET_FILE } from '../../../daemon/api/http';
import { startDaemon, type Daemon } from '../../../daemon/dcud';
import { systemClock } from '../../../protocol/common/clock';
import { nullLogger } from '../../../protocol/common/log';
import { AuditLog, UserStore } from '../../../storage/users';
import { call, type Target } from '../../helpers/api';

const config = (stateDir: string): ReturnType<typeof validateConfig> =>
  validateConfig({
    id: 'dcu-api',
    stateDir,
    lines: [{ name: 'ip', tcp: { concurrency: 2 }, timeout: '300ms', retries: 0 }],
    meters: [{ serial: 'SIM000001', line: 'ip', address: '127.0.0.1:1', client: 17, auth: 'low', password: '00000000' }],
    collection: { 'load-profile': { every: '1d', enabled: false }, clock: { every: '1d', enabled: false } },
    api: { listen: '127.0.0.1:0' },
  });

type Role = 'viewer' | 'operator' | 'admin';
/** Every endpoint with the least role it needs and a well-formed request. */
const ENDPOINTS: { method: string; path: string; role: Role; body?: unknown }[] = [
  { method: 'GET', path: '/api/v1', role: 'viewer' },
  { method: 'GET', path: '/api/v1/status', role: 'viewer' },
  { method: 'GET', path: '/metrics', role: 'viewer' },
  { method: 'GET', path: '/api/v1/meters', role: 'viewer' },
  { method: 'GET', path: '/api/v1/meters/SIM000001', role: 'viewer' },
  { method: 'POST', path: '/api/v1/meters', role: 'operator', body: { meter: { serial: 'NEW000001', line: 'ip', address: '127.0.0.1:2', client: 16 } } },
  { method: 'DELETE', path: '/api/v1/meters/SIM000001', role: 'operator' },
  { method: 'POST', path: '/api/v1/meters/SIM000001/commission', role: 'operator' },
  { method: 'POST', path: '/api/v1/read', role: 'operator', body: { meters: ['SIM000001'], what: ['registers'] } },
  { method: 'POST', path: '/api/v1/plan', role: 'operator', body: { meters: ['SIM000001'], what: ['daily'] } },
  { method: 'POST', path: '/api/v1/plan?follow=true', role: 'operator', body: { meters: ['SIM000001'], what: ['daily'] } },
  { method: 'GET', path: '/api/v1/logs', role: 'operator' },
  { method: 'GET', path: '/api/v1/logs?follow=true&level=warn', role: 'operator' },
  { method: 'GET', path: '/api/v1/jobs', role: 'viewer' },
  { method: 'GET', path: '/api/v1/jobs/nope', role: 'viewer' },
  { method: 'POST', path: '/api/v1/jobs/nope/cancel', role: 'operator' },
  { method: 'GET', path: '/api/v1/alarms', role: 'viewer' },
  { method: 'GET', path: '/api/v1/export?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z', role: 'viewer' },
  { method: 'GET', path: '/api/v1/users', role: 'admin' },
  { method: 'POST', path: '/api/v1/users', role: 'admin', body: { name: 'nobody', role: 'viewer' } },
  { method: 'DELETE', path: '/api/v1/users/nobody', role: 'admin' },
  { method: 'POST', path: '/api/v1/firmware/images', role: 'admin' },
  { method: 'GET', path: '/api/v1/firmware/campaigns/nope', role: 'viewer' },
  { method: 'GET', path: '/api/v1/firmware/images', role: 'viewer' },
  { method: 'GET', path: '/api/v1/firmware/campaigns', role: 'viewer' },
  { method: 'POST', path: '/api/v1/firmware/campaigns', role: 'admin', body: { image: 'nope', meters: ['SIM000001'] } },
  { method: 'POST', path: '/api/v1/firmware/campaigns/nope/cancel', role: 'admin' },
  { method: 'POST', path: '/api/v1/firmware/campaigns/nope/retry', role: 'admin' },
  { method: 'POST', path: '/api/v1/firmware/campaigns/nope/activate', role: 'admin' },
];
const LOWER: Record<Role, Role | undefined> = { viewer: undefined, operator: 'viewer', admin: 'operator' };

describe('local API', () => {
  let dir: string;
  let daemon: Daemon;
  let https: Target;
  let unix: Target;
  const tokens = {} as Record<Role, string>;

  const state = (): { meters: number; jobs: number; users: number; campaigns: number } => ({
    meters: daemon.meters.list().length,
    campaigns: daemon.firmware.campaigns.list().length,
    jobs: (daemon.db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n,
    users: new UserStore(daemon.db).count(),
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-api-'));
    daemon = startDaemon(config(dir), { clock: systemClock, logger: nullLogger });
    const users = new UserStore(daemon.db);
    for (const r of ['viewer', 'operator', 'admin'] as const) tokens[r] = users.add(`${r}-1`, r, 'test', Date.now());
    await daemon.listen();
    https = { port: daemon.api()?.port ?? 0 };
    unix = { socket: join(dir, API_SOCKET_FILE) };
  });
  afterAll(async () => {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(ENDPOINTS)('$method $path: 401 without or with a wrong token, 403 below $role', async ({ method, path, role, body }) => {
    const before = state();
    for (const target of [https, unix]) {
      const none = await call(target, method, path, { body });
      expect(none.status).toBe(401);
      expect(none.json().error).toMatchObject({ code: 812, name: 'unauthenticated' });
      const wrong = await call(target, method, path, { body, token: `dcu_admin-1_${'x'.repeat(32)}` });
      expect(wrong.status).toBe(401);
      await call(target, 'GET', '/api/v1/status', { token: tokens.admin }); // admin-1's good login clears admin-1's failure from here (a viewer's would not)
      const lower = LOWER[role];
      if (lower !== undefined) {
        const low = await call(target, method, path, { body, token: tokens[lower] });
        expect(low.status).toBe(403);
        expect(low.json().error).toMatchObject({ code: 813, name: 'forbidden' });
        expect(low.json().error.message).toContain(`needs the ${role} role`);
      }
    }
    expect(state()).toEqual(before);
  });

  it('the table above holds every endpoint the API serves (GET /api/v1 lists them)', async () => {
    const tree = (await call(https, 'GET', '/api/v1', { token: tokens.viewer })).json().endpoints as string[];
    const stack: string[] = [];
    const served = tree.flatMap((line) => {
      const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
      if (m === null) return [];
      stack.length = (m[1] ?? '').length / 4;
      stack.push(m[2] ?? '');
      return (m[3] ?? '').split(', ').filter((x) => x !== '' && x !== 'HEAD').map((method) => ({ method, route: stack.join('') }));
    });
    // the table may list a route twice (with and without a query such as ?follow=true)
    expect(served.length).toBeGreaterThanOrEqual(new Set(ENDPOINTS.map((e) => `${e.method} ${e.path.split('?')[0] ?? ''}`)).size);
    const pattern = (route: string): RegExp => new RegExp(`^${route.replace(/:\w+/g, '[^/?]+')}(\\?.*)?$`);
    const untested = served.filter(({ method, route }) => !ENDPOINTS.some((e) => e.method === method && pattern(route).test(e.path)));
    expect(untested).toEqual([]);
  });

  it('audits every write endpoint, a refused one too (403 below its role)', async () => {
    const audit = new AuditLog(daemon.db);
    const writes = ENDPOINTS.filter((e) => e.method !== 'GET');
    const before = state();
    for (const { method, path, role, body } of writes) {
      const lower = LOWER[role];
      if (lower === undefined) throw new Error(`${method} ${path}: a write any viewer may do`);
      expect((await call(https, method, path, { body, token: tokens[lower] })).status).toBe(403);
    }
    expect(state()).toEqual(before);
    const rows = audit.list(writes.length).reverse();
    expect(rows).toHaveLength(writes.length);
    rows.forEach((r, i) => {
      const e = writes[i]!;
      expect({ user: r.user, status: r.status, result: r.result }).toEqual({ user: `${LOWER[e.role]}-1`, status: 403, result: 'forbidden' });
      const [method, route] = r.action.split(' ');
      expect(method).toBe(e.method);
      expect(e.path.split('?')[0]).toMatch(new RegExp(`^${(route ?? '').replace(/:\w+/g, '[^/]+')}$`));
    });
  });

  it("the router's own refusals are typed too: a path parameter over 100 characters (414), a URL that does not decode (400)", async () => {
    for (const target of [https, unix]) {
      const long = await call(target, 'GET', `/api/v1/meters/${'A'.repeat(5000)}`, { token: tokens.viewer });
      expect(long.status).toBe(414);
      expect(long.json().error).toMatchObject({ code: 800, name: 'usage' });
      expect(long.json().error.message).toContain('over 100 characters');
      const bad = await call(target, 'GET', '/api/v1/meters/%zz', { token: tokens.viewer });
      expect(bad.status).toBe(400);
      expect(bad.json().error).toMatchObject({ code: 800, name: 'usage' });
    }
  });

  it('answers /live on the socket without a token, and the socket is 0660', async () => {
    const live = await call(unix, 'GET', '/live');
    expect(live.status).toBe(200);
    expect(live.json()).toEqual({ live: true });
    expect((await call(https, 'GET', '/live')).status).toBe(401);
    expect(statSync(unix.socket!).mode & 0o777).toBe(0o660);
  });

  const BAD: { what: string; method: string; path: string; body?: unknown; raw?: string; contentType?: string; status: number; code: number }[] = [
    { what: 'bad JSON', method: 'POST', path: '/api/v1/plan', raw: '{"meters": [', status: 400, code: 810 },
    { what: 'empty JSON body', method: 'POST', path: '/api/v1/users', raw: '', status: 400, code: 810 },
    { what: 'not JSON at all', method: 'POST', path: '/api/v1/meters', raw: 'serial=1', contentType: 'application/x-www-form-urlencoded', status: 415, code: 800 },
    { what: 'plan without what', method: 'POST', path: '/api/v1/plan', body: { meters: ['SIM000001'] }, status: 400, code: 800 },
    { what: 'plan with an unknown field', method: 'POST', path: '/api/v1/plan', body: { meters: ['SIM000001'], what: ['daily'], rm: true }, status: 400, code: 800 },
    { what: 'read of an unknown meter', method: 'POST', path: '/api/v1/read', body: { meters: ['NOPE00001'], what: ['registers'] }, status: 404, code: 809 },
    { what: 'read of an unknown command', method: 'POST', path: '/api/v1/read', body: { meters: ['SIM000001'], what: ['format-disk'] }, status: 400, code: 800 },
    { what: 'plan with a bad window', method: 'POST', path: '/api/v1/plan', body: { all: true, what: ['daily'], window: ['25:00-26:00'] }, status: 400, code: 800 },
    { what: 'meter add without a line', method: 'POST', path: '/api/v1/meters', body: { meter: { serial: 'NEW000002', address: '127.0.0.1:3' } }, status: 400, code: 800 },
    { what: 'meter add on an unknown line', method: 'POST', path: '/api/v1/meters', body: { meter: { serial: 'NEW000002', line: 'nope', address: '127.0.0.1:3', client: 16 } }, status: 400, code: 800 },
    { what: 'meter add with keys from /dev/zero', method: 'POST', path: '/api/v1/meters', body: { meter: { serial: 'NEW000003', line: 'ip', address: '127.0.0.1:4', client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { file: '/dev/zero' } } }, status: 400, code: 800 },
    { what: 'meter add twice', method: 'POST', path: '/api/v1/meters', body: { meter: { serial: 'SIM000001', line: 'ip', address: '127.0.0.1:1', client: 16 } }, status: 409, code: 811 },
    { what: 'meter serial with a slash', method: 'GET', path: '/api/v1/meters/..%2F..%2Fetc', status: 400, code: 800 },
    { what: 'remove an unknown meter', method: 'DELETE', path: '/api/v1/meters/NOPE00001', status: 404, code: 809 },
    { what: 'commission an unknown meter', method: 'POST', path: '/api/v1/meters/NOPE00001/commission', status: 404, code: 800 },
    { what: 'cancel an unknown job', method: 'POST', path: '/api/v1/jobs/nope/cancel', status: 404, code: 800 },
    { what: 'export file name with a path', method: 'GET', path: '/api/v1/export?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&filename=..%2F..%2Fetc%2Fpasswd', status: 400, code: 800 },
    { what: 'export file name with ..', method: 'GET', path: '/api/v1/export?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&filename=a..csv', status: 400, code: 800 },
    { what: 'export over a huge range', method: 'GET', path: '/api/v1/export?from=2000-01-01T00:00:00Z&to=2026-01-02T00:00:00Z', status: 400, code: 803 },
    { what: 'export of an unknown class', method: 'GET', path: '/api/v1/export?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&class=secrets', status: 400, code: 800 },
    { what: 'export of an unknown meter', method: 'GET', path: '/api/v1/export?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&meters=NOPE00001', status: 404, code: 809 },
    { what: 'export with from after to', method: 'GET', path: '/api/v1/export?from=2026-02-01T00:00:00Z&to=2026-01-02T00:00:00Z', status: 400, code: 800 },
    { what: 'plan with a bad follow flag', method: 'POST', path: '/api/v1/plan?follow=maybe', body: { meters: ['SIM000001'], what: ['daily'] }, status: 400, code: 800 },
    { what: 'logs of an unknown level', method: 'GET', path: '/api/v1/logs?level=loud', status: 400, code: 800 },
    { what: 'logs since a non-date', method: 'GET', path: '/api/v1/logs?since=yesterday-ish', status: 400, code: 800 },
    { what: 'logs with a huge limit', method: 'GET', path: '/api/v1/logs?limit=1000000', status: 400, code: 800 },
    { what: 'firmware image without its manifest', method: 'POST', path: '/api/v1/firmware/images', raw: 'not an image', contentType: 'application/octet-stream', status: 400, code: 800 },
    { what: 'firmware image sent as JSON', method: 'POST', path: '/api/v1/firmware/images', body: { image: 'AAAA' }, status: 415, code: 800 },
    { what: 'firmware campaign of an unknown image', method: 'POST', path: '/api/v1/firmware/campaigns', body: { image: 'nope', meters: ['SIM000001'] }, status: 404, code: 800 },
    { what: 'firmware campaign with a bad window', method: 'POST', path: '/api/v1/firmware/campaigns', body: { image: 'nope', meters: ['SIM000001'], window: ['25:00-26:00'] }, status: 400, code: 800 },
    { what: 'firmware campaign with an unknown field', method: 'POST', path: '/api/v1/firmware/campaigns', body: { image: 'nope', all: true, rm: true }, status: 400, code: 800 },
    { what: 'cancel an unknown firmware campaign', method: 'POST', path: '/api/v1/firmware/campaigns/nope/cancel', status: 404, code: 800 },
    { what: 'status of an unknown firmware campaign', method: 'GET', path: '/api/v1/firmware/campaigns/nope', status: 404, code: 800 },
    { what: 'firmware campaign id with a slash', method: 'POST', path: '/api/v1/firmware/campaigns/..%2Fx/retry', status: 400, code: 800 },
    { what: 'jobs with a bad limit', method: 'GET', path: '/api/v1/jobs?limit=-3', status: 400, code: 800 },
    { what: 'user with a bad role', method: 'POST', path: '/api/v1/users', body: { name: 'eve', role: 'root' }, status: 400, code: 800 },
    { what: 'user with a bad name', method: 'POST', path: '/api/v1/users', body: { name: '../eve', role: 'viewer' }, status: 400, code: 800 },
    { what: 'user that exists', method: 'POST', path: '/api/v1/users', body: { name: 'viewer-1', role: 'viewer' }, status: 409, code: 811 },
    { what: 'unknown endpoint', method: 'POST', path: '/api/v1/format', body: {}, status: 404, code: 806 },
    { what: 'a body over the limit', method: 'POST', path: '/api/v1/plan', raw: JSON.stringify({ meters: ['x'.repeat(300_000)], what: ['daily'] }), status: 413, code: 808 },
  ];

  it.each(BAD)('refuses $what with a typed $status and changes nothing', async ({ method, path, body, raw, contentType, status, code }) => {
    const before = state();
    const a = await call(https, method, path, { token: tokens.admin, body, ...(raw === undefined ? {} : { raw }), ...(contentType === undefined ? {} : { contentType }) });
    expect({ status: a.status, code: a.json().error?.code }).toEqual({ status, code });
    expect(typeof a.json().error.message).toBe('string');
    expect(state()).toEqual(before);
  });

  it('audits every write: who, what, when, result', async () => {
    const audit = new AuditLog(daemon.db);
    const t0 = Date.now();
    const add = await call(https, 'POST', '/api/v1/meters', { token: tokens.operator, body: { meter: { serial: 'NEW000001', line: 'ip', address: '127.0.0.1:2', client: 16 } } });
    expect(add.status).toBe(201);
    const commission = await call(https, 'POST', '/api/v1/meters/NEW000001/commission', { token: tokens.operator });
    expect(commission.status).toBe(202);
    const job = commission.json().job as string;
    const cancel = await call(unix, 'POST', `/api/v1/jobs/${job}/cancel`, { token: tokens.operator });
    expect(cancel.status).toBe(200);
    const plan = await call(https, 'POST', '/api/v1/plan', { token: tokens.operator, body: { id: 'p-audit', meters: ['NEW000001'], what: ['daily'], window: ['03:00-03:01'] } });
    expect(plan.status).toBe(202);
    const read = await call(https, 'POST', '/api/v1/read', { token: tokens.operator, body: { meters: ['NEW000001'], what: ['registers'], retries: 0 } });
    expect(read.status).toBe(200);
    const remove = await call(https, 'DELETE', '/api/v1/meters/NEW000001', { token: tokens.operator });
    expect(remove.status).toBe(200);
    const user = await call(https, 'POST', '/api/v1/users', { token: tokens.admin, body: { name: 'tech-2', role: 'viewer' } });
    expect(user.status).toBe(201);
    expect((await call(https, 'GET', '/api/v1/status', { token: user.json().token as string })).status).toBe(200);
    const refused = await call(https, 'DELETE', '/api/v1/users/nobody', { token: tokens.admin });
    expect(refused.status).toBe(404);
    const rows = audit.list(20).reverse().filter((r) => r.at >= t0);
    expect(rows.map((r) => [r.user, r.action, r.status, r.result])).toEqual([
      ['operator-1', 'POST /api/v1/meters', 201, 'ok'],
      ['operator-1', 'POST /api/v1/meters/:serial/commission', 202, 'ok'],
      ['operator-1', 'POST /api/v1/jobs/:id/cancel', 200, 'ok'],
      ['operator-1', 'POST /api/v1/plan', 202, 'ok'],
      ['operator-1', 'POST /api/v1/read', 200, 'ok'],
      ['operator-1', 'DELETE /api/v1/meters/:serial', 200, 'ok'],
      ['admin-1', 'POST /api/v1/users', 201, 'ok'],
      ['admin-1', 'DELETE /api/v1/users/:name', 404, 'usage'],
    ]);
    expect(rows[0]?.target).toBe('{"serial":"NEW000001"}');
    expect(rows[2]?.source).toBe('unix');
    expect(rows[0]?.source).toMatch(/127\.0\.0\.1/);
    expect(JSON.stringify(rows)).not.toContain('dcu_'); // never a token in the audit
  });

  it('streams a read as NDJSON and exports CSV; status and metrics carry the figures', async () => {
    const read = await call(https, 'POST', '/api/v1/read', { token: tokens.operator, body: { meters: ['SIM000001'], what: ['registers'], retries: 0 } });
    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toMatch(/ndjson/);
    const lines = read.text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; result?: { status: string } });
    expect(lines[0]?.type).toBe('accepted');
    expect(lines.at(-1)).toMatchObject({ type: 'done', fail: 1 });
    expect(lines.some((l) => l.type === 'result' && l.result?.status === 'FAIL')).toBe(true);
    const csv = await call(https, 'GET', '/api/v1/export?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&class=registers&filename=regs.csv', { token: tokens.viewer });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="regs.csv"');
    expect(csv.text).toBe('meter,read_at,name,obis,value,unit\n');
    const status = await call(https, 'GET', '/api/v1/status', { token: tokens.viewer });
    expect(status.json()).toMatchObject({ id: 'dcu-api', tls: { fingerprint: daemon.api()?.fingerprint }, meters: { total: 1 } });
    const metrics = await call(https, 'GET', '/metrics', { token: tokens.viewer });
    expect(metrics.text).toMatch(/dcu_line_busy_ratio\{line="ip"\} 0/);
    expect(metrics.text).toMatch(/dcu_job_results_total\{class="on-demand",status="FAIL"\} [1-9]/);
    expect(metrics.text).toMatch(/dcu_store_bytes \d+/);
    expect(metrics.text).toMatch(/dcu_line_bytes_total\{line="ip",direction="sent"\} 0/); // the meter refused the connection
    expect(metrics.text).toMatch(/dcu_line_session_seconds_total\{line="ip"\} 0/);
  }, 30_000);

  it('answers a body nested 10,000 levels deep with a typed 400 that states the depth limit', async () => {
    const raw = `{"meter":{"serial":"DEEP00001","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    for (const target of [https, unix]) {
      const r = await call(target, 'POST', '/api/v1/meters', { token: tokens.operator, raw });
      expect(r.status).toBe(400);
      expect(r.json().error).toMatchObject({ code: 800, name: 'usage' });
      expect(r.json().error.message).toMatch(/nested deeper than 32 levels/);
    }
    expect(daemon.meters.get('DEEP00001')).toBeUndefined();
  });

  it('states the real 16 MiB limit in the 413 for a 17 MB image', async () => {
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ socketPath: unix.socket, method: 'POST', path: '/api/v1/firmware/images', headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/octet-stream', 'content-length': String(17_000_000) } });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.flushHeaders(); // the length is announced; the body never needs to follow
    });
    expect(r.status).toBe(413);
    const message = (JSON.parse(r.body) as { error: { message: string } }).error.message;
    expect(message).toContain(String(16 * 1024 * 1024));
    expect(message).not.toContain('262144');
  });

  it('limits failed logins per source', async () => {
    for (let i = 0; i < 5; i++) expect((await call(https, 'GET', '/api/v1/status', { token: `dcu_viewer-1_${'y'.repeat(30)}` })).status).toBe(401);
    const blocked = await call(https, 'GET', '/api/v1/status', { token: tokens.viewer });
    expect(blocked.status).toBe(429);
    expect(blocked.json().error.name).toBe('too-many-attempts');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await call(unix, 'GET', '/api/v1/status', { token: tokens.viewer })).status).toBe(200); // another source
  });

  it('keeps its certificate and fingerprint across a restart', async () => {
    const first = daemon.api()?.fingerprint;
    expect(first).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    await daemon.stop();
    daemon = startDaemon(config(dir), { clock: systemClock, logger: nullLogger });
    await daemon.listen();
    expect(daemon.api()?.fingerprint).toBe(first);
    expect(statSync(join(dir, 'api-key.pem')).mode & 0o777).toBe(0o600);
  });
});
