import type { Apdu } from '../../../protocol/apdu';
import { conformance } from '../../../protocol/apdu/conformance';
import { DataAccessResult } from '../../../protocol/apdu/results';
import { decodeData } from '../../../protocol/axdr/codec';
import type { Data } from '../../../protocol/axdr/data';
import { dataAsDateTime, dateTimeToEpoch } from '../../../protocol/axdr/datetime';
import { FakeClock } from '../../../protocol/common/clock';
import { concatBytes, toHex } from '../../../protocol/common/hex';
import { encodeAccessSelector, rangeByEntry, rangeByTime } from '../../../protocol/cosem/selective-access';
import { decodeObjectList, describeObjectListEntry } from '../../../protocol/cosem/object-list';
import { encodeApdu } from '../../../protocol/apdu';
import { createMiniMeterServer, MINI_ENERGY, MINI_LONG_VALUE_LENGTH, MINI_PROFILE_PERIOD_S, MINI_PROFILE_START, miniLongValue } from '../../helpers/mini-meter';
import { ALL_CLIENT_BITS, INVOKE, associate, attr, call, get, getNext, session } from './harness';

const CLOCK_TIME = attr(8, '0.0.1.0.0.255', 2);
const ENERGY = attr(3, '1.0.1.8.0.255', 2);
const LONG = attr(1, '0.0.96.128.0.255', 2);
const BUFFER = attr(7, '1.0.99.1.0.255', 2);

function setup(client = 16, maxPdu = 0xffff, opts: { mechanism?: 'lls'; password?: string; bits?: typeof ALL_CLIENT_BITS } = {}) {
  const clock = new FakeClock(Date.UTC(2026, 1, 3, 4, 5, 6));
  const { server } = createMiniMeterServer(clock);
  const s = session(client);
  const aare = associate(server, s, {
    maxPdu,
    conformance: conformance(...(opts.bits ?? ALL_CLIENT_BITS)),
    ...(opts.mechanism === undefined ? {} : { mechanism: opts.mechanism }),
    ...(opts.password === undefined ? {} : { password: opts.password }),
  });
  expect(aare.result).toBe('accepted');
  return { server, s, clock, req: (a: Apdu) => call(server, s, a) };
}

function data(a: Apdu): Data {
  if (a.type !== 'get-response' || a.kind !== 'normal' || a.result.kind !== 'data') throw new Error(`not data: ${a.type} ${'kind' in a ? a.kind : ''}`);
  return a.result.data;
}

function errorOf(a: Apdu): number {
  if (a.type !== 'get-response' || a.kind !== 'normal' || a.result.kind !== 'error') throw new Error(`not an error: ${a.type}`);
  return a.result.error;
}

/** Reads a long attribute through all its blocks, checking each APDU's size. */
function readBlocks(req: (a: Apdu) => Apdu, first: Apdu, maxPdu: number): { raw: Uint8Array; blocks: number } {
  const parts: Uint8Array[] = [];
  let a = req(first);
  for (let n = 1; ; n++) {
    expect(encodeApdu(a).length).toBeLessThanOrEqual(maxPdu);
    if (a.type !== 'get-response' || a.kind !== 'with-datablock' || a.result.kind !== 'raw') throw new Error(`block ${n}: ${a.type}`);
    expect(a.blockNumber).toBe(n);
    parts.push(a.result.raw);
    if (a.lastBlock) return { raw: concatBytes(parts), blocks: n };
    a = req(getNext(n));
  }
}

