/**
 * What a technician trips over, end to end against dcu-sim over TCP: usage errors caught
 * before the port opens (exit 2, JSON with --json), the meter's refusals as the documented
 * error document with a hint that points the right way, and a meter that speaks the other
 * framing named at once instead of a 20-second timeout about cables.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { runCli } from '../helpers/cli';

let fleet: RunningFleet;
let port = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

beforeAll(async () => {
  fleet = await startFleet(parseFleetConfig({ meters: 1, tcpBasePort: await freePort(), latencyMs: 0, jitterMs: 0 }, 'test'));
  port = fleet.endpoints[0]?.tcp?.port ?? 0;
});

afterAll(async () => {
  await fleet.stop();
});

const probe = (...args: string[]) => runCli('dcu', ['probe', '--tcp', `127.0.0.1:${port}`, '--timeout', '1000', '--retries', '0', ...args]);
type ErrorDoc = { error: { code: number; layer: string; message: string; hint?: string } };

describe('usage errors: exit 2 before the port opens', () => {
  it('probe without a command', async () => {
    const r = await runCli('dcu', ['probe']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: dcu probe/);
  });

  it('--json usage errors are JSON too (commander and our own checks)', async () => {
    const a = await runCli('dcu', ['probe', '--json', '--tcp', '127.0.0.1:1', '--bogus', 'clock']);
    expect(a.code).toBe(2);
    expect((JSON.parse(a.stdout) as ErrorDoc).error).toMatchObject({ code: 800, layer: 'command', message: expect.stringMatching(/unknown option '--bogus'/) });
    const b = await runCli('dcu', ['probe', '--json', '--tcp', '127.0.0.1:1', 'get', 'nonsense']);
    expect(b.code).toBe(2);
    expect((JSON.parse(b.stdout) as ErrorDoc).error.message).toMatch(/not an attribute reference/);
  });

  it('--entries or --from/--to on a Register', async () => {
    // Port 1: nothing listens there, so exit 2 (not 3) proves the port was never opened.
    const a = await runCli('dcu', ['probe', '--tcp', '127.0.0.1:1', 'get', '3:1.0.1.8.0.255:2', '--entries', '1..2']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--entries selects rows of a profile buffer.*Register value/);
    const b = await runCli('dcu', ['probe', '--tcp', '127.0.0.1:1', 'get', '3:1.0.1.8.0.255:2', '--from', '2026-11-22T00:00Z', '--to', '2026-11-23T00:00Z']);
    expect(b.code).toBe(2);
  });

  it('--baud outside the list, with the list', async () => {
    const r = await runCli('dcu', ['probe', '--serial', '/dev/null', '--baud', '1234', 'clock']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--baud must be one of 300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200/);
  });

  it('--from later than --to, read in the local zone (TZ) when no offset is given', async () => {
    const r = await runCli('dcu', ['probe', '--tcp', '127.0.0.1:1', 'profile', '1.0.99.1.0.255', '--from', '2026-11-23T00:00', '--to', '2026-11-22T00:00'], 20_000, {
      ...process.env,
      TZ: 'Europe/Berlin',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--from 2026-11-23T00:00:00\+01:00 \(no offset given: local time, Europe\/Berlin\) is later than --to/);
  });
});

describe('the range as it was understood', () => {
  it('is printed back with the profile (local zone named)', async () => {
    const args = ['--auth', 'low', '--password', '00000000', 'profile', '1.0.99.1.0.255', '--from', '2026-11-22T00:00', '--to', '2026-11-22T01:00'];
    const r = await runCli('dcu', ['probe', '--tcp', `127.0.0.1:${port}`, ...args], 20_000, { ...process.env, TZ: 'UTC' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^range 2026-11-22T00:00:00\+00:00 \(no offset given: local time, UTC\) \.\. /);
  });
});

describe("the meter's refusals: exit 5 with a hint, JSON error document with --json", () => {
  it('object-undefined', async () => {
    const r = await probe('--json', 'get', '3:1.0.99.0.0.255:2');
    expect(r.code).toBe(5);
    const doc = JSON.parse(r.stdout) as ErrorDoc;
    expect(doc.error).toMatchObject({ code: 502, layer: 'meter', message: expect.stringMatching(/object-undefined/) });
    expect(doc.error.hint).toMatch(/dcu probe objects/);
    expect(r.stderr).toMatch(/hint: /);
  });

  it('read-write-denied on a SET by the reading client names the client that writes', async () => {
    const r = await probe('--client', '17', '--auth', 'low', '--password', '00000000', '--json', 'set', '8:0.0.1.0.0.255:2', '{"date-time": "2026-11-23T10:30:00+01:00"}');
    expect(r.code).toBe(5);
    const doc = JSON.parse(r.stdout) as ErrorDoc;
    expect(doc.error.message).toMatch(/read-write-denied/);
    expect(doc.error.hint).toMatch(/client 17 reads only: writing needs the management client \(e\.g\. --client 1 --auth high-gmac/);
  });
});

describe('values print names where the class table knows them', () => {
  const reader = ['--client', '17', '--auth', 'low', '--password', '00000000'];
  it('units in scaler_unit, enums by meaning (text and JSON), clock status bits', async () => {
    const su = await probe(...reader, 'get', '3:1.0.1.8.0.255:3');
    expect(su.stdout).toMatch(/enum 30 \(Wh\)/);
    const state = await probe(...reader, '--json', 'get', '70:0.0.96.3.10.255:3');
    expect(JSON.parse(state.stdout)).toMatchObject({ value: { enum: 1 }, meaning: 'connected' });
    const image = await probe(...reader, 'get', '18:0.0.44.0.0.255:6');
    expect(image.stdout).toMatch(/enum \d \((not initiated|initiated|verification|activation)/);
    const clock = await probe(...reader, 'clock');
    expect(clock.stdout).toMatch(/^status +0x[0-9a-f]{2} \(.+\)$/m);
  });

  it('objects lists method access', async () => {
    const r = await probe(...reader, 'objects');
    expect(r.stdout).toMatch(/attribute access +method access/);
    expect(r.stdout).toMatch(/0\.0\.1\.0\.0\.255 .* 6:(no-access|access|authenticated-access)/);
  });
});

describe('hints that point the right way', () => {
  it('client 17 without --auth low is told to add a password, not HLS keys', async () => {
    const r = await probe('--client', '17', 'clock');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/hint: client 17 needs a password: add --auth low --password/);
    expect(r.stderr).not.toMatch(/block-key|auth-key/);
  });

  it('UDP "connection refused" is not a USB adapter', async () => {
    const r = await runCli('dcu', ['probe', '--udp', `127.0.0.1:${await freePort()}`, '--timeout', '1000', 'clock']);
    expect(r.code).toBe(3);
    expect(r.stderr).not.toMatch(/USB/);
    expect(r.stderr).toMatch(/hint: no meter listens at that UDP port/);
  });

  it('a silent meter over TCP gets a hint naming --framing', async () => {
    const r = await probe('--framing', 'hdlc', 'clock');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/try --framing wrapper/);
    expect(r.stderr).not.toMatch(/cable/);
  });
});

describe('a meter that answers in the other framing is named at once', () => {
  let peer: Server;
  let peerPort = 0;
  let answer = new Uint8Array(0);
  beforeAll(async () => {
    peer = createServer((s: Socket) => s.once('data', () => s.write(answer)));
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', () => r()));
    const a = peer.address();
    peerPort = typeof a === 'object' && a !== null ? a.port : 0;
  });
  afterAll(async () => {
    await new Promise((r) => peer.close(r));
  });

  it('wrapper session, HDLC answer (a DM frame)', async () => {
    answer = Uint8Array.of(0x7e, 0xa0, 0x07, 0x21, 0x03, 0x1f, 0x00, 0x00, 0x7e);
    const started = Date.now();
    const r = await runCli('dcu', ['probe', '--tcp', `127.0.0.1:${peerPort}`, '--json', 'clock']);
    expect(Date.now() - started).toBeLessThan(15_000); // the 20 s timeout never runs
    expect(r.code).toBe(6);
    expect((JSON.parse(r.stdout) as ErrorDoc).error).toMatchObject({ code: 108, layer: 'framing', hint: 'the meter speaks the other framing: use --framing hdlc' });
  });

  it('HDLC session, wrapper answer', async () => {
    answer = Uint8Array.of(0x00, 0x01, 0x00, 0x01, 0x00, 0x10, 0x00, 0x02, 0xd8, 0x01);
    const started = Date.now();
    const r = await runCli('dcu', ['probe', '--tcp', `127.0.0.1:${peerPort}`, '--framing', 'hdlc', 'clock']);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/the meter answered with wrapper frames \(00 01 00 01 00 10 …\).*\n {2}hint: .*use --framing wrapper/);
  });
});
