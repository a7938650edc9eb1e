/**
 * Key files are configuration: dcud checks every meter's key file before it starts anything
 * (exit 2, the meter, the file and the problem named), `dcu config check` does the same, and
 * a SIGHUP with a broken key file leaves the running daemon on its last good configuration.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, runCli } from '../helpers/cli';
import { until } from '../helpers/until';

const KEYS = { blockKey: '000102030405060708090A0B0C0D0E0F', authKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF' };

describe('dcud and dcu config check with key files', () => {
  let dir: string;
  let keyFile: string;
  let config: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcud-keys-'));
    keyFile = join(dir, 'M1.json');
    config = join(dir, 'dcu.yaml');
    writeFileSync(
      config,
      [
        'id: dcu-keys',
        `stateDir: ${join(dir, 'state')}`,
        'lines: [{ name: ip, tcp: {} }]',
        'meters:',
        '  - { serial: M0, line: ip, address: "127.0.0.1:9", client: 17, auth: low, password: "00000000" }',
        `  - { serial: M1, line: ip, address: "127.0.0.1:10", client: 1, auth: high-gmac, systemTitle: "4443553030303031", keys: { file: ${keyFile} } }`,
        'collection: { clock: { every: 1d, enabled: false } }',
        '',
      ].join('\n'),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing key file: exit 2 naming the meter, the file and the problem; nothing started', async () => {
    const r = await runCli('dcud', ['--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`meters[1].keys.file: meter M1: key file ${keyFile} does not exist; create it or fix the path`);
    expect(existsSync(join(dir, 'state'))).toBe(false);
    const check = await runCli('dcu', ['config', 'check', config]);
    expect(check.code).toBe(2);
    expect(check.stderr).toContain(`meter M1: key file ${keyFile} does not exist`);
  });

  it('a key of the wrong length: exit 2, and the key itself is not printed', async () => {
    writeFileSync(keyFile, JSON.stringify({ ...KEYS, authKey: `${KEYS.authKey}00` }));
    const r = await runCli('dcud', ['--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`meter M1: key file ${keyFile} "authKey" has 34 hex digits; security suite 0 (AES-128) keys are 16 bytes, 32 hex digits`);
    expect(r.stderr).not.toContain(KEYS.authKey);
    const check = await runCli('dcu', ['config', 'check', '--json', config]);
    expect(check.code).toBe(2);
    expect(JSON.parse(check.stderr)).toMatchObject({ ok: false, error: { layer: 'config' } });
  });

  it('SIGHUP with a broken key file: not reloaded, the error logged, the daemon keeps running', async () => {
    writeFileSync(keyFile, JSON.stringify(KEYS));
    expect((await runCli('dcu', ['config', 'check', config])).code).toBe(0);
    const child = spawn(process.execPath, [join(DIST, 'daemon', 'bin', 'dcud.js'), '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const seen = (text: string, what: string): Promise<void> => until(() => out.includes(text), what, 20_000).catch((e: unknown) => Promise.reject(new Error(`${String(e)}\n${out}`)));
      await seen('dcud started', 'dcud started');
      writeFileSync(keyFile, '{"blockKey": "00"}');
      child.kill('SIGHUP');
      await seen('SIGHUP: configuration not reloaded', 'the refused reload');
      const refused = out.split('\n').filter((l) => l.includes('SIGHUP: configuration not reloaded')).map((l) => JSON.parse(l) as { level: number; err: string });
      expect(refused).toHaveLength(1);
      expect(refused[0]!.level).toBe(50); // error
      expect(refused[0]!.err).toContain(`meters[1].keys.file: meter M1: key file ${keyFile} "blockKey" has 2 hex digits`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
