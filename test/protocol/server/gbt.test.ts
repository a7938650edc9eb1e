import fc from 'fast-check';
import { type Apdu, decodeApdu, encodeApdu } from '../../../protocol/apdu';
import { conformance } from '../../../protocol/apdu/conformance';
import type { GeneralBlockTransfer } from '../../../protocol/apdu/gbt';
import { systemClock } from '../../../protocol/common/clock';
import { concatBytes } from '../../../protocol/common/hex';
import { DEFAULT_SERVER_CONFORMANCE } from '../../../protocol/server/options';
import { createMiniMeterServer, MINI_LONG_VALUE_LENGTH } from '../../helpers/mini-meter';
import { ALL_CLIENT_BITS, associate, attr, get, session, set } from './harness';

const GBT_BITS = conformance(...ALL_CLIENT_BITS, 'general-block-transfer');
const LONG = attr(1, '0.0.96.128.0.255', 2);

function meter(withGbt = true, maxPdu = 256) {
  const { server } = createMiniMeterServer(systemClock, {
    maxReceivePduSize: maxPdu,
    conformance: withGbt ? conformance(...DEFAULT_SERVER_CONFORMANCE, 'general-block-transfer') : DEFAULT_SERVER_CONFORMANCE,
    gbtWindow: 5,
  });
  const s = session(1);
  associate(server, s, { mechanism: 'lls', password: '12345678', conformance: GBT_BITS, maxPdu });
  return { server, s };
}

const gbt = (o: Partial<GeneralBlockTransfer> & { data: Uint8Array }): Uint8Array =>
  encodeApdu({ type: 'general-block-transfer', lastBlock: false, streaming: false, window: 3, blockNumber: 1, blockNumberAck: 0, ...o });

const decodeAll = (out: readonly Uint8Array[]): Apdu[] => out.map((b) => decodeApdu(b));
const asGbt = (a: Apdu | undefined): GeneralBlockTransfer => {
  if (a?.type !== 'general-block-transfer') throw new Error(`expected GBT, got ${a?.type ?? 'nothing'}`);
  return a;
};

