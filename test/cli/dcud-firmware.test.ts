/**
 * Firmware through the real processes: dcud (child) with simulated meters on a TCP line;
 * `dcu firmware upload` stores an image (printing its id), `dcu firmware images` lists it,
 * `dcu firmware campaign create` updates the meters, `… status` shows them OK with the field
 * work order empty, and a manifest that does not match the file is refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseFleetConfig } from '../../sim/config';
import type { SimMeter } from '../../sim/meter';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { SIM_KEYS } from '../../sim/types';
import { DIST, runCli } from '../helpers/cli';
import { until } from '../helpers/until';

const DCUD = join(DIST, 'daemon', 'bin', 'dcud.js');

describe('dcu firmware against a running dcud', () => {
  let fleet: RunningFleet;
  let dir: string;
  let child: ChildProcess;
  let log = '';
  let state: string;
  let configFile = '';

  beforeAll(async () => {
    fleet = await startFleet(parseFleetConfig({ meters: 3, tcpBasePort: 45_000 + (process.pid % 2000) * 4, latencyMs: 0, jitterMs: 0 }, 'test'));
    dir = mkdtempSync(join(tmpdir(), 'dcud-fw-'));
    state = join(dir, 'state');
    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [
        'id: dcu-fw',
        `stateDir: ${state}`,
        'timeZone: UTC',
        'lines:',
        '  - { name: ip, tcp: { concurrency: 2 }, timeout: 2s }',
        'meters:',
        ...fleet.endpoints.map(
          (m) => `  - { serial: ${m.serial}, line: ip, address: "127.0.0.1:${m.tcp?.port ?? 0}", client: 1, auth: high-gmac, systemTitle: "4443553030303031", keys: { blockKey: ${SIM_KEYS.blockKey}, authKey: ${SIM_KEYS.authKey} } }`,
        ),
        'collection:',
        '  load-profile: { every: 1d, enabled: false }',
        '  clock: { every: 1d, enabled: false }',
        '',
      ].join('\n'),
    );
    configFile = file;
    await startDcud();
  });
  const startDcud = async (): Promise<void> => {
    log = '';
    child = spawn(process.execPath, [DCUD, '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await until(() => log.includes('dcud started'), 'dcud to start', 30_000);
  };
  afterAll(async () => {
    const exited = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    await exited;
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads an image, runs a campaign to OK and shows it', async () => {
    const image = join(dir, 'fw.bin');
    writeFileSync(image, Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 5) & 0xff)));
    const up = await runCli('dcu', ['firmware', 'upload', image, '--target-version', 'SIM-FW-2.1.0', '--id', 'fw21', '--state', state]);
    expect(up.stderr).toBe('');
    expect(up.stdout.trim()).toBe('fw21');
    const images = await runCli('dcu', ['firmware', 'images', '--state', state]);
    expect(images.stdout).toMatch(/fw21\s+SIM-FW-2\.1\.0\s+complete\s+3000/);

    const serials = fleet.endpoints.map((m) => m.serial);
    const create = await runCli('dcu', ['firmware', 'campaign', 'create', '--image', 'fw21', '--meters', serials.join(','), '--deadline', '1h', '--retries', '1', '--id', 'c1', '--state', state]);
    expect(create.stderr).toBe('');
    expect(create.stdout).toMatch(/^c1: 3 meter\(s\)/);
    let status: { state: string; counts: Record<string, number>; fieldWorkOrder: unknown[] } = { state: '', counts: {}, fieldWorkOrder: [] };
    for (const end = Date.now() + 60_000; status.state !== 'done'; ) {
      if (Date.now() > end) throw new Error(`the campaign did not end: ${JSON.stringify(status)}`);
      const r = await runCli('dcu', ['firmware', 'campaign', 'status', 'c1', '--json', '--state', state]);
      status = JSON.parse(r.stdout) as typeof status;
    }
    expect(status.counts).toEqual({ OK: 3 });
    expect(status.fieldWorkOrder).toEqual([]);
    const text = await runCli('dcu', ['firmware', 'campaign', 'status', 'c1', '--state', state]);
    for (const s of serials) expect(text.stdout).toMatch(new RegExp(`${s}\\s+OK\\s+100 %`));
  }, 120_000);

  it('refuses a manifest that does not match the file, and a campaign on an unknown image', async () => {
    const image = join(dir, 'other.bin');
    writeFileSync(image, Buffer.alloc(100, 1));
    const manifest = join(dir, 'm.json');
    writeFileSync(manifest, JSON.stringify({ id: 'bad', version: 'X', size: 100, sha256: '0'.repeat(64) }));
    const up = await runCli('dcu', ['firmware', 'upload', image, '--manifest', manifest, '--state', state]);
    expect(up.code).toBe(2);
    expect(up.stderr).toMatch(/SHA-256 .* differs from the manifest/);
    const create = await runCli('dcu', ['firmware', 'campaign', 'create', '--image', 'bad', '--all', '--state', state]);
    expect(create.code).toBe(2);
    expect(create.stderr).toMatch(/no image bad/);
  }, 60_000);

  it('resumes a campaign after kill -9 of dcud in the middle of the transfers', async () => {
    const bytes = Buffer.from(Array.from({ length: 400_000 }, (_, i) => (i * 7 + 2) & 0xff));
    const image = join(dir, 'big.bin');
    writeFileSync(image, bytes);
    expect((await runCli('dcu', ['firmware', 'upload', image, '--target-version', 'SIM-FW-3.0.0', '--id', 'big', '--state', state])).stdout.trim()).toBe('big');
    const create = await runCli('dcu', ['firmware', 'campaign', 'create', '--image', 'big', '--all', '--id', 'c-kill', '--retries', '3', '--retry-interval', '1s', '--state', state]);
    expect(create.code).toBe(0);
    const ro = new Database(join(state, 'dcu.sqlite'), { readonly: true });
    const progress = (): { state: string; blocks_done: number }[] => ro.prepare("SELECT state, blocks_done FROM fw_campaign_meters WHERE campaign = 'c-kill'").all() as never;
    try {
      await until(() => progress().some((m) => m.state === 'transferring' && m.blocks_done > 0), 'a transfer under way', 60_000);
    } finally {
      ro.close();
    }
    const killed = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGKILL');
    await killed;
    await startDcud();
    let status: { state: string; counts: Record<string, number> } = { state: '', counts: {} };
    for (const end = Date.now() + 90_000; status.state !== 'done'; ) {
      if (Date.now() > end) throw new Error(`the campaign did not end: ${JSON.stringify(status)}`);
      status = JSON.parse((await runCli('dcu', ['firmware', 'campaign', 'status', 'c-kill', '--json', '--state', state])).stdout) as typeof status;
    }
    expect(status.counts).toEqual({ OK: 3 });
    for (const slot of fleet.slots) {
      const m = slot.peek() as SimMeter;
      expect(m.core.firmwareId).toBe('SIM-FW-3.0.0');
      expect(Buffer.from(m.core.imageState().image).equals(bytes)).toBe(true);
    }
  }, 180_000);
});
