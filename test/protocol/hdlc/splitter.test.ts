import fc from 'fast-check';
import { HdlcSplitter, type SplitterEvent } from '../../../protocol/hdlc/splitter';
import { clientAddress, serverAddress } from '../../../protocol/hdlc/address';
import { encodeFrame } from '../../../protocol/hdlc/frame';
import { ErrorCode } from '../../../protocol/common/errors';
import { concatBytes, fromHex, toHex } from '../../../protocol/common/hex';

const SNRM = fromHex('7E A0 07 03 21 93 0F 01 7E');
const UA = fromHex('7E A0 1E 21 03 73 C3 7A 81 80 12 05 01 80 06 01 80 07 04 00 00 00 01 08 04 00 00 00 01 53 3B 7E');
const RR = fromHex('7E A0 07 03 21 51 11 E4 7E');

function frames(events: SplitterEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'frame' ? [toHex(e.raw, ' ')] : []));
}

function kinds(events: SplitterEvent[]): string[] {
  return events.map((e) => e.type);
}

describe('HdlcSplitter', () => {
  it('returns one frame from one chunk', () => {
    const s = new HdlcSplitter();
    const ev = s.push(UA);
    expect(kinds(ev)).toEqual(['frame']);
    expect(ev[0]).toMatchObject({ type: 'frame', frame: { control: { kind: 'UA' } } });
  });

  it('returns several frames merged in one chunk, with and without shared flags', () => {
    const s = new HdlcSplitter();
    const shared = concatBytes([SNRM.subarray(0, -1), UA.subarray(0, -1), RR]);
    expect(frames(s.push(shared))).toEqual([SNRM, UA, RR].map((b) => toHex(b, ' ')));
    expect(frames(s.push(concatBytes([SNRM, UA, Uint8Array.of(0x7e, 0x7e), RR])))).toHaveLength(3);
  });

  it('assembles a frame split across chunks, byte by byte', () => {
    const s = new HdlcSplitter();
    const out: SplitterEvent[] = [];
    for (const b of UA) out.push(...s.push(Uint8Array.of(b)));
    expect(frames(out)).toEqual([toHex(UA, ' ')]);
    expect(s.buffered).toBe(1); // the closing flag, kept as a possible opening flag
    expect(s.inFrame).toBe(false);
  });

  it('skips garbage before, between and after frames and reports it', () => {
    const s = new HdlcSplitter();
    const ev = s.push(concatBytes([fromHex('00 FF 12'), SNRM, fromHex('55 AA 7E A0'), UA, fromHex('01 02')]));
    expect(frames(ev)).toEqual([toHex(SNRM, ' '), toHex(UA, ' ')]);
    const garbage = ev.flatMap((e) => (e.type === 'garbage' ? [toHex(e.bytes, ' ')] : []));
    expect(garbage).toEqual(['00 FF 12', '55 AA 7E A0', '01 02']);
    expect(s.buffered).toBe(0);
  });

  it('does not let a false start with a large length hold back the next frame (HCS check)', () => {
    const s = new HdlcSplitter();
    // 7E A7 FF claims 2047 bytes; its "header" fails the HCS, so UA is found at once.
    const ev = s.push(concatBytes([fromHex('7E A7 F0 03 21 10 00 00'), UA]));
    expect(frames(ev)).toEqual([toHex(UA, ' ')]);
  });

  it('reports a bad-FCS frame as an error and continues with the next', () => {
    const bad = UA.slice();
    bad[20] = bad[20]! ^ 0xff;
    const s = new HdlcSplitter();
    const ev = s.push(concatBytes([bad, RR]));
    expect(kinds(ev)).toEqual(['error', 'frame']);
    expect(ev[0]).toMatchObject({ type: 'error', error: { code: ErrorCode.FramingBadFcs } });
  });

  it('treats a length above the bound as garbage', () => {
    const s = new HdlcSplitter({ maxFrameLength: 64 });
    const big = encodeFrame({
      dest: clientAddress(16),
      src: serverAddress(1),
      control: { kind: 'I', ns: 0, nr: 0, pf: true },
      segmented: false,
      info: new Uint8Array(100),
    });
    const ev = s.push(concatBytes([big, RR]));
    expect(frames(ev)).toEqual([toHex(RR, ' ')]);
    expect(kinds(ev)).toContain('garbage');
  });

  it('reset drops a partial frame', () => {
    const s = new HdlcSplitter();
    s.push(UA.subarray(0, 10));
    expect(s.inFrame).toBe(true);
    s.reset();
    expect(frames(s.push(RR))).toEqual([toHex(RR, ' ')]);
  });

  it('never throws and keeps a bounded buffer on random and mutated streams (property)', () => {
    const valid = [SNRM, UA, RR];
    const arbChunk = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom(...valid),
      fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([f, at, v]) => {
        const b = f.slice();
        b[at % b.length] = v;
        return b;
      }),
    );
    fc.assert(
      fc.property(fc.array(arbChunk, { maxLength: 30 }), (chunks) => {
        const s = new HdlcSplitter();
        for (const c of chunks) {
          s.push(c);
          expect(s.buffered).toBeLessThanOrEqual(2050);
        }
        // Whatever came before, a clean frame after a flag is found.
        expect(frames(s.push(concatBytes([Uint8Array.of(0x7e), RR])))).toContain(toHex(RR, ' '));
      }),
      { numRuns: 500 },
    );
  });
});
