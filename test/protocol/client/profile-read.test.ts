import { conformance } from '../../../protocol/apdu/conformance';
import type { Data } from '../../../protocol/axdr/data';
import { encodeDateTimeOctets, epochToDateTime } from '../../../protocol/axdr/datetime';
import { DlmsClient } from '../../../protocol/client/client';
import { MemoryMetadataCache, type MeterMetadata, type MeterMetadataCache } from '../../../protocol/client/meta-cache';
import { readProfile } from '../../../protocol/client/profile-read';
import { FakeClock } from '../../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { CLOCK_CAPTURE_OBJECT, encodeCaptureObjects, type CaptureObject } from '../../../protocol/cosem/capture-object';
import { obis } from '../../../protocol/cosem/obis';
import { applySelector, decodeAccessSelector } from '../../../protocol/cosem/selective-access';
import type { ApduHandler } from '../../../protocol/server/contract';
import type { GetOutcome, RequestContext, Selection } from '../../../protocol/server/object';
import { DEFAULT_SERVER_CONFORMANCE } from '../../../protocol/server/options';
import { DlmsServer } from '../../../protocol/server/server';
import { ListObjectModel, ValueObject } from '../../../protocol/server/value-object';
import { fullAccessPolicy } from '../../../protocol/server/access';
import { memoryTransportPair } from '../../helpers/memory-transport';
import { serveMeter } from '../../helpers/serve-meter';

const PROFILE = obis('1.0.99.1.0.255');
const START = Date.UTC(2026, 0, 1);
const REGISTERS = [obis('1.0.1.8.0.255'), obis('1.0.2.8.0.255'), obis('1.0.3.8.0.255')] as const;

/** A meter whose firmware id and capture objects a test can change. */
function meter(opts: { list?: boolean; blocks?: boolean; maxPdu?: number } = {}) {
  const state = { firmware: 'FW-1.0', scaler: 0, columns: 3 };
  const captureObjects = (): CaptureObject[] => [CLOCK_CAPTURE_OBJECT, ...REGISTERS.slice(0, state.columns).map((o) => ({ classId: 3, obis: o, attributeIndex: 2, dataIndex: 0 }))];
  const rows = (): Data[] =>
    Array.from({ length: 8 }, (_, i) => ({
      type: 'structure' as const,
      items: [
        { type: 'octet-string' as const, value: encodeDateTimeOctets(epochToDateTime(START + i * 900_000, { deviation: 0, hundredths: false })) },
        ...REGISTERS.slice(0, state.columns).map(() => ({ type: 'uint32' as const, value: 100 + i })),
      ],
    }));
  const data = (o: ReturnType<typeof obis>, value: () => Data): ValueObject =>
    new ValueObject({ classId: 1, version: 0, obis: o, attributes: { 2: (): GetOutcome => ({ ok: true, data: value() }) } });
  const register = (o: ReturnType<typeof obis>): ValueObject =>
    new ValueObject({
      classId: 3,
      version: 0,
      obis: o,
      attributes: {
        2: { type: 'uint32', value: 1 },
        3: (): GetOutcome => ({ ok: true, data: { type: 'structure', items: [{ type: 'int8', value: state.scaler }, { type: 'enum', value: 30 }] } }),
      },
    });
  const profile = new ValueObject({
    classId: 7,
    version: 1,
    obis: PROFILE,
    attributes: {
      2: (_ctx: RequestContext, selection?: Selection): GetOutcome => {
        if (selection === undefined) return { ok: true, data: { type: 'array', items: rows() } };
        const sel = decodeAccessSelector(selection.selector, selection.parameters);
        return { ok: true, data: { type: 'array', items: applySelector(rows(), captureObjects(), sel, { capturePeriod: 900 }).rows } };
      },
      3: (): GetOutcome => ({ ok: true, data: encodeCaptureObjects(captureObjects()) }),
      4: { type: 'uint32', value: 900 },
    },
  });
  const clockObject = new ValueObject({ classId: 8, version: 0, obis: obis('0.0.1.0.0.255'), attributes: { 2: { type: 'octet-string', value: encodeDateTimeOctets(epochToDateTime(START, { deviation: 0 })) } } });
  const model = new ListObjectModel([
    clockObject,
    ...REGISTERS.map(register),
    data(obis('0.0.42.0.0.255'), () => ({ type: 'octet-string', value: new TextEncoder().encode('TST0000001') })),
    data(obis('1.0.0.2.0.255'), () => ({ type: 'octet-string', value: new TextEncoder().encode(state.firmware) })),
    profile,
  ]);
  const clock = new FakeClock(START);
  const granted = conformance(
    ...[...DEFAULT_SERVER_CONFORMANCE].filter((b) => (opts.list !== false || b !== 'multiple-references') && (opts.blocks !== false || b !== 'block-transfer-with-get-or-read')),
  );
  const limits = { conformance: granted, ...(opts.maxPdu === undefined ? {} : { maxSendPduSize: opts.maxPdu }) };
  const server = new DlmsServer({ model, clients: [{ clientAddress: 16, authentication: { mechanism: 'none' }, access: fullAccessPolicy }], clock, limits });
  /** GET requests the meter received. */
  const gets = { count: 0 };
  const counting: ApduHandler = {
    handle: (apdu, session) => {
      if (apdu[0] === 0xc0) gets.count++;
      return server.handle(apdu, session);
    },
    release: (session) => server.release(session),
  };
  const [clientEnd, meterEnd] = memoryTransportPair();
  void meterEnd.open();
  serveMeter(meterEnd, counting, { framing: 'wrapper' });
  const client = new DlmsClient(clientEnd, { framing: 'wrapper', responseTimeoutMs: 300, retries: 1, clock });
  return { client, state, gets };
}

