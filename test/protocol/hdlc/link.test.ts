import fc from 'fast-check';
import { HdlcLoop } from '../../helpers/hdlc-loop';
import { FakeClock } from '../../../protocol/common/clock';
import { ErrorCode } from '../../../protocol/common/errors';
import { concatBytes, fromHex, toHex } from '../../../protocol/common/hex';
import { clientAddress, serverAddress } from '../../../protocol/hdlc/address';
import { decodeFrame, encodeFrame } from '../../../protocol/hdlc/frame';
import { HdlcClientLink, type LinkEvent } from '../../../protocol/hdlc/link';
import { DEFAULT_HDLC_PARAMETERS, decodeHdlcParameters } from '../../../protocol/hdlc/params';

const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const BIG = { maxInfoTx: 2030, maxInfoRx: 2030, windowTx: 7, windowRx: 7 };

function connected(options: ConstructorParameters<typeof HdlcLoop>[0] = {}): HdlcLoop {
  const loop = new HdlcLoop(options);
  loop.connect();
  expect(loop.link.state).toBe('connected');
  loop.mark();
  return loop;
}

describe('HdlcClientLink connect', () => {
  it('asks for 2030/7 in the SNRM and uses what the UA grants', () => {
    const loop = new HdlcLoop();
    loop.link.connect();
    const snrm = decodeFrame(loop.link.takeOutput()!);
    expect(snrm.control.kind).toBe('SNRM');
    expect(decodeHdlcParameters(snrm.info)).toEqual(BIG);
    loop.meter.receive(encodeFrame(snrm));
    loop.pump();
    expect(loop.events[0]).toEqual({ type: 'connected', params: DEFAULT_HDLC_PARAMETERS });
    expect(loop.link.params).toEqual(DEFAULT_HDLC_PARAMETERS);
  });

  it('negotiates the minimum of asked and allowed', () => {
    const loop = connected({ meter: { limits: { maxInfoTx: 512, maxInfoRx: 256, windowTx: 3, windowRx: 7 } } });
    expect(loop.link.params).toEqual({ maxInfoTx: 256, maxInfoRx: 512, windowTx: 7, windowRx: 3 });
    expect(loop.meter.params).toEqual({ maxInfoTx: 512, maxInfoRx: 256, windowTx: 3, windowRx: 7 });
  });

  it('falls back to 128/128/1/1 when the UA has no parameters', () => {
    const loop = connected({ meter: { limits: BIG, uaParameters: false } });
    expect(loop.link.params).toEqual(DEFAULT_HDLC_PARAMETERS);
  });

  it('can send an SNRM without parameters', () => {
    const loop = connected({ link: { snrmParameters: false }, meter: { limits: BIG } });
    expect(loop.link.params).toEqual(DEFAULT_HDLC_PARAMETERS);
  });

  it('repeats the SNRM on timeout and fails after the retries', () => {
    const loop = new HdlcLoop({ link: { retries: 2 } });
    loop.up = () => 'drop';
    loop.connect(10_000);
    expect(loop.trace).toEqual(['C>xSNRM', 'C>xSNRM', 'C>xSNRM']);
    expect(loop.events.map((e) => e.type)).toEqual(['error', 'disconnected']);
    expect(loop.events[0]).toMatchObject({ error: { code: ErrorCode.LinkRetriesExhausted } });
    expect(loop.events[1]).toEqual({ type: 'disconnected', reason: 'failed' });
  });

  it('reports a DM answer to the SNRM as LinkDisconnected', () => {
    const loop = new HdlcLoop({ meter: { acceptClient: (c) => c === 1 } });
    loop.connect();
    expect(loop.events[0]).toMatchObject({ type: 'error', error: { code: ErrorCode.LinkDisconnected } });
    expect(loop.events[1]).toEqual({ type: 'disconnected', reason: 'remote' });
  });
});

