/**
 * dcud as a technician runs it: a child process with a config file, against simulated
 * meters on a real serial line (socat pty pair), into a real SQLite file.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { DIST, runCli } from '../helpers/cli';
import { until } from '../helpers/until';

const ROOT = join(__dirname, '..', '..');
const DCUD = join(DIST, 'daemon', 'bin', 'dcud.js');

function startDcud(config: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [DCUD, '--config', config, '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

function rowCount(store: string, profile = '1.0.99.1.0.255'): number {
  if (!existsSync(store)) return 0;
  const db = new Database(store, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM profile_rows WHERE profile = ?').get(profile) as { n: number }).n;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

describe('dcud', () => {
  it('every bin in package.json exists after the build', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const missing = Object.entries(pkg.bin).filter(([, path]) => !existsSync(join(ROOT, path)));
    expect(missing).toEqual([]);
  });

  it('refuses a bad configuration with exit 2, every problem named, nothing started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcud-bad-'));
    const file = join(dir, 'dcu.yaml');
    writeFileSync(file, `id: t\nstateDir: ${join(dir, 'state')}\nmeters: [{ serial: A, line: nowhere, address: "1/16" }]\n`);
    const r = await runCli('dcud', ['--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('meters[0].line: "nowhere" is not a line');
    expect(existsSync(join(dir, 'state'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('with simulated meters on a serial line', () => {
    let fleet: RunningFleet;
    let dir: string;
    beforeAll(async () => {
      fleet = await startFleet(parseFleetConfig({ meters: 3, serialLines: 1, baud: 38400, latencyMs: 5 }, 'test'));
      dir = mkdtempSync(join(tmpdir(), 'dcud-run-'));
    });
    afterAll(async () => {
      await fleet.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('collects a day of load profile into SQLite, refuses a second instance, stops cleanly on SIGTERM', async () => {
      const device = fleet.lines[0]!.device;
      const meters = fleet.endpoints.map((m) => `  - { serial: ${m.serial}, line: plc0, address: "${m.logicalDevice}/${m.physicalAddress}", client: 17, auth: low, password: "00000000" }`);
      const file = join(dir, 'dcu.yaml');
      writeFileSync(
        file,
        [`id: dcu-test`, `stateDir: ${join(dir, 'state')}`, `lines:`, `  - { name: plc0, serial: { path: ${device}, baud: 38400 }, timeout: 2s }`, `meters:`, ...meters, `collection:`, `  load-profile: { every: 15m, backfill: 1d }`, `  daily: { every: 1d, backfill: 5d }`, `  events: { every: 1h, backfill: 2d }`, `  alarms: { every: 15m }`, `  registers: { every: 1h }`, ''].join('\n'),
      );
      const store = join(dir, 'state', 'dcu.sqlite');
      const dcud = startDcud(file);
      try {
        // 3 meters × 96 intervals of the last day (95 or 96 depending on the quarter-hour)
        await until(() => rowCount(store) >= 3 * 95 && rowCount(store, '1.0.99.2.0.255') >= 3 * 5, 'a day of load profile and 5 daily values from 3 meters', 60_000).catch((e: unknown) => {
          throw new Error(`${String(e)}; rows: ${rowCount(store)}\n${dcud.output()}`);
        });
        const second = await runCli('dcud', ['--config', file]);
        expect(second.code).toBe(7);
        expect(second.stderr).toMatch(/another dcud already runs/);
        // the technician's read-only view works while the daemon runs
        const list = await runCli('dcu', ['meters', 'list', '--state', join(dir, 'state')]);
        expect(list.code).toBe(0);
        expect(list.stdout).toMatch(/SIM000000\s+plc0\s+1\/16\s+commissioned\s+reachable/);
        // an on-demand read through the daemon's local socket
        const read = await runCli('dcu', ['read', 'SIM000001', '--what', 'registers,clock', '--state', join(dir, 'state')]);
        expect(read.stderr).toBe('');
        expect(read.code).toBe(0);
        expect(read.stdout).toMatch(/^SIM000001 EXE {2}\+A \d+ Wh {2}-A \d+ Wh .* clock 20\d\d-/);
        const unknown = await runCli('dcu', ['read', 'NOPE', '--state', join(dir, 'state')]);
        expect(unknown.code).toBe(2);
        expect(unknown.stderr).toMatch(/not registered: NOPE/);
      } finally {
        dcud.child.kill('SIGTERM');
      }
      expect(await dcud.exited).toBe(0);
      const db = new Database(store, { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const perMeter = db.prepare("SELECT meter, count(*) AS n, count(DISTINCT captured_at) AS d FROM profile_rows WHERE profile = '1.0.99.1.0.255' GROUP BY meter ORDER BY meter").all() as { meter: string; n: number; d: number }[];
      // daily values (1.0.99.2.0.255, captured at midnight) of the last 5 days, in the same associations
      const daily = db.prepare("SELECT meter, count(*) AS n FROM profile_rows WHERE profile = '1.0.99.2.0.255' GROUP BY meter ORDER BY meter").all() as { meter: string; n: number }[];
      expect(daily.map((r) => r.meter)).toEqual(fleet.endpoints.map((m) => m.serial));
      for (const r of daily) expect(r.n).toBe(5);
      // the event logs and the alarm register were read in the same associations (watermarks exist)
      const marks = db.prepare("SELECT count(*) AS n FROM watermarks WHERE profile IN ('0.0.99.98.0.255', '0.0.99.97.0.255')").get() as { n: number };
      expect(marks.n).toBe(2 * 3);
      expect((db.prepare('SELECT count(*) AS n FROM alarm_registers').get() as { n: number }).n).toBe(3);
      // energy registers: 4 per meter per read (scheduled, and the on-demand read of SIM000001)
      const regs = db.prepare('SELECT meter, count(*) AS n FROM register_values GROUP BY meter ORDER BY meter').all() as { meter: string; n: number }[];
      expect(regs).toEqual([
        { meter: 'SIM000000', n: 4 },
        { meter: 'SIM000001', n: 8 },
        { meter: 'SIM000002', n: 4 },
      ]);
      expect(perMeter.map((r) => r.meter)).toEqual(fleet.endpoints.map((m) => m.serial));
      for (const r of perMeter) expect(r.n).toBe(r.d);
      const states = db.prepare('SELECT serial, stage, reachability FROM meters ORDER BY serial').all();
      expect(states).toEqual(fleet.endpoints.map((m) => ({ serial: m.serial, stage: 'commissioned', reachability: 'reachable' })));
      const outboxRows = db.prepare("SELECT payload FROM outbox WHERE stream = 'load-profile'").all() as { payload: string }[];
      expect(outboxRows.reduce((n, m) => n + (JSON.parse(m.payload) as { rows: unknown[] }).rows.length, 0)).toBe(perMeter.reduce((n, r) => n + r.n, 0));
      db.close();

      // export what was collected, as a technician does with the WAN down
      const day = await runCli('dcu', ['export', '--state', join(dir, 'state'), '--from', '2000-01-01T00:00Z', '--to', '2100-01-01T00:00Z', '--meters', 'SIM000001', '--format', 'csv']);
      expect(day.code).toBe(0);
      const lines = day.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^meter,captured_at,status,/);
      expect(lines.length - 1).toBe(perMeter.find((r) => r.meter === 'SIM000001')!.n);
      const ev = await runCli('dcu', ['export', '--state', join(dir, 'state'), '--class', 'meter-events', '--from', '2000-01-01T00:00Z', '--to', '2100-01-01T00:00Z']);
      expect(ev.code).toBe(0);
      expect(ev.stdout.split('\n')[0]).toBe('meter,at,log,code,event');
      const show = await runCli('dcu', ['meters', 'show', 'SIM000002', '--json', '--state', join(dir, 'state')]);
      expect(JSON.parse(show.stdout)).toMatchObject({ serial: 'SIM000002', access: { client: 17, auth: 'low' }, state: { stage: 'commissioned' } });
      expect(show.stdout).not.toContain('00000000'); // the password stays in the store
      const unknownMeter = await runCli('dcu', ['meters', 'show', 'NOPE', '--state', join(dir, 'state')]);
      expect(unknownMeter.code).toBe(2);
      const stopped = await runCli('dcu', ['read', 'SIM000001', '--state', join(dir, 'state')]);
      expect(stopped.code).toBe(3);
      expect(stopped.stderr).toMatch(/not reachable/);
    }, 90_000);
  });
});
