import fc from 'fast-check';
import { ErrorCode } from '../../../protocol/common/errors';
import { concatBytes, fromHex, toHex } from '../../../protocol/common/hex';
import { encodeWrapper } from '../../../protocol/wrapper/codec';
import { WrapperSplitter, type WrapperStreamItem } from '../../../protocol/wrapper/splitter';

const A = encodeWrapper({ source: 16, destination: 1, apdu: fromHex('C001C100080000010000FF0200') });
const B = encodeWrapper({ source: 1, destination: 16, apdu: fromHex('C401C1000906') });
const EMPTY = encodeWrapper({ source: 1, destination: 16, apdu: new Uint8Array(0) });

function apdus(items: WrapperStreamItem[]): string[] {
  return items.map((i) => (i.type === 'frame' ? toHex(i.frame.apdu) : `error ${i.error.code}`));
}

describe('WrapperSplitter', () => {
  it('returns one frame from one chunk', () => {
    expect(apdus(new WrapperSplitter().push(A))).toEqual(['C001C100080000010000FF0200']);
  });

  it('returns two frames (and an empty APDU) from one chunk', () => {
    const s = new WrapperSplitter();
    expect(apdus(s.push(concatBytes([A, EMPTY, B])))).toEqual(['C001C100080000010000FF0200', '', 'C401C1000906']);
    expect(s.buffered).toBe(0);
  });

  it('reassembles a frame split byte by byte', () => {
    const s = new WrapperSplitter();
    const out: WrapperStreamItem[] = [];
    for (const b of concatBytes([A, B])) out.push(...s.push(Uint8Array.of(b)));
    expect(apdus(out)).toEqual(['C001C100080000010000FF0200', 'C401C1000906']);
  });

  it('reports a bad version once and resyncs on the next header', () => {
    const s = new WrapperSplitter();
    const items = s.push(concatBytes([fromHex('0007AABBCCDD0000FFEE'), A]));
    expect(items).toHaveLength(2);
    const [err, frame] = items;
    expect(err?.type).toBe('error');
    if (err?.type === 'error') {
      expect(err.error.code).toBe(ErrorCode.FramingBadFormat);
      expect(err.error.message).toContain('stream byte 0');
    }
    expect(frame?.type === 'frame' && toHex(frame.frame.apdu)).toBe('C001C100080000010000FF0200');
  });

  it('bounds the length: an over-long frame is an error, not a buffer', () => {
    const s = new WrapperSplitter({ maxApduLength: 16 });
    const items = s.push(concatBytes([fromHex('0001010100100100'), B]));
    expect(apdus(items)).toEqual([`error ${ErrorCode.FramingTooLong}`, 'C401C1000906']);
  });

  it('keeps a partial header across chunks while resyncing', () => {
    const s = new WrapperSplitter();
    expect(apdus(s.push(fromHex('FFFFFFFFFFFFFFFF00')))).toEqual([`error ${ErrorCode.FramingBadFormat}`]);
    expect(s.buffered).toBe(1);
    expect(apdus(s.push(A.subarray(1)))).toEqual(['C001C100080000010000FF0200']);
  });

  it('survives any chunking of a valid stream (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 10 }),
        (payloads, cuts) => {
          const stream = concatBytes(payloads.map((apdu) => encodeWrapper({ source: 1, destination: 16, apdu })));
          const s = new WrapperSplitter();
          const got: Uint8Array[] = [];
          let at = 0;
          let k = 0;
          while (at < stream.length) {
            const n = cuts[k++ % cuts.length] ?? 1;
            for (const i of s.push(stream.subarray(at, at + n))) if (i.type === 'frame') got.push(i.frame.apdu);
            at += n;
          }
          expect(got.map((g) => toHex(g))).toEqual(payloads.map((p) => toHex(p)));
        },
      ),
    );
  });

  it('with expectedPorts, counts as progress only frames between those ports (garbage that looks like a header does not)', () => {
    const s = new WrapperSplitter({ expectedPorts: { source: 1, destination: 16 } });
    // a plausible header between other ports, its body on its way: read past, no progress
    s.push(fromHex('0001 1234 5678 0010 AABBCC'));
    expect(s.progress).toBe(0);
    s.push(new Uint8Array(13)); // the rest of it: a whole frame, between other ports
    expect(s.progress).toBe(0);
    // a frame from the meter to us, on its way and then whole: progress as before
    const ours = encodeWrapper({ source: 1, destination: 16, apdu: Uint8Array.of(1, 2, 3, 4) });
    s.push(ours.subarray(0, 10));
    expect(s.progress).toBe(10);
    expect(s.push(ours.subarray(10)).map((i) => i.type)).toEqual(['frame']);
    expect(s.progress).toBe(11);
  });

  it('never throws and never holds more than one frame on random input (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 10 }), (chunks) => {
        const s = new WrapperSplitter({ maxApduLength: 64 });
        for (const c of chunks) {
          for (const item of s.push(c)) if (item.type === 'error') expect(item.error.name).toBe('DcuError');
          expect(s.buffered).toBeLessThan(8 + 64);
        }
      }),
    );
  });
});