describe('DlmsServer GET', () => {
  it('reads registers, scaler_unit and logical_name', () => {
    const { req } = setup();
    expect(data(req(get(ENERGY)))).toEqual({ type: 'uint32', value: MINI_ENERGY });
    expect(data(req(get(attr(3, '1.0.32.7.0.255', 3))))).toEqual({ type: 'structure', items: [{ type: 'int8', value: -1 }, { type: 'enum', value: 35 }] });
    expect(data(req(get(attr(3, '1.0.1.8.0.255', 1))))).toEqual({ type: 'octet-string', value: Uint8Array.of(1, 0, 1, 8, 0, 255) });
  });

  it('reads the clock from the injected clock', () => {
    const { req, clock } = setup();
    const t = (d: Data) => {
      const dt = dataAsDateTime(d);
      return dt === undefined ? null : dateTimeToEpoch(dt);
    };
    expect(t(data(req(get(CLOCK_TIME))))).toBe(Date.UTC(2026, 1, 3, 4, 5, 6));
    clock.advance(60_000);
    expect(t(data(req(get(CLOCK_TIME))))).toBe(Date.UTC(2026, 1, 3, 4, 6, 6));
  });

  it('answers object-undefined for unknown objects and attributes', () => {
    const { req } = setup();
    expect(errorOf(req(get(attr(3, '1.0.99.8.0.255', 2))))).toBe(DataAccessResult.objectUndefined);
    expect(errorOf(req(get(attr(1, '1.0.1.8.0.255', 2))))).toBe(DataAccessResult.objectUndefined); // wrong class
    expect(errorOf(req(get(attr(3, '1.0.1.8.0.255', 9))))).toBe(DataAccessResult.objectUndefined);
  });

  it('answers read-write-denied where the policy denies reading', () => {
    // Client 17 uses class-table access: Association LN secret is write-only.
    const { req } = setup(17, 0xffff, { mechanism: 'lls', password: 'Gurux' });
    expect(errorOf(req(get(attr(15, '0.0.40.0.0.255', 7))))).toBe(DataAccessResult.readWriteDenied);
  });

  it('serves object_list per client from its access policy', () => {
    const pub = setup(16);
    const list16 = decodeObjectList(data(pub.req(get(attr(15, '0.0.40.0.0.255', 2)))));
    expect(list16.map(describeObjectListEntry)).toEqual([
      '15 v2 0.0.40.0.0.255 Association LN (current association)',
      expect.stringMatching(/^8 v0 0\.0\.1\.0\.0\.255 Clock/),
      expect.stringMatching(/^3 v0 1\.0\.1\.8\.0\.255 Register/),
      expect.stringMatching(/^3 v0 1\.0\.32\.7\.0\.255 Register/),
      expect.stringMatching(/^1 v0 0\.0\.96\.128\.0\.255 Data/),
      expect.stringMatching(/^7 v1 1\.0\.99\.1\.0\.255 Profile generic/),
      // The server's own objects for the HLS client's security setup, readable by the public client.
      expect.stringMatching(/^64 v0 0\.0\.43\.0\.0\.255 Security setup/),
      expect.stringMatching(/^1 v0 0\.0\.43\.1\.0\.255 Data/),
    ]);
    const profile16 = list16[5];
    expect(profile16?.attributeAccess.find((a) => a.index === 2)).toEqual({ index: 2, mode: 1, selectors: [1, 2] });
    expect(profile16?.methodAccess.every((m) => m.mode === 0)).toBe(true);

    const mgmt = setup(1, 0xffff, { mechanism: 'lls', password: '12345678' });
    const list1 = decodeObjectList(data(mgmt.req(get(attr(15, '0.0.40.0.0.255', 2)))));
    expect(list1[2]?.attributeAccess.find((a) => a.index === 2)?.mode).toBe(3);
    expect(list1[2]?.methodAccess).toEqual([{ index: 1, mode: 1 }]);
  });

  it('serves the other Association LN attributes', () => {
    const { req } = setup(17, 1000, { mechanism: 'lls', password: 'Gurux' });
    expect(data(req(get(attr(15, '0.0.40.0.0.255', 3))))).toEqual({ type: 'structure', items: [{ type: 'int8', value: 17 }, { type: 'uint16', value: 1 }] });
    const mech = data(req(get(attr(15, '0.0.40.0.0.255', 6))));
    expect(mech.type === 'structure' ? mech.items[6] : undefined).toEqual({ type: 'uint8', value: 1 });
    const ctx = data(req(get(attr(15, '0.0.40.0.0.255', 5))));
    expect(ctx.type === 'structure' ? ctx.items[1] : undefined).toEqual({ type: 'uint16', value: 1000 });
    expect(data(req(get(attr(15, '0.0.40.0.0.255', 8))))).toEqual({ type: 'enum', value: 2 });
  });

  it('reads with-list', () => {
    const { req } = setup();
    const a = req({ type: 'get-request', kind: 'with-list', invoke: INVOKE, attributes: [{ attribute: ENERGY }, { attribute: attr(3, '9.9.9.9.9.9', 2) }] });
    expect(a).toEqual({
      type: 'get-response',
      kind: 'with-list',
      invoke: INVOKE,
      results: [
        { kind: 'data', data: { type: 'uint32', value: MINI_ENERGY } },
        { kind: 'error', error: DataAccessResult.objectUndefined },
      ],
    });
  });

  it('refuses with-list without multiple-references', () => {
    const { req } = setup(16, 0xffff, { bits: ['get'] });
    const a = req({ type: 'get-request', kind: 'with-list', invoke: INVOKE, attributes: [{ attribute: ENERGY }] });
    expect(a).toEqual({ type: 'exception-response', stateError: 'service-not-allowed', serviceError: { kind: 'service-not-supported' } });
  });

  it.each([64, 100, 256])('sends a long value in blocks that fit a %i-byte PDU', (maxPdu) => {
    const { req } = setup(16, maxPdu);
    const { raw, blocks } = readBlocks(req, get(LONG), maxPdu);
    expect(blocks).toBeGreaterThan(1);
    expect(decodeData(raw)).toEqual({ type: 'octet-string', value: miniLongValue() });
    // The next request after the last block finds no long get.
    const after = req(getNext(blocks));
    expect(after).toMatchObject({ kind: 'with-datablock', lastBlock: true, result: { kind: 'error', error: DataAccessResult.noLongGetInProgress } });
  });

  it('sends a long with-list answer in blocks', () => {
    const { req } = setup(16, 128);
    const { raw } = readBlocks(req, { type: 'get-request', kind: 'with-list', invoke: INVOKE, attributes: [{ attribute: ENERGY }, { attribute: LONG }] }, 128);
    // SEQUENCE OF Get-Data-Result: 02 | 00 uint32 | 00 octet-string(1000)
    expect(toHex(raw.subarray(0, 7))).toBe('0200060012D687');
    expect(raw.length).toBe(1 + 1 + 5 + 1 + 1 + 3 + MINI_LONG_VALUE_LENGTH);
  });

  it('ends a long get on a wrong block number', () => {
    const { req } = setup(16, 100);
    expect(req(get(LONG))).toMatchObject({ kind: 'with-datablock', blockNumber: 1, lastBlock: false });
    expect(req(getNext(7))).toMatchObject({ kind: 'with-datablock', lastBlock: true, result: { kind: 'error', error: DataAccessResult.dataBlockNumberInvalid } });
    expect(req(getNext(1))).toMatchObject({ result: { kind: 'error', error: DataAccessResult.noLongGetInProgress } });
  });

  it('abandons a long get when a new request comes', () => {
    const { req } = setup(16, 100);
    req(get(LONG));
    expect(req(getNext(1))).toMatchObject({ blockNumber: 2 });
    expect(data(req(get(ENERGY)))).toEqual({ type: 'uint32', value: MINI_ENERGY });
    expect(req(getNext(2))).toMatchObject({ result: { kind: 'error', error: DataAccessResult.noLongGetInProgress } });
    // …and a new long get starts over at block 1.
    expect(req(get(LONG))).toMatchObject({ blockNumber: 1 });
  });

  it('answers other-reason for a too-long value when block transfer is not negotiated', () => {
    const { req } = setup(16, 100, { bits: ['get'] });
    expect(errorOf(req(get(LONG)))).toBe(DataAccessResult.otherReason);
  });

  it('passes selective access to the profile (entry and range)', () => {
    const { req } = setup(16, 0xffff);
    // 96 rows do not fit the meter's 1024-byte PDU: blocks.
    const all = decodeData(readBlocks(req, get(BUFFER), 1024).raw);
    expect(all.type === 'array' ? all.items.length : 0).toBe(96);

    const byEntry = data(req(get(BUFFER, encodeAccessSelector(rangeByEntry(3, 5, 2, 2)))));
    expect(byEntry).toEqual({
      type: 'array',
      items: [1020, 1030, 1040].map((value): Data => ({ type: 'structure', items: [{ type: 'uint32', value }] })),
    });

    const from = MINI_PROFILE_START + 10 * MINI_PROFILE_PERIOD_S * 1000;
    const byRange = data(req(get(BUFFER, encodeAccessSelector(rangeByTime(from, from + 3600_000)))));
    expect(byRange.type === 'array' ? byRange.items.length : 0).toBe(5);

    expect(errorOf(req(get(BUFFER, { selector: 9, parameters: { type: 'null' } })))).toBe(DataAccessResult.otherReason);
  });

  it('refuses selective access that was not negotiated', () => {
    const { req } = setup(16, 0xffff, { bits: ['get'] });
    expect(errorOf(req(get(BUFFER, encodeAccessSelector(rangeByEntry(1, 2)))))).toBe(DataAccessResult.otherReason);
  });

  it('refuses GET when get was not negotiated', () => {
    const { req } = setup(16, 0xffff, { bits: ['set'] });
    expect(req(get(ENERGY))).toMatchObject({ type: 'exception-response', serviceError: { kind: 'service-not-supported' } });
  });
});
