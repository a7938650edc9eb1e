/**
 * Jobs through the real processes: dcud (child) with simulated meters on TCP; `dcu plan`
 * queues a mass plan and follows it to the end (named classes and an attribute), `dcu jobs
 * list|show` read it back from the store, a plan outside its window waits and is cancelled
 * with `dcu jobs cancel`, a bad plan is refused with nothing queued.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { runCli } from '../helpers/cli';
import { startDcud, tcpMeterEntries, type DcudChild } from '../helpers/dcud';
import { freePortBlock } from '../helpers/ports';

describe('jobs: dcu plan, dcu jobs list|show|cancel against a running dcud', () => {
  let fleet: RunningFleet;
  let dir: string;
  let dcud: DcudChild;
  let state: string;

  beforeAll(async () => {
    fleet = await startFleet(parseFleetConfig({ meters: 3, tcpBasePort: await freePortBlock(3), latencyMs: 0, jitterMs: 0 }, 'test'));
    dir = mkdtempSync(join(tmpdir(), 'dcud-jobs-'));
    state = join(dir, 'state');
    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [
        'id: dcu-jobs',
        `stateDir: ${state}`,
        'timeZone: UTC',
        'lines:',
        '  - { name: ip, tcp: { concurrency: 2 }, timeout: 2s }',
        'meters:',
        ...tcpMeterEntries(fleet.endpoints),
        'collection:',
        '  load-profile: { every: 1d, enabled: false }',
        '  clock: { every: 1d, enabled: false }',
        '',
      ].join('\n'),
    );
    dcud = await startDcud(file);
  });
  afterAll(async () => {
    await dcud.stop();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a plan to the end and shows it', async () => {
    const serials = fleet.endpoints.map((m) => m.serial);
    const plan = await runCli('dcu', ['plan', '--meters', serials.join(','), '--what', 'daily,3:1.0.1.8.0.255:2', '--id', 'plan-1', '--follow', '--state', state], 90_000);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^plan-1 queued: 3 meter\(s\)/);
    for (const s of serials) expect(plan.stdout).toMatch(new RegExp(`${s} EXE .*3:1\\.0\\.1\\.8\\.0\\.255:2 = \\{"uint32":\\d+\\}`));
    expect(plan.stdout).toMatch(/plan-1 done: 3 EXE, 0 WARN, 0 FAIL, 0 cancelled/);

    const again = await runCli('dcu', ['plan', '--meters', serials[0]!, '--what', 'daily', '--id', 'plan-1', '--state', state]);
    expect(again.stdout).toMatch(/plan-1 exists already/);

    const list = await runCli('dcu', ['jobs', 'list', '--state', state, '--json']);
    expect(list.code).toBe(0);
    const jobs = JSON.parse(list.stdout) as { id: string; state: string; counts: { EXE: number } }[];
    expect(jobs.find((j) => j.id === 'plan-1')).toMatchObject({ state: 'done', counts: { EXE: 3 } });
    const show = await runCli('dcu', ['jobs', 'show', 'plan-1', '--state', state]);
    expect(show.code).toBe(0);
    for (const s of serials) expect(show.stdout).toMatch(new RegExp(`${s}\\s+EXE\\s+1`));
  }, 120_000);

  it('a plan outside its window waits, and is cancelled', async () => {
    const now = new Date();
    const hh = (h: number): string => String((now.getUTCHours() + h) % 24).padStart(2, '0');
    const window = `${hh(2)}:00-${hh(3)}:00`;
    const plan = await runCli('dcu', ['plan', '--all', '--what', 'registers', '--window', window, '--id', 'night', '--state', state]);
    expect(plan.code).toBe(0);
    const show = await runCli('dcu', ['jobs', 'show', 'night', '--state', state, '--json']);
    const doc = JSON.parse(show.stdout) as { state: string; meters: { state: string; reason: string | null }[] };
    expect(doc.meters.every((m) => m.state === 'queued')).toBe(true);
    const cancel = await runCli('dcu', ['jobs', 'cancel', 'night', '--state', state]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(/night cancelled/);
    const after = JSON.parse((await runCli('dcu', ['jobs', 'show', 'night', '--state', state, '--json'])).stdout) as { state: string; meters: { state: string }[] };
    expect(after.state).toBe('cancelled');
    expect(after.meters.map((m) => m.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  }, 60_000);

  it('refuses a bad plan with a typed message and queues nothing', async () => {
    const before = JSON.parse((await runCli('dcu', ['jobs', 'list', '--state', state, '--json'])).stdout) as unknown[];
    for (const args of [
      ['--meters', 'NOPE', '--what', 'daily'],
      ['--all', '--what', 'daily', '--window', 'nights'],
      ['--all', '--what', 'weekly'],
      ['--all', '--lines', 'ip', '--what', 'daily'],
    ]) {
      const r = await runCli('dcu', ['plan', ...args, '--state', state]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(/^dcu plan: /);
    }
    const after = JSON.parse((await runCli('dcu', ['jobs', 'list', '--state', state, '--json'])).stdout) as unknown[];
    expect(after).toHaveLength(before.length);
  }, 60_000);
});
