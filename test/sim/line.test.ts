/**
 * SimLine over real socat ptys: the line on one end, an HDLC client on the other.
 */
import { systemClock } from '../../protocol/common/clock';
import { fromHex } from '../../protocol/common/hex';
import { clientAddress, serverAddress } from '../../protocol/hdlc/address';
import { decodeFrame, encodeFrame } from '../../protocol/hdlc/frame';
import { HdlcSplitter } from '../../protocol/hdlc/splitter';
import { SerialTransport } from '../../protocol/transport/serial';
import { SimLine, type SimLineOptions } from '../../sim/line';
import { createRng } from '../../sim/prng';
import type { MeterSlot } from '../../sim/slot';
import { createPtyPair, type PtyPair } from '../helpers/socat';
import { HdlcTestClient } from './client';
import { until } from '../helpers/until';
import { echoSlot, spec } from './fixtures';

describe('SimLine over a socat pty pair', () => {
  let pair: PtyPair;
  let line: SimLine | undefined;
  const ports: SerialTransport[] = [];
  const clients: HdlcTestClient[] = [];

  beforeEach(async () => {
    pair = await createPtyPair();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.dispose();
    await line?.stop();
    line = undefined;
    for (const p of ports.splice(0)) await p.close();
    await pair.close();
  });

  async function startLine(slots: MeterSlot[], opts: Partial<SimLineOptions> = {}): Promise<SerialTransport> {
    line = new SimLine({
      name: 'line0',
      transport: new SerialTransport({ path: pair.b, baudRate: 9600 }),
      slots,
      clock: systemClock,
      baud: 0,
      latencyMs: 0,
      rng: createRng(1),
      ...opts,
    });
    await line.start();
    const port = new SerialTransport({ path: pair.a, baudRate: 9600 });
    ports.push(port);
    await port.open();
    return port;
  }

  function client(port: SerialTransport, physical: number): HdlcTestClient {
    const c = new HdlcTestClient(port, { physical });
    clients.push(c);
    return c;
  }

  it('routes frames by physical address: only the addressed meter answers', async () => {
    const a = echoSlot(spec(0, 16));
    const b = echoSlot(spec(1, 17));
    const port = await startLine([a.slot, b.slot]);
    const ca = client(port, 16);
    const cb = client(port, 17);

    expect((await ca.connect()).type).toBe('connected');
    expect(b.slot.created).toBe(false); // the other meter never saw a frame for it
    const answer = await ca.request(fromHex('C001C100010100081FFF0200'));
    expect(answer).toEqual({ type: 'apdu', apdu: fromHex('C001C100010100081FFF0200') });
    expect(a.meter()?.state.requests).toBe(1);
    expect(b.meter()).toBeUndefined();
    // Meter 17's client saw meter 16's answers go by and ignored them.
    expect(cb.link.stats.ignored).toBeGreaterThan(0);

    expect((await cb.connect()).type).toBe('connected');
    const answer2 = await cb.request(fromHex('0102'));
    expect(answer2).toEqual({ type: 'apdu', apdu: fromHex('0102') });
    expect(b.meter()?.state.requests).toBe(1);
    expect(a.meter()?.state.requests).toBe(1);
    expect(line?.stats.forNobody).toBe(0);
  });

  it('drops frames for nobody without answering', async () => {
    const a = echoSlot(spec(0, 16));
    const port = await startLine([a.slot]);
    const got: Uint8Array[] = [];
    port.onData((c) => got.push(c));
    const snrm = encodeFrame({ dest: serverAddress(1, 99), src: clientAddress(16), control: { kind: 'SNRM', pf: true }, segmented: false, info: new Uint8Array(0) });
    await port.write(snrm);
    await until(() => line?.stats.forNobody === 1, 'the line to read the frame');
    // The frame was handled (synchronously) and produced nothing to send.
    expect(line?.stats.answers).toBe(0);
    expect(got).toEqual([]);
    expect(a.slot.created).toBe(false);
  });

  it('paces answers at the emulated baud rate', async () => {
    // A 300-byte burst at 2400 baud (240 bytes/s) needs ~1.25 s on the wire; unpaced, a few ms.
    const big = new Uint8Array(100).fill(0x55);
    const a = echoSlot(spec(0, 16), {}, { prefix: new Uint8Array(200).fill(0xaa) });
    const port = await startLine([a.slot], { baud: 2400, latencyMs: 0 });
    const c = new HdlcTestClient(port, { physical: 16, responseTimeoutMs: 5000 });
    clients.push(c);
    await c.connect();
    // Count the bytes the meter sends for one request and the time they take.
    const stamps: { t: number; n: number }[] = [];
    port.onData((chunk) => stamps.push({ t: Date.now(), n: chunk.length }));
    const t0 = Date.now();
    const res = await c.request(big, 15_000);
    const elapsed = Date.now() - t0;
    expect(res.type).toBe('apdu');
    const bytes = stamps.reduce((s, x) => s + x.n, 0);
    expect(bytes).toBeGreaterThan(300);
    const wireMs = (bytes * 10 * 1000) / 2400;
    // Generous bounds: at least 70 % of the wire time (the request frames are not paced).
    expect(elapsed).toBeGreaterThan(wireMs * 0.7);
    expect(elapsed).toBeLessThan(wireMs * 3 + 3000);
  });

  it('waits the turnaround latency before answering', async () => {
    const a = echoSlot(spec(0, 16));
    const port = await startLine([a.slot], { latencyMs: 250 });
    const c = client(port, 16);
    const t0 = Date.now();
    expect((await c.connect()).type).toBe('connected');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
  });

  it('answers one meter at a time (half duplex): bursts never interleave', async () => {
    const a = echoSlot(spec(0, 16));
    const b = echoSlot(spec(1, 17));
    const port = await startLine([a.slot, b.slot], { baud: 9600, latencyMs: 5 });
    const splitter = new HdlcSplitter();
    const seen: string[] = [];
    let bad = 0;
    port.onData((chunk) => {
      for (const ev of splitter.push(chunk)) {
        if (ev.type === 'frame') seen.push(`${ev.frame.src.physical ?? 0}`);
        else bad++;
      }
    });
    // Both SNRMs in one write: both meters answer, the second after the first.
    const snrm = (p: number): Uint8Array =>
      encodeFrame({ dest: serverAddress(1, p), src: clientAddress(16), control: { kind: 'SNRM', pf: true }, segmented: false, info: new Uint8Array(0) });
    await port.write(new Uint8Array([...snrm(16), ...snrm(17)]));
    const end = Date.now() + 3000;
    while (seen.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['16', '17']);
    expect(bad).toBe(0);
    expect(decodeFrame(snrm(16)).control.kind).toBe('SNRM');
  });
});
