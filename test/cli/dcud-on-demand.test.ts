/**
 * On-demand on a busy line: while dcud backfills a month of load profile from one meter on a
 * multi-drop line, an on-demand read of another meter on the same line is served after the
 * request in flight — before the backfill's next request — and the backfill then resumes.
 * Asserted on the order of the daemon's own events (its line grants), not on wall time.
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

function rows(store: string, meter: string): number {
  if (!existsSync(store)) return 0;
  const db = new Database(store, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM profile_rows WHERE meter = ?').get(meter) as { n: number }).n;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

describe('an on-demand read on a busy multi-drop line', () => {
  let fleet: RunningFleet;
  let dir: string;
  beforeAll(async () => {
    fleet = await startFleet(parseFleetConfig({ meters: 2, serialLines: 1, baud: 19200, latencyMs: 5 }, 'test'));
    dir = mkdtempSync(join(tmpdir(), 'dcud-od-'));
  });
  afterAll(async () => {
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is served after the request in flight, and the backfill resumes after it', async () => {
    const [a, b] = fleet.endpoints;
    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [
        'id: dcu-od',
        `stateDir: ${join(dir, 'state')}`,
        'lines:',
        `  - { name: plc0, serial: { path: ${fleet.lines[0]!.device}, baud: 19200 }, timeout: 2s }`,
        'meters:',
        ...[a!, b!].map((m) => `  - { serial: ${m.serial}, line: plc0, address: "1/${m.physicalAddress}", client: 17, auth: low, password: "00000000" }`),
        'collection:',
        '  load-profile: { every: 15m, backfill: 30d }',
        '  clock: { every: 1d, enabled: false }',
        '',
      ].join('\n'),
    );
    const store = join(dir, 'state', 'dcu.sqlite');
    const child = spawn(process.execPath, [DCUD, '--config', file, '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // the backfill of meter A is under way (a first day stored, 29 to go)
      await until(() => rows(store, a!.serial) >= 96, 'the backfill to start', 60_000);
      const read = await runCli('dcu', ['read', b!.serial, '--what', 'registers', '--state', join(dir, 'state')], 60_000);
      expect(read.code).toBe(0);
      expect(read.stdout).toMatch(new RegExp(`^${b!.serial} EXE`));
      // the backfill was not finished when the read was answered…
      expect(rows(store, a!.serial)).toBeLessThan(30 * 96);
      // …and carries on afterwards
      const before = rows(store, a!.serial);
      await until(() => rows(store, a!.serial) > before, 'the backfill to resume', 60_000);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const grants = log
      .split('\n')
      .filter((l) => l.includes('"msg":"line granted"'))
      .map((l) => JSON.parse(l) as { holder: string; priority: string })
      .map((g) => `${g.holder}/${g.priority}`);
    const od = grants.indexOf(`${b!.serial} on-demand/on-demand`);
    expect(od).toBeGreaterThan(0);
    // A held the line; B's on-demand read came next (ahead of B's own scheduled collection, which
    // queued first), then the line went back to A's backfill.
    expect(grants.slice(0, od + 2)).toEqual([`${a!.serial}/scheduled`, `${b!.serial} on-demand/on-demand`, `${a!.serial}/scheduled`]);
    // A gave the line away between two of its range reads, not at the end of its backfill.
    expect(log).toMatch(/yielding the line to a more urgent job/);
  }, 120_000);
});
