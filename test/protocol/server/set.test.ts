import type { Apdu } from '../../../protocol/apdu';
import { DataAccessResult } from '../../../protocol/apdu/results';
import { encodeData } from '../../../protocol/axdr/codec';
import type { Data } from '../../../protocol/axdr/data';
import { FakeClock } from '../../../protocol/common/clock';
import { ByteWriter } from '../../../protocol/common/bytes';
import { encodeApdu } from '../../../protocol/apdu';
import { createMiniMeterServer, MINI_ENERGY } from '../../helpers/mini-meter';
import { INVOKE, associate, attr, call, get, session, set } from './harness';
import { writeData } from '../../../protocol/axdr/codec';

const ENERGY = attr(3, '1.0.1.8.0.255', 2);
const LONG = attr(1, '0.0.96.128.0.255', 2);
const CLOCK_TIME = attr(8, '0.0.1.0.0.255', 2);

function setup(client = 1, maxPdu = 0xffff) {
  const clock = new FakeClock(Date.UTC(2026, 1, 3, 4, 5, 6));
  const { server, meter } = createMiniMeterServer(clock, { maxReceivePduSize: 256 });
  const s = session(client);
  const auth = client === 1 ? { mechanism: 'lls' as const, password: '12345678' } : client === 17 ? { mechanism: 'lls' as const, password: 'Gurux' } : {};
  expect(associate(server, s, { maxPdu, ...auth }).result).toBe('accepted');
  return { server, meter, s, req: (a: Apdu) => call(server, s, a) };
}

const result = (a: Apdu): number => {
  if (a.type !== 'set-response' || a.kind !== 'normal') throw new Error(`not a set result: ${a.type}`);
  return a.result;
};

const octets = (n: number, fill = 0xab): Data => ({ type: 'octet-string', value: new Uint8Array(n).fill(fill) });

