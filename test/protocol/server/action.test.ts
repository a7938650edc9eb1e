import { type Apdu, encodeApdu } from '../../../protocol/apdu';
import { ActionResult } from '../../../protocol/apdu/results';
import { decodeData, encodeData } from '../../../protocol/axdr/codec';
import type { Data } from '../../../protocol/axdr/data';
import { FakeClock } from '../../../protocol/common/clock';
import { concatBytes } from '../../../protocol/common/hex';
import { obis } from '../../../protocol/cosem/obis';
import { DlmsServer } from '../../../protocol/server/server';
import { ListObjectModel, ValueObject } from '../../../protocol/server/value-object';
import { createMiniMeter, MINI_CLIENTS } from '../../helpers/mini-meter';
import { INVOKE, action, associate, attr, call, get, meth, session } from './harness';

const IMAGE = '0.0.44.0.0.255';

/** Mini meter plus an image-transfer-like object that records blocks and echoes big answers. */
function setup(client = 1, maxPdu = 0xffff) {
  const mini = createMiniMeter();
  const received: Data[] = [];
  const image = new ValueObject({
    classId: 18,
    version: 0,
    obis: obis(IMAGE),
    attributes: { 2: { type: 'uint32', value: 64 } },
    methods: {
      // image_block_transfer: records the block
      2: (p) => {
        if (p !== undefined) received.push(p);
        return { result: ActionResult.success };
      },
      // image_verify: answers with a long (made-up) report to force return pblocks
      3: () => ({ result: ActionResult.success, returnValue: { type: 'octet-string', value: Uint8Array.from({ length: 700 }, (_, i) => (i * 7) & 0xff) } }),
      4: () => {
        throw new Error('model bug');
      },
    },
  });
  const model = new ListObjectModel([...mini.model.objects(), image]);
  const server = new DlmsServer({ model, clients: MINI_CLIENTS, clock: new FakeClock(), limits: { maxReceivePduSize: 128 } });
  const s = session(client);
  const auth = client === 1 ? { mechanism: 'lls' as const, password: '12345678' } : {};
  expect(associate(server, s, { maxPdu, ...auth }).result).toBe('accepted');
  return { server, mini, received, req: (a: Apdu) => call(server, s, a) };
}

const outcome = (a: Apdu): unknown => (a.type === 'action-response' && a.kind === 'normal' ? a.outcome : a);

describe('DlmsServer ACTION', () => {
  it('invokes a method (register reset)', () => {
    const { req } = setup(1);
    expect(outcome(req(action(meth(3, '1.0.1.8.0.255', 1), { type: 'int8', value: 0 })))).toEqual({ result: ActionResult.success });
    expect(req(get(attr(3, '1.0.1.8.0.255', 2)))).toMatchObject({ result: { kind: 'data', data: { type: 'uint32', value: 0 } } });
  });

  it('checks access, existence and parameter types', () => {
    expect(outcome(setup(16).req(action(meth(3, '1.0.1.8.0.255', 1), { type: 'int8', value: 0 })))).toEqual({ result: ActionResult.readWriteDenied });
    const { req } = setup(1);
    expect(outcome(req(action(meth(3, '1.0.1.8.0.255', 2))))).toEqual({ result: ActionResult.objectUndefined });
    expect(outcome(req(action(meth(3, '1.0.1.9.0.255', 1))))).toEqual({ result: ActionResult.objectUndefined });
    expect(outcome(req(action(meth(3, '1.0.1.8.0.255', 1), { type: 'octet-string', value: new Uint8Array(2) })))).toEqual({ result: ActionResult.typeUnmatched });
  });

  it('turns an exception thrown by the model into hardware-fault', () => {
    expect(outcome(setup(1).req(action(meth(18, IMAGE, 4), { type: 'int8', value: 0 })))).toEqual({ result: ActionResult.hardwareFault });
  });

  it('invokes with-list', () => {
    const { req } = setup(1);
    const a = req({
      type: 'action-request',
      kind: 'with-list',
      invoke: INVOKE,
      methods: [meth(8, '0.0.1.0.0.255', 6), meth(8, '0.0.1.0.0.255', 6)],
      parameters: [{ type: 'int16', value: 30 }, { type: 'int16', value: 5000 }],
    });
    expect(a).toEqual({ type: 'action-response', kind: 'with-list', invoke: INVOKE, outcomes: [{ result: ActionResult.success }, { result: ActionResult.otherReason }] });
  });

  it('reassembles parameters sent in pblocks, acknowledging each with next-pblock', () => {
    const { req, received } = setup(1);
    const param: Data = { type: 'structure', items: [{ type: 'uint32', value: 0 }, { type: 'octet-string', value: new Uint8Array(300).fill(0xee) }] };
    const raw = encodeData(param);
    const chunk = 100;
    const count = Math.ceil(raw.length / chunk);
    for (let n = 1; n <= count; n++) {
      const block = { lastBlock: n === count, blockNumber: n, raw: raw.subarray((n - 1) * chunk, n * chunk) };
      const apdu: Apdu = n === 1 ? { type: 'action-request', kind: 'with-first-pblock', invoke: INVOKE, method: meth(18, IMAGE, 2), block } : { type: 'action-request', kind: 'with-pblock', invoke: INVOKE, block };
      expect(encodeApdu(apdu).length).toBeLessThanOrEqual(128);
      const a = req(apdu);
      if (n < count) expect(a).toEqual({ type: 'action-response', kind: 'next-pblock', invoke: INVOKE, blockNumber: n });
      else expect(outcome(a)).toEqual({ result: ActionResult.success });
    }
    expect(received).toEqual([param]);
  });

  it('aborts pblocks on a wrong number', () => {
    const { req } = setup(1);
    req({ type: 'action-request', kind: 'with-first-pblock', invoke: INVOKE, method: meth(18, IMAGE, 2), block: { lastBlock: false, blockNumber: 1, raw: Uint8Array.of(2) } });
    expect(outcome(req({ type: 'action-request', kind: 'with-pblock', invoke: INVOKE, block: { lastBlock: true, blockNumber: 5, raw: Uint8Array.of(2) } }))).toEqual({
      result: ActionResult.dataBlockUnavailable,
    });
    expect(outcome(req({ type: 'action-request', kind: 'with-pblock', invoke: INVOKE, block: { lastBlock: true, blockNumber: 2, raw: Uint8Array.of(2) } }))).toEqual({
      result: ActionResult.noLongActionInProgress,
    });
  });

  it('sends long return parameters in pblocks the client pulls with next-pblock', () => {
    const { req } = setup(1, 100);
    let a = req(action(meth(18, IMAGE, 3), { type: 'int8', value: 0 }));
    const parts: Uint8Array[] = [];
    for (let n = 1; ; n++) {
      expect(encodeApdu(a).length).toBeLessThanOrEqual(100);
      if (a.type !== 'action-response' || a.kind !== 'with-pblock') throw new Error(`expected with-pblock, got ${a.type}`);
      expect(a.block.blockNumber).toBe(n);
      parts.push(a.block.raw);
      if (a.block.lastBlock) break;
      a = req({ type: 'action-request', kind: 'next-pblock', invoke: INVOKE, blockNumber: n });
    }
    expect(decodeData(concatBytes(parts))).toEqual({ type: 'octet-string', value: Uint8Array.from({ length: 700 }, (_, i) => (i * 7) & 0xff) });
  });
});
