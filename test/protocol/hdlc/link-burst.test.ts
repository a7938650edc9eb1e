/**
 * Several APDUs per HDLC transmission (GBT streaming over HDLC): the client holds APDUs back
 * with expectAnswer: false and sends them in one burst, P on the last frame; the meter
 * answers with several APDUs within its window, F on the last frame, the rest after an RR.
 */
import fc from 'fast-check';
import { HdlcLoop, type LoopOptions } from '../../helpers/hdlc-loop';
import { ErrorCode } from '../../../protocol/common/errors';
import type { LinkEvent } from '../../../protocol/hdlc/link';

const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const limits = (maxInfo: number, window: number) => ({ maxInfoTx: maxInfo, maxInfoRx: maxInfo, windowTx: window, windowRx: window });

function connected(options: LoopOptions = {}): HdlcLoop {
  const loop = new HdlcLoop(options);
  loop.connect();
  expect(loop.link.state).toBe('connected');
  loop.mark();
  return loop;
}

const apdusOf = (events: readonly LinkEvent[]): Uint8Array[] => events.flatMap((e) => (e.type === 'apdu' ? [e.apdu] : []));
const meterApdus = (loop: HdlcLoop): Uint8Array[] => loop.meterEvents.flatMap((e) => (e.type === 'apdu' ? [e.apdu] : []));

/** A meter that answers only the APDU starting with 0xFF (the last of a burst), with `answers`. */
const lastGetsAnswers =
  (answers: readonly Uint8Array[]) =>
  (apdu: Uint8Array): readonly Uint8Array[] =>
    apdu[0] === 0xff ? answers : [];

/** Sends `apdus` as one burst (all but the last held back) and runs until the link is quiet. */
function burst(loop: HdlcLoop, apdus: readonly Uint8Array[], ms = 60_000): void {
  apdus.forEach((a, i) => {
    loop.link.sendApdu(a, { expectAnswer: i === apdus.length - 1 });
  });
  loop.until(() => !loop.link.busy && loop.clock.pending <= 1, ms);
}

describe('several APDUs in one transmission', () => {
  it('client → meter: three APDUs as consecutive I-frames, P only on the last', () => {
    const loop = connected({ meter: { limits: limits(128, 7) }, handler: lastGetsAnswers([Uint8Array.of(0x42)]) });
    loop.link.sendApdu(Uint8Array.of(1), { expectAnswer: false });
    loop.link.sendApdu(Uint8Array.of(2), { expectAnswer: false });
    loop.pump();
    expect(loop.trace).toEqual([]); // held back until the APDU that expects an answer
    loop.link.sendApdu(Uint8Array.of(0xff, 3));
    loop.pump();
    expect(loop.trace).toEqual(['C>I0/0', 'C>I1/0', 'C>I2/0P', 'M>I0/3P']);
    expect(meterApdus(loop)).toEqual([Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(0xff, 3)]);
    expect(apdusOf(loop.events)).toEqual([Uint8Array.of(0x42)]);
  });

  it('poll() sends APDUs held back', () => {
    const loop = connected({ meter: { limits: limits(128, 7) }, handler: () => [] });
    loop.link.sendApdu(Uint8Array.of(1), { expectAnswer: false });
    expect(loop.link.busy).toBe(true);
    expect(loop.link.poll()).toBe(true);
    loop.pump();
    // The meter had nothing to say to it: RR ends the exchange.
    expect(loop.trace).toEqual(['C>I0/0P', 'M>RR1P']);
    expect(loop.link.busy).toBe(false);
  });

  it('meter → client: three answers to one request, F only on the last', () => {
    const answers = [bytes(10, 1), bytes(20, 2), bytes(30, 3)];
    const loop = connected({ meter: { limits: limits(128, 7) }, handler: () => answers });
    loop.link.sendApdu(Uint8Array.of(1));
    loop.pump();
    expect(loop.trace).toEqual(['C>I0/0P', 'M>I0/1', 'M>I1/1', 'M>I2/1P']);
    expect(apdusOf(loop.events)).toEqual(answers);
    expect(loop.link.busy).toBe(false);
  });

  it('segmented APDUs mixed with short ones both ways', () => {
    const up = [bytes(300, 4), bytes(5, 5), Uint8Array.of(0xff, ...bytes(200, 6))];
    const down = [bytes(250, 7), bytes(3, 8), bytes(130, 9)];
    const loop = connected({ meter: { limits: limits(128, 7) }, handler: lastGetsAnswers(down) });
    burst(loop, up);
    expect(meterApdus(loop)).toEqual(up);
    expect(apdusOf(loop.events)).toEqual(down);
    // With the LLC: 303 → 3 frames, 8 → 1, 204 → 2 up; 253 → 2, 6 → 1, 133 → 2 down; one P/F each way.
    expect(loop.trace.filter((t) => t.startsWith('C>'))).toEqual(['C>I0/0S', 'C>I1/0S', 'C>I2/0', 'C>I3/0', 'C>I4/0S', 'C>I5/0P']);
    expect(loop.trace.filter((t) => t.startsWith('M>'))).toEqual(['M>I0/6S', 'M>I1/6', 'M>I2/6', 'M>I3/6S', 'M>I4/6P']);
  });
});

