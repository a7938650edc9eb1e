/**
 * End to end: `dcu probe --auth high-sha256` (a child process) over TCP with the wrapper to the
 * mini meter's HLS-SHA256 clients: 3 on a plain LN context, 4 with auth-enc ciphering. Right
 * and wrong secret; the secret never appears in the output, JSON or errors; `--help` lists it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../protocol/common/clock';
import { toHex } from '../../protocol/common/hex';
import { listenTcp, type TcpListener } from '../../protocol/transport/tcp';
import { runCli } from '../helpers/cli';
import { createMiniMeterServer, MINI_ENERGY, MINI_HLS, MINI_SHA256 } from '../helpers/mini-meter';
import { serveMeter } from '../helpers/serve-meter';

const { server } = createMiniMeterServer(systemClock);
let listener: TcpListener;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcu-probe-sha256-'));
  listener = await listenTcp(0, '127.0.0.1', (conn) => {
    void conn.open().then(() => serveMeter(conn, server, { framing: 'wrapper' }));
  });
});

afterAll(async () => {
  await listener.close();
  rmSync(dir, { recursive: true, force: true });
});

const secretText = new TextDecoder().decode(MINI_SHA256.secret);
const secretHex = toHex(MINI_SHA256.secret);
const probe = (...args: string[]) => runCli('dcu', ['probe', '--tcp', `127.0.0.1:${listener.port}`, '--timeout', '1000', '--retries', '1', ...args]);
const sha = (client: number, secret: string) => ['--client', String(client), '--auth', 'high-sha256', '--secret', secret, '--system-title', toHex(MINI_SHA256.clientSystemTitle)];

function noSecret(text: string): void {
  expect(text.includes(secretText)).toBe(false);
  expect(text.toLowerCase().includes(secretHex.toLowerCase())).toBe(false);
}

describe('dcu probe --auth high-sha256 over TCP', () => {
  it('reads a register without ciphering (secret as text)', async () => {
    const r = await probe(...sha(MINI_SHA256.plainClientAddress, secretText), '--json', 'get', '3:1.0.1.8.0.255:2');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ value: { uint32: MINI_ENERGY } });
    noSecret(r.stdout);
  });

  it('reads a register with auth-enc ciphering (secret as hex:, keys given)', async () => {
    const counters = join(dir, 'counters.json');
    const r = await probe(
      ...sha(MINI_SHA256.cipheredClientAddress, `hex:${secretHex}`),
      '--block-key', toHex(MINI_HLS.blockKey), '--auth-key', toHex(MINI_HLS.authKey), '--counter-file', counters,
      '--json', 'get', '3:1.0.1.8.0.255:2',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ value: { uint32: MINI_ENERGY } });
  });

  it('a wrong secret exits 4 and prints no secret', async () => {
    const wrong = `${secretText.slice(0, -1)}X`;
    const r = await probe(...sha(MINI_SHA256.plainClientAddress, wrong), '--json', 'get', '3:1.0.1.8.0.255:2');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/HLS-SHA256/);
    expect((JSON.parse(r.stdout) as { error: { code: number } }).error.code).toBe(301);
    for (const text of [r.stdout, r.stderr]) {
      noSecret(text);
      expect(text.includes(wrong)).toBe(false);
    }
  });

  it('usage errors: no --secret, --secret without high-sha256, keys without ciphering', async () => {
    const noSecretFlag = await probe('--auth', 'high-sha256', '--system-title', toHex(MINI_SHA256.clientSystemTitle), 'clock');
    expect(noSecretFlag.code).toBe(2);
    expect(noSecretFlag.stderr).toMatch(/--secret/);
    const stray = await probe('--secret', secretText, 'clock');
    expect(stray.code).toBe(2);
    noSecret(stray.stderr);
    const keysNoCipher = await probe(...sha(3, secretText), '--security', 'none', '--block-key', toHex(MINI_HLS.blockKey), 'clock');
    expect(keysNoCipher.code).toBe(2);
  });

  it('--help lists high-sha256 and --secret', async () => {
    const r = await runCli('dcu', ['probe', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/high-sha256/);
    expect(r.stdout).toMatch(/--secret/);
  });
});
