/**
 * Bad input and faults, with dcud as a child process on socat ptys: meters that refuse the
 * association, answer garbage or are configured with the wrong keys are per-meter FAIL results
 * with the reason while a good meter on the same line keeps being collected; a serial port
 * that vanishes (socat killed) fails only its own line's meters and is reopened by itself when
 * it is back; a database from a newer dcu is a clear start-up error with nothing touched.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../protocol/common/clock';
import { SerialTransport } from '../../protocol/transport/serial';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { createSimMeter } from '../../sim/meter';
import { loneMeterSpec, SIM_KEYS } from '../../sim/types';
import { DIST, runCli } from '../helpers/cli';
import { serveMeter } from '../helpers/serve-meter';
import { createPtyPair, type PtyPair } from '../helpers/socat';
import { until } from '../helpers/until';

const DCUD = join(DIST, 'daemon', 'bin', 'dcud.js');
const LLS = 'client: 17, auth: low, password: "00000000"';

function startDcud(config: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [DCUD, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

function rows(store: string, meter: string): number {
  try {
    const db = new Database(store, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM profile_rows WHERE meter = ?').get(meter) as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

interface ReadResult {
  readonly meter: string;
  readonly status: string;
  readonly reason?: string;
}

/** `dcu read … --json`: the per-meter results. */
async function readNow(stateDir: string, serials: readonly string[]): Promise<Map<string, ReadResult>> {
  const r = await runCli('dcu', ['read', ...serials, '--what', 'registers', '--state', stateDir, '--json'], 60_000);
  const results = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; result?: ReadResult })
    .flatMap((a) => (a.type === 'result' && a.result !== undefined ? [a.result] : []));
  return new Map(results.map((x) => [x.meter, x]));
}

