import { DataAccessResult } from '../../../protocol/apdu/results';
import { DlmsClient, type ClientOptionsInput } from '../../../protocol/client/client';
import { readClock, readObjectList, readProfile, setClock } from '../../../protocol/client/reads';
import { FakeClock, systemClock } from '../../../protocol/common/clock';
import { ErrorCode } from '../../../protocol/common/errors';
import { obisEquals } from '../../../protocol/cosem/obis';
import { createMiniMeterServer, MINI_ENERGY, MINI_LONG_VALUE_LENGTH, MINI_OBIS, MINI_PROFILE_PERIOD_S, MINI_PROFILE_ROWS, MINI_PROFILE_START, miniLongValue } from '../../helpers/mini-meter';
import { memoryTransportPair } from '../../helpers/memory-transport';
import { serveMeter } from '../../helpers/serve-meter';
import { expectDcuErrorAsync as expectDcuError } from '../../helpers/dcu-error';

const te = new TextEncoder();

type Setup = { framing: 'hdlc' | 'wrapper'; client?: Partial<ClientOptionsInput>; meterPdu?: number; hdlc?: { maxInfoTx: number; maxInfoRx: number; windowTx: number; windowRx: number } };

function setup(s: Setup) {
  const [clientEnd, meterEnd] = memoryTransportPair();
  const { server, meter } = createMiniMeterServer(systemClock, s.meterPdu === undefined ? undefined : { maxReceivePduSize: s.meterPdu });
  void meterEnd.open();
  const served = serveMeter(meterEnd, server, { framing: s.framing, ...(s.hdlc ? { limits: s.hdlc } : {}) });
  const client = new DlmsClient(clientEnd, { framing: s.framing, responseTimeoutMs: 300, retries: 1, ...s.client });
  return { client, meter, served, clientEnd, meterEnd };
}

