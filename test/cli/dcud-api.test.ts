/**
 * The technician's CLI against a running dcud (child process) with simulated meters, through
 * the local API: over HTTPS with a token and a pinned fingerprint, and over the Unix socket on
 * the box. status, meters, read, export (equal to what the store holds), jobs cancel, users.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { call } from '../helpers/api';
import { runCli } from '../helpers/cli';
import { startDcud, tcpMeterEntries, writeTcpDcudConfig, type DcudChild } from '../helpers/dcud';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });

describe('dcu through the local API of a running dcud', () => {
  let fleet: RunningFleet;
  let dir: string;
  let state: string;
  let dcud: DcudChild;
  let port: number;
  let tokenFile: string;
  let adminToken: string;
  let fingerprint: string;
  let remote: string[];
  const env = (token: string): NodeJS.ProcessEnv => ({ ...process.env, DCU_TOKEN: token, DCU_HOST: '' });

  beforeAll(async () => {
    fleet = await startFleet(parseFleetConfig({ meters: 2, tcpBasePort: 45_000 + (process.pid % 2000) * 3, latencyMs: 0, jitterMs: 0 }, 'test'));
    dir = mkdtempSync(join(tmpdir(), 'dcud-api-'));
    state = join(dir, 'state');
    port = await freePort();
    const file = writeTcpDcudConfig(join(dir, 'dcu.yaml'), { id: 'dcu-api-e2e', stateDir: state, api: `127.0.0.1:${port}`, concurrency: 2, line: 'timeout: 2s', meters: tcpMeterEntries(fleet.endpoints) });
    dcud = await startDcud(file);
  }, 60_000);
  afterAll(async () => {
    await dcud.stop();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes the first users on the box and shows status over the Unix socket with the fingerprint', async () => {
    const admin = await runCli('dcu', ['users', 'add', 'boss', '--role', 'admin', '--state', state]);
    expect(admin.code).toBe(0);
    adminToken = admin.stdout.trim();
    expect(adminToken).toMatch(/^dcu_boss_/);
    expect(admin.stderr).toMatch(/shown only now/);
    const tech = await runCli('dcu', ['users', 'add', 'tech', '--role', 'operator', '--state', state, '--json']);
    tokenFile = join(dir, 'tech.token');
    writeFileSync(tokenFile, `${(JSON.parse(tech.stdout) as { token: string }).token}\n`, { mode: 0o600 });
    const list = await runCli('dcu', ['users', 'list', '--state', state]);
    expect(list.stdout).toMatch(/boss\s+admin/);
    expect(list.stdout).toMatch(/tech\s+operator/);

    const noToken = await runCli('dcu', ['status', '--state', state], 20_000, { ...process.env, DCU_TOKEN: '' });
    // No token is an authentication failure (exit 4), like a wrong one, not a usage error (2).
    expect(noToken.code).toBe(4);
    expect(noToken.stderr).toMatch(/no token/);
    // A token with a space inside (pasted in two pieces) is named as such, not "no token".
    const spaced = await runCli('dcu', ['status', '--state', state], 20_000, env(`${adminToken.slice(0, 8)} ${adminToken.slice(8)}`));
    expect(spaced.code).toBe(4);
    expect(spaced.stderr).toMatch(/the token in DCU_TOKEN has a space or line break inside/);
    expect(spaced.stderr).not.toMatch(/no token/);
    const status = await runCli('dcu', ['status', '--state', state], 20_000, env(adminToken));
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^dcu-api-e2e {2}up /);
    expect(status.stdout).toMatch(/meters {4}2 \(/);
    expect(status.stdout).toMatch(/WAN\/MQTT {2}not configured/);
    fingerprint = /TLS {7}SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(status.stdout)?.[1] ?? '';
    expect(fingerprint).not.toBe('');
    remote = ['--host', `127.0.0.1:${port}`, '--token-file', tokenFile, '--fingerprint', fingerprint];
  }, 60_000);

  it('refuses an unpinned or wrongly pinned server, and a wrong token, before doing anything', async () => {
    const unpinned = await runCli('dcu', ['status', '--host', `127.0.0.1:${port}`, '--token-file', tokenFile]);
    expect(unpinned.code).toBe(4);
    expect(unpinned.stderr).toContain(`its SHA-256 fingerprint is ${fingerprint}`);
    const wrong = await runCli('dcu', ['status', '--host', `127.0.0.1:${port}`, '--token-file', tokenFile, '--fingerprint', '00'.repeat(32)]);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/not the pinned/);
    const badToken = join(dir, 'bad.token');
    writeFileSync(badToken, `dcu_tech_${'A'.repeat(32)}`);
    const refused = await runCli('dcu', ['status', '--host', `127.0.0.1:${port}`, '--token-file', badToken, '--fingerprint', fingerprint.replace(/:/g, '').toLowerCase()]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/token is not valid/);
  }, 60_000);

  it('status, meters, read with per-meter results, export equal to the store, over HTTPS', async () => {
    const serials = fleet.endpoints.map((m) => m.serial);
    const status = await runCli('dcu', ['status', ...remote, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: 'dcu-api-e2e', tls: { fingerprint }, meters: { total: 2 } });
    const meters = await runCli('dcu', ['meters', 'list', ...remote]);
    expect(meters.code).toBe(0);
    for (const s of serials) expect(meters.stdout).toMatch(new RegExp(`^${s}\\s+ip\\s`, 'm'));
    const show = await runCli('dcu', ['meters', 'show', serials[0]!, ...remote, '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({ serial: serials[0], line: 'ip' });

    const read = await runCli('dcu', ['read', ...serials, '--what', 'registers', ...remote], 90_000);
    expect(read.stderr).toBe('');
    expect(read.code).toBe(0);
    for (const s of serials) expect(read.stdout).toMatch(new RegExp(`^${s} EXE `, 'm'));
    const metrics = await call({ port }, 'GET', '/metrics', { token: adminToken });
    expect(Number(/dcu_line_bytes_total\{line="ip",direction="received"\} (\d+)/.exec(metrics.text)?.[1])).toBeGreaterThan(100);
    expect(metrics.text).toMatch(/dcu_job_results_total\{class="on-demand",status="EXE"\} 2/);

    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const exported = await runCli('dcu', ['export', '--from', from, '--to', to, '--class', 'registers', ...remote]);
    expect(exported.code).toBe(0);
    const local = await runCli('dcu', ['export', '--from', from, '--to', to, '--class', 'registers', '--state', state]);
    expect(exported.stdout).toBe(local.stdout);
    const db = new Database(join(state, 'dcu.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT meter, obis, value FROM register_values ORDER BY meter, read_at, obis').all() as { meter: string; obis: string; value: string }[];
    db.close();
    expect(rows.length).toBeGreaterThan(0);
    const lines = exported.stdout.trim().split('\n');
    expect(lines[0]).toBe('meter,read_at,name,obis,value,unit');
    expect(lines.slice(1).map((l) => { const c = l.split(','); return { meter: c[0], obis: c[3], value: c[4] }; })).toEqual(rows);
  }, 120_000);

  it('plans and cancels a job over HTTPS; commissions and removes a meter over the socket; alarms', async () => {
    const hh = (h: number): string => String((new Date().getUTCHours() + h) % 24).padStart(2, '0');
    const plan = await runCli('dcu', ['plan', '--all', '--what', 'registers', '--window', `${hh(2)}:00-${hh(3)}:00`, '--id', 'later', ...remote]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^later queued: 2 meter\(s\)/);
    const cancel = await runCli('dcu', ['jobs', 'cancel', 'later', ...remote]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(/later cancelled/);
    const jobs = JSON.parse((await runCli('dcu', ['jobs', 'show', 'later', ...remote, '--json'])).stdout) as { state: string };
    expect(jobs.state).toBe('cancelled');
    const unknown = await runCli('dcu', ['jobs', 'cancel', 'nope', ...remote]);
    expect(unknown.code).toBe(2);

    // an endpoint of its own (one TCP endpoint is one meter); nothing needs to answer there for the queued read
    const add = await runCli('dcu', ['meters', 'add', 'EXTRA0001', '--line', 'ip', '--address', '127.0.0.1:9', '--client', '17', '--auth', 'low', '--password', '00000000', '--state', state], 20_000, env(adminToken));
    expect(add.stderr).toBe('');
    expect(add.stdout).toMatch(/EXTRA0001 added/);
    const commission = await runCli('dcu', ['meters', 'commission', 'EXTRA0001', '--state', state], 20_000, env(adminToken));
    expect(commission.code).toBe(0);
    expect(commission.stdout).toMatch(/commissioning read queued as /);
    const remove = await runCli('dcu', ['meters', 'remove', 'EXTRA0001', '--state', state], 20_000, env(adminToken));
    expect(remove.code).toBe(0);
    const alarms = await runCli('dcu', ['alarms', ...remote, '--json']);
    expect(alarms.code).toBe(0);
    expect(Array.isArray(JSON.parse(alarms.stdout))).toBe(true);

    const db = new Database(join(state, 'dcu.sqlite'), { readonly: true });
    const audit = db.prepare('SELECT user, action, status FROM audit ORDER BY id').all() as { user: string; action: string; status: number }[];
    db.close();
    expect(audit).toEqual(
      expect.arrayContaining([
        { user: 'tech', action: 'POST /api/v1/read', status: 200 },
        { user: 'tech', action: 'POST /api/v1/plan', status: 202 },
        { user: 'tech', action: 'POST /api/v1/jobs/:id/cancel', status: 200 },
        { user: 'boss', action: 'POST /api/v1/meters', status: 201 },
        { user: 'boss', action: 'DELETE /api/v1/meters/:serial', status: 200 },
      ]),
    );
  }, 120_000);
});
