/**
 * The lock file must serve `npm ci` on the concentrator (linux-arm64, linux-armv7), not only
 * on the machine that wrote it: every optional per-platform binary family that the lock file
 * lists for linux-x64 must also be listed for the ARM targets. A lock file regenerated with
 * node_modules present drops them (npm keeps only what is installed); `.ci/relock` writes
 * it from scratch.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface LockFile {
  lockfileVersion: number;
  packages: Record<string, { optional?: boolean; os?: string[]; cpu?: string[] }>;
}

const lock = JSON.parse(readFileSync(resolve(__dirname, '../../package-lock.json'), 'utf8')) as LockFile;

describe('package-lock.json', () => {
  it('is a v3 lock file', () => {
    expect(lock.lockfileVersion).toBe(3);
  });

  it('lists the ARM binaries of every package family that ships per-platform binaries', () => {
    const x64 = Object.entries(lock.packages).filter(
      ([, p]) => p.optional === true && p.os?.includes('linux') === true && p.cpu?.includes('x64') === true,
    );
    expect(x64.length).toBeGreaterThan(0);
    const families = new Set(x64.map(([name]) => name.replace(/-linux-x64.*$/, '')));
    const missing: string[] = [];
    for (const family of families) {
      const forCpu = (cpu: string): boolean =>
        Object.entries(lock.packages).some(
          ([name, p]) => name.startsWith(`${family}-linux-`) && p.cpu?.includes(cpu) === true,
        );
      if (!forCpu('arm64')) missing.push(`${family} arm64`);
      if (!forCpu('arm')) missing.push(`${family} arm`);
    }
    expect(missing).toEqual([]);
  });
});
