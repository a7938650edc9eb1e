import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';

describe('dcu config (built CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcu-config-cli-'));

  it('example prints a config that check accepts as it is; its secured-meter template passes once its named key file exists', async () => {
    const example = await runCli('dcu', ['config', 'example']);
    expect(example.code).toBe(0);
    const file = join(dir, 'example.yaml');
    writeFileSync(file, example.stdout);
    const check = await runCli('dcu', ['config', 'check', file]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/ok — concentrator dcu-0001, 2 line\(s\), 2 meter\(s\)$/m);
    // the commented secured meter, uncommented: its key file is named, in keysDir
    const secured = join(dir, 'secured.yaml');
    writeFileSync(secured, example.stdout.replace(/^ {2}# (- serial: SIM000004|  \w+: .*)$/gm, '  $1'));
    const noKeys = await runCli('dcu', ['config', 'check', secured]);
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toMatch(/1 problem\n {2}meters\[2\]\.keys\.name: meter SIM000004: key file \/etc\/dcu\/keys\/SIM000004\.json does not exist/);
    const keysDir = join(dir, 'keys');
    mkdirSync(keysDir);
    writeFileSync(join(keysDir, 'SIM000004.json'), JSON.stringify({ blockKey: '000102030405060708090A0B0C0D0E0F', authKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF' }));
    const ok = await runCli('dcu', ['config', 'check', secured], 20_000, { ...process.env, DCU_KEYS_DIR: keysDir });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ok — concentrator dcu-0001, 2 line\(s\), 3 meter\(s\), 1 key file\(s\) checked/);
  });

  it('a key file that is a FIFO or a device is refused at once with its path named (check used to hang on both)', async () => {
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    const file = join(dir, 'special.yaml');
    const meter = (i: number, keyFile: string): string => `  - { serial: M${i}, line: ip, address: "10.0.0.${i}:4059", client: 1, auth: high-gmac, systemTitle: "4443553030303031", keys: { file: ${keyFile} } }`;
    writeFileSync(file, ['id: dcu-1', 'lines: [{ name: ip, tcp: {} }]', 'meters:', meter(1, fifo), meter(2, '/dev/zero'), ''].join('\n'));
    const r = await runCli('dcu', ['config', 'check', file], 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`meters[0].keys.file: meter M1: key file ${fifo} is a FIFO (named pipe), not a key file`);
    expect(r.stderr).toContain('meters[1].keys.file: meter M2: key file /dev/zero is a character device, not a key file');
  });

  it('check exits 2 and names every problem', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'id: dcu-1\nlines: [{ name: a, serial: { path: /dev/x, baud: 1234 } }]\nstorag: {}\n');
    const r = await runCli('dcu', ['config', 'check', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lines[0].serial.baud: 1234 is not allowed');
    expect(r.stderr).toContain('unknown key "storag"');
  });

  it('check --json prints one document, environment overrides included', async () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, '{"id": "dcu-2"}');
    const r = await runCli('dcu', ['config', 'check', '--json', file], 20_000, { ...process.env, DCU_STATE_DIR: '/srv/dcu' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, id: 'dcu-2', overrides: ['DCU_STATE_DIR → stateDir'] });
  });
});
