/**
 * The login limiter of a running dcud (child process), through the real dcu CLI and raw
 * requests: on the box's Unix socket every client used to be one source, so six wrong tokens
 * from anyone locked the admin out for a minute; and any valid token reset the count, so 75
 * guesses mixed with 25 valid viewer requests never met a 429. Now failures count per source
 * (an address; a connection on the socket) and per user a token names, and a valid token
 * clears only its own.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, type Target } from '../../helpers/api';
import { runCli } from '../../helpers/cli';
import { startDcud, writeTcpDcudConfig, type DcudChild } from '../../helpers/dcud';
import { freePortBlock } from '../../helpers/ports';

const guess = (user: string): string => `dcu_${user}_${randomBytes(24).toString('base64url')}`;

describe('login limiter of a running dcud', () => {
  let dir: string;
  let state: string;
  let dcud: DcudChild;
  let unix: Target;
  let https: Target;
  const tokens = { boss: '', ops: '', tech: '', watch: '' };
  const env = (token: string): NodeJS.ProcessEnv => ({ ...process.env, DCU_TOKEN: token, DCU_HOST: '' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dcud-limits-'));
    state = join(dir, 'state');
    const port = await freePortBlock(1);
    const file = writeTcpDcudConfig(join(dir, 'dcu.yaml'), { id: 'dcu-limits', stateDir: state, api: `127.0.0.1:${port}`, concurrency: 1, line: 'timeout: 1s', meters: ['  - { serial: SIM000001, line: ip, address: "127.0.0.1:1", client: 17, auth: low, password: "00000000" }'] });
    dcud = await startDcud(file);
    for (const [name, role] of [['boss', 'admin'], ['ops', 'admin'], ['tech', 'operator'], ['watch', 'viewer']] as const) {
      const r = await runCli('dcu', ['users', 'add', name, '--role', role, '--state', state]);
      expect(r.code).toBe(0);
      tokens[name] = r.stdout.trim();
    }
    unix = { socket: join(state, 'dcu-api.sock') };
    https = { port };
  }, 90_000);
  afterAll(async () => {
    await dcud.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("six wrong tokens from other clients on the box do not lock the admin out", async () => {
    for (const user of ['tech', 'tech', 'mallory', 'mallory', 'boss', 'boss']) {
      const bad = await runCli('dcu', ['status', '--state', state], 20_000, env(guess(user)));
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/not valid/);
    }
    const admin = await runCli('dcu', ['status', '--state', state], 20_000, env(tokens.boss));
    expect(admin.stderr).toBe('');
    expect(admin.code).toBe(0);
    expect(admin.stdout).toMatch(/^dcu-limits {2}up /);
  }, 120_000);

  it('75 guesses mixed with 25 valid viewer requests meet the limit: per user named on the socket, per address over HTTPS', async () => {
    // On the socket, a connection per request (as dcu does): the guesses at ops stop at the
    // per-user limit, 10 a minute; the viewer's valid tokens clear nothing of them, and the
    // viewer is served throughout.
    const socket: number[] = [];
    for (let i = 0; i < 100; i++) {
      if (i % 4 === 3) expect((await call(unix, 'GET', '/api/v1/status', { token: tokens.watch, fresh: true })).status).toBe(200);
      else socket.push((await call(unix, 'GET', '/api/v1/status', { token: guess('ops'), fresh: true })).status);
    }
    expect(socket.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(socket.slice(10).every((s) => s === 429)).toBe(true);
    // Over HTTPS the address counts: 5 guesses (at tech, whom 2 failures above named), then that address is refused, the viewer's token too.
    const remote: number[] = [];
    for (let i = 0; i < 100; i++) remote.push((await call(https, 'GET', '/api/v1/status', { token: i % 4 === 3 ? tokens.watch : guess('tech') })).status);
    expect(remote.slice(0, 6)).toEqual([401, 401, 401, 200, 401, 401]);
    expect(remote.slice(6).every((s) => s === 429)).toBe(true);
    const refused = await call(https, 'GET', '/api/v1/status', { token: tokens.watch });
    expect(refused.json().error.message).toMatch(/5 failed logins from 127\.0\.0\.1/);
    // On the box, only the user the guesses named is locked for the window; another admin is not.
    const named = await call(unix, 'GET', '/api/v1/status', { token: tokens.ops, fresh: true });
    expect(named.status).toBe(429);
    expect(named.json().error.message).toMatch(/10 failed logins with tokens naming user ops/);
    expect((await call(unix, 'GET', '/api/v1/status', { token: tokens.boss, fresh: true })).status).toBe(200);
    expect((await call(unix, 'GET', '/api/v1/status', { token: tokens.tech, fresh: true })).status).toBe(200);
  }, 120_000);
});
