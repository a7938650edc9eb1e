/**
 * Meters over loopback TCP: wrapper framing and HDLC over TCP, with real sockets. The link
 * time (latency, timers) is a FakeClock shared with the HDLC client; the tests wait for
 * events and counters, never for a span of real time.
 */
import { FakeClock } from '../../protocol/common/clock';
import { fromHex } from '../../protocol/common/hex';
import { TcpTransport } from '../../protocol/transport/tcp';
import { SIM_HOST, SimTcpEndpoint, type TcpFraming } from '../../sim/network';
import { createRng } from '../../sim/prng';
import type { MeterSlot } from '../../sim/slot';
import { HdlcTestClient } from './client';
import { echoSlot, spec } from './fixtures';
import { connectTcp, until, wrapperRequest } from './tcp-client';

/** One wrapper request on a fresh connection (closed afterwards). */
async function requestOnce(port: number, apdu: Uint8Array, client = 16, server = 1): Promise<Uint8Array> {
  const t = await connectTcp(port);
  try {
    return await wrapperRequest(t, apdu, client, server);
  } finally {
    await t.close();
  }
}

describe('SimTcpEndpoint', () => {
  const endpoints: SimTcpEndpoint[] = [];
  const clock = new FakeClock();

  afterEach(async () => {
    for (const e of endpoints.splice(0)) await e.stop();
  });

  async function listen(slot: MeterSlot, framing: TcpFraming = 'wrapper', latencyMs = 0): Promise<SimTcpEndpoint> {
    const e = new SimTcpEndpoint({ slot, port: 0, framing, clock, latencyMs, rng: createRng(1) });
    endpoints.push(e);
    await e.start();
    return e;
  }

  it('serves two meters on two loopback ports with wrapper framing', async () => {
    const a = echoSlot(spec(0, 16), {}, { clock, prefix: Uint8Array.of(0xaa) });
    const b = echoSlot(spec(1, 17), {}, { clock, prefix: Uint8Array.of(0xbb) });
    const ea = await listen(a.slot);
    const eb = await listen(b.slot);
    expect(ea.port).not.toBe(eb.port);
    expect(await requestOnce(ea.port, fromHex('C001C1'))).toEqual(fromHex('AAC001C1'));
    expect(await requestOnce(eb.port, fromHex('0102'))).toEqual(fromHex('BB0102'));
    expect(a.meter()?.state.requests).toBe(1);
    expect(b.meter()?.state.requests).toBe(1);
    // The connection closed: the meter released that session.
    await until(() => ea.connectionCount === 0, 'the connection to close');
    expect(a.meter()?.state.releases).toBe(1);
    expect(a.meter()?.sessions[0]?.clientAddress).toBe(16);
  });

  it('ignores wrapper frames for another logical device', async () => {
    const a = echoSlot(spec(0, 16), {}, { clock });
    const ea = await listen(a.slot);
    const t = await connectTcp(ea.port);
    let answered = 0;
    t.onData(() => answered++);
    await t.write(fromHex('0001001000050001' + '01'));
    await until(() => ea.stats.framingErrors === 1, 'the frame to be refused');
    expect(a.slot.created).toBe(false);
    expect(answered).toBe(0);
    // A normal request on the same connection is answered: nothing came before it.
    expect(await wrapperRequest(t, fromHex('C0'))).toEqual(fromHex('C0'));
    expect(answered).toBe(1);
    await t.close();
  });

  it('speaks HDLC over TCP (terminal server style) with 1-byte or 2-byte server addresses', async () => {
    const a = echoSlot(spec(0, 16), {}, { clock });
    const ea = await listen(a.slot, 'hdlc');
    for (const physical of [undefined, 16]) {
      const t = new TcpTransport({ host: SIM_HOST, port: ea.port });
      await t.open();
      const c = new HdlcTestClient(t, physical === undefined ? { clock } : { physical, clock });
      expect((await c.connect()).type).toBe('connected');
      expect(await c.request(fromHex('C0010203'))).toEqual({ type: 'apdu', apdu: fromHex('C0010203') });
      c.dispose();
      await t.close();
    }
  });

  it('drops the connections of a meter that loses power', async () => {
    const a = echoSlot(spec(0, 16), {}, { clock });
    const ea = await listen(a.slot);
    const t = new TcpTransport({ host: SIM_HOST, port: ea.port });
    await t.open();
    const closed = new Promise<void>((r) => t.onClose(() => r()));
    await until(() => ea.connectionCount === 1, 'the connection to be accepted');
    a.slot.powerCut();
    await closed;
    expect(t.isOpen).toBe(false);
  });
});
