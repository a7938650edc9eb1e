import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyFileProblems, parseKeyFile, readKeyFile } from '../../config/key-files';
import { loadConfig } from '../../config/load';
import { DcuError, ErrorCode } from '../../protocol/common/errors';

const BLOCK = '000102030405060708090A0B0C0D0E0F';
const AUTH = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF';

describe('parseKeyFile', () => {
  it('accepts the two keys of suite 0 in hex', () => {
    expect(parseKeyFile(JSON.stringify({ blockKey: BLOCK, authKey: AUTH.toLowerCase() }))).toEqual({ ok: true, keys: { blockKey: BLOCK, authKey: AUTH.toLowerCase() } });
  });

  it.each([
    ['not JSON', '{"blockKey": ', /is not JSON.*; expected \{"blockKey": "<32 hex digits>", "authKey": "<32 hex digits>"\}/],
    ['an array', '[]', /is not a JSON object/],
    ['a missing key', JSON.stringify({ blockKey: BLOCK }), /has no "authKey"/],
    ['a misspelt name', JSON.stringify({ blockkey: BLOCK, authKey: AUTH }), /unknown key name "blockkey"; allowed: blockKey, authKey/],
    ['a number', JSON.stringify({ blockKey: 12, authKey: AUTH }), /"blockKey" is not a string of hex digits/],
    ['not hex', JSON.stringify({ blockKey: BLOCK, authKey: AUTH.replace('D0', 'G0') }), /"authKey" has characters that are not hex digits/],
    ['a 32-byte key', JSON.stringify({ blockKey: BLOCK + BLOCK, authKey: AUTH }), /"blockKey" has 64 hex digits; security suite 0 \(AES-128\) keys are 16 bytes, 32 hex digits/],
    ['an odd length', JSON.stringify({ blockKey: BLOCK, authKey: AUTH.slice(1) }), /"authKey" has 31 hex digits/],
  ])('refuses %s, saying what is expected', (_what, text, problem) => {
    const r = parseKeyFile(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });

  it('never puts key material in a problem', () => {
    const secret = 'A1B2C3D4E5F60718293A4B5C6D7E8F9';
    for (const text of [JSON.stringify({ blockKey: secret, authKey: AUTH }), JSON.stringify({ blockKey: `${secret}Z`, authKey: AUTH }), `{"blockKey": "${secret}"`, `{"blockKey": "${secret}" x}`]) {
      const r = parseKeyFile(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problem).not.toContain(secret.slice(0, 8));
    }
  });
});

describe('key files in the configuration', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dcu-keys-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const configWith = (keyFiles: readonly string[]): string => {
    const meters = keyFiles.map(
      (f, i) => `  - { serial: M${i}, line: ip, address: "10.0.0.${i + 1}:4059", client: 1, auth: high-gmac, systemTitle: "4443553030303031", keys: { file: ${JSON.stringify(f)} } }`,
    );
    const file = join(dir, 'dcu.yaml');
    writeFileSync(file, ['id: dcu-test', 'lines: [{ name: ip, tcp: {} }]', 'meters:', ...meters, ''].join('\n'));
    return file;
  };

  it('reads missing files, directories and bad contents as problems naming the meter and the file', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ blockKey: BLOCK, authKey: AUTH }));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ blockKey: BLOCK }));
    const missing = join(dir, 'missing.json');
    mkdirSync(join(dir, 'keys'));
    const file = configWith([good, missing, bad, join(dir, 'keys')]);
    let error: unknown;
    try {
      loadConfig(file, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DcuError);
    expect((error as DcuError).code).toBe(ErrorCode.Config);
    const message = (error as DcuError).message;
    expect(message).toContain(`${file}: 3 problems`);
    expect(message).toContain(`meters[1].keys.file: meter M1: key file ${missing} does not exist; create it or fix the path`);
    expect(message).toContain(`meters[2].keys.file: meter M2: key file ${bad} has no "authKey"`);
    expect(message).toContain(`meters[3].keys.file: meter M3: key file ${join(dir, 'keys')} is a directory, not a key file`);
    expect(message).not.toContain('meters[0]');
  });

  it('a good configuration loads, and inline keys need no file', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ blockKey: BLOCK, authKey: AUTH }));
    const { config } = loadConfig(configWith([good]), {});
    expect(keyFileProblems(config)).toEqual([]);
    const inline = join(dir, 'inline.yaml');
    writeFileSync(inline, `id: t\nlines: [{ name: ip, tcp: {} }]\nmeters: [{ serial: A, line: ip, address: "h:1", client: 1, auth: high-gmac, systemTitle: "4443553030303031", keys: { blockKey: ${BLOCK}, authKey: ${AUTH} } }]\n`);
    expect(loadConfig(inline, {}).config.meters).toHaveLength(1);
  });

  (process.getuid?.() === 0 ? it.skip : it)('an unreadable file is named as such (not as root)', () => {
    const locked = join(dir, 'locked.json');
    writeFileSync(locked, JSON.stringify({ blockKey: BLOCK, authKey: AUTH }));
    chmodSync(locked, 0o000);
    const r = readKeyFile(locked);
    expect(r).toEqual({ ok: false, problem: 'is not readable by this user; give the dcud user read access (and nobody else)' });
  });

  it('never blocks or reads without end: a FIFO, a device and an oversized file are refused before a byte is read', () => {
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expect(readKeyFile(fifo)).toEqual({ ok: false, problem: 'is a FIFO (named pipe), not a key file; a key file is a regular file of at most 65536 bytes' });
    expect(readKeyFile('/dev/zero')).toEqual({ ok: false, problem: 'is a character device, not a key file; a key file is a regular file of at most 65536 bytes' });
    const big = join(dir, 'big.json');
    writeFileSync(big, Buffer.alloc(70_000, 0x20));
    expect(readKeyFile(big)).toEqual({ ok: false, problem: 'is 70000 bytes, too big for a key file (at most 65536)' });
  });

  it('keys by name are <keysDir>/NAME.json, checked like key files; a name is never a path', () => {
    const keysDir = join(dir, 'keys.d');
    mkdirSync(keysDir);
    writeFileSync(join(keysDir, 'M0.json'), JSON.stringify({ blockKey: BLOCK, authKey: AUTH }));
    const named = (name: string): string => {
      const file = join(dir, `named-${name.length}.yaml`);
      writeFileSync(file, `id: t\nkeysDir: ${keysDir}\nlines: [{ name: ip, tcp: {} }]\nmeters: [{ serial: M0, line: ip, address: "h:1", client: 1, auth: high-gmac, systemTitle: "4443553030303031", keys: { name: ${JSON.stringify(name)} } }]\n`);
      return file;
    };
    expect(loadConfig(named('M0'), {}).config.meters[0]?.keys).toEqual({ name: 'M0' });
    expect(() => loadConfig(named('M9'), {})).toThrow(`meters[0].keys.name: meter M0: key file ${join(keysDir, 'M9.json')} does not exist`);
    for (const bad of ['../M0', 'a/b', '.hidden']) expect(() => loadConfig(named(bad), {})).toThrow(/meters\[0\]\.keys/);
  });

  it('two meters at one TCP endpoint are refused, whatever their clients or lines', () => {
    const file = join(dir, 'twice.yaml');
    writeFileSync(file, 'id: t\nlines: [{ name: ip, tcp: {} }, { name: ip2, tcp: {} }]\nmeters:\n  - { serial: A, line: ip, address: "10.0.0.1:4059" }\n  - { serial: B, line: ip2, address: "10.0.0.1:4059", client: 17, auth: low, password: x }\n  - { serial: C, line: ip, address: "10.0.0.2:4059" }\n');
    expect(() => loadConfig(file, {})).toThrow('meters[1].address: TCP endpoint "10.0.0.1:4059" is already used by meter A');
  });
});
