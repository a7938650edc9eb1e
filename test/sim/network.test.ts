/** Meters over loopback TCP: wrapper framing and HDLC over TCP, with real sockets. */
import { systemClock } from '../../protocol/common/clock';
import { fromHex } from '../../protocol/common/hex';
import { TcpTransport } from '../../protocol/transport/tcp';
import { WrapperClientLink } from '../../protocol/wrapper/link';
import { SIM_HOST, SimTcpEndpoint, type TcpFraming } from '../../sim/network';
import { createRng } from '../../sim/prng';
import type { MeterSlot } from '../../sim/slot';
import { HdlcTestClient } from './client';
import { echoSlot, spec } from './fixtures';

async function wrapperRequest(port: number, apdu: Uint8Array, client = 16, server = 1, ms = 3000): Promise<Uint8Array> {
  const t = new TcpTransport({ host: SIM_HOST, port });
  await t.open();
  try {
    const link = new WrapperClientLink({ clientWPort: client, serverWPort: server });
    const answer = new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer')), ms);
      t.onData((c) => {
        link.receive(c);
        const ev = link.takeEvent();
        if (ev?.type === 'apdu') {
          clearTimeout(timer);
          resolve(ev.apdu);
        }
      });
    });
    link.sendApdu(apdu);
    for (let o = link.takeOutput(); o !== undefined; o = link.takeOutput()) await t.write(o);
    return await answer;
  } finally {
    await t.close();
  }
}

describe('SimTcpEndpoint', () => {
  const endpoints: SimTcpEndpoint[] = [];

  afterEach(async () => {
    for (const e of endpoints.splice(0)) await e.stop();
  });

  async function listen(slot: MeterSlot, framing: TcpFraming = 'wrapper', latencyMs = 0): Promise<SimTcpEndpoint> {
    const e = new SimTcpEndpoint({ slot, port: 0, framing, clock: systemClock, latencyMs, rng: createRng(1) });
    endpoints.push(e);
    await e.start();
    return e;
  }

  it('serves two meters on two loopback ports with wrapper framing', async () => {
    const a = echoSlot(spec(0, 16), {}, { prefix: Uint8Array.of(0xaa) });
    const b = echoSlot(spec(1, 17), {}, { prefix: Uint8Array.of(0xbb) });
    const ea = await listen(a.slot);
    const eb = await listen(b.slot);
    expect(ea.port).not.toBe(eb.port);
    expect(await wrapperRequest(ea.port, fromHex('C001C1'))).toEqual(fromHex('AAC001C1'));
    expect(await wrapperRequest(eb.port, fromHex('0102'))).toEqual(fromHex('BB0102'));
    expect(a.meter()?.state.requests).toBe(1);
    expect(b.meter()?.state.requests).toBe(1);
    // The connection closed: the meter released that session.
    await new Promise((r) => setTimeout(r, 50));
    expect(a.meter()?.state.releases).toBe(1);
    expect(a.meter()?.sessions[0]?.clientAddress).toBe(16);
  });

  it('ignores wrapper frames for another logical device', async () => {
    const a = echoSlot(spec(0, 16));
    const ea = await listen(a.slot);
    await expect(wrapperRequest(ea.port, fromHex('01'), 16, 5, 300)).rejects.toThrow('no answer');
    expect(a.slot.created).toBe(false);
  });

  it('speaks HDLC over TCP (terminal server style) with 1-byte or 2-byte server addresses', async () => {
    const a = echoSlot(spec(0, 16));
    const ea = await listen(a.slot, 'hdlc', 10);
    for (const physical of [undefined, 16]) {
      const t = new TcpTransport({ host: SIM_HOST, port: ea.port });
      await t.open();
      const c = new HdlcTestClient(t, physical === undefined ? {} : { physical });
      expect((await c.connect()).type).toBe('connected');
      expect(await c.request(fromHex('C0010203'))).toEqual({ type: 'apdu', apdu: fromHex('C0010203') });
      c.dispose();
      await t.close();
    }
  });

  it('drops the connections of a meter that loses power', async () => {
    const a = echoSlot(spec(0, 16));
    const ea = await listen(a.slot);
    const t = new TcpTransport({ host: SIM_HOST, port: ea.port });
    await t.open();
    const closed = new Promise<void>((r) => t.onClose(() => r()));
    await new Promise((r) => setTimeout(r, 50));
    expect(ea.connectionCount).toBe(1);
    a.slot.powerCut();
    await closed;
    expect(t.isOpen).toBe(false);
  });
});