describe('dcud with faulty meters on one line', () => {
  let fleet: RunningFleet;
  let dir: string;
  beforeAll(async () => {
    fleet = await startFleet(
      parseFleetConfig({ meters: 4, serialLines: 1, baud: 115200, latencyMs: 5, meterFaults: { SIM000001: { rejectAssociations: true }, SIM000002: { corruptProbability: 1 } } }, 'test'),
    );
    dir = mkdtempSync(join(tmpdir(), 'dcud-faults-'));
  });
  afterAll(async () => {
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refused association, garbage and wrong keys are FAIL with the reason; the good meter is collected', async () => {
    const [ok, refusing, garbage, ciphered] = fleet.endpoints;
    const at = (m: typeof ok): string => `address: "${m!.logicalDevice}/${m!.physicalAddress}"`;
    const file = join(dir, 'dcu.yaml');
    const wrongAuthKey = SIM_KEYS.authKey.replace(/^../, SIM_KEYS.authKey.startsWith('00') ? '11' : '00');
    writeFileSync(
      file,
      [
        'id: dcu-faults',
        `stateDir: ${join(dir, 'state')}`,
        `lines: [{ name: plc0, serial: { path: ${fleet.lines[0]!.device}, baud: 115200 }, timeout: 1s, retries: 1 }]`,
        'meters:',
        `  - { serial: ${ok!.serial}, line: plc0, ${at(ok)}, ${LLS} }`,
        `  - { serial: ${refusing!.serial}, line: plc0, ${at(refusing)}, ${LLS} }`,
        `  - { serial: ${garbage!.serial}, line: plc0, ${at(garbage)}, ${LLS} }`,
        `  - { serial: ${ciphered!.serial}, line: plc0, ${at(ciphered)}, client: 1, auth: high-gmac, systemTitle: "4443553030303031", keys: { blockKey: ${SIM_KEYS.blockKey}, authKey: ${wrongAuthKey} } }`,
        'collection:',
        '  load-profile: { every: 15m, backfill: 1d }',
        '  clock: { every: 1d, enabled: false }',
        '',
      ].join('\n'),
    );
    const stateDir = join(dir, 'state');
    const store = join(stateDir, 'dcu.sqlite');
    const dcud = startDcud(file);
    try {
      await until(() => rows(store, ok!.serial) >= 95, 'a day of load profile from the good meter', 90_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${dcud.output().slice(-4000)}`);
      });
      const results = await readNow(stateDir, fleet.endpoints.map((m) => m.serial));
      expect(results.get(ok!.serial)).toMatchObject({ status: 'EXE' });
      expect(results.get(refusing!.serial)).toMatchObject({ status: 'FAIL', reason: expect.stringMatching(/refused|rejected/i) as unknown });
      expect(results.get(garbage!.serial)).toMatchObject({ status: 'FAIL' });
      expect(results.get(ciphered!.serial)).toMatchObject({ status: 'FAIL', reason: expect.stringMatching(/auth|key|tag/i) as unknown });
      // the failing meters never stored a row; the good one is still collected after them
      for (const m of [refusing, garbage, ciphered]) expect(rows(store, m!.serial)).toBe(0);
      expect((await readNow(stateDir, [ok!.serial])).get(ok!.serial)).toMatchObject({ status: 'EXE' });
      const db = new Database(store, { readonly: true });
      const states = db.prepare('SELECT serial, stage FROM meters ORDER BY serial').all() as { serial: string; stage: string }[];
      db.close();
      expect(states.find((s) => s.serial === ok!.serial)?.stage).toBe('commissioned');
      expect(states.find((s) => s.serial === refusing!.serial)?.stage).toBe('linked'); // it answered, then refused
    } finally {
      dcud.child.kill('SIGTERM');
    }
    expect(await dcud.exited).toBe(0);
  }, 180_000);
});

describe('dcud when a serial port vanishes and comes back', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dcud-vanish-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A simulated meter answering on the far end of a pty pair, served again on a new pair. */
  async function meterOn(pair: PtyPair, serial: string, index: number): Promise<{ serveOn(p: PtyPair): Promise<() => Promise<void>> }> {
    const meter = createSimMeter({ ...loneMeterSpec([{ client: 17, auth: 'low', password: '00000000' }], index + 1), index, serial }, { clock: systemClock }, { profileDepthDays: 3 });
    const serveOn = async (p: PtyPair): Promise<() => Promise<void>> => {
      const t = new SerialTransport({ path: p.b, baudRate: 115200 });
      await t.open();
      const served = serveMeter(t, meter.handler, { framing: 'hdlc', address: { logical: 1, physical: 16, size: 2 } });
      return async () => {
        served.stop();
        await t.close().catch(() => undefined);
      };
    };
    await serveOn(pair);
    return { serveOn };
  }

  it('fails only that line, meanwhile the other line reads, and reopens it by itself', async () => {
    mkdirSync(join(dir, 'one'));
    mkdirSync(join(dir, 'two'));
    const one = await createPtyPair({ dir: join(dir, 'one') });
    const two = await createPtyPair({ dir: join(dir, 'two') });
    const a = await meterOn(one, 'SIM000000', 0);
    await meterOn(two, 'SIM000001', 1);
    const stateDir = join(dir, 'state');
    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [
        'id: dcu-vanish',
        `stateDir: ${stateDir}`,
        'lines:',
        `  - { name: one, serial: { path: ${one.a}, baud: 115200 }, timeout: 1s, retries: 1 }`,
        `  - { name: two, serial: { path: ${two.a}, baud: 115200 }, timeout: 1s, retries: 1 }`,
        'meters:',
        `  - { serial: SIM000000, line: one, address: "1/16", ${LLS} }`,
        `  - { serial: SIM000001, line: two, address: "1/16", ${LLS} }`,
        'collection:',
        '  load-profile: { every: 15m, backfill: 1d }',
        '  clock: { every: 1d, enabled: false }',
        '',
      ].join('\n'),
    );
    const store = join(stateDir, 'dcu.sqlite');
    const dcud = startDcud(file);
    const pairs: PtyPair[] = [one, two];
    try {
      await until(() => rows(store, 'SIM000000') >= 95 && rows(store, 'SIM000001') >= 95, 'a day from both lines', 90_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${dcud.output().slice(-4000)}`);
      });
      // the USB adapter of line one is pulled
      await one.kill();
      const during = await readNow(stateDir, ['SIM000000', 'SIM000001']);
      expect(during.get('SIM000000')).toMatchObject({ status: 'FAIL' });
      expect(during.get('SIM000001')).toMatchObject({ status: 'EXE' });
      // … and plugged back in at the same path: the next read reopens the port by itself
      const again = await createPtyPair({ dir: join(dir, 'one') });
      pairs.push(again);
      const stop = await a.serveOn(again);
      const after = await readNow(stateDir, ['SIM000000', 'SIM000001']);
      expect(after.get('SIM000000')).toMatchObject({ status: 'EXE' });
      expect(after.get('SIM000001')).toMatchObject({ status: 'EXE' });
      await stop();
    } finally {
      dcud.child.kill('SIGTERM');
    }
    expect(await dcud.exited).toBe(0);
    for (const p of pairs) await p.close();
  }, 180_000);
});

describe('dcud on a database from a newer dcu', () => {
  it('refuses to start with a clear error and leaves the file untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcud-future-'));
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir);
    const store = join(stateDir, 'dcu.sqlite');
    const db = new Database(store);
    db.pragma('user_version = 999');
    db.close();
    const before = statSync(store);
    const file = join(dir, 'dcu.yaml');
    writeFileSync(file, `id: dcu-future\nstateDir: ${stateDir}\n`);
    const r = await runCli('dcud', ['--config', file]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/schema version 999, newer than this dcu knows .*install that version or point stateDir elsewhere/);
    const after = statSync(store);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    rmSync(dir, { recursive: true, force: true });
  });
});