describe('HdlcClientLink data transfer', () => {
  it('exchanges a short APDU in one I-frame each way, with the LLC header', () => {
    const loop = connected({ handler: () => fromHex('C4 01 C1 00 09 02 12 34') });
    const answer = loop.request(fromHex('C0 01 C1 00 08 00 00 01 00 00 FF 02 00'));
    expect(toHex(answer!)).toBe('C401C100090212 34'.replace(' ', ''));
    expect(loop.trace).toEqual(['C>I0/0P', 'M>I0/1P']);
    // Next request acknowledges the answer (N(R) = 1).
    loop.request(fromHex('C0 01 C2 00 08 00 00 01 00 00 FF 02 00'));
    expect(loop.trace.slice(2)).toEqual(['C>I1/1P', 'M>I1/2P']);
  });

  it('segments with window 1: RR for every segment both ways', () => {
    const loop = connected();
    const apdu = bytes(300);
    expect(loop.request(apdu)).toEqual(apdu);
    // 303 bytes with LLC → 128 + 128 + 47 each way.
    expect(loop.trace).toEqual(['C>I0/0PS', 'M>RR1P', 'C>I1/0PS', 'M>RR2P', 'C>I2/0P', 'M>I0/3PS', 'C>RR1P', 'M>I1/3PS', 'C>RR2P', 'M>I2/3P']);
  });

  it('segments with window 7: a burst of 7 frames, P/F on the last', () => {
    const loop = connected({ meter: { limits: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 7, windowRx: 7 } } });
    const apdu = bytes(8 * 128);
    expect(loop.request(apdu)).toEqual(apdu);
    // 1027 bytes with LLC → 9 segments: a burst of 7, RR, then 2.
    expect(loop.trace.slice(0, 11)).toEqual(['C>I0/0S', 'C>I1/0S', 'C>I2/0S', 'C>I3/0S', 'C>I4/0S', 'C>I5/0S', 'C>I6/0PS', 'M>RR7P', 'C>I7/0S', 'C>I0/0P', 'M>I0/1S']);
    expect(loop.trace.filter((t) => t.includes('P'))).toEqual(['C>I6/0PS', 'M>RR7P', 'C>I0/0P', 'M>I6/1PS', 'C>RR7P', 'M>I0/1P']);
    expect(loop.link.stats.retransmissions).toBe(0);
  });

  it('queues a second APDU until the first is answered', () => {
    const loop = connected();
    loop.link.sendApdu(Uint8Array.of(1));
    loop.link.sendApdu(Uint8Array.of(2));
    loop.run(100);
    expect(loop.events.filter((e) => e.type === 'apdu')).toEqual([
      { type: 'apdu', apdu: Uint8Array.of(1) },
      { type: 'apdu', apdu: Uint8Array.of(2) },
    ]);
  });

  it('recovers a lost I-frame from the client (timeout, RR poll, retransmission)', () => {
    const loop = connected();
    loop.up = (f, n) => (n === 0 ? 'drop' : 'pass');
    expect(loop.request(Uint8Array.of(9, 9))).toEqual(Uint8Array.of(9, 9));
    expect(loop.trace).toEqual(['C>xI0/0P', 'C>RR0P', 'M>RR0P', 'C>I0/0P', 'M>I0/1P']);
    expect(loop.link.stats).toMatchObject({ timeouts: 1, retransmissions: 1 });
  });

  it('counts every frame sent again (stats.retried) and tells onRetried', () => {
    const told: number[] = [];
    const loop = connected({ link: { onRetried: (n) => told.push(n) } });
    loop.up = (f, n) => (n === 0 ? 'drop' : 'pass');
    loop.request(Uint8Array.of(9, 9));
    // the RR poll after the timeout, then the I-frame the meter's N(R) says it lacks
    expect(loop.link.stats.retried).toBe(2);
    expect(told).toEqual([1, 1]);
    const snrm = new HdlcLoop({ link: { retries: 2, onRetried: (n) => told.push(n) } });
    snrm.up = () => 'drop';
    snrm.connect(10_000);
    expect(snrm.link.stats.retried).toBe(2); // two repeated SNRMs; the third timeout gives up
    const clean = connected();
    clean.request(Uint8Array.of(1));
    expect(clean.link.stats.retried).toBe(0);
  });

  it('recovers a lost RR from the client during a segmented answer', () => {
    const loop = connected({ handler: () => bytes(300) });
    loop.up = (f, n) => (f.control.kind === 'RR' && n === 1 ? 'drop' : 'pass');
    expect(loop.request(Uint8Array.of(1))).toEqual(bytes(300));
    expect(loop.trace).toEqual(['C>I0/0P', 'M>I0/1PS', 'C>xRR1P', 'C>RR1P', 'M>I1/1PS', 'C>RR2P', 'M>I2/1P']);
  });

  it('recovers a lost answer from the meter (poll, meter repeats)', () => {
    const loop = connected();
    loop.down = (f, n) => (n === 0 ? 'drop' : 'pass');
    expect(loop.request(Uint8Array.of(5))).toEqual(Uint8Array.of(5));
    expect(loop.trace).toEqual(['C>I0/0P', 'M>xI0/1P', 'C>RR0P', 'M>I0/1P']);
  });

  it('ignores a duplicated frame from the meter', () => {
    const loop = connected({ handler: () => bytes(300) });
    loop.down = (f, n) => (n === 1 ? 'duplicate' : 'pass');
    expect(loop.request(Uint8Array.of(1))).toEqual(bytes(300));
    expect(loop.events.filter((e) => e.type === 'apdu')).toHaveLength(1);
  });

  it('recovers a frame lost inside a window of 7 (go-back-N from N(R))', () => {
    const loop = connected({ meter: { limits: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 7, windowRx: 7 } }, handler: () => bytes(1000, 7) });
    loop.down = (f, n) => (n === 2 ? 'drop' : 'pass');
    loop.up = (f, n) => (n === 3 ? 'drop' : 'pass');
    expect(loop.request(bytes(1000))).toEqual(bytes(1000, 7));
    expect(loop.link.stats.retransmissions).toBeGreaterThan(0);
  });

  it('recovers from corrupted frames (bad FCS) both ways', () => {
    const loop = connected({ handler: () => bytes(500) });
    loop.up = (f, n) => (n === 1 ? 'corrupt' : 'pass');
    loop.down = (f, n) => (n === 2 ? 'corrupt' : 'pass');
    expect(loop.request(bytes(400))).toEqual(bytes(500));
    expect(loop.link.stats.badFrames).toBe(1);
  });

  it('handles frames arriving byte by byte', () => {
    const loop = connected({ handler: () => bytes(300) });
    loop.down = () => 'split';
    expect(loop.request(bytes(10))).toEqual(bytes(300));
  });

  it('polls a busy meter (RNR) until the answer is ready', () => {
    const loop = connected({ handler: () => undefined, link: { busyPollMs: 200 } });
    loop.link.sendApdu(Uint8Array.of(1));
    loop.run(1300);
    // No answer within the response timeout (1000 ms): poll; RNR; poll again after 200 ms.
    expect(loop.trace).toEqual(['C>I0/0P', 'C>RR0P', 'M>RNR1P', 'C>RR0P', 'M>RNR1P']);
    loop.meter.sendApdu(Uint8Array.of(2));
    loop.run(500);
    expect(loop.trace.slice(5)).toEqual(['C>RR0P', 'M>I0/1P']);
    expect(loop.events.at(-1)).toEqual({ type: 'apdu', apdu: Uint8Array.of(2) });
  });

  it('fails with LinkRetriesExhausted when the meter goes silent', () => {
    const loop = connected({ link: { retries: 3 } });
    loop.down = () => 'drop';
    const t0 = loop.clock.now();
    loop.request(Uint8Array.of(1));
    expect(loop.events.map((e) => e.type)).toEqual(['connected', 'error', 'disconnected']);
    expect(loop.events[1]).toMatchObject({ error: { code: ErrorCode.LinkRetriesExhausted } });
    expect(loop.clock.now() - t0).toBeGreaterThanOrEqual(4000);
    expect(loop.trace.filter((t) => t.startsWith('C>'))).toHaveLength(4);
    expect(loop.clock.pending).toBe(0);
  });

  it('refuses sendApdu when not connected', () => {
    const loop = new HdlcLoop();
    expect(() => loop.link.sendApdu(Uint8Array.of(1))).toThrow(expect.objectContaining({ code: ErrorCode.LinkDisconnected }));
  });
});

