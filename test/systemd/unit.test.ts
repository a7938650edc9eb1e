/**
 * systemd/: the unit passes `systemd-analyze verify` (Debian package `systemd`; it needs no
 * running systemd), carries the hardening the issue asks for, the sysusers.d file parses, and
 * scripts/install.sh lays the files out under a staging root (DESTDIR).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const UNIT = join(ROOT, 'systemd', 'dcud.service');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcu-unit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** verify checks that ExecStart's program exists: where node is not /usr/bin/node (a CI image with /usr/local/bin/node), a copy names this node, as install.sh does. */
function verifiable(): string {
  if (existsSync('/usr/bin/node')) return UNIT;
  const copy = join(dir, 'dcud.service');
  writeFileSync(copy, readFileSync(UNIT, 'utf8').replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `));
  return copy;
}

it('passes systemd-analyze verify', () => {
  const r = spawnSync('systemd-analyze', ['verify', verifiable()], { encoding: 'utf8' });
  expect(r.error).toBeUndefined();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

it('is a hardened Type=notify service with a watchdog, fed through systemd-notify', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const has = (line: string): void => expect(unit.split('\n')).toContain(line);
  for (const l of ['Type=notify', 'NotifyAccess=all', 'WatchdogSec=60', 'Restart=on-failure', 'User=dcu', 'SupplementaryGroups=dialout', 'StateDirectory=dcu', 'ConfigurationDirectory=dcu', 'ProtectSystem=strict', 'ProtectHome=yes', 'NoNewPrivileges=yes', 'DevicePolicy=closed', 'ExecReload=/bin/kill -HUP $MAINPID']) has(l);
  // i.MX, OMAP, SPI/I2C and LPUART UARTs too: a concentrator's meter port is often one of them.
  for (const g of ['ttyS', 'ttyUSB', 'ttyACM', 'ttyAMA', 'ttymxc', 'ttyO', 'ttySC', 'ttyLP']) has(`DeviceAllow=char-${g} rw`);
  expect(unit).not.toMatch(/^PrivateDevices=/m);
  expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node --max-semi-space-size=4 \/usr\/lib\/dcu\/dist\/daemon\/bin\/dcud\.js --config \/etc\/dcu\/dcu\.yaml$/m);
});

it('keeps secrets at rest: umask 077, the KEK from an encrypted credential with the "none" fallback dcud knows', () => {
  const lines = readFileSync(UNIT, 'utf8').split('\n');
  for (const l of ['UMask=0077', 'StateDirectoryMode=0750', 'LoadCredentialEncrypted=dcu-kek:/etc/credstore.encrypted/dcu-kek', 'SetCredential=dcu-kek:none']) expect(lines).toContain(l);
});

it('names README sections that exist (its comments send the reader there)', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const named = [...unit.matchAll(/README "([^"]+)"/g)].map((m) => m[1] as string);
  expect(named.length).toBeGreaterThan(0);
  const headings = new Set(readme.split('\n').flatMap((l) => {
    const h = /^#+ (.*)$/.exec(l)?.[1];
    const bold = /^\*\*([^*]+)\.\*\*/.exec(l)?.[1];
    return [h, bold].filter((x): x is string => x !== undefined);
  }));
  for (const n of named) expect({ section: n, exists: headings.has(n) }).toEqual({ section: n, exists: true });
});

it('creates the dcu user in dialout (sysusers.d, dry run)', () => {
  const root = join(dir, 'sysroot');
  mkdirSync(join(root, 'etc'), { recursive: true });
  const r = spawnSync('systemd-sysusers', ['--dry-run', `--root=${root}`, join(ROOT, 'systemd', 'dcu.sysusers.conf')], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout + r.stderr).toMatch(/Creating user 'dcu'/);
});

it('install.sh lays out code, unit, sysusers, wrappers and the example config under DESTDIR', () => {
  const stage = join(dir, 'stage');
  execFileSync('bash', [join(ROOT, 'scripts', 'install.sh')], { env: { ...process.env, DESTDIR: stage, DCU_NODE: process.execPath }, stdio: 'pipe' });
  for (const f of ['usr/lib/dcu/dist/daemon/bin/dcud.js', 'usr/lib/dcu/package-lock.json', 'usr/lib/systemd/system/dcud.service', 'usr/lib/sysusers.d/dcu.conf', 'usr/bin/dcu', 'usr/bin/dcud', 'etc/dcu/dcu.yaml']) {
    expect(existsSync(join(stage, f))).toBe(true);
  }
  const unit = join(stage, 'usr/lib/systemd/system/dcud.service');
  expect(readFileSync(unit, 'utf8')).toContain(`ExecStart=${process.execPath} --max-semi-space-size=4 /usr/lib/dcu/dist/daemon/bin/dcud.js`);
  expect(spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' }).status).toBe(0);
  expect(readFileSync(join(stage, 'etc/dcu/dcu.yaml'), 'utf8')).toBe(execFileSync(process.execPath, [join(ROOT, 'dist/cli/dcu.js'), 'config', 'example'], { encoding: 'utf8' }));
  // a second run keeps the edited configuration
  writeFileSync(join(stage, 'etc/dcu/dcu.yaml'), '# edited\n');
  execFileSync('bash', [join(ROOT, 'scripts', 'install.sh')], { env: { ...process.env, DESTDIR: stage, DCU_NODE: process.execPath }, stdio: 'pipe' });
  expect(readFileSync(join(stage, 'etc/dcu/dcu.yaml'), 'utf8')).toBe('# edited\n');
});
