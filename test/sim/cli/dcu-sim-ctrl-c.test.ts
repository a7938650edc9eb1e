/**
 * `dcu-sim` stopped with Ctrl-C in a terminal (SIGINT to the whole foreground process group,
 * as the terminal sends it): it stops quietly with exit 0. socat, in the same group, used to
 * die first and the simulator logged the vanished port with a stack trace and "socat exited".
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST } from '../../helpers/cli';
import { until } from '../../helpers/until';

const DCU_SIM = join(DIST, 'sim', 'cli', 'dcu-sim.js');
const LIMIT_MS = 60_000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcu-sim-ctrl-c-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('stops quietly when the terminal sends SIGINT to its process group', async () => {
  // detached: a process group of its own, as a shell's foreground job has
  const child = spawn(process.execPath, [DCU_SIM, '--meters', '2', '--serial-lines', '2', '--pty-dir', join(dir, 'pty'), '--verbose'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await until(() => stdout.includes('line1'), 'dcu-sim to list its lines', LIMIT_MS);
    process.kill(-(child.pid ?? 0), 'SIGINT'); // Ctrl-C: the whole group
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) process.kill(-(child.pid ?? 0), 'SIGKILL');
  }
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(stderr).not.toMatch(/socat exited|line port closed/);
}, 2 * LIMIT_MS);
