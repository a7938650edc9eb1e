/**
 * End to end: `dcu probe` (a child process) talks to meters through a real pseudo-terminal
 * pair made by socat, the way a technician's laptop talks through an RS-485 adapter. Two
 * meters share the line (multi-drop, HDLC physical addresses 17 and 18).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../protocol/common/clock';
import { SerialTransport } from '../../protocol/transport/serial';
import { runCli } from '../helpers/cli';
import { createMiniMeterServer, MINI_ENERGY, MINI_PROFILE_ROWS } from '../helpers/mini-meter';
import { serveMeter } from '../helpers/serve-meter';
import { createPtyPair, type PtyPair } from '../helpers/socat';

let pty: PtyPair;
let line: SerialTransport;

beforeAll(async () => {
  pty = await createPtyPair();
  line = new SerialTransport({ path: pty.b, baudRate: 9600 });
  await line.open();
  for (const physical of [17, 18]) {
    const { server } = createMiniMeterServer(systemClock);
    serveMeter(line, server, { framing: 'hdlc', address: { logical: 1, physical, size: 2 }, limits: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 } });
  }
});

afterAll(async () => {
  await line.close();
  await pty.close();
});

const probe = (...args: string[]) => runCli('dcu', ['probe', '--serial', pty.a, '--timeout', '1000', '--retries', '1', ...args]);

describe('dcu probe over a socat pty (two meters on one line)', () => {
  it('reads a register as JSON, with the scaled value', async () => {
    const r = await probe('--server', '1/17', '--json', 'get', '3:1.0.1.8.0.255:2');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ref: '3:1.0.1.8.0.255:2', value: { uint32: MINI_ENERGY }, scaled: `${MINI_ENERGY} Wh` });
  });

  it('lists the objects of the second meter as a table', async () => {
    const r = await probe('--server', '1/18', 'objects');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1\.0\.99\.1\.0\.255/);
    expect(r.stdout).toMatch(/objects$/m);
  });

  it('reads the load profile as CSV with LLS', async () => {
    const r = await probe('--server', '1/17', '--auth', 'low', '--password', 'Gurux', 'profile', '1.0.99.1.0.255', '--csv', '--no-cache');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(MINI_PROFILE_ROWS + 1);
    expect(lines[1]).toBe('2026-01-01T00:00:00.000Z,1000');
  });

  it('keeps profile metadata in --cache-file: the second read takes the scalers from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcu-probe-meta-'));
    try {
      const file = join(dir, 'meta.json');
      const read = async (...extra: string[]) => {
        const r = await probe('--server', '1/17', '--json', 'profile', '1.0.99.1.0.255', ...extra);
        expect(r.code).toBe(0);
        return JSON.parse(r.stdout) as { metadata: string; rows: unknown[]; columns: unknown[] };
      };
      const cold = await read('--cache-file', file);
      expect(cold.metadata).toBe('cache-miss');
      expect(Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { meters: object }).meters)).toEqual([`serial ${pty.a}|server 1/17`]);
      const warm = await read('--cache-file', file);
      expect(warm.metadata).toBe('cache-hit');
      expect(warm.rows).toEqual(cold.rows);
      expect(warm.columns).toEqual(cold.columns);
      expect((await read('--no-cache')).metadata).toBe('read');
      const both = await probe('--server', '1/17', 'profile', '1.0.99.1.0.255', '--no-cache', '--cache-file', file);
      expect(both.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads entries of a profile buffer with get --entries', async () => {
    const r = await probe('--server', '1/17', '--auth', 'low', '--password', 'hex:4775727578', '--json', 'get', '7:1.0.99.1.0.255:2', '--entries', '1..2');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { value: { array: unknown[] } }).value.array).toHaveLength(2);
  });

  it('reads the clock and its drift', async () => {
    const r = await probe('--server', '1/17', 'clock');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/drift +[+-]\d+\.\d s/);
  });

  it('clock --set now takes the time at the SET and states the residual error', async () => {
    const r = await probe('--server', '1/17', '--auth', 'low', '--password', 'Gurux', 'clock', '--set', 'now');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^set clock: success$/m);
    expect(r.stdout).toMatch(/^set to +\d{4}-\d\d-\d\dT[\d:.]+Z \(± 1\.0 s: meter clock resolution 1 s, request transfer \d+ ms compensated \(\d+ bytes at 9600 baud\)\)$/m);
    const drift = /drift +([+-]\d+\.\d) s/.exec(r.stdout);
    expect(Math.abs(Number(drift?.[1]))).toBeLessThanOrEqual(1.5);
  });

  it('exits 5 when the meter refuses a write (public client)', async () => {
    const r = await probe('--server', '1/17', 'set', '8:0.0.1.0.0.255:2', '{"date-time": "2026-11-23T10:30:00Z"}');
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/read-write-denied/);
  });

  it('exits 4 on a wrong password', async () => {
    const r = await probe('--server', '1/17', '--auth', 'low', '--password', 'nope', 'clock');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/authentication/);
  });

  it('exits 3 with a hint when no meter answers at that address', async () => {
    const r = await probe('--server', '1/19', 'clock');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/hint:/);
  });

  it('exits 2 on usage errors before touching the line', async () => {
    const bad = await runCli('dcu', ['probe', '--serial', pty.a, 'get', 'not-a-ref']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/CLASS:OBIS/);
    const value = await runCli('dcu', ['probe', '--serial', pty.a, 'set', '3:1.0.1.8.0.255:2', '{"uint8": 999}']);
    expect(value.code).toBe(2);
  });
});
