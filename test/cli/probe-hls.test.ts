/**
 * End to end: `dcu probe --auth high-gmac` (a child process) over a socat pty to the mini
 * meter's HLS-GMAC client (auth-enc ciphering). The first run finds no counter in its file,
 * reads 0.0.43.1.0.255 as the public client and persists the counter; later runs continue
 * above it. Keys never appear in the output, JSON or errors.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../protocol/common/clock';
import { toHex } from '../../protocol/common/hex';
import { SerialTransport } from '../../protocol/transport/serial';
import { runCli } from '../helpers/cli';
import { createMiniMeterServer, MINI_ENERGY, MINI_HLS } from '../helpers/mini-meter';
import { serveMeter } from '../helpers/serve-meter';
import { createPtyPair, type PtyPair } from '../helpers/socat';

let pty: PtyPair;
let line: SerialTransport;
let dir: string;
let server: ReturnType<typeof createMiniMeterServer>['server'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcu-probe-hls-'));
  pty = await createPtyPair();
  line = new SerialTransport({ path: pty.b, baudRate: 9600 });
  await line.open();
  server = createMiniMeterServer(systemClock).server;
  serveMeter(line, server, { framing: 'hdlc', address: { logical: 1, physical: 17, size: 2 }, limits: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 } });
});

afterAll(async () => {
  await line.close();
  await pty.close();
  rmSync(dir, { recursive: true, force: true });
});

const blockKey = toHex(MINI_HLS.blockKey);
const authKey = toHex(MINI_HLS.authKey);
const keyArgs = (counterFile: string, a = authKey) => [
  '--client', String(MINI_HLS.clientAddress), '--auth', 'high-gmac', '--system-title', toHex(MINI_HLS.clientSystemTitle),
  '--block-key', blockKey, '--auth-key', a, '--counter-file', counterFile,
];
const probe = (...args: string[]) => runCli('dcu', ['probe', '--serial', pty.a, '--server', '1/17', '--timeout', '1000', '--retries', '1', ...args]);

function noKeys(text: string): void {
  for (const k of [blockKey, authKey]) {
    expect(text.toLowerCase().includes(k.toLowerCase())).toBe(false);
  }
}

describe('dcu probe --auth high-gmac over a socat pty', () => {
  it('reads a register through a ciphered HLS-GMAC association and persists the counter', async () => {
    const counters = join(dir, 'a', 'counters.json');
    const r = await probe(...keyArgs(counters), '--json', 'get', '3:1.0.1.8.0.255:2');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ref: '3:1.0.1.8.0.255:2', value: { uint32: MINI_ENERGY }, scaled: `${MINI_ENERGY} Wh` });
    const file = readFileSync(counters, 'utf8');
    noKeys(file);
    const first = Object.values((JSON.parse(file) as { counters: Record<string, number> }).counters)[0] ?? 0;
    expect(first).toBeGreaterThan(0);

    // A second run continues above the persisted counter (no public read needed).
    const before = server.securitySetup(0)?.lastClientCounter ?? 0;
    const again = await probe(...keyArgs(counters), 'clock');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/drift/);
    expect(server.securitySetup(0)?.lastClientCounter ?? 0).toBeGreaterThan(before);
  }, 30_000);

  it('uses a dedicated key and an explicit --invocation-counter', async () => {
    const counters = join(dir, 'b.json');
    const start = (server.securitySetup(0)?.lastClientCounter ?? 0) + 1000;
    const r = await probe(...keyArgs(counters), '--dedicated-key', '--invocation-counter', String(start), 'objects');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0\.0\.43\.0\.0\.255/);
    expect(server.securitySetup(0)?.lastClientCounter ?? 0).toBeGreaterThanOrEqual(start);
  }, 30_000);

  it('exits 4 on a wrong authentication key and never prints a key', async () => {
    const wrong = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDE00';
    const r = await probe(...keyArgs(join(dir, 'c.json'), wrong), '--json', 'clock');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/authentication|decipher/);
    noKeys(r.stdout + r.stderr);
    expect((r.stdout + r.stderr).includes(wrong)).toBe(false);
    expect((JSON.parse(r.stdout) as { error: { code: number } }).error.code).toBe(301);
  }, 30_000);

  it('exits 2 on a malformed key without echoing it', async () => {
    const r = await probe(...keyArgs(join(dir, 'd.json'), 'D0D1D2D3SECRETXX'), 'clock');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--auth-key takes 16 bytes/);
    expect(r.stderr.includes('SECRET')).toBe(false);
  });
});
