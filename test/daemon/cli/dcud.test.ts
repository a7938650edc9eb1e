import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli';

const ROOT = join(__dirname, '..', '..', '..');

describe('declared binaries', () => {
  it('every bin in package.json exists after the build', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const missing = Object.entries(pkg.bin).filter(([, path]) => !existsSync(join(ROOT, path)));
    expect(missing).toEqual([]);
  });

  it('dcud says what it will be and exits 2 until the daemon lands', async () => {
    const r = await runCli('dcud', []);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not built yet/);
  });
});
