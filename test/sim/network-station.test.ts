/**
 * The simulator's TCP endpoint is the protocol's meter station: a simulated meter streams
 * general block transfer over TCP, and a meter handler that throws never kills a connection,
 * in either framing.
 */
import { decodeApdu } from '../../protocol/apdu';
import { encodeData } from '../../protocol/axdr/codec';
import { DlmsClient } from '../../protocol/client/client';
import { FakeClock, systemClock } from '../../protocol/common/clock';
import { fromHex } from '../../protocol/common/hex';
import { obis } from '../../protocol/cosem/obis';
import { encodeAccessSelector, rangeByTime } from '../../protocol/cosem/selective-access';
import type { ApduHandler, ServerSession } from '../../protocol/server/contract';
import { TcpTransport } from '../../protocol/transport/tcp';
import { createEchoMeter } from '../../sim/fake-meter';
import { FaultInjector } from '../../sim/faults';
import { createSimMeter } from '../../sim/meter';
import { SIM_HOST, SimTcpEndpoint, type TcpFraming } from '../../sim/network';
import { createRng } from '../../sim/prng';
import { MeterSlot } from '../../sim/slot';
import type { SimMeterLike, SimMeterSpec } from '../../sim/types';
import { HdlcTestClient } from './client';
import { spec } from './fixtures';
import { NOW, SPEC } from './gbt/gbt-harness';
import { wrapperRequest } from './tcp-client';

const PROFILE = { classId: 7, obis: obis('1.0.99.1.0.255'), index: 2 };
const DAY = encodeAccessSelector(rangeByTime(Date.UTC(2026, 10, 22), Date.UTC(2026, 10, 22) + 95 * 900_000));

function slotOf(s: SimMeterSpec, clock: FakeClock, create: (s: SimMeterSpec) => SimMeterLike): MeterSlot {
  return new MeterSlot(s, new FaultInjector({}, createRng(1), clock, clock.now()), create);
}

const endpoints: SimTcpEndpoint[] = [];

afterEach(async () => {
  for (const e of endpoints.splice(0)) await e.stop();
});

async function listen(slot: MeterSlot, framing: TcpFraming, clock: FakeClock): Promise<SimTcpEndpoint> {
  const e = new SimTcpEndpoint({ slot, port: 0, framing, clock, latencyMs: 0, rng: createRng(1), hdlcLimits: { maxInfoTx: 1024, maxInfoRx: 1024, windowTx: 7, windowRx: 7 } });
  endpoints.push(e);
  await e.start();
  return e;
}

describe('simulated meters over TCP', () => {
  it.each<TcpFraming>(['wrapper', 'hdlc'])('read a profile with general block transfer (%s); over the wrapper the answer streams', async (framing) => {
    const clock = new FakeClock(NOW);
    /** Answers per request: more than one = a GBT burst within the client's window. */
    const bursts: number[] = [];
    const slot = slotOf(SPEC, clock, (s) => {
      const m = createSimMeter(s, { clock }, { profileDepthDays: 3, maxPduSize: 1024 });
      const inner = m.handler;
      const handler: ApduHandler = {
        handle: (a: Uint8Array, ss: ServerSession) => inner.handle(a, ss),
        handleBurst: (a: Uint8Array, ss: ServerSession) => {
          const out = inner.handleBurst?.(a, ss) ?? [];
          if (out.some((x) => x[0] === 0xe0)) bursts.push(out.length);
          return out;
        },
        release: (ss: ServerSession) => inner.release(ss),
      };
      return { ...m, handler, powerCut: () => m.powerCut(), snapshot: () => m.snapshot(), restore: (x: unknown) => m.restore(x) };
    });
    const plain = slotOf(SPEC, clock, (s) => createSimMeter(s, { clock }, { profileDepthDays: 3, maxPduSize: 1024, generalBlockTransfer: false }));
    const reference = encodeData(await readOver(await listen(plain, framing, clock), framing));
    const data = await readOver(await listen(slot, framing, clock), framing);
    expect(encodeData(data)).toEqual(reference);
    expect(bursts.length).toBeGreaterThan(0);
    if (framing === 'wrapper') expect(Math.max(...bursts)).toBeGreaterThan(1);
  });
});

async function readOver(e: SimTcpEndpoint, framing: TcpFraming) {
  const t = new TcpTransport({ host: SIM_HOST, port: e.port });
  const client = new DlmsClient(t, {
    framing,
    clientAddress: 1,
    serverAddress: { logical: 1, physical: 16, size: 2 },
    authentication: { mechanism: 'low', password: new TextEncoder().encode('00000000') },
    responseTimeoutMs: 10_000,
    retries: 0,
    clock: systemClock,
  });
  await t.open();
  try {
    await client.connect();
    const data = await client.getValue(PROFILE, DAY);
    await client.close();
    return data;
  } finally {
    await t.close();
  }
}

describe('a meter handler that throws over TCP', () => {
  /** An echo meter with a bug: GET C0 EE … throws. */
  function buggySlot(clock: FakeClock): MeterSlot {
    return slotOf(spec(0, 16), clock, (s) => {
      const m = createEchoMeter(s);
      const handler: ApduHandler = {
        handle: (a, ss) => {
          if (a[0] === 0xc0 && a[1] === 0xee) throw new Error('model bug');
          return m.handler.handle(a, ss);
        },
        release: (ss) => m.handler.release(ss),
      };
      return { ...m, handler };
    });
  }

  it('wrapper: the request gets an exception-response and the same connection keeps serving', async () => {
    const clock = new FakeClock();
    const e = await listen(buggySlot(clock), 'wrapper', clock);
    const t = new TcpTransport({ host: SIM_HOST, port: e.port });
    await t.open();
    try {
      expect(decodeApdu(await wrapperRequest(t, fromHex('C0EE01')))).toMatchObject({ type: 'exception-response', stateError: 'service-not-allowed' });
      expect(await wrapperRequest(t, fromHex('C00102'))).toEqual(fromHex('C00102'));
      expect(e.stats.handlerErrors).toBe(1);
      expect(e.connectionCount).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('HDLC: the request gets an exception-response and the link stays up', async () => {
    const clock = new FakeClock();
    const e = await listen(buggySlot(clock), 'hdlc', clock);
    const t = new TcpTransport({ host: SIM_HOST, port: e.port });
    await t.open();
    const c = new HdlcTestClient(t, { physical: 16, clock });
    try {
      expect((await c.connect()).type).toBe('connected');
      const bad = await c.request(fromHex('C0EE01'));
      expect(bad.type === 'apdu' ? decodeApdu(bad.apdu) : bad).toMatchObject({ type: 'exception-response', stateError: 'service-not-allowed' });
      expect(await c.request(fromHex('C00102'))).toEqual({ type: 'apdu', apdu: fromHex('C00102') });
      expect(e.stats.handlerErrors).toBe(1);
    } finally {
      c.dispose();
      await t.close();
    }
  });
});
