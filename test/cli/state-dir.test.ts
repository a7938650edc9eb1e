/**
 * A new user's trial: a state directory that is a file, or one another user owns, is named
 * with what to do (the owner to run as), exit 7 (storage), from `dcu` and from `dcud`; it was
 * SQLite's "unable to open database file" / "attempt to write a readonly database" (exit 1)
 * or a raw EEXIST. The other user is `nobody` when the tests run as root.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, runCli, type CliResult } from '../helpers/cli';

const DCU = join(DIST, 'cli', 'dcu.js');
const DCUD = join(DIST, 'daemon', 'bin', 'dcud.js');
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcu-state-dir-'));
  chmodSync(dir, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a built CLI as `nobody` (the tests run as root) or as this user. */
function runAs(script: string, args: readonly string[], uid: number | undefined): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(uid === undefined ? {} : { uid, gid: uid }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function dcudConfig(name: string, stateDir: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, [`id: ${name}`, `stateDir: ${stateDir}`, 'lines:', '  - { name: ip, tcp: {} }', 'meters: []', ''].join('\n'));
  chmodSync(file, 0o644);
  return file;
}

it('a state directory that is a file: exit 7 naming the path, no raw EEXIST', async () => {
  const file = join(dir, 'not-a-dir');
  writeFileSync(file, 'x');
  const add = await runCli('dcu', ['users', 'add', 'tech', '--role', 'operator', '--state', file]);
  expect(add.code).toBe(7);
  expect(add.stderr).toMatch(new RegExp(`cannot use ${file} as a directory: ${file} exists and is not a directory`));
  expect(add.stderr).not.toMatch(/EEXIST/);
  const dcud = await runAs(DCUD, ['--config', dcudConfig('dcu-file', file)], undefined);
  expect(dcud.code).toBe(7);
  expect(dcud.stderr).toMatch(/exists and is not a directory/);
  expect(dcud.stderr).not.toMatch(/EEXIST/);
});

(asRoot ? it : it.skip)('a state directory another user owns: exit 7 naming the path and the owner to run as', async () => {
  const state = join(dir, 'state');
  const made = await runCli('dcu', ['users', 'add', 'boss', '--role', 'admin', '--state', state]);
  expect(made.code).toBe(0);
  chmodSync(state, 0o755);
  const add = await runAs(DCU, ['users', 'add', 'tech', '--role', 'operator', '--state', state], NOBODY);
  expect(add.code).toBe(7);
  expect(add.stderr).toMatch(new RegExp(`${state}.* is not writable: it belongs to root and this runs as nobody: run the command as root \\(sudo -u root …\\)`));
  expect(add.stderr).not.toMatch(/readonly database|unable to open database file/);
  const fresh = await runAs(DCU, ['users', 'add', 'tech', '--role', 'operator', '--state', join(state, 'new')], NOBODY);
  expect(fresh.code).toBe(7);
  expect(fresh.stderr).toMatch(/is not writable: it belongs to root and this runs as nobody/);
  expect(fresh.stderr).not.toMatch(/EACCES: permission denied, mkdir/);
  const dcud = await runAs(DCUD, ['--config', dcudConfig('dcu-owned', state)], NOBODY);
  expect(dcud.code).toBe(7);
  expect(dcud.stderr).toMatch(/is not writable: it belongs to root and this runs as nobody/);
});
