import fc from 'fast-check';
import { type Apdu, decodeApdu, encodeApdu } from '../../../protocol/apdu';
import { FakeClock } from '../../../protocol/common/clock';
import type { DlmsServer } from '../../../protocol/server/server';
import { arbActionRequest, arbApdu, arbGetRequest, arbSetRequest } from '../../helpers/apdu-arbitraries';
import { arbData } from '../../helpers/arbitraries';
import { createMiniMeterServer } from '../../helpers/mini-meter';
import { INVOKE, aarq, associate, attr, get, getNext, meth, session, set, action } from './harness';

const REQUEST_TAGS = [0x60, 0x62, 0xc0, 0xc1, 0xc3];

/** Internal errors would be hidden by handle()'s last-resort answer: collect them. */
const internalErrors: unknown[] = [];
afterEach(() => {
  expect(internalErrors).toEqual([]);
});

function fresh(client = 1): { server: DlmsServer; s: ReturnType<typeof session> } {
  const { server } = createMiniMeterServer(new FakeClock(), { maxReceivePduSize: 512 }, (e) => internalErrors.push(e));
  const s = session(client);
  associate(server, s, client === 1 ? { mechanism: 'lls', password: '12345678', maxPdu: 64 } : { maxPdu: 64 });
  return { server, s };
}

/** handle() must not throw; an answer must be a decodable APDU. */
function checked(server: DlmsServer, bytes: Uint8Array, s: ReturnType<typeof session>): Apdu | undefined {
  const out = server.handle(bytes, s);
  return out === undefined ? undefined : decodeApdu(out);
}

/** Requests that hit the mini meter's real objects (so the services, not just lookups, run). */
const arbMeterRequest: fc.Arbitrary<Apdu> = fc.oneof(
  fc.constantFrom(
    get(attr(1, '0.0.96.128.0.255', 2)),
    get(attr(7, '1.0.99.1.0.255', 2)),
    get(attr(15, '0.0.40.0.0.255', 2)),
    getNext(1),
    getNext(2),
    aarq({ mechanism: 'lls', password: '12345678', maxPdu: 64 }),
    { type: 'rlrq' } as Apdu,
  ),
  fc.record({ o: fc.constantFrom('0.0.96.128.0.255', '0.0.1.0.0.255', '1.0.1.8.0.255'), c: fc.constantFrom(1, 3, 8), i: fc.integer({ min: -2, max: 10 }), v: arbData }).map(({ o, c, i, v }) => set(attr(c, o, i), v)),
  fc.record({ i: fc.integer({ min: 0, max: 7 }), v: fc.option(arbData, { nil: undefined }) }).map(({ i, v }) => action(meth(8, '0.0.1.0.0.255', i), v)),
  fc.record({ n: fc.integer({ min: 0, max: 4 }), last: fc.boolean(), raw: fc.uint8Array({ maxLength: 60 }), first: fc.boolean() }).map(({ n, last, raw, first }): Apdu =>
    first
      ? { type: 'set-request', kind: 'with-first-datablock', invoke: INVOKE, attribute: attr(1, '0.0.96.128.0.255', 2), block: { lastBlock: last, blockNumber: n, raw } }
      : { type: 'set-request', kind: 'with-datablock', invoke: INVOKE, block: { lastBlock: last, blockNumber: n, raw } },
  ),
  arbGetRequest,
  arbSetRequest,
  arbActionRequest,
);

describe('DlmsServer robustness', () => {
  it('random bytes never throw, associated or not', () => {
    const { server, s } = fresh();
    const other = session(16);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        checked(server, bytes, s);
        checked(server, bytes, other);
      }),
      { numRuns: 1500 },
    );
  });

  it('random bytes behind a request tag never throw', () => {
    const { server, s } = fresh();
    fc.assert(
      fc.property(fc.constantFrom(...REQUEST_TAGS), fc.uint8Array({ maxLength: 120 }), (tag, rest) => {
        const bytes = new Uint8Array(rest.length + 1);
        bytes[0] = tag;
        bytes.set(rest, 1);
        const a = checked(server, bytes, s);
        expect(a).toBeDefined();
      }),
      { numRuns: 1500 },
    );
  });

  it('truncated and corrupted valid requests never throw', () => {
    const { server, s } = fresh();
    fc.assert(
      fc.property(arbMeterRequest, fc.nat(), fc.integer({ min: 0, max: 255 }), (req, at, b) => {
        const bytes = encodeApdu(req);
        checked(server, bytes.subarray(0, at % (bytes.length + 1)), s);
        const bad = bytes.slice();
        bad[at % bad.length] = b;
        checked(server, bad, s);
      }),
      { numRuns: 800 },
    );
  });

  it('any sequence of requests is answered with decodable APDUs', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(arbMeterRequest, arbApdu), { maxLength: 25 }), fc.constantFrom(1, 16), (reqs, client) => {
        const { server, s } = fresh(client);
        for (const r of reqs) {
          let bytes: Uint8Array;
          try {
            bytes = encodeApdu(r);
          } catch {
            continue; // an arbitrary the encoder refuses (out of range) is not a request
          }
          checked(server, bytes, s);
        }
      }),
      { numRuns: 300 },
    );
  });
});