describe('DlmsServer SET', () => {
  it('writes a value the policy allows', () => {
    const { req, meter } = setup(1);
    expect(result(req(set(LONG, octets(10))))).toBe(DataAccessResult.success);
    expect(meter.longData.value(2)).toEqual(octets(10));
  });

  it('sets the meter clock through a custom setter', () => {
    const { req } = setup(1);
    const t = Uint8Array.of(0x07, 0xea, 1, 1, 4, 0, 0, 0, 0xff, 0, 0, 0);
    expect(result(req(set(CLOCK_TIME, { type: 'octet-string', value: t })))).toBe(DataAccessResult.success);
    const back = req(get(CLOCK_TIME));
    expect(back).toMatchObject({ result: { kind: 'data', data: { type: 'octet-string', value: Uint8Array.of(0x07, 0xea, 1, 1, 4, 0, 0, 0, 0xff, 0, 0, 0) } } });
  });

  it('answers type-unmatched when the value does not fit the class table', () => {
    const { req } = setup(1);
    expect(result(req(set(CLOCK_TIME, { type: 'uint8', value: 1 })))).toBe(DataAccessResult.typeUnmatched);
    expect(result(req(set(attr(3, '1.0.1.8.0.255', 3), { type: 'uint8', value: 1 })))).toBe(DataAccessResult.typeUnmatched);
  });

  it('answers read-write-denied where writing is not allowed', () => {
    expect(result(setup(16).req(set(LONG, octets(1))))).toBe(DataAccessResult.readWriteDenied); // public: read only
    expect(result(setup(17).req(set(ENERGY, { type: 'uint32', value: 1 })))).toBe(DataAccessResult.readWriteDenied); // Register value is read-only
    expect(result(setup(1).req(set(attr(3, '1.0.1.8.0.255', 1), { type: 'octet-string', value: new Uint8Array(6) })))).toBe(DataAccessResult.readWriteDenied);
  });

  it('answers object-undefined for unknown objects and attributes', () => {
    const { req } = setup(1);
    expect(result(req(set(attr(1, '0.0.96.1.99.255', 2), octets(1))))).toBe(DataAccessResult.objectUndefined);
    expect(result(req(set(attr(1, '0.0.96.128.0.255', 3), octets(1))))).toBe(DataAccessResult.objectUndefined);
  });

  it('writes with-list', () => {
    const { req, meter } = setup(1);
    const a = req({ type: 'set-request', kind: 'with-list', invoke: INVOKE, attributes: [{ attribute: LONG }, { attribute: CLOCK_TIME }], values: [octets(3), { type: 'null' }] });
    expect(a).toEqual({ type: 'set-response', kind: 'with-list', invoke: INVOKE, results: [DataAccessResult.success, DataAccessResult.typeUnmatched] });
    expect(meter.longData.value(2)).toEqual(octets(3));
    expect(meter.energy.value(2)).toEqual({ type: 'uint32', value: MINI_ENERGY });
  });

  it('reassembles a long value sent in datablocks, acknowledging each block', () => {
    const { req, meter } = setup(1);
    const value = octets(600, 0x5a);
    const raw = encodeData(value);
    const chunk = 200;
    const blocks = Math.ceil(raw.length / chunk);
    for (let n = 1; n <= blocks; n++) {
      const block = { lastBlock: n === blocks, blockNumber: n, raw: raw.subarray((n - 1) * chunk, n * chunk) };
      const apdu: Apdu = n === 1 ? { type: 'set-request', kind: 'with-first-datablock', invoke: INVOKE, attribute: LONG, block } : { type: 'set-request', kind: 'with-datablock', invoke: INVOKE, block };
      expect(encodeApdu(apdu).length).toBeLessThanOrEqual(256);
      const a = req(apdu);
      if (n < blocks) expect(a).toEqual({ type: 'set-response', kind: 'datablock', invoke: INVOKE, blockNumber: n });
      else expect(a).toEqual({ type: 'set-response', kind: 'last-datablock', invoke: INVOKE, result: DataAccessResult.success, blockNumber: n });
    }
    expect(meter.longData.value(2)).toEqual(value);
  });

  it('checks access on the first block and type on the last', () => {
    const { req } = setup(16);
    expect(req({ type: 'set-request', kind: 'with-first-datablock', invoke: INVOKE, attribute: LONG, block: { lastBlock: false, blockNumber: 1, raw: Uint8Array.of(9) } })).toEqual({
      type: 'set-response',
      kind: 'last-datablock',
      invoke: INVOKE,
      result: DataAccessResult.readWriteDenied,
      blockNumber: 1,
    });
    const mgmt = setup(1);
    mgmt.req({ type: 'set-request', kind: 'with-first-datablock', invoke: INVOKE, attribute: CLOCK_TIME, block: { lastBlock: false, blockNumber: 1, raw: Uint8Array.of(0x11) } });
    expect(mgmt.req({ type: 'set-request', kind: 'with-datablock', invoke: INVOKE, block: { lastBlock: true, blockNumber: 2, raw: Uint8Array.of(0x05) } })).toMatchObject({
      kind: 'last-datablock',
      result: DataAccessResult.typeUnmatched,
    });
  });

  it('aborts a long set on a wrong block number and reports no long set afterwards', () => {
    const { req } = setup(1);
    req({ type: 'set-request', kind: 'with-first-datablock', invoke: INVOKE, attribute: LONG, block: { lastBlock: false, blockNumber: 1, raw: Uint8Array.of(9, 0x82) } });
    expect(req({ type: 'set-request', kind: 'with-datablock', invoke: INVOKE, block: { lastBlock: false, blockNumber: 3, raw: Uint8Array.of(1) } })).toMatchObject({
      kind: 'last-datablock',
      result: DataAccessResult.dataBlockNumberInvalid,
      blockNumber: 3,
    });
    expect(req({ type: 'set-request', kind: 'with-datablock', invoke: INVOKE, block: { lastBlock: true, blockNumber: 2, raw: Uint8Array.of(1) } })).toMatchObject({
      kind: 'last-datablock',
      result: DataAccessResult.noLongSetInProgress,
    });
  });

  it('sets a list of values sent in datablocks', () => {
    const { req, meter } = setup(1);
    const w = new ByteWriter();
    w.length(2);
    writeData(w, octets(300, 1));
    writeData(w, { type: 'int16', value: 60 });
    const raw = w.finish();
    const first = req({
      type: 'set-request',
      kind: 'with-list-and-first-datablock',
      invoke: INVOKE,
      attributes: [{ attribute: LONG }, { attribute: attr(8, '0.0.1.0.0.255', 3) }],
      block: { lastBlock: false, blockNumber: 1, raw: raw.subarray(0, 150) },
    });
    expect(first).toMatchObject({ kind: 'datablock', blockNumber: 1 });
    const last = req({ type: 'set-request', kind: 'with-datablock', invoke: INVOKE, block: { lastBlock: true, blockNumber: 2, raw: raw.subarray(150) } });
    expect(last).toEqual({ type: 'set-response', kind: 'last-datablock-with-list', invoke: INVOKE, results: [0, 0], blockNumber: 2 });
    expect(meter.longData.value(2)).toEqual(octets(300, 1));
    expect(meter.clock.value(3)).toEqual({ type: 'int16', value: 60 });
  });

  it('answers pdu-too-long for requests over the meter max receive size', () => {
    const { req } = setup(1);
    expect(req(set(LONG, octets(400)))).toEqual({ type: 'exception-response', stateError: 'service-not-allowed', serviceError: { kind: 'pdu-too-long' } });
  });
});