describe.each(['hdlc', 'wrapper'] as const)('DlmsClient against the mini meter over %s', (framing) => {
  it('associates without authentication and reads a register and the clock', async () => {
    const { client } = setup({ framing });
    const neg = await client.connect();
    expect(neg.conformance.has('get')).toBe(true);
    expect(await client.getValue({ classId: 3, obis: MINI_OBIS.energy, index: 2 })).toEqual({ type: 'uint32', value: MINI_ENERGY });
    const c = await readClock(client);
    expect(c.epoch).not.toBeNull();
    expect(Math.abs((c.epoch ?? 0) - Date.now())).toBeLessThan(5000);
    await client.close();
  });

  it('reads a value larger than the PDU through block transfer', async () => {
    const { client } = setup({ framing, meterPdu: 128, client: { maxPduSize: 128 } });
    await client.connect();
    const v = await client.getValue({ classId: 1, obis: MINI_OBIS.longData, index: 2 });
    expect(v.type === 'octet-string' && v.value.length).toBe(MINI_LONG_VALUE_LENGTH);
    expect(v).toEqual({ type: 'octet-string', value: miniLongValue() });
    await client.close();
  });

  it('returns a DataAccessResult for an unknown object instead of throwing', async () => {
    const { client } = setup({ framing });
    await client.connect();
    const o = await client.get({ classId: 3, obis: [1, 0, 99, 99, 99, 255], index: 2 });
    expect(o).toEqual({ ok: false, result: DataAccessResult.objectUndefined });
    await expectDcuError(() => client.getValue({ classId: 3, obis: [1, 0, 99, 99, 99, 255], index: 2 }), ErrorCode.MeterDataAccess);
    await client.close();
  });

  it('lists the objects and reads a profile by entry and by range', async () => {
    const { client } = setup({ framing, client: { clientAddress: 17, authentication: { mechanism: 'low', password: te.encode('Gurux') } } });
    await client.connect();
    const list = await readObjectList(client);
    expect(list.some((e) => e.classId === 7 && obisEquals(e.obis, MINI_OBIS.profile))).toBe(true);

    const all = await readProfile(client, MINI_OBIS.profile);
    expect(all.rows).toHaveLength(MINI_PROFILE_ROWS);
    expect(all.capturePeriod).toBe(MINI_PROFILE_PERIOD_S);
    expect(all.rows[5]?.timestamp).toBe(MINI_PROFILE_START + 5 * 900_000);
    expect(all.rows[5]?.cells[1]?.unitSymbol).toBe('Wh');

    const some = await readProfile(client, MINI_OBIS.profile, { fromEntry: 10, toEntry: 12 });
    expect(some.rows.map((r) => r.timestamp)).toEqual([9, 10, 11].map((i) => MINI_PROFILE_START + i * 900_000));

    const range = await readProfile(client, MINI_OBIS.profile, { from: MINI_PROFILE_START + 3600_000, to: MINI_PROFILE_START + 7200_000 });
    expect(range.rows).toHaveLength(5);
    await client.close();
  });

  it('sets the clock and shifts it with an action (LLS reading client)', async () => {
    const { client } = setup({ framing, client: { clientAddress: 17, authentication: { mechanism: 'low', password: te.encode('Gurux') } } });
    await client.connect();
    const target = Date.UTC(2030, 5, 1, 12);
    expect(await setClock(client, target)).toBe(DataAccessResult.success);
    const c1 = await readClock(client);
    expect(Math.abs((c1.epoch ?? 0) - target)).toBeLessThan(3000);
    const r = await client.action({ classId: 8, obis: MINI_OBIS.clock, index: 6 }, { type: 'int16', value: 60 });
    expect(r.result).toBe(0);
    const c2 = await readClock(client);
    expect((c2.epoch ?? 0) - (c1.epoch ?? 0)).toBeGreaterThanOrEqual(59_000);
    await client.close();
  });

  it('writes a large value in blocks when the meter PDU is small', async () => {
    const { client, meter } = setup({ framing, meterPdu: 64, client: { clientAddress: 1, authentication: { mechanism: 'low', password: te.encode('12345678') } } });
    await client.connect();
    const big = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    // longData is read-only in its table policy; the management client has full access.
    const result = await client.set({ classId: 1, obis: MINI_OBIS.longData, index: 2 }, { type: 'octet-string', value: big });
    expect(result).toBe(DataAccessResult.success);
    expect(meter.longData.value(2)).toEqual({ type: 'octet-string', value: big });
    await client.close();
  });

  it('refuses a wrong LLS password with a typed authentication error', async () => {
    const { client } = setup({ framing, client: { clientAddress: 17, authentication: { mechanism: 'low', password: te.encode('wrong') } } });
    await expectDcuError(() => client.connect(), ErrorCode.AssociationAuthFailed);
    await client.close();
  });

  it('close() after release() ends at once: no second disconnect waits for an answer', async () => {
    // The client's timers run on a FakeClock: a wait for the disconnect timeout (300 ms) would
    // keep close() pending until the clock passes it.
    const clock = new FakeClock();
    const { client, clientEnd } = setup({ framing, client: { clock } });
    await client.connect();
    await client.release();
    const sent = clientEnd.written.length;
    let closed = false;
    const closing = client.close().then(() => (closed = true));
    await clock.advanceAsync(299, 1);
    expect(closed).toBe(true);
    await closing;
    expect(clientEnd.written.length).toBe(sent);
  });

  it('times out with a typed error when the meter is silent', async () => {
    const { client, served } = setup({ framing });
    await client.connect();
    served.silence(true);
    const started = Date.now();
    await expectDcuError(() => client.get({ classId: 3, obis: MINI_OBIS.energy, index: 2 }), framing === 'hdlc' ? ErrorCode.LinkRetriesExhausted : ErrorCode.Timeout);
    // responseTimeout 300 ms × (retries 1 + 1) + 500 ms margin
    expect(Date.now() - started).toBeLessThan(3000);
    await client.close();
  });
});

describe('DlmsClient over HDLC with small frames and window 1', () => {
  it('segments and reassembles with what the UA grants (128 bytes, window 1)', async () => {
    const { client } = setup({ framing: 'hdlc', hdlc: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 } });
    await client.connect();
    const v = await client.getValue({ classId: 1, obis: MINI_OBIS.longData, index: 2 });
    expect(v).toEqual({ type: 'octet-string', value: miniLongValue() });
    await client.close();
  });

  it('recovers from lost frames by retransmission', async () => {
    const { client, meterEnd } = setup({ framing: 'hdlc', client: { retries: 3 }, hdlc: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 } });
    await client.connect();
    let n = 0;
    meterEnd.drop = () => ++n % 4 === 0; // every 4th meter frame is lost
    const v = await client.getValue({ classId: 1, obis: MINI_OBIS.longData, index: 2 });
    expect(v).toEqual({ type: 'octet-string', value: miniLongValue() });
    meterEnd.drop = undefined;
    await client.close();
  });

  it('reports the port vanishing as a transport error', async () => {
    const { client, clientEnd } = setup({ framing: 'hdlc' });
    await client.connect();
    clientEnd.vanish();
    await expectDcuError(() => client.get({ classId: 3, obis: MINI_OBIS.energy, index: 2 }), ErrorCode.TransportVanished);
  });
});
