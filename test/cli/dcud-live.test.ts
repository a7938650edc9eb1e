/**
 * Live output of the technician's CLI against a running dcud (child process) with simulated
 * meters: `dcu read` prints each meter's result as it arrives — over HTTPS with a token and
 * over the local socket — `dcu plan --follow` streams over --host with the socket's exit
 * codes, and `dcu logs --follow` shows a line the daemon wrote after it started. The slow
 * meter is slow on demand: a proxy holds its answers until the test has seen the fast one's
 * result, so the ordering is checked without any timing. `dcu firmware upload --host` sends
 * an image through the API (admin only).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_SOCKET_FILE } from '../../daemon/api/http';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { call } from '../helpers/api';
import { runCli, startCli } from '../helpers/cli';
import { startDcud, tcpMeterEntries, writeTcpDcudConfig, type DcudChild } from '../helpers/dcud';
import { freePortBlock } from '../helpers/ports';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

describe('dcu live output from a running dcud', () => {
  let fleet: RunningFleet;
  let proxy: TcpProxy;
  let dir: string;
  let state: string;
  let dcud: DcudChild;
  let token: string;
  let remote: string[];
  let pin: string[];
  let fast: string;
  let slow: string;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DCU_HOST: '', DCU_TOKEN: '' });

  beforeAll(async () => {
    const base = await freePortBlock(3);
    fleet = await startFleet(parseFleetConfig({ meters: 2, tcpBasePort: base, latencyMs: 0, jitterMs: 0 }, 'test'));
    const [a, b] = fleet.endpoints;
    fast = a?.serial ?? '';
    slow = b?.serial ?? '';
    proxy = await startTcpProxy(b?.tcp?.port ?? 0);
    dir = mkdtempSync(join(tmpdir(), 'dcud-live-'));
    state = join(dir, 'state');
    const file = writeTcpDcudConfig(join(dir, 'dcu.yaml'), {
      id: 'dcu-live',
      stateDir: state,
      api: `127.0.0.1:${base + 2}`,
      concurrency: 2,
      line: 'timeout: 20s',
      meters: tcpMeterEntries([{ serial: fast, tcp: { port: a?.tcp?.port ?? 0 } }, { serial: slow, tcp: { port: proxy.port } }]),
    });
    dcud = await startDcud(file);
    const user = await runCli('dcu', ['users', 'add', 'tech', '--role', 'operator', '--state', state, '--json'], 20_000, env());
    token = (JSON.parse(user.stdout) as { token: string }).token;
    const tokenFile = join(dir, 'tech.token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const status = await call({ socket: join(state, API_SOCKET_FILE) }, 'GET', '/api/v1/status', { token });
    pin = ['--host', `127.0.0.1:${base + 2}`, '--fingerprint', status.json().tls.fingerprint as string];
    remote = [...pin, '--token-file', tokenFile];
  }, 60_000);
  afterAll(async () => {
    await dcud.stop();
    await proxy.close();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a read while the slow meter's answers are held; the fast meter's result must be out before they are released. */
  async function readStreams(where: string[]): Promise<void> {
    proxy.hold();
    const cli = startCli('dcu', ['read', fast, slow, '--what', 'registers', ...where], env());
    try {
      await cli.waitForLine((l) => l.startsWith(`${fast} EXE `));
      expect(cli.child.exitCode).toBeNull(); // the slow meter cannot have answered: its bytes are held
    } finally {
      proxy.release();
    }
    const r = await cli.exited;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([`${fast} EXE`, `${slow} EXE`]);
    expect(r.stdout).not.toMatch(/\r|\x1b\[/); // no progress line when stderr is not a terminal
  }

  it('read over HTTPS prints each meter result as it arrives', () => readStreams(remote), 60_000);

  it('read over the local socket prints each meter result as it arrives; --json is the NDJSON answers', async () => {
    await readStreams(['--state', state]);
    const json = await runCli('dcu', ['read', fast, '--what', 'registers', '--state', state, '--json'], 30_000, env());
    expect(json.code).toBe(0);
    const docs = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(docs.map((d) => d.type)).toEqual(['accepted', 'result', 'done']);
  }, 60_000);

  it('plan --follow over --host streams the results, and exits 5 when the plan is cancelled like on the socket', async () => {
    proxy.hold();
    const cli = startCli('dcu', ['plan', '--meters', `${fast},${slow}`, '--what', 'registers', '--id', 'live-1', '--follow', ...remote], env());
    try {
      await cli.waitForLine((l) => l.startsWith(`${fast} EXE `));
      expect(cli.child.exitCode).toBeNull();
    } finally {
      proxy.release();
    }
    const r = await cli.exited;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^live-1 queued: 2 meter\(s\)\n/);
    expect(r.stdout).toMatch(new RegExp(`^${slow} EXE `, 'm'));
    expect(r.stdout.trim().split('\n').at(-1)).toBe('live-1 done: 2 EXE, 0 WARN, 0 FAIL, 0 cancelled');

    const hh = (h: number): string => String((new Date().getUTCHours() + h) % 24).padStart(2, '0');
    for (const where of [remote, ['--state', state]]) {
      const id = `later-${where.length}`;
      const waiting = startCli('dcu', ['plan', '--all', '--what', 'registers', '--window', `${hh(2)}:00-${hh(3)}:00`, '--id', id, '--follow', ...where], env());
      await waiting.waitForLine((l) => l.startsWith(`${id} queued`));
      const cancel = await runCli('dcu', ['jobs', 'cancel', id, '--state', state], 20_000, env());
      expect(cancel.code).toBe(0);
      const ended = await waiting.exited;
      expect(ended.stdout.trim().split('\n').at(-1)).toBe(`${id} cancelled: 0 EXE, 0 WARN, 0 FAIL, 2 cancelled`);
      expect(ended.code).toBe(5);
    }
  }, 90_000);

  it('logs shows the kept lines; --follow shows a line written after it started, until Ctrl-C; never a key or token', async () => {
    for (const where of [remote, ['--state', state]]) {
      const follow = startCli('dcu', ['logs', '--follow', ...where], env());
      await follow.waitForLine((l) => / INFO {2}dcud started/.test(l));
      // a line the daemon writes now: a refused request to a path nobody used before
      const marker = `/api/v1/jobs/marker-${where.length}`;
      expect((await call({ socket: join(state, API_SOCKET_FILE) }, 'GET', marker, { token: 'dcu_nobody_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' })).status).toBe(401);
      await follow.waitForLine((l) => l.includes('WARN  API request refused: not authenticated') && l.includes(`url=${marker}`));
      follow.child.kill('SIGINT');
      const r = await follow.exited;
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
    }
    const kept = await runCli('dcu', ['logs', '--state', state, '--json', '--limit', '10000'], 20_000, env());
    expect(kept.code).toBe(0);
    const lines = kept.stdout.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.some((l) => l.msg === 'dcud started')).toBe(true);
    expect(kept.stdout).not.toContain(token);
    expect(kept.stdout).not.toMatch(/"(password|authKey|blockKey)":"(?!\[redacted\]|\[REDACTED\])/i);
    const warn = await runCli('dcu', ['logs', ...remote, '--level', 'warn', '--json'], 20_000, env());
    expect(warn.code).toBe(0);
    for (const l of warn.stdout.trim().split('\n').filter((x) => x !== '')) expect((JSON.parse(l) as { level: number }).level).toBeGreaterThanOrEqual(40);
    const bad = await runCli('dcu', ['logs', '--state', state, '--level', 'loud'], 20_000, env());
    expect(bad.code).toBe(2);
  }, 90_000);

  it('firmware upload over --host: an admin sends the image, an operator is refused before any byte is kept', async () => {
    const image = join(dir, 'fw.bin');
    writeFileSync(image, randomBytes(300_000));
    const refused = await runCli('dcu', ['firmware', 'upload', image, '--target-version', '2.0.0', '--id', 'img-live', ...remote], 30_000, env());
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({ code: 4, stderr: expect.stringMatching(/needs the admin role/) as unknown });
    const boss = await runCli('dcu', ['users', 'add', 'boss', '--role', 'admin', '--state', state, '--json'], 20_000, env());
    const adminEnv = { ...env(), DCU_TOKEN: (JSON.parse(boss.stdout) as { token: string }).token };
    const sent = await runCli('dcu', ['firmware', 'upload', image, '--target-version', '2.0.0', '--id', 'img-live', ...pin, '--json'], 30_000, adminEnv);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ image: { id: 'img-live', state: 'complete', size: 300_000 } });
    const images = await runCli('dcu', ['firmware', 'images', '--state', state], 20_000, env());
    expect(images.stdout).toMatch(/^img-live\s+2\.0\.0\s+complete\s+300000\s/m);
  }, 60_000);
});