describe('DlmsServer general block transfer', () => {
  it('a long answer to a plain GET: one block first, then bursts in the client’s window', () => {
    const { server, s } = meter();
    const first = decodeAll(server.handleBurst(encodeApdu(get(LONG)), s));
    expect(first).toHaveLength(1);
    const b1 = asGbt(first[0]);
    expect([b1.blockNumber, b1.blockNumberAck, b1.streaming, b1.lastBlock, b1.window]).toEqual([1, 0, false, false, 5]);
    expect(encodeApdu(b1).length).toBeLessThanOrEqual(256);
    // The client acknowledges block 1 and says its window is 3.
    const burst = decodeAll(server.handleBurst(gbt({ lastBlock: true, blockNumber: 1, blockNumberAck: 1, window: 3, data: new Uint8Array(0) }), s)).map(asGbt);
    expect(burst.map((g) => [g.blockNumber, g.streaming, g.lastBlock])).toEqual([
      [2, true, false],
      [3, true, false],
      [4, false, false],
    ]);
    const rest = decodeAll(server.handleBurst(gbt({ lastBlock: true, blockNumber: 2, blockNumberAck: 4, window: 3, data: new Uint8Array(0) }), s)).map(asGbt);
    expect(rest.at(-1)?.lastBlock).toBe(true);
    const whole = decodeApdu(concatBytes([b1, ...burst, ...rest].map((g) => g.data)));
    expect(whole.type === 'get-response' && whole.kind === 'normal' && whole.result.kind === 'data' && whole.result.data.type === 'octet-string' && whole.result.data.value.length).toBe(
      MINI_LONG_VALUE_LENGTH,
    );
  });

  it('handle() (one answer per request) gives one block per acknowledgement', () => {
    const { server, s } = meter();
    expect(asGbt(decodeApdu(server.handle(encodeApdu(get(LONG)), s) ?? new Uint8Array(0))).blockNumber).toBe(1);
    const next = asGbt(decodeApdu(server.handle(gbt({ blockNumber: 1, blockNumberAck: 1, window: 7, data: new Uint8Array(0) }), s) ?? new Uint8Array(0)));
    expect([next.blockNumber, next.streaming]).toEqual([2, false]);
  });

  it('reassembles a streamed request and answers it with GBT (even a short answer)', () => {
    const { server, s } = meter();
    const request = encodeApdu(set(LONG, { type: 'octet-string', value: new Uint8Array(600).fill(7) }));
    const parts = [request.subarray(0, 250), request.subarray(250, 500), request.subarray(500)];
    expect(server.handleBurst(gbt({ blockNumber: 1, streaming: true, data: parts[0] ?? new Uint8Array(0) }), s)).toEqual([]);
    expect(server.handleBurst(gbt({ blockNumber: 2, streaming: true, data: parts[1] ?? new Uint8Array(0) }), s)).toEqual([]);
    const out = decodeAll(server.handleBurst(gbt({ blockNumber: 3, lastBlock: true, data: parts[2] ?? new Uint8Array(0) }), s)).map(asGbt);
    expect(out).toHaveLength(1);
    expect([out[0]?.blockNumber, out[0]?.blockNumberAck, out[0]?.lastBlock]).toEqual([1, 3, true]);
    expect(decodeApdu(out[0]?.data ?? new Uint8Array(0))).toMatchObject({ type: 'set-response', kind: 'normal', result: 0 });
  });

  it('a gap at the end of a burst: acknowledges the blocks in sequence, window = blocks missing', () => {
    const { server, s } = meter();
    const request = encodeApdu(set(LONG, { type: 'octet-string', value: new Uint8Array(600).fill(9) }));
    const parts = [request.subarray(0, 250), request.subarray(250, 500), request.subarray(500)];
    const ack = decodeAll(server.handleBurst(gbt({ blockNumber: 3, lastBlock: true, data: parts[2] ?? new Uint8Array(0) }), s)).map(asGbt);
    expect(ack.map((g) => [g.blockNumberAck, g.window, g.data.length])).toEqual([[0, 2, 0]]);
    expect(server.handleBurst(gbt({ blockNumber: 1, streaming: true, data: parts[0] ?? new Uint8Array(0) }), s)).toEqual([]);
    const out = decodeAll(server.handleBurst(gbt({ blockNumber: 2, data: parts[1] ?? new Uint8Array(0) }), s)).map(asGbt);
    expect(decodeApdu(out[0]?.data ?? new Uint8Array(0))).toMatchObject({ type: 'set-response', result: 0 });
  });

  it('GBT before an association or without the conformance bit is refused', () => {
    const { server } = createMiniMeterServer(systemClock, { conformance: conformance(...DEFAULT_SERVER_CONFORMANCE, 'general-block-transfer') });
    const lone = session(1);
    expect(decodeApdu(server.handle(gbt({ data: Uint8Array.of(1) }), lone) ?? new Uint8Array(0))).toMatchObject({ type: 'exception-response' });
    const { server: plain, s } = meter(false);
    expect(decodeApdu(plain.handle(gbt({ data: Uint8Array.of(1) }), s) ?? new Uint8Array(0))).toMatchObject({
      type: 'exception-response',
      serviceError: { kind: 'service-not-supported' },
    });
    // And no GBT on the wire for a long answer: GET with datablock as before.
    expect(decodeApdu(plain.handle(encodeApdu(get(LONG)), s) ?? new Uint8Array(0))).toMatchObject({ type: 'get-response', kind: 'with-datablock' });
  });

  it('random GBT APDUs never throw and every answer decodes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            lastBlock: fc.boolean(),
            streaming: fc.boolean(),
            window: fc.integer({ min: 0, max: 63 }),
            blockNumber: fc.integer({ min: 0, max: 0xffff }),
            blockNumberAck: fc.integer({ min: 0, max: 0xffff }),
            data: fc.uint8Array({ maxLength: 40 }),
          }),
          { maxLength: 12 },
        ),
        (blocks) => {
          const { server, s } = meter();
          for (const b of blocks) for (const out of server.handleBurst(gbt(b), s)) decodeApdu(out);
        },
      ),
      { numRuns: 150 },
    );
  });
});
