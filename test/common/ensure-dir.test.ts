/** ensureDirectory: parents created one by one; /proc and files in the way fail at once. */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../protocol/common/errors';
import { ensureDirectory } from '../../common/ensure-dir';
import { expectDcuError } from '../helpers/dcu-error';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcu-ensure-dir-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('creates missing parents and accepts an existing directory', () => {
  const deep = join(dir, 'a', 'b', 'c');
  ensureDirectory(deep);
  expect(statSync(deep).isDirectory()).toBe(true);
  ensureDirectory(deep);
});

it('refuses a path through a file', () => {
  writeFileSync(join(dir, 'file'), '');
  expect(expectDcuError(() => ensureDirectory(join(dir, 'file', 'x')), ErrorCode.Storage).message).toMatch(/is not a directory/);
});

it('fails at once under /proc, where Node’s recursive mkdir spins forever', () => {
  if (!existsSync('/proc/self')) return;
  expect(expectDcuError(() => ensureDirectory('/proc/nope/deeper'), ErrorCode.Storage).message).toMatch(/cannot (create|use)/);
});