describe('window boundary inside a burst', () => {
  it('client burst longer than the window: P at the window, RR, then the rest', () => {
    const loop = connected({ meter: { limits: limits(128, 3) }, handler: lastGetsAnswers([Uint8Array.of(7)]) });
    burst(loop, [1, 2, 3, 4, 0xff].map((b) => Uint8Array.of(b)));
    expect(loop.trace).toEqual(['C>I0/0', 'C>I1/0', 'C>I2/0P', 'M>RR3P', 'C>I3/0', 'C>I4/0P', 'M>I0/5P']);
    expect(meterApdus(loop).map((a) => a[0])).toEqual([1, 2, 3, 4, 0xff]);
  });

  it('meter answer split mid-APDU at its window: the client asks for the rest with RR', () => {
    const answers = [bytes(200, 1), bytes(200, 2)];
    const loop = connected({ meter: { limits: limits(128, 3) }, handler: () => answers });
    loop.link.sendApdu(Uint8Array.of(1));
    loop.pump();
    // 203 bytes → 128 + 75 each: frames 0S 1 2S | 3.
    expect(loop.trace).toEqual(['C>I0/0P', 'M>I0/1S', 'M>I1/1', 'M>I2/1PS', 'C>RR3P', 'M>I3/1P']);
    expect(apdusOf(loop.events)).toEqual(answers);
  });

  it('meter answer split between APDUs at its window: poll() fetches the rest, the queue is kept', () => {
    const answers = [1, 2, 3, 4, 5].map((b) => Uint8Array.of(b));
    const loop = connected({ meter: { limits: limits(128, 3) }, handler: () => answers });
    loop.link.sendApdu(Uint8Array.of(1));
    loop.pump();
    expect(loop.trace).toEqual(['C>I0/0P', 'M>I0/1', 'M>I1/1', 'M>I2/1P']);
    expect(apdusOf(loop.events)).toHaveLength(3);
    expect(loop.link.busy).toBe(false);
    // Three sent and not acknowledged yet, two queued.
    expect(loop.meter.queuedFrames).toBe(5);
    // The upper layer still expects blocks.
    expect(loop.link.poll()).toBe(true);
    loop.pump();
    expect(loop.trace.slice(4)).toEqual(['C>RR3P', 'M>I3/1', 'M>I4/1P']);
    expect(apdusOf(loop.events)).toEqual(answers);
    // Nothing left: a further poll gets RR.
    expect(loop.link.poll()).toBe(true);
    loop.pump();
    expect(loop.trace.slice(7)).toEqual(['C>RR5P', 'M>RR1P']);
    expect(loop.meter.queuedFrames).toBe(0);
  });

  it('poll() does nothing while an exchange is in flight', () => {
    const loop = connected({ handler: () => undefined });
    loop.link.sendApdu(Uint8Array.of(1));
    expect(loop.link.poll()).toBe(false);
    loop.pump();
    expect(loop.trace).toEqual(['C>I0/0P']);
  });
});

