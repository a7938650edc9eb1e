/** The fleet end to end: many meters on real ptys, TCP ports, state saved and restored. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../protocol/common/clock';
import { fromHex } from '../../protocol/common/hex';
import { SerialTransport } from '../../protocol/transport/serial';
import { TcpTransport } from '../../protocol/transport/tcp';
import { parseFleetConfig } from '../../sim/config';
import { createEchoMeter, type EchoMeter } from '../../sim/fake-meter';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import type { SimMeterFactory } from '../../sim/types';
import { HdlcTestClient } from './client';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const addr = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof addr === 'object' && addr !== null ? addr.port : 0;
}

describe('startFleet', () => {
  let fleet: RunningFleet | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('starts 1,024 meters on 4 serial lines quickly and routes by physical address', async () => {
    const t0 = Date.now();
    // The plumbing is under test: the echo stand-in answers each APDU with itself.
    fleet = await startFleet(parseFleetConfig({ meters: 1024, serialLines: 4, latencyMs: 0, jitterMs: 0, baud: 0 }), { meterFactory: (spec) => createEchoMeter(spec) });
    const startMs = Date.now() - t0;
    expect(fleet.endpoints).toHaveLength(1024);
    expect(fleet.lines).toHaveLength(4);
    expect(fleet.lines.map((l) => [l.meters, l.firstPhysicalAddress, l.lastPhysicalAddress])).toEqual([
      [256, 16, 271],
      [256, 16, 271],
      [256, 16, 271],
      [256, 16, 271],
    ]);
    expect(startMs).toBeLessThan(10_000);
    expect(fleet.stats().created).toBe(0); // meters are created on first use

    // Meter 952 sits on line 3 at physical address 200 (a 4-byte HDLC address).
    const ep = fleet.endpoints[952]!;
    expect(ep).toMatchObject({ serial: 'SIM000952', physicalAddress: 200, line: { index: 3, addressSize: 4 } });
    const port = new SerialTransport({ path: ep.line!.device });
    await port.open();
    cleanups.push(() => port.close());
    const c = new HdlcTestClient(port, { physical: 200 });
    cleanups.push(() => c.dispose());
    expect((await c.connect()).type).toBe('connected');
    expect(await c.request(fromHex('C00102'))).toEqual({ type: 'apdu', apdu: fromHex('C00102') });
    expect(fleet.stats().created).toBe(1);
    expect(fleet.slots[952]?.created).toBe(true);
  });

  it('serves meters on TCP ports and saves/restores their state', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'dcu-sim-state-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const base = await freePort();
    const meters: EchoMeter[] = [];
    const factory: SimMeterFactory = (spec) => {
      const m = createEchoMeter(spec);
      meters.push(m);
      return m;
    };
    const config = parseFleetConfig({ meters: 2, tcpBasePort: base, framing: 'hdlc', latencyMs: 0, stateDir });
    fleet = await startFleet(config, { meterFactory: factory });
    expect(fleet.endpoints.map((e) => e.tcp)).toEqual([
      { host: '127.0.0.1', port: base, framing: 'hdlc' },
      { host: '127.0.0.1', port: base + 1, framing: 'hdlc' },
    ]);

    const talk = async (): Promise<void> => {
      const t = new TcpTransport({ host: '127.0.0.1', port: base + 1 });
      await t.open();
      const c = new HdlcTestClient(t, { physical: 16 }); // TCP-only meters all sit at the first physical address
      expect((await c.connect()).type).toBe('connected');
      expect((await c.request(fromHex('01'))).type).toBe('apdu');
      c.dispose();
      await t.close();
    };
    await talk();
    await fleet.stop();
    fleet = undefined;
    const file = join(stateDir, 'SIM000001.json');
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ requests: 1 });
    expect(existsSync(join(stateDir, 'SIM000000.json'))).toBe(false); // never created, nothing to save

    fleet = await startFleet(config, { meterFactory: factory });
    await talk();
    expect(meters[1]?.state.requests).toBe(2); // restored 1, then one more
  });

  it('gives each meter its fleet, line and own faults and arms its power cuts', async () => {
    const clock = new FakeClock();
    fleet = await startFleet(
      parseFleetConfig({
        meters: 4,
        serialLines: 2,
        latencyMs: 0,
        faults: { lossProbability: 0.01 },
        lineFaults: { 1: { extraLatencyMs: 300 } },
        meterFaults: { SIM000003: { rejectAssociations: true, powerCutsAtMs: [1000], powerOutageMs: 500 } },
      }),
      { clock, meterFactory: (spec) => createEchoMeter(spec) },
    );
    const [m0, , m2, m3] = fleet.slots;
    expect(m0!.faults.spec).toMatchObject({ lossProbability: 0.01 });
    expect(m0!.faults.extraLatencyMs).toBe(0);
    expect(m2!.faults.extraLatencyMs).toBe(300);
    expect(m3!.spec.rejectAssociations).toBe(true);
    expect(m2!.spec.rejectAssociations).toBe(false);
    const meter = m3!.meter as EchoMeter;
    clock.advance(1000);
    expect(meter.state.powerCuts).toBe(1);
    expect(m3!.faults.dropIncoming()).toBe(true); // restarting
    clock.advance(500);
    expect(m3!.faults.dropIncoming()).toBe(false);
  });

  it('cleans up when a line cannot start', async () => {
    await expect(
      startFleet(parseFleetConfig({ meters: 2, serialLines: 1 }), {
        openLinePort: (path) => new SerialTransport({ path: `${path}-missing` }),
      }),
    ).rejects.toThrow(/cannot open serial port/);
  });
});
