import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli';

describe('dcu config (built CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcu-config-cli-'));

  it('example prints a config that check accepts (once its meter key file exists)', async () => {
    const example = await runCli('dcu', ['config', 'example']);
    expect(example.code).toBe(0);
    const file = join(dir, 'example.yaml');
    writeFileSync(file, example.stdout);
    // the example's key file is /etc/dcu/keys/SIM000004.json: checked like the rest of the config
    const noKeys = await runCli('dcu', ['config', 'check', file]);
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toMatch(/1 problem\n {2}meters\[2\]\.keys\.file: meter SIM000004: key file \/etc\/dcu\/keys\/SIM000004\.json does not exist/);
    const keys = join(dir, 'SIM000004.json');
    writeFileSync(keys, JSON.stringify({ blockKey: '000102030405060708090A0B0C0D0E0F', authKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF' }));
    const check = await runCli('dcu', ['config', 'check', file], 20_000, { ...process.env, DCU_METERS_2_KEYS_FILE: keys });
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/ok — concentrator dcu-0001, 2 line\(s\), 3 meter\(s\), 1 key file\(s\) checked/);
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
