/**
 * dcud (child process) against a meter that was replaced at its address (dcu-sim
 * `replacements`): scheduled and on-demand jobs FAIL with the serial-number mismatch as the
 * reason, one alarm is stored for the HES, the registry keeps the registered identity.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { DIST, runCli } from '../helpers/cli';
import { until } from '../helpers/until';

describe('dcud and a meter replaced at a registered address', () => {
  let fleet: RunningFleet;
  let dir: string;
  beforeAll(async () => {
    fleet = await startFleet(
      parseFleetConfig({ meters: 1, serialLines: 1, baud: 0, latencyMs: 0, jitterMs: 0, replacements: [{ meter: 0, at: '2000-01-01T00:00:00Z', serial: 'NEW000000' }] }, 'test'),
    );
    dir = mkdtempSync(join(tmpdir(), 'dcud-replaced-'));
  });
  afterAll(async () => {
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('FAILs every job on it with the reason and raises one serial-mismatch alarm', async () => {
    const state = join(dir, 'state');
    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [
        'id: dcu-replaced',
        `stateDir: ${state}`,
        `lines: [{ name: plc0, serial: { path: ${fleet.lines[0]!.device} }, timeout: 1s }]`,
        'meters: [{ serial: SIM000000, line: plc0, address: "1/16", client: 17, auth: low, password: "00000000" }]',
        'collection: { registers: { every: 1h } }',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [join(DIST, 'daemon', 'bin', 'dcud.js'), '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await until(() => log.includes('dcud started'), 'dcud to start', 30_000);
      const read = await runCli('dcu', ['read', 'SIM000000', '--what', 'registers', '--state', state], 30_000);
      expect(read.code).toBe(5);
      expect(read.stdout).toMatch(/^SIM000000 FAIL .*serial number mismatch: NEW000000.*until the registry is updated/);
      const show = await runCli('dcu', ['meters', 'show', 'SIM000000', '--json', '--state', state]);
      expect(JSON.parse(show.stdout)).toMatchObject({ serial: 'SIM000000', state: { stage: 'linked', lastError: 'serial number mismatch: NEW000000' } });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const db = new Database(join(state, 'dcu.sqlite'), { readonly: true });
    try {
      expect(db.prepare("SELECT meter, code FROM alarms WHERE code = 'serial-mismatch'").all()).toEqual([{ meter: 'SIM000000', code: 'serial-mismatch' }]);
      expect((db.prepare('SELECT count(*) AS n FROM register_values').get() as { n: number }).n).toBe(0);
      expect((db.prepare('SELECT count(*) AS n FROM profile_rows').get() as { n: number }).n).toBe(0);
    } finally {
      db.close();
    }
  }, 90_000);
});
