/**
 * A full store: dcud with a 1 MB storage.maxBytes backfills two months from three meters.
 * The stated policy holds: readings stop being stored (each write fails whole), one
 * `store-full` alarm is raised in the reserve, nothing stored is lost or left half-written
 * (no hole before any watermark), and the daemon keeps serving (an on-demand read answers).
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { DIST, runCli } from '../helpers/cli';
import { until } from '../helpers/until';

const DCUD = join(DIST, 'daemon', 'bin', 'dcud.js');
const Q = 15 * 60_000;

function openAlarms(store: string): string[] {
  if (!existsSync(store)) return [];
  const db = new Database(store, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT code FROM alarms WHERE cleared_at IS NULL').all() as { code: string }[]).map((a) => a.code);
  } catch {
    return [];
  } finally {
    db.close();
  }
}

describe('dcud with a full store', () => {
  let fleet: RunningFleet;
  let dir: string;
  beforeAll(async () => {
    fleet = await startFleet(parseFleetConfig({ meters: 3, serialLines: 1, baud: 0, latencyMs: 0 }, 'test')); // unpaced: fill 1 MB fast
    dir = mkdtempSync(join(tmpdir(), 'dcud-full-'));
  });
  afterAll(async () => {
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('raises store-full once, keeps what it stored whole, and keeps running', async () => {
    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [
        'id: dcu-full',
        `stateDir: ${join(dir, 'state')}`,
        'storage: { maxBytes: 1MB }',
        'lines:',
        `  - { name: plc0, serial: { path: ${fleet.lines[0]!.device}, baud: 115200 }, timeout: 2s }`,
        'meters:',
        ...fleet.endpoints.map((m) => `  - { serial: ${m.serial}, line: plc0, address: "1/${m.physicalAddress}", client: 17, auth: low, password: "00000000" }`),
        'collection:',
        '  load-profile: { every: 15m, backfill: 60d }',
        '',
      ].join('\n'),
    );
    const store = join(dir, 'state', 'dcu.sqlite');
    const child = spawn(process.execPath, [DCUD, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await until(() => openAlarms(store).includes('store-full'), 'the store-full alarm', 90_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${log.slice(-2000)}`);
      });
      // the daemon still serves: an on-demand read of registers is answered with the values —
      // EXE when the store still had room for them, WARN saying they were not stored when not
      const read = await runCli('dcu', ['read', fleet.endpoints[0]!.serial, '--what', 'registers', '--state', join(dir, 'state')], 30_000);
      expect(read.code).toBe(0);
      expect(read.stdout).toMatch(/ (EXE|WARN) +\+A \d+(\.\d+)? /);
      if (read.stdout.includes(' WARN ')) expect(read.stdout).toMatch(/register values not stored: the store is full/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const db = new Database(store, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(openAlarms(store).filter((a) => a === 'store-full')).toHaveLength(1);
    const marks = new Map((db.prepare('SELECT meter, collected_to FROM watermarks').all() as { meter: string; collected_to: number }[]).map((w) => [w.meter, w.collected_to]));
    for (const r of db.prepare('SELECT meter, count(*) AS n, min(captured_at) AS lo FROM profile_rows GROUP BY meter').all() as { meter: string; n: number; lo: number }[]) {
      const mark = marks.get(r.meter)!;
      // every interval up to the watermark is stored, none beyond it: whole writes only
      const upToMark = (db.prepare('SELECT count(*) AS n FROM profile_rows WHERE meter = ? AND captured_at <= ?').get(r.meter, mark) as { n: number }).n;
      expect(upToMark).toBe(Math.floor((mark - r.lo) / Q) + 1);
      expect(upToMark).toBe(r.n);
    }
    db.close();
  }, 150_000);
});
