/** dcu-sim's command line: options, the endpoint report, config errors, stop and save. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, mergeFlags, runDcuSim } from '../../../sim/cli/dcu-sim';

function io(stop: Promise<unknown> = Promise.resolve()) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s), stopSignal: stop } };
}

describe('dcu-sim', () => {
  it('--help lists every option', async () => {
    const x = io();
    expect(await runDcuSim(['--help'], x.io)).toBe(0);
    const help = x.out.join('\n');
    for (const o of buildProgram().options) expect(help).toContain(o.long!);
    for (const flag of ['--meters', '--serial-lines', '--tcp', '--framing', '--baud', '--latency', '--state', '--config', '--password', '--seed', '--speed', '--json']) {
      expect(help).toContain(flag);
    }
  });

  it('reports configuration mistakes with exit code 8 and the flag name', async () => {
    const x = io();
    expect(await runDcuSim(['--meters', 'ten', '--serial-lines', '1'], x.io)).toBe(8);
    expect(x.err.join('\n')).toMatch(/meters \(--meters\): "ten" is not allowed; allowed: an integer from 1 to 65535/);
    const y = io();
    expect(await runDcuSim(['--meters', '4'], y.io)).toBe(8);
    expect(y.err.join('\n')).toMatch(/--serial-lines K.*--tcp BASEPORT/);
    const z = io();
    expect(await runDcuSim(['--meters', '4', '--framing', 'ppp'], z.io)).toBe(2); // commander's choices
  });

  it('prints the endpoints as JSON, runs until stopped, saves state and exits 0', async () => {
    const state = mkdtempSync(join(tmpdir(), 'dcu-sim-cli-'));
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const x = io(stopped);
    try {
      const run = runDcuSim(['--meters', '3', '--serial-lines', '1', '--latency', '0', '--password', 'secret', '--state', state, '--json'], x.io);
      const end = Date.now() + 10_000;
      while (x.out.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      const report = JSON.parse(x.out[0]!);
      expect(report.meters).toHaveLength(3);
      expect(report.meters[2]).toMatchObject({ serial: 'SIM000002', logicalDevice: 1, physicalAddress: 18, line: { index: 0, addressSize: 2 } });
      expect(report.lines[0]).toMatchObject({ name: 'line0', baud: 9600, meters: 3, firstPhysicalAddress: 16, lastPhysicalAddress: 18 });
      expect(existsSync(report.lines[0].device)).toBe(true);
      expect(report.clients).toContainEqual({ client: 17, auth: 'low', password: 'secret' });
      stop();
      expect(await run).toBe(0);
      expect(existsSync(report.lines[0].device)).toBe(false); // socat stopped, links gone
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('prints a text report naming devices, addresses and clients', async () => {
    const x = io();
    expect(await runDcuSim(['--meters', '20', '--serial-lines', '2', '--latency', '0'], x.io)).toBe(0);
    const text = x.out.join('\n');
    expect(text).toMatch(/line0 .*\/line0 +9600 +10 +16\.\.25/);
    expect(text).toContain('SIM000000');
    expect(text).toContain('and 4 more');
    expect(text).toContain('LLS password "00000000"');
    expect(text).toMatch(/dcu probe --serial \S+line0 --server 1\/16/);
  });

  it('merges flags over the configuration file', () => {
    const raw = mergeFlags({ meters: 5, faults: { extraLatencyMs: 10 }, credentials: [{ client: 16, auth: 'none' }] }, {
      meters: '7',
      loss: '0.1',
      password: 'pw',
      tcp: '4059',
    });
    expect(raw).toEqual({
      meters: '7',
      tcpBasePort: '4059',
      faults: { extraLatencyMs: 10, lossProbability: 0.1 },
      credentials: [{ client: 16, auth: 'none' }, { client: 17, auth: 'low', password: 'pw' }],
    });
  });
});