describe('HdlcClientLink disconnect and faults', () => {
  it('DISC → UA → disconnected', () => {
    const loop = connected();
    loop.link.disconnect();
    loop.pump();
    expect(loop.trace).toEqual(['C>DISC', 'M>UA']);
    expect(loop.events.at(-1)).toEqual({ type: 'disconnected', reason: 'local' });
    expect(loop.meterEvents.at(-1)).toMatchObject({ type: 'disconnected', reason: 'disc' });
  });

  it('DISC to a meter that is not connected → DM → disconnected', () => {
    const loop = connected();
    loop.meter.receive(encodeFrame({ dest: serverAddress(1, 17), src: clientAddress(16), control: { kind: 'DISC', pf: true }, segmented: false, info: new Uint8Array(0) }));
    while (loop.meter.takeOutput()) {
      /* drop the UA */
    }
    loop.link.disconnect();
    loop.pump();
    expect(loop.trace).toEqual(['C>DISC', 'M>DM']);
    expect(loop.events.at(-1)).toEqual({ type: 'disconnected', reason: 'local' });
  });

  it('a DM while connected is an error and a disconnection', () => {
    const loop = connected();
    loop.meter.receive(encodeFrame({ dest: serverAddress(1, 17), src: clientAddress(16), control: { kind: 'DISC', pf: true }, segmented: false, info: new Uint8Array(0) }));
    while (loop.meter.takeOutput()) {
      /* drop the UA */
    }
    loop.request(Uint8Array.of(1));
    expect(loop.trace).toEqual(['C>I0/0P', 'M>DM']);
    expect(loop.events.slice(-2)).toEqual([
      expect.objectContaining({ type: 'error', error: expect.objectContaining({ code: ErrorCode.LinkDisconnected }) }),
      { type: 'disconnected', reason: 'remote' },
    ]);
  });

  it('a FRMR (I-frame too long for the meter) disconnects both sides', () => {
    const loop = new HdlcLoop({ meter: { limits: { maxInfoRx: 64 } } });
    loop.connect();
    // Pretend the client was granted more than the meter accepts.
    (loop.link as unknown as { negotiated: object }).negotiated = { ...loop.link.params, maxInfoTx: 128 };
    loop.request(bytes(100));
    expect(loop.trace.slice(-1)).toEqual(['M>FRMR']);
    expect(loop.events.at(-1)).toEqual({ type: 'disconnected', reason: 'remote' });
    expect(loop.meter.connected).toBe(false);
  });

  it('disconnects after the inactivity timeout', () => {
    const loop = connected({ link: { inactivityTimeoutMs: 5000 } });
    loop.run(4900);
    expect(loop.link.state).toBe('connected');
    loop.run(200);
    expect(loop.events.at(-1)).toEqual({ type: 'disconnected', reason: 'inactivity' });
  });
});

