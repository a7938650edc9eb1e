import { runVirtual, VirtualLine } from '../../../bench/virtual-line';
import { DataAccessResult } from '../../../protocol/apdu/results';
import { dataAsDateTime, dateTimeToEpoch, encodeDateTimeOctets, epochToDateTime } from '../../../protocol/axdr/datetime';
import { DlmsClient } from '../../../protocol/client/client';
import { clockSetResidual, setClockNow } from '../../../protocol/client/clock-set';
import { setClock } from '../../../protocol/client/reads';
import { FakeClock } from '../../../protocol/common/clock';
import { obis } from '../../../protocol/cosem/obis';
import { fullAccessPolicy } from '../../../protocol/server/access';
import type { RequestContext } from '../../../protocol/server/object';
import type { SerialByteTransport } from '../../../protocol/transport/types';
import { DlmsServer } from '../../../protocol/server/server';
import { ListObjectModel, ValueObject } from '../../../protocol/server/value-object';
import { serveMeter } from '../../helpers/serve-meter';

const START = Date.UTC(2026, 11, 1, 12);

/** A meter on a virtual serial line that records what it was set to and when the SET arrived (its clock = ours). */
function setup(baud: number, framing: 'hdlc' | 'wrapper' = 'hdlc') {
  const clock = new FakeClock(START);
  const line = new VirtualLine(clock, baud, 0);
  const writes: { value: number; at: number }[] = [];
  const clockObject = new ValueObject({
    classId: 8,
    version: 0,
    obis: obis('0.0.1.0.0.255'),
    attributes: { 2: { type: 'octet-string', value: encodeDateTimeOctets(epochToDateTime(START)) } },
    setters: {
      2: (value, ctx: RequestContext) => {
        const dt = dataAsDateTime(value);
        const t = dt === undefined ? null : dateTimeToEpoch(dt);
        if (t === null) return DataAccessResult.otherReason;
        writes.push({ value: t, at: ctx.now });
        return DataAccessResult.success;
      },
    },
  });
  const server = new DlmsServer({ model: new ListObjectModel([clockObject]), clients: [{ clientAddress: 16, authentication: { mechanism: 'none' }, access: fullAccessPolicy }], clock });
  const address = { logical: 1, physical: 17, size: 2 as const };
  serveMeter(line.b, server, { framing, address, clock, limits: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 } });
  // The client's end as a serial port at that baud (what setClockNow reads the baud from).
  const serial: SerialByteTransport = {
    description: `virtual serial @${baud}`,
    get isOpen() {
      return line.a.isOpen;
    },
    open: () => line.a.open(),
    write: (bytes) => line.a.write(bytes),
    close: () => line.a.close(),
    onData: (l) => line.a.onData(l),
    onClose: () => line.a.onClose(),
    settings: { baudRate: baud, dataBits: 8, parity: 'none', stopBits: 1 },
    update: () => Promise.resolve(),
  };
  const client = new DlmsClient(framing === 'hdlc' ? serial : line.a, { framing, serverAddress: address, responseTimeoutMs: 5000, retries: 1, clock });
  return { clock, line, client, writes };
}

describe('setClockNow', () => {
  it.each([9600, 1200, 300])('at %i baud the meter holds our time when the SET arrives (transfer compensated)', async (baud) => {
    const { clock, line, client, writes } = setup(baud);
    const set = await runVirtual(clock, async () => {
      await client.connect();
      clock.advance(1234); // time passes after the association: the time must be taken now, not before
      const sentBefore = line.bytes.a;
      const before = clock.now();
      const s = await setClockNow(client);
      expect(s.takenAt).toBe(before);
      expect(s.baudRate).toBe(baud);
      // The request's size is what actually went on the line.
      expect(line.bytes.a - sentBefore).toBe(s.requestBytes);
      await client.release();
      return s;
    });
    expect(set.result).toBe(DataAccessResult.success);
    expect(set.compensationMs).toBeCloseTo((set.requestBytes * 10_000) / baud, 6);
    const w = writes[0];
    expect(w).toBeDefined();
    // The meter's clock equals ours at the instant it received the SET, to the date-time's 10 ms.
    expect(Math.abs((w?.value ?? 0) - (w?.at ?? 0))).toBeLessThanOrEqual(10);
    // Without compensation it would be a whole transfer behind (≈ 27 ms at 9,600, ≈ 1 s at 300).
    expect((w?.at ?? 0) - set.takenAt).toBeCloseTo(set.compensationMs, 0);
  });

  it('setClock(client, source) takes the time at encoding, not when called', async () => {
    const { clock, client, writes } = setup(9600);
    let calls = 0;
    await runVirtual(clock, async () => {
      await client.connect();
      expect(
        await setClock(client, () => {
          calls++;
          return clock.now();
        }),
      ).toBe(DataAccessResult.success);
      await client.release();
    });
    expect(calls).toBe(1);
    expect(Math.abs((writes[0]?.value ?? 0) - (writes[0]?.at ?? 0))).toBeLessThanOrEqual(10);
  });

  it('adds a known latency; without a baud (TCP) only the latency is compensated', async () => {
    const { clock, client } = setup(9600, 'wrapper');
    const set = await runVirtual(clock, async () => {
      await client.connect();
      const s = await setClockNow(client, { latencyMs: 40 });
      await client.release();
      return s;
    });
    expect(set.baudRate).toBeUndefined();
    expect(set.compensationMs).toBe(40);
    expect(Math.abs(set.setTo - set.takenAt - 40)).toBeLessThanOrEqual(5);
    expect(clockSetResidual(set, false)).toEqual({ residualMs: 1000, latencyUnknown: false });
  });

  it('states the residual: meter resolution plus one character time; unknown latency flagged', () => {
    const base = { result: DataAccessResult.success, takenAt: 0, setTo: 0, compensationMs: 0, requestBytes: 30, latencyMs: 0 };
    expect(clockSetResidual({ ...base, baudRate: 9600 }, false)).toEqual({ residualMs: 1002, latencyUnknown: false });
    expect(clockSetResidual({ ...base, baudRate: 300 }, true)).toEqual({ residualMs: 44, latencyUnknown: false });
    expect(clockSetResidual({ ...base, baudRate: undefined }, true)).toEqual({ residualMs: 10, latencyUnknown: true });
  });
});
