/**
 * Power cuts during collection: dcud (child process) is killed with SIGKILL at random
 * moments while it backfills a week of load profile from simulated meters on a socat pty
 * line — one of them over HLS-GMAC with ciphered APDUs — and restarted each time. In the end
 * every interval is stored exactly once, no watermark ever went back or skipped rows,
 * the database checks, and no invocation counter was reused (the meter refuses a reused one,
 * so the ciphered meter completing is the proof).
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../../sim/config';
import { startFleet, type RunningFleet } from '../../../sim/fleet';
import { createRng } from '../../../sim/prng';
import { SIM_KEYS } from '../../../sim/types';
import { DIST } from '../../helpers/cli';
import { until } from '../../helpers/until';

const DCUD = join(DIST, 'daemon', 'cli', 'dcud.js');
/** The acceptance asks for 30 random moments; about 40 s here (each cycle: node start, association, part of a day's read). */
const KILLS = Number(process.env.DCU_CRASH_KILLS ?? 30);
const Q = 15 * 60_000;

function snapshot(store: string): { rows: Map<string, number[]>; marks: Map<string, number> } {
  const rows = new Map<string, number[]>();
  const marks = new Map<string, number>();
  if (!existsSync(store)) return { rows, marks };
  const db = new Database(store, { readonly: true, fileMustExist: true });
  try {
    for (const r of db.prepare('SELECT meter, captured_at FROM profile_rows ORDER BY meter, captured_at').all() as { meter: string; captured_at: number }[]) {
      rows.set(r.meter, [...(rows.get(r.meter) ?? []), r.captured_at]);
    }
    for (const w of db.prepare('SELECT meter, collected_to FROM watermarks').all() as { meter: string; collected_to: number }[]) marks.set(w.meter, w.collected_to);
  } catch {
    // tables not created yet
  } finally {
    db.close();
  }
  return { rows, marks };
}

/** Rows per meter, cheaply (polled while the daemon writes). */
function counts(store: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(store)) return out;
  const db = new Database(store, { readonly: true, fileMustExist: true });
  try {
    for (const r of db.prepare('SELECT meter, count(*) AS n FROM profile_rows GROUP BY meter').all() as { meter: string; n: number }[]) out.set(r.meter, r.n);
  } catch {
    // tables not created yet
  } finally {
    db.close();
  }
  return out;
}

describe('dcud killed with SIGKILL during collection', () => {
  let fleet: RunningFleet;
  let dir: string;
  beforeAll(async () => {
    fleet = await startFleet(parseFleetConfig({ meters: 3, serialLines: 1, baud: 115200, latencyMs: 5 }, 'test'));
    dir = mkdtempSync(join(tmpdir(), 'dcud-crash-'));
  });
  afterAll(async () => {
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing, duplicates nothing, never moves a watermark back, never reuses a counter', async () => {
    const device = fleet.lines[0]!.device;
    const [a, b, c] = fleet.endpoints;
    const meter = (m: typeof a, access: string): string => `  - { serial: ${m!.serial}, line: plc0, address: "${m!.logicalDevice}/${m!.physicalAddress}", ${access} }`;
    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [
        'id: dcu-crash',
        `stateDir: ${join(dir, 'state')}`,
        'lines:',
        `  - { name: plc0, serial: { path: ${device}, baud: 115200 }, timeout: 2s }`,
        'meters:',
        meter(a, 'client: 17, auth: low, password: "00000000"'),
        meter(b, `client: 1, auth: high-gmac, systemTitle: "4443553030303031", keys: { blockKey: ${SIM_KEYS.blockKey}, authKey: ${SIM_KEYS.authKey} }`),
        meter(c, 'client: 17, auth: low, password: "00000000"'),
        'collection:',
        '  load-profile: { every: 15m, backfill: 7d }',
        '  clock: { every: 1d, enabled: false }',
        '',
      ].join('\n'),
    );
    const store = join(dir, 'state', 'dcu.sqlite');
    const random = createRng(20261201).next;
    const seenMarks = new Map<string, number>();
    const checkMarks = (): void => {
      const { rows, marks } = snapshot(store);
      for (const [m, mark] of marks) {
        expect(mark).toBeGreaterThanOrEqual(seenMarks.get(m) ?? 0); // never back
        seenMarks.set(m, mark);
        // never skips: every row up to the watermark is there (the simulated meters have no gaps)
        const have = rows.get(m) ?? [];
        const first = have[0];
        if (first !== undefined) expect(have.filter((t) => t <= mark).length).toBe(Math.floor((mark - first) / Q) + 1);
      }
    };
    let output = '';
    const run = async (killAfterMs: number | undefined): Promise<number | null> => {
      const child = spawn(process.execPath, [DCUD, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      if (killAfterMs === undefined) {
        await until(() => { const n = counts(store); return fleet.endpoints.every((m) => (n.get(m.serial) ?? 0) >= 7 * 96); }, 'the whole week from every meter', 60_000).catch((e: unknown) => {
          throw new Error(`${String(e)}\n${output.slice(-3000)}`);
        });
        child.kill('SIGTERM');
      } else {
        await new Promise((r) => setTimeout(r, killAfterMs));
        child.kill('SIGKILL');
      }
      return exited;
    };
    for (let k = 0; k < KILLS; k++) {
      await run(250 + Math.floor(random() * 1500));
      checkMarks();
    }
    expect(await run(undefined)).toBe(0);
    checkMarks();

    const db = new Database(store, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const perMeter = db.prepare('SELECT meter, count(*) AS n, count(DISTINCT captured_at) AS d, min(captured_at) AS lo, max(captured_at) AS hi FROM profile_rows GROUP BY meter ORDER BY meter').all() as { meter: string; n: number; d: number; lo: number; hi: number }[];
    expect(perMeter).toHaveLength(3);
    for (const r of perMeter) {
      expect(r.n).toBe(r.d); // exactly once
      expect(r.n).toBe((r.hi - r.lo) / Q + 1); // no hole
    }
    // every stored row went into the outbox exactly once
    const carried = (db.prepare("SELECT payload FROM outbox WHERE stream = 'load-profile'").all() as { payload: string }[]).flatMap((m) => {
      const p = JSON.parse(m.payload) as { meter: string; rows: number[][] };
      return p.rows.map((row) => `${p.meter} ${row[0]}`);
    });
    expect(new Set(carried).size).toBe(carried.length);
    expect(carried.length).toBe(perMeter.reduce((n, r) => n + r.n, 0));
    const states = db.prepare('SELECT serial, stage FROM meters ORDER BY serial').all();
    expect(states).toEqual(fleet.endpoints.map((m) => ({ serial: m.serial, stage: 'commissioned' })));
    db.close();
  }, 300_000);
});
