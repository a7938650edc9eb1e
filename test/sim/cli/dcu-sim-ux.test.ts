/** dcu-sim and the demo where a technician tripped: state directory, what the report says, env vars. */
import { runDcuSim } from '../../../sim/cli/dcu-sim';
import { envInteger } from '../../../sim/cli/demo';
import { runCli } from '../../helpers/cli';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s), stopSignal: Promise.resolve() } };
}

it('--state under /proc exits 2 at once with a clear message (no 100 % CPU spin)', async () => {
  const x = io();
  expect(await runDcuSim(['--meters', '1', '--tcp', '47990', '--state', '/proc/nope'], x.io)).toBe(2);
  expect(x.err.join('\n')).toMatch(/--state \/proc\/nope: cannot use \/proc\/nope as a directory/);
  expect(x.out).toEqual([]);
});

it('says state is not saved without --state', async () => {
  const x = io();
  expect(await runDcuSim(['--meters', '1', '--serial-lines', '1', '--latency', '0'], x.io)).toBe(0);
  expect(x.out.join('\n')).toMatch(/no --state: meter state is not saved/);
  expect(x.out.join('\n')).not.toMatch(/state is saved on exit/);
});

it('--json names the HLS mechanism, policy and keys of client 1 and each meter’s system title', async () => {
  const x = io();
  expect(await runDcuSim(['--meters', '2', '--serial-lines', '1', '--latency', '0', '--json'], x.io)).toBe(0);
  const report = JSON.parse(x.out[0] ?? '{}') as { clients: Record<string, unknown>[]; meters: { systemTitle: string }[] };
  expect(report.clients.find((c) => c['client'] === 1)).toMatchObject({
    auth: 'high',
    mechanism: 'high-gmac',
    policy: 'auth-enc',
    blockKey: '000102030405060708090A0B0C0D0E0F',
    authKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF',
  });
  expect(report.meters.map((m) => m.systemTitle)).toEqual(['4443550000000000', '4443550000000001']);
});

describe('demo environment variables', () => {
  it('name the variable, not a flag', () => {
    expect(envInteger('DCU_DEMO_METERS', 6, 1, 4096, {})).toBe(6);
    expect(envInteger('DCU_DEMO_METERS', 6, 1, 4096, { DCU_DEMO_METERS: '12' })).toBe(12);
    expect(() => envInteger('DCU_DEMO_METERS', 6, 1, 4096, { DCU_DEMO_METERS: 'abc' })).toThrow(/DCU_DEMO_METERS=abc: must be a whole number/);
  });

  it('a bad one exits 2', async () => {
    const r = await runCli('demo', [], 20_000, { ...process.env, DCU_DEMO_METERS: 'abc' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DCU_DEMO_METERS=abc/);
    expect(r.stderr).not.toMatch(/--meters/);
  });
});