const range = { from: START, to: START + 3 * 900_000 };

describe('readProfile with get-with-list and the metadata cache', () => {
  it('without a cache: the buffer travels with the capture objects, then one list of scalers (2 requests)', async () => {
    const { client, gets } = meter();
    await client.connect();
    const p = await readProfile(client, PROFILE, range);
    expect(p.rows).toHaveLength(4);
    expect(p.scalers.size).toBe(3);
    expect(p.metadata).toBe('read');
    expect(gets.count).toBe(2);
    await client.close();
  });

  it('cold cache: 2 requests and the entry is stored; warm: 1 request, same rows and scalers', async () => {
    const { client, gets } = meter();
    const store = new MemoryMetadataCache();
    const cache = { store, key: 'm1' };
    await client.connect();
    const cold = await readProfile(client, PROFILE, { ...range, cache });
    expect(cold.metadata).toBe('cache-miss');
    expect(gets.count).toBe(2);
    const entry = await store.get('m1');
    expect(entry?.profiles['1.0.99.1.0.255']?.captureObjects).toHaveLength(4);
    expect(entry?.firmware).toMatch(/^0906/); // A-XDR octet-string(6)

    gets.count = 0;
    const warm = await readProfile(client, PROFILE, { ...range, cache });
    expect(warm.metadata).toBe('cache-hit');
    expect(gets.count).toBe(1);
    expect(warm.rows).toEqual(cold.rows);
    expect([...warm.scalers]).toEqual([...cold.scalers]);
    await client.close();
  });

  it('a firmware change invalidates the entry: the scalers are read again (and the new ones used)', async () => {
    const { client, gets, state } = meter();
    const cache = { store: new MemoryMetadataCache(), key: 'm1' };
    await client.connect();
    await readProfile(client, PROFILE, { ...range, cache });
    state.firmware = 'FW-2.0';
    state.scaler = -1;
    gets.count = 0;
    const p = await readProfile(client, PROFILE, { ...range, cache });
    expect(p.metadata).toBe('cache-stale');
    expect(gets.count).toBe(2);
    expect(p.scalers.get('3:1.0.1.8.0.255:2')?.scaler).toBe(-1);
    gets.count = 0;
    expect((await readProfile(client, PROFILE, { ...range, cache })).metadata).toBe('cache-hit');
    expect(gets.count).toBe(1);
    await client.close();
  });

  it('a capture-objects change invalidates the entry; the buffer decodes with the fresh capture objects', async () => {
    const { client, state } = meter();
    const cache = { store: new MemoryMetadataCache(), key: 'm1' };
    await client.connect();
    await readProfile(client, PROFILE, { ...range, cache });
    state.columns = 2;
    const p = await readProfile(client, PROFILE, { ...range, cache });
    expect(p.metadata).toBe('cache-stale');
    expect(p.captureObjects).toHaveLength(3);
    expect(p.rows[0]?.cells).toHaveLength(3);
    await client.close();
  });

  it('another meter behind the same key (other logical device name) does not inherit the scalers', async () => {
    const { client } = meter();
    const store = new MemoryMetadataCache();
    await client.connect();
    await readProfile(client, PROFILE, { ...range, cache: { store, key: 'm1' } });
    const entry = (await store.get('m1')) as MeterMetadata;
    await store.put('m1', { ...entry, logicalDeviceName: '090a' + '00'.repeat(10) });
    expect((await readProfile(client, PROFILE, { ...range, cache: { store, key: 'm1' } })).metadata).toBe('cache-stale');
    await client.close();
  });

  it('without multiple references: one GET per attribute, validated by two GETs only when that saves', async () => {
    const { client, gets } = meter({ list: false });
    const cache = { store: new MemoryMetadataCache(), key: 'm1' };
    await client.connect();
    // co, period, 3 scalers, buffer; then name + firmware to store.
    expect((await readProfile(client, PROFILE, { ...range, cache })).metadata).toBe('cache-miss');
    expect(gets.count).toBe(8);
    gets.count = 0;
    // co, period, name, firmware, buffer: 5 instead of 6.
    expect((await readProfile(client, PROFILE, { ...range, cache })).metadata).toBe('cache-hit');
    expect(gets.count).toBe(5);
    await client.close();
  });

  it('a meter that cannot answer the list with the buffer (no block transfer, small PDU): metadata and buffer asked apart', async () => {
    const { client, gets } = meter({ blocks: false, maxPdu: 200 });
    const cache = { store: new MemoryMetadataCache(), key: 'm1' };
    await client.connect();
    const p = await readProfile(client, PROFILE, { ...range, cache });
    expect(p.rows).toHaveLength(4);
    expect(p.scalers.size).toBe(3);
    expect(gets.count).toBe(4); // list with buffer (refused), list without, scalers, buffer
    await client.close();
  });

  it('a list answer that comes in GET blocks is reassembled (SEQUENCE OF Get-Data-Result)', async () => {
    const { client, gets } = meter({ maxPdu: 128 });
    await client.connect();
    const outcomes = await client.getWithList([
      { classId: 7, obis: PROFILE, index: 3 },
      { classId: 1, obis: obis('0.0.99.99.0.255'), index: 2 },
      { classId: 7, obis: PROFILE, index: 2 },
    ]);
    expect(gets.count).toBeGreaterThan(2);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[1]).toEqual({ ok: false, result: 4 });
    const buffer = outcomes[2];
    expect(buffer?.ok === true && buffer.data.type === 'array' ? buffer.data.items.length : -1).toBe(8);
    await client.close();
  });

  it('a cache that fails costs round trips, never the read', async () => {
    const { client, gets } = meter();
    const broken: MeterMetadataCache = {
      get: () => Promise.reject(new DcuError(ErrorCode.Storage, 'disk gone')),
      put: () => Promise.reject(new DcuError(ErrorCode.Storage, 'disk gone')),
    };
    await client.connect();
    const p = await readProfile(client, PROFILE, { ...range, cache: { store: broken, key: 'm1' } });
    expect(p.rows).toHaveLength(4);
    expect(gets.count).toBe(2);
    await client.close();
  });
});
