/**
 * The simulator as a client sees it: our DlmsClient against the COSEM meter model through
 * the real plumbing — socat pty lines (HDLC, multi-drop), TCP with the wrapper and HDLC over
 * TCP — with none and LLS, profiles by range and entry, block transfers, a 256 KiB firmware
 * image that survives a simulator restart, and faults.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type MeterEndpoint, type RunningFleet } from '../../sim/fleet';
import { createSimMeter, energyAt } from '../../sim/meter';
import type { SimMeterFactory } from '../../sim/types';
import { DlmsClient, type ClientOptionsInput } from '../../protocol/client/client';
import { transferImage } from '../../protocol/client/image-transfer';
import { readObjectList, readProfile } from '../../protocol/client/reads';
import { FakeClock } from '../../protocol/common/clock';
import { ErrorCode, isDcuError } from '../../protocol/common/errors';
import { obis } from '../../protocol/cosem/obis';
import { canRead } from '../../protocol/cosem/object-list';
import { MultidropLine } from '../../protocol/transport/multidrop';
import { SerialTransport } from '../../protocol/transport/serial';
import { TcpTransport } from '../../protocol/transport/tcp';
import type { ByteTransport } from '../../protocol/transport/types';

const PASSWORD = new TextEncoder().encode('00000000');
const CREDENTIALS = [
  { client: 16, auth: 'none' },
  { client: 17, auth: 'low', password: '00000000' },
  { client: 1, auth: 'low', password: '00000000' },
];
const LLS = { clientAddress: 17, authentication: { mechanism: 'low' as const, password: PASSWORD } };
const MANAGEMENT = { clientAddress: 1, authentication: { mechanism: 'low' as const, password: PASSWORD } };

/** Small profiles keep whole-buffer reads quick; 1,024-byte image blocks as in the efficiency bench. */
const factory: SimMeterFactory = (spec, deps) => createSimMeter(spec, deps, { profileDepthDays: 2, imageTransfer: { blockSize: 1024 } });

const fleets: RunningFleet[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  for (const f of fleets.splice(0)) await f.stop();
});

let nextPort = 20_000 + Math.floor(Math.random() * 20_000);
function ports(n: number): number {
  const p = nextPort;
  nextPort += n + 1;
  return p;
}

async function fleetOf(raw: Record<string, unknown>): Promise<RunningFleet> {
  const f = await startFleet(parseFleetConfig({ latencyMs: 0, jitterMs: 0, baud: 0, credentials: CREDENTIALS, ...raw }), { meterFactory: factory });
  fleets.push(f);
  return f;
}

function client(transport: ByteTransport, ep: MeterEndpoint, framing: 'hdlc' | 'wrapper', extra: Partial<ClientOptionsInput> = {}): DlmsClient {
  const c = new DlmsClient(transport, {
    framing,
    serverAddress: framing === 'hdlc' ? { logical: ep.logicalDevice, physical: ep.physicalAddress, size: ep.line?.addressSize ?? 2 } : { logical: ep.logicalDevice },
    responseTimeoutMs: 1000,
    retries: 2,
    ...extra,
  });
  closers.push(() => c.close());
  return c;
}

/** Reads every readable attribute the object list announces; returns what failed. */
async function readEverything(c: DlmsClient): Promise<{ read: number; failed: string[] }> {
  const list = await readObjectList(c);
  let read = 0;
  const failed: string[] = [];
  for (const e of list) {
    for (const a of e.attributeAccess) {
      if (!canRead(a.mode)) continue;
      const o = await c.get({ classId: e.classId, obis: e.obis, index: a.index });
      if (o.ok) read++;
      else failed.push(`${e.classId}:${e.obis.join('.')}:${a.index} → ${o.result}`);
    }
  }
  return { read, failed };
}

