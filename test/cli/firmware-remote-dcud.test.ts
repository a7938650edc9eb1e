/**
 * Every `dcu firmware` command with --host against a running dcud (child process) over HTTPS,
 * an admin token and the pinned fingerprint: images, campaign create, list, status, cancel,
 * retry, activate, with the same output and exit codes as on the box (refusals exit 2). And
 * no firmware command ignores --host: pointed at a closed port, every one exits 3 "cannot
 * reach" (DCU_HOST as well as --host), although the daemon runs in the state directory it
 * is given too.
 *
 * Each test runs ten or more CLI processes one after the other: on a loaded 2-core machine
 * that alone took over the minute these tests had; the limits are outer guards now (each
 * process is waited for to its end), no budget.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { CLI_LIMIT_MS, MANY_CLI_LIMIT_MS, runCli } from '../helpers/cli';
import { startDcud, writeTcpDcudConfig, type DcudChild } from '../helpers/dcud';
import { freePortBlock } from '../helpers/ports';

describe('dcu firmware … --host against a running dcud', () => {
  let fleet: RunningFleet;
  let dir: string;
  let state: string;
  let dcud: DcudChild;
  let base: number;
  let serial: string;
  let image: string;
  let env: NodeJS.ProcessEnv;
  let remote: string[];

  beforeAll(async () => {
    base = await freePortBlock(3);
    fleet = await startFleet(parseFleetConfig({ meters: 1, tcpBasePort: base, latencyMs: 0, jitterMs: 0 }, 'test'));
    serial = fleet.endpoints[0]?.serial ?? '';
    dir = mkdtempSync(join(tmpdir(), 'dcud-fw-remote-'));
    state = join(dir, 'state');
    const file = writeTcpDcudConfig(join(dir, 'dcu.yaml'), {
      id: 'dcu-fw-remote',
      stateDir: state,
      api: `127.0.0.1:${base + 1}`,
      concurrency: 1,
      line: 'timeout: 1s, retries: 0',
      meters: [`  - { serial: ${serial}, line: ip, address: "127.0.0.1:${fleet.endpoints[0]?.tcp?.port ?? 0}", client: 16, auth: none }`],
    });
    dcud = await startDcud(file);
    image = join(dir, 'fw.bin');
    writeFileSync(image, Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 13) & 0xff)));
    const admin = await runCli('dcu', ['users', 'add', 'tech', '--role', 'admin', '--state', state]);
    env = { ...process.env, DCU_TOKEN: admin.stdout.trim(), DCU_HOST: '', DCU_STATE_DIR: state };
    const status = await runCli('dcu', ['status', '--state', state], CLI_LIMIT_MS, env);
    const fingerprint = /SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(status.stdout)?.[1] ?? '';
    expect(fingerprint).not.toBe('');
    remote = ['--host', `127.0.0.1:${base + 1}`, '--fingerprint', fingerprint];
  }, MANY_CLI_LIMIT_MS);
  afterAll(async () => {
    await dcud.stop();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const dcu = (args: string[]): ReturnType<typeof runCli> => runCli('dcu', [...remote, 'firmware', ...args], CLI_LIMIT_MS, env);

  it('uploads, lists images, creates, shows, cancels and retries a campaign over the API', async () => {
    expect((await dcu(['upload', image, '--target-version', 'SIM-FW-9.0.0', '--id', 'fw9'])).stdout.trim()).toBe('fw9');
    const images = await dcu(['images']);
    expect([images.code, images.stderr]).toEqual([0, '']);
    expect(images.stdout).toMatch(/^fw9\s+SIM-FW-9\.0\.0\s+complete\s+2000\s/m);
    expect(JSON.parse((await dcu(['images', '--json'])).stdout)).toEqual([expect.objectContaining({ id: 'fw9', state: 'complete', size: 2000 })]);

    const create = await dcu(['campaign', 'create', '--image', 'fw9', '--meters', serial, '--activate', 'manual', '--window', '00:00-23:59', '--id', 'c-remote']);
    expect([create.code, create.stderr, create.stdout.trim()]).toEqual([0, '', 'c-remote: 1 meter(s)']);
    const again = await dcu(['campaign', 'create', '--image', 'fw9', '--meters', serial, '--id', 'c-remote']);
    expect([again.code, again.stdout.trim()]).toEqual([0, 'c-remote (exists already): 1 meter(s)']);
    expect((await dcu(['campaign', 'list'])).stdout).toMatch(/^c-remote\s+fw9\s+running\s/m);

    const status = await dcu(['campaign', 'status', 'c-remote']);
    expect([status.code, status.stderr]).toEqual([0, '']);
    expect(status.stdout).toMatch(new RegExp(`^c-remote {2}image fw9 {2}running `));
    expect(status.stdout).toMatch(new RegExp(`^${serial}\\s`, 'm'));
    expect((await dcu(['campaign', 'activate', 'c-remote'])).code).toBe(0);

    const cancel = await dcu(['campaign', 'cancel', 'c-remote', '--json']);
    expect([cancel.code, cancel.stderr]).toEqual([0, '']);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ campaign: 'c-remote', state: 'cancelled' });
    const retry = await dcu(['campaign', 'retry', 'c-remote']);
    expect([retry.code, retry.stderr]).toEqual([0, '']);
    expect(retry.stdout).toMatch(/^\d+ meter\(s\) queued again\nc-remote {2}image fw9 /);
    expect((await dcu(['campaign', 'cancel', 'c-remote'])).code).toBe(0);

    // the same campaign on the box: the API acted on the daemon's store
    const local = await runCli('dcu', ['firmware', 'campaign', 'list', '--state', state], CLI_LIMIT_MS, { ...env, DCU_HOST: '' });
    expect(local.stdout).toMatch(/^c-remote\s+fw9\s+cancelled\s/m);
  }, MANY_CLI_LIMIT_MS);

  it('refuses over the API as on the box: exit 2 with the reason', async () => {
    const unknownImage = await dcu(['campaign', 'create', '--image', 'nope', '--meters', serial]);
    expect(unknownImage.code).toBe(2);
    expect(unknownImage.stderr).toMatch(/^dcu firmware campaign create: no image nope; upload it first/);
    const badWindow = await dcu(['campaign', 'create', '--image', 'fw9', '--meters', serial, '--window', '25:00-26:00']);
    expect(badWindow.code).toBe(2);
    expect(badWindow.stderr).toMatch(/window/);
    for (const action of ['cancel', 'retry', 'activate', 'status']) {
      const r = await dcu(['campaign', action, 'c-none']);
      expect([action, r.code]).toEqual([action, 2]);
      expect(r.stderr).toMatch(new RegExp(`^dcu firmware campaign ${action}: no firmware campaign c-none`));
    }
  }, MANY_CLI_LIMIT_MS);

  it('never falls back to the local state directory with --host: a closed port is exit 3 for every command', async () => {
    const closedEnv = { ...env, DCU_HOST: `127.0.0.1:${base + 2}` }; // DCU_HOST counts as --host
    const commands = [
      ['upload', image, '--target-version', 'SIM-FW-9.0.1', '--id', 'fw9b'],
      ['images'],
      ['campaign', 'create', '--image', 'fw9', '--all', '--id', 'c-closed'],
      ['campaign', 'list'],
      ['campaign', 'status', 'c-remote'],
      ['campaign', 'cancel', 'c-remote'],
      ['campaign', 'retry', 'c-remote'],
      ['campaign', 'activate', 'c-remote'],
    ];
    for (const args of commands) {
      // the daemon runs in DCU_STATE_DIR and --state: a command that used it would succeed
      const r = await runCli('dcu', ['--fingerprint', remote[3] ?? '', 'firmware', ...args, '--state', state], CLI_LIMIT_MS, closedEnv);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 3]);
      expect(r.stderr).toMatch(new RegExp(`cannot reach the concentrator at 127\\.0\\.0\\.1:${base + 2}`));
    }
    const images = await runCli('dcu', ['firmware', 'images', '--state', state], CLI_LIMIT_MS, { ...env, DCU_HOST: '' });
    expect(images.stdout).not.toMatch(/fw9b/);
    expect((await runCli('dcu', ['firmware', 'campaign', 'list', '--state', state], CLI_LIMIT_MS, { ...env, DCU_HOST: '' })).stdout).not.toMatch(/c-closed/);
  }, MANY_CLI_LIMIT_MS);
});