describe('HdlcClientLink byte stream handling', () => {
  const server = serverAddress(1);
  const UA = fromHex('7E A0 1E 21 03 73 C3 7A 81 80 12 05 01 80 06 01 80 07 04 00 00 00 01 08 04 00 00 00 01 53 3B 7E');

  function link(clock = new FakeClock()): { l: HdlcClientLink; clock: FakeClock; events: () => LinkEvent[] } {
    const l = new HdlcClientLink({ client: 16, server, clock, responseTimeoutMs: 1000 });
    return {
      l,
      clock,
      events: () => {
        const out: LinkEvent[] = [];
        for (let e = l.takeEvent(); e; e = l.takeEvent()) out.push(e);
        return out;
      },
    };
  }

  it('accepts the reference UA split into chunks, with garbage before it', () => {
    const { l, events } = link();
    l.connect();
    expect(toHex(l.takeOutput()!.subarray(0, 6))).toBe('7EA020032193');
    l.receive(fromHex('00 13 37'));
    for (let i = 0; i < UA.length; i += 5) l.receive(UA.subarray(i, i + 5));
    expect(events()).toEqual([{ type: 'connected', params: DEFAULT_HDLC_PARAMETERS }]);
    expect(l.stats.garbageBytes).toBe(3);
  });

  it('ignores frames for other meters and other clients on the line', () => {
    const { l, events } = link();
    l.connect();
    const other = encodeFrame({ ...decodeFrame(UA), src: serverAddress(1, 5) });
    const otherClient = encodeFrame({ ...decodeFrame(UA), dest: clientAddress(1) });
    l.receive(concatBytes([other, otherClient]));
    expect(events()).toEqual([]);
    expect(l.stats.ignored).toBe(2);
    l.receive(UA);
    expect(events()).toHaveLength(1);
  });

  it('drops a partial frame after the inter-frame timeout', () => {
    const { l, clock, events } = link();
    l.connect();
    l.receive(UA.subarray(0, 12));
    clock.advance(600);
    l.receive(UA.subarray(12));
    expect(events()).toEqual([]);
    l.receive(UA);
    expect(events()).toHaveLength(1);
  });

  it('calls notify from timers', () => {
    const clock = new FakeClock();
    const notify = jest.fn();
    const l = new HdlcClientLink({ client: 16, server, clock, responseTimeoutMs: 1000, notify });
    l.connect();
    expect(notify).toHaveBeenCalledTimes(1);
    l.takeOutput();
    clock.advance(1000);
    expect(notify).toHaveBeenCalledTimes(2);
    expect(decodeFrame(l.takeOutput()!).control.kind).toBe('SNRM');
  });
});

