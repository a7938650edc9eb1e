/**
 * `dcu firmware campaign status ID --watch` against a running dcud (child process) with
 * simulated TCP meters: on the box (the daemon's socket) it follows a campaign to its end and
 * exits 0 when every meter is OK, 5 when one is KO (a meter nobody answers for); with --host
 * (HTTPS, a viewer token, the pinned fingerprint) the same through the API; the status table
 * shows the bytes each meter's sessions put on the line. A kill -9 of dcud in the middle of
 * a transfer: the watch waits for the daemon to come back and follows the campaign to OK, and
 * the byte counts survived (within the image size ± what the last 16 blocks carry, ≤ 1.1×).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { SIM_KEYS } from '../../sim/types';
import { runCli, startCli } from '../helpers/cli';
import { startDcud, writeTcpDcudConfig, type DcudChild } from '../helpers/dcud';
import { freePortBlock } from '../helpers/ports';
import { until } from '../helpers/until';

const IMAGE_SIZE = 3000;

describe('dcu firmware campaign status --watch against a running dcud', () => {
  let fleet: RunningFleet;
  let dir: string;
  let state: string;
  let dcud: DcudChild;
  let port: number;
  let serials: string[];
  let file: string;

  beforeAll(async () => {
    const base = await freePortBlock(4);
    fleet = await startFleet(parseFleetConfig({ meters: 2, tcpBasePort: base, latencyMs: 0, jitterMs: 0 }, 'test'));
    serials = fleet.endpoints.map((m) => m.serial);
    dir = mkdtempSync(join(tmpdir(), 'dcud-fw-watch-'));
    state = join(dir, 'state');
    port = base + 2;
    const hls = `client: 1, auth: high-gmac, systemTitle: "4443553030303031", keys: { blockKey: ${SIM_KEYS.blockKey}, authKey: ${SIM_KEYS.authKey} }`;
    file = writeTcpDcudConfig(join(dir, 'dcu.yaml'), {
      id: 'dcu-fw-watch',
      stateDir: state,
      api: `127.0.0.1:${port}`,
      concurrency: 2,
      line: 'timeout: 1s, retries: 0',
      meters: [
        ...fleet.endpoints.map((m) => `  - { serial: ${m.serial}, line: ip, address: "127.0.0.1:${m.tcp?.port ?? 0}", ${hls} }`),
        // Nothing listens there: the meter is unreachable.
        `  - { serial: DEAD00001, line: ip, address: "127.0.0.1:${base + 3}", ${hls} }`,
      ],
    });
    dcud = await startDcud(file);
    const image = join(dir, 'fw.bin');
    writeFileSync(image, Buffer.from(Array.from({ length: IMAGE_SIZE }, (_, i) => (i * 11) & 0xff)));
    const up = await runCli('dcu', ['firmware', 'upload', image, '--target-version', 'SIM-FW-4.0.0', '--id', 'fw4', '--state', state]);
    expect(up.stdout.trim()).toBe('fw4');
  }, 60_000);
  afterAll(async () => {
    await dcud.stop();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows a campaign to its end on the box and exits 0 when every meter is OK', async () => {
    // Activation on command: the campaign waits with its meters ready until the watch runs.
    const create = await runCli('dcu', ['firmware', 'campaign', 'create', '--image', 'fw4', '--meters', serials.join(','), '--activate', 'manual', '--id', 'c-ok', '--state', state]);
    expect(create.stdout).toMatch(/^c-ok: 2 meter\(s\)/);
    const started = startCli('dcu', ['firmware', 'campaign', 'status', 'c-ok', '--watch', '--state', state]);
    for (const s of serials) await started.waitForLine((l) => l.includes(`  ${s}  ready  100 %`));
    expect((await runCli('dcu', ['firmware', 'campaign', 'activate', 'c-ok', '--state', state])).code).toBe(0);
    const watch = await started.exited;
    expect(watch.stderr).toBe('');
    expect(watch.code).toBe(0);
    const lines = watch.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^c-ok {2}image fw4 {2}running .*: 2 meter\(s\)$/);
    // One attempt, the one that went OK (as its fw-meter-result says), not 0.
    for (const s of serials) expect(watch.stdout).toMatch(new RegExp(`  ${s}  OK  100 %  attempts 1  image sent 3\\.0 kB$`, 'm'));
    expect(watch.stdout).toMatch(/campaign done: 2 OK$/m);
    expect(watch.stdout).toMatch(/^ip: 2 meter\(s\), image 6\.0 kB sent of 6\.0 kB \(×1\.000, goal ≤ 1\.1\), overhead /m);
    const table = await runCli('dcu', ['firmware', 'campaign', 'status', 'c-ok', '--state', state]);
    for (const s of serials) expect(table.stdout).toMatch(new RegExp(`^${s}\\s+OK\\s+100 %\\s+1\\s+3\\.0 kB\\s+×1\\.000\\s+\\d`, 'm'));
  }, 120_000);

  it('exits 5 when a meter ends KO, on the box and through --host', async () => {
    const create = await runCli('dcu', ['firmware', 'campaign', 'create', '--image', 'fw4', '--meters', `DEAD00001,${serials[0] ?? ''}`, '--retries', '0', '--id', 'c-ko', '--state', state]);
    expect(create.code).toBe(0);
    const watch = await runCli('dcu', ['firmware', 'campaign', 'status', 'c-ko', '--watch', '--state', state], 90_000);
    expect(watch.code).toBe(5);
    expect(watch.stdout).toMatch(/ DEAD00001 {2}KO {2}0 % {2}attempts 1 .* unreachable: /);
    expect(watch.stdout).toMatch(/campaign done: /);

    const viewer = await runCli('dcu', ['users', 'add', 'watcher', '--role', 'viewer', '--state', state]);
    const token = viewer.stdout.trim();
    const env = { ...process.env, DCU_TOKEN: token, DCU_HOST: '' };
    const status = await runCli('dcu', ['status', '--state', state], 20_000, env);
    const fingerprint = /SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(status.stdout)?.[1] ?? '';
    expect(fingerprint).not.toBe('');
    const remote = ['--host', `127.0.0.1:${port}`, '--fingerprint', fingerprint];
    const json = await runCli('dcu', [...remote, 'firmware', 'campaign', 'status', 'c-ko', '--watch', '--json'], 30_000, env);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(5);
    const docs = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { state: string; meters: { meter: string; state: string; reason: string | null }[] });
    expect(docs).toHaveLength(1);
    expect(docs[0]?.meters.find((m) => m.meter === 'DEAD00001')).toMatchObject({ state: 'KO', reason: 'unreachable' });
    const ok = await runCli('dcu', [...remote, 'firmware', 'campaign', 'status', 'c-ok'], 30_000, env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ip: 2 meter\(s\), image 6\.0 kB sent/m);
    const unknown = await runCli('dcu', [...remote, 'firmware', 'campaign', 'status', 'c-none', '--watch'], 30_000, env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no firmware campaign c-none/);
  }, 120_000);

  it('waits for dcud killed with -9 mid-transfer and follows the campaign to OK; the byte counts survived', async () => {
    const size = 400_000;
    const image = join(dir, 'big.bin');
    writeFileSync(image, Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff)));
    expect((await runCli('dcu', ['firmware', 'upload', image, '--target-version', 'SIM-FW-5.0.0', '--id', 'big', '--state', state])).stdout.trim()).toBe('big');
    expect((await runCli('dcu', ['firmware', 'campaign', 'create', '--image', 'big', '--meters', serials.join(','), '--retries', '3', '--retry-interval', '1s', '--id', 'c-kill', '--state', state])).code).toBe(0);
    const watch = startCli('dcu', ['firmware', 'campaign', 'status', 'c-kill', '--watch', '--state', state]);
    await watch.waitForLine((l) => /  transferring  [1-9]\d* %/.test(l));
    const killed = new Promise((resolve) => dcud.child.on('close', resolve));
    dcud.child.kill('SIGKILL');
    await killed;
    // the daemon comes back only once the watch has seen it gone (it polls every second)
    await until(() => /not reachable .*waiting for it/.test(watch.stderr()), 'the watch to notice the daemon is gone', 30_000);
    dcud = await startDcud(file);
    const r = await watch.exited;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/not reachable .*waiting for it/);
    expect(r.stdout).toMatch(/the daemon answers again/);
    expect(r.stdout).toMatch(/campaign done: 2 OK$/m);
    const s = JSON.parse((await runCli('dcu', ['firmware', 'campaign', 'status', 'c-kill', '--json', '--state', state])).stdout) as { meters: { meter: string; bytes: { imageBytesSent: number; ratio: number; lineBytesSent: number } }[] };
    for (const m of s.meters) {
      // The meter's block size is 512 (the simulator's default): a kill loses at most 16 blocks' counts.
      expect([m.meter, m.bytes.imageBytesSent >= size - 16 * 512, m.bytes.ratio <= 1.1, m.bytes.lineBytesSent > m.bytes.imageBytesSent]).toEqual([m.meter, true, true, true]);
    }
  }, 150_000);
});
