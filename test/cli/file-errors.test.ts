/**
 * A new user's trial: a file named on the command line that is missing or is a directory is
 * said in words by `dcu config check` and `dcu firmware upload` (real processes), never as a
 * raw ENOENT / EISDIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcu-file-errors-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RAW = /ENOENT|EISDIR|no such file or directory|illegal operation on a directory/;

it('dcu config check: a missing file, a directory', async () => {
  const missing = await runCli('dcu', ['config', 'check', join(dir, 'dcu.yaml')]);
  expect(missing.code).not.toBe(0);
  expect(missing.stderr + missing.stdout).toMatch(/the configuration file does not exist \(check the path\)/);
  expect(missing.stderr + missing.stdout).not.toMatch(RAW);
  const directory = await runCli('dcu', ['config', 'check', dir]);
  expect(directory.code).not.toBe(0);
  expect(directory.stderr + directory.stdout).toMatch(/the configuration file is a directory, not a file/);
  expect(directory.stderr + directory.stdout).not.toMatch(RAW);
});

it('dcu firmware upload: a missing image, a directory, a missing manifest (exit 2)', async () => {
  const missing = await runCli('dcu', ['firmware', 'upload', join(dir, 'fw.bin'), '--target-version', 'V2', '--state', dir]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(new RegExp(`the image ${join(dir, 'fw.bin')} does not exist`));
  expect(missing.stderr).not.toMatch(RAW);
  const directory = await runCli('dcu', ['firmware', 'upload', dir, '--target-version', 'V2', '--state', dir]);
  expect(directory.code).toBe(2);
  expect(directory.stderr).toMatch(/the image .* is a directory, not a file/);
  expect(directory.stderr).not.toMatch(RAW);
  const manifest = await runCli('dcu', ['firmware', 'upload', dir, '--manifest', join(dir, 'm.json'), '--state', dir]);
  expect(manifest.code).toBe(2);
  expect(manifest.stderr).not.toMatch(RAW);
});