describe('lost frames inside a burst', () => {
  it('a frame of the meter’s burst lost: RR from V(R), go-back-N, every APDU once and in order', () => {
    const answers = [1, 2, 3, 4].map((b) => bytes(20, b));
    const loop = connected({ meter: { limits: limits(128, 7) }, handler: () => answers });
    loop.down = (f, n) => (n === 1 ? 'drop' : 'pass');
    loop.link.sendApdu(Uint8Array.of(1));
    loop.pump();
    expect(loop.trace).toEqual(['C>I0/0P', 'M>I0/1', 'M>xI1/1', 'M>I2/1', 'M>I3/1P', 'C>RR1P', 'M>I1/1', 'M>I2/1', 'M>I3/1P']);
    expect(apdusOf(loop.events)).toEqual(answers);
    expect(loop.link.stats.retransmissions).toBe(0);
  });

  it('the frame with F lost: timeout, RR poll, the meter repeats from N(R)', () => {
    const answers = [1, 2, 3].map((b) => bytes(20, b));
    const loop = connected({ meter: { limits: limits(128, 7) }, handler: () => answers });
    loop.down = (f, n) => (n === 2 ? 'drop' : 'pass');
    loop.link.sendApdu(Uint8Array.of(1));
    loop.run(1500);
    expect(loop.trace).toEqual(['C>I0/0P', 'M>I0/1', 'M>I1/1', 'M>xI2/1P', 'C>RR2P', 'M>I2/1P']);
    expect(apdusOf(loop.events)).toEqual(answers);
    expect(loop.link.stats.timeouts).toBe(1);
  });

  it('a frame of the client’s burst lost: the meter’s N(R) brings the rest again', () => {
    const loop = connected({ meter: { limits: limits(128, 7) }, handler: lastGetsAnswers([Uint8Array.of(9)]) });
    loop.up = (f, n) => (n === 1 ? 'drop' : 'pass');
    burst(loop, [1, 2, 0xff].map((b) => Uint8Array.of(b)));
    expect(loop.trace).toEqual(['C>I0/0', 'C>xI1/0', 'C>I2/0P', 'M>RR1P', 'C>I1/0', 'C>I2/0P', 'M>I0/3P']);
    expect(meterApdus(loop).map((a) => a[0])).toEqual([1, 2, 0xff]);
    expect(apdusOf(loop.events)).toEqual([Uint8Array.of(9)]);
    expect(loop.link.stats.retransmissions).toBe(2);
  });
});

describe('bursts under random faults (property)', () => {
  it('every APDU arrives once and in order both ways, or the link fails with a typed error', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 0, maxLength: 8 }),
        fc.constantFrom(1, 3, 7),
        fc.array(fc.constantFrom('pass', 'pass', 'pass', 'pass', 'drop', 'corrupt', 'duplicate', 'split'), { minLength: 40, maxLength: 40 }),
        (upLens, downLens, window, faults) => {
          const up = upLens.map((n, i) => (i === upLens.length - 1 ? Uint8Array.of(0xff, ...bytes(n, i)) : Uint8Array.of(i, ...bytes(n, i))));
          const down = downLens.map((n, i) => bytes(n, 100 + i));
          const loop = new HdlcLoop({ link: { retries: 6 }, meter: { limits: limits(200, window) }, handler: lastGetsAnswers(down) });
          const pick = (n: number) => (n < 3 ? 'pass' : faults[n % faults.length]!);
          loop.up = (f, n) => pick(n);
          loop.down = (f, n) => pick(n + 17);
          loop.connect(60_000);
          if (loop.link.state !== 'connected') return;
          const linkUp = (): boolean => loop.link.state === 'connected'; // read afresh, not narrowed
          // No answer due: everything held back and handed over with poll().
          up.forEach((a, i) => {
            loop.link.sendApdu(a, { expectAnswer: down.length > 0 && i === up.length - 1 });
          });
          if (down.length === 0) loop.link.poll();
          // Like the GBT layer: poll while answers are still due.
          for (let round = 0; round < 50 && linkUp(); round++) {
            loop.until(() => !loop.link.busy && loop.clock.pending <= 1, 600_000);
            if (apdusOf(loop.events).length >= down.length) break;
            loop.link.poll();
          }
          if (linkUp()) {
            expect(meterApdus(loop)).toEqual(up);
            expect(apdusOf(loop.events)).toEqual(down);
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