describe('HdlcClientLink under random faults (property)', () => {
  it('delivers exactly the APDU sent or fails with a typed error', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.constantFrom(1, 3, 7),
        fc.array(fc.constantFrom('pass', 'pass', 'pass', 'pass', 'drop', 'corrupt', 'duplicate', 'split'), { minLength: 40, maxLength: 40 }),
        (reqLen, respLen, window, faults) => {
          const loop = new HdlcLoop({
            link: { retries: 6 },
            meter: { limits: { maxInfoTx: 200, maxInfoRx: 200, windowTx: window, windowRx: window } },
            handler: () => bytes(respLen, 3),
          });
          const pick = (n: number) => (n < 3 ? 'pass' : faults[n % faults.length]!);
          loop.up = (f, n) => pick(n);
          loop.down = (f, n) => pick(n + 17);
          loop.connect(60_000);
          if (loop.link.state !== 'connected') {
            expect(loop.events.some((e) => e.type === 'error')).toBe(true);
            return;
          }
          const answer = loop.request(bytes(reqLen), 600_000);
          if (answer !== undefined) {
            expect(answer).toEqual(bytes(respLen, 3));
            const got = loop.meterEvents.find((e) => e.type === 'apdu');
            expect(got?.type === 'apdu' && got.apdu).toEqual(bytes(reqLen));
          } else {
            const err = loop.events.find((e) => e.type === 'error');
            expect(err?.type === 'error' && err.error.code).toBe(ErrorCode.LinkRetriesExhausted);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