describe('client ↔ simulated meters', () => {
  it('reads every object of three meters sharing one pty line (HDLC multi-drop, LLS)', async () => {
    const fleet = await fleetOf({ meters: 3, serialLines: 1 });
    const line = new MultidropLine(new SerialTransport({ path: fleet.lines[0]!.device, baudRate: 9600 }));
    closers.push(() => line.close());
    for (const ep of fleet.endpoints) {
      const session = await line.acquire({ server: { logical: 1, physical: ep.physicalAddress, size: ep.line!.addressSize }, client: 17 });
      const c = client(session, ep, 'hdlc', LLS);
      await c.connect();
      const { read, failed } = await readEverything(c);
      expect(failed).toEqual([]);
      expect(read).toBeGreaterThan(60);
      await c.close();
    }
  });

  it.each(['wrapper', 'hdlc'] as const)('reads registers and profiles by range and entry over TCP (%s), public and LLS', async (framing) => {
    const base = ports(2);
    const fleet = await fleetOf({ meters: 2, tcpBasePort: base, framing });
    const ep = fleet.endpoints[1]!;

    const pub = client(new TcpTransport({ host: '127.0.0.1', port: ep.tcp!.port }), ep, framing);
    await pub.connect();
    const energy = await pub.getValue({ classId: 3, obis: obis('1.0.1.8.0.255'), index: 2 });
    const expected = energyAt({ seed: fleet.slots[1]!.spec.seed, serial: ep.serial }, Date.now()).activeImport;
    expect(energy.type === 'uint32' || energy.type === 'uint64' ? Number(energy.value) : NaN).toBeGreaterThan(expected - 100_000);
    // the public client may not read the load profile
    expect(await pub.get({ classId: 7, obis: obis('1.0.99.1.0.255'), index: 2 })).toEqual({ ok: false, result: 3 });
    await pub.close();

    const lls = client(new TcpTransport({ host: '127.0.0.1', port: ep.tcp!.port }), ep, framing, LLS);
    await lls.connect();
    const now = Date.now();
    const from = Math.floor(now / 900_000) * 900_000 - 6 * 3600_000;
    const range = await readProfile(lls, obis('1.0.99.1.0.255'), { from, to: from + 3600_000 });
    expect(range.rows.map((r) => r.timestamp)).toEqual([0, 1, 2, 3, 4].map((i) => from + i * 900_000));
    const entries = await readProfile(lls, obis('1.0.99.1.0.255'), { fromEntry: 1, toEntry: 10 });
    expect(entries.rows).toHaveLength(10);
    // The whole 2-day buffer (192 rows) needs GET block transfer at the 1,024-byte PDU.
    const all = await readProfile(lls, obis('1.0.99.1.0.255'));
    expect(all.rows.length).toBe(192);
    expect(all.rows.every((r, i) => i === 0 || (r.timestamp ?? 0) - (all.rows[i - 1]?.timestamp ?? 0) === 900_000)).toBe(true);
    await lls.close();
  });

  it('transfers a 256 KiB image, resumes after a simulator restart, verifies and activates it', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'dcu-sim-state-'));
    closers.push(async () => rmSync(stateDir, { recursive: true, force: true }));
    const base = ports(1);
    const image = Uint8Array.from({ length: 256 * 1024 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
    const identifier = new TextEncoder().encode('FW-2.0.0');

    let fleet = await fleetOf({ meters: 1, tcpBasePort: base, stateDir });
    const ep = fleet.endpoints[0]!;
    const stopAt = 40 + Math.floor(Math.random() * 150);
    const first = client(new TcpTransport({ host: '127.0.0.1', port: ep.tcp!.port }), ep, 'wrapper', MANAGEMENT);
    await first.connect();
    const before = await first.getValue({ classId: 1, obis: obis('1.0.0.2.0.255'), index: 2 });
    await expect(
      transferImage(first, {
        identifier,
        image,
        onBlock: (n) => {
          if (n === stopAt) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    await first.close();
    // Restart the simulator: state is saved on stop and restored on start.
    await fleet.stop();
    fleets.splice(fleets.indexOf(fleet), 1);
    fleet = await fleetOf({ meters: 1, tcpBasePort: base, stateDir });

    const second = client(new TcpTransport({ host: '127.0.0.1', port: ep.tcp!.port }), ep, 'wrapper', MANAGEMENT);
    await second.connect();
    const report = await transferImage(second, { identifier, image, pollIntervalMs: 50 });
    expect(report.blockCount).toBe(256);
    expect(report.resumedFrom).toBe(stopAt + 1);
    expect(report.blocksSent).toBe(256 - stopAt - 1);
    expect(report.status).toBe(6); // activation successful
    const after = await second.getValue({ classId: 1, obis: obis('1.0.0.2.0.255'), index: 2 });
    expect(after).not.toEqual(before);
    expect(after.type === 'octet-string' && new TextDecoder().decode(after.value)).toBe('FW-2.0.0');
  }, 60_000);

  it('a silent meter gives a typed timeout within the configured time', async () => {
    const base = ports(1);
    const fleet = await fleetOf({ meters: 1, tcpBasePort: base, meterFaults: { 0: { silent: [{ fromMs: 0, toMs: 3_600_000 }] } } });
    const ep = fleet.endpoints[0]!;
    // The client runs on a FakeClock: its budget is checked in its own time, not the CI box's.
    const clock = new FakeClock(Date.now());
    const transport = new TcpTransport({ host: '127.0.0.1', port: ep.tcp!.port });
    await transport.open();
    const c = client(transport, ep, 'wrapper', { responseTimeoutMs: 300, retries: 1, clock });
    const state = { settled: false };
    const outcome = c.connect().then(
      () => undefined,
      (e: unknown) => e,
    ).finally(() => (state.settled = true));
    const t0 = clock.now();
    while (!state.settled && clock.now() - t0 < 60_000) {
      await new Promise((r) => setImmediate(r)); // let real I/O happen (the meter stays silent)
      await clock.advanceAsync(10);
    }
    const err = await outcome;
    expect(isDcuError(err) && err.code).toBe(ErrorCode.Timeout);
    // The client's budget: responseTimeout × (retries + 1) + 500 ms, to the 10 ms step.
    expect(clock.now() - t0).toBeGreaterThanOrEqual(300 * 2);
    expect(clock.now() - t0).toBeLessThanOrEqual(300 * 2 + 500 + 10);
  });

  it('lost and corrupted frames on a pty line are retried and the read completes', async () => {
    const fleet = await fleetOf({ meters: 1, serialLines: 1, seed: 7, faults: { lossProbability: 0.15, corruptProbability: 0.1 } });
    const ep = fleet.endpoints[0]!;
    const c = client(new SerialTransport({ path: fleet.lines[0]!.device, baudRate: 9600 }), ep, 'hdlc', { ...LLS, responseTimeoutMs: 300, retries: 6 });
    await c.connect();
    const p = await readProfile(c, obis('1.0.99.1.0.255'), { fromEntry: 1, toEntry: 48 });
    expect(p.rows).toHaveLength(48);
  });

  it('a power cut mid-read gives a typed error and the next association works', async () => {
    const fleet = await fleetOf({ meters: 1, serialLines: 1 });
    const ep = fleet.endpoints[0]!;
    const port = new SerialTransport({ path: fleet.lines[0]!.device, baudRate: 9600 });
    const c = client(port, ep, 'hdlc', { ...LLS, responseTimeoutMs: 300, retries: 1 });
    await c.connect();
    fleet.slots[0]!.powerCut();
    const err = await c.getValue({ classId: 7, obis: obis('1.0.99.1.0.255'), index: 2 }).catch((e: unknown) => e);
    expect(isDcuError(err)).toBe(true);
    await c.close();
    const again = client(new SerialTransport({ path: fleet.lines[0]!.device, baudRate: 9600 }), ep, 'hdlc', LLS);
    await again.connect();
    expect((await again.get({ classId: 8, obis: obis('0.0.1.0.0.255'), index: 2 })).ok).toBe(true);
  });
});
