import fc from 'fast-check';
import { listVectorFiles, loadVectors, streamOf } from '../../helpers/vectors';
import { HdlcSplitter, type SplitterEvent } from '../../../protocol/hdlc/splitter';
import { decodeFrame, encodeFrame } from '../../../protocol/hdlc/frame';
import { concatBytes, toHex } from '../../../protocol/common/hex';
import { FakeClock } from '../../../protocol/common/clock';
import { HdlcClientLink } from '../../../protocol/hdlc/link';
import { HdlcSecondaryLink } from '../../../protocol/hdlc/secondary';
import { serverAddress } from '../../../protocol/hdlc/address';

const files = listVectorFiles();

describe('HDLC against the trace vectors', () => {
  it('finds the vector files', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  describe.each(files)('%s', (file) => {
    const records = loadVectors(file);

    it('decodes every frame; every TX frame re-encodes byte for byte', () => {
      expect(records.length).toBeGreaterThan(10);
      for (const r of records) {
        const f = decodeFrame(r.bytes);
        if (r.dir === 'TX') expect({ line: r.lineNo, hex: toHex(encodeFrame(f)) }).toEqual({ line: r.lineNo, hex: toHex(r.bytes) });
      }
    });

    it.each(['TX', 'RX'] as const)('splits the %s stream as one chunk and in random chunks', (dir) => {
      const expected = records.filter((r) => r.dir === dir).map((r) => toHex(r.bytes));
      const stream = streamOf(records, dir);
      const collect = (events: SplitterEvent[]): string[] =>
        events.map((e) => {
          if (e.type !== 'frame') throw new Error(`unexpected ${e.type}`);
          return toHex(e.raw);
        });
      expect(collect(new HdlcSplitter().push(stream))).toEqual(expected);
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 50 }), (sizes) => {
          const s = new HdlcSplitter();
          const out: string[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const n = sizes[i % sizes.length] ?? 1;
            out.push(...collect(s.push(stream.subarray(at, at + n))));
            at += n;
          }
          expect(out).toEqual(expected);
        }),
        { numRuns: 30 },
      );
    });
  });
});

describe('HdlcClientLink replays the client side of the trace vectors', () => {
  it.each(files)('%s: the link writes the same bytes as the reference client', (file) => {
    const records = loadVectors(file);
    const clock = new FakeClock();
    let link: HdlcClientLink | undefined;
    const apdus: string[] = [];
    records.forEach((r, i) => {
      const f = decodeFrame(r.bytes);
      if (r.dir === 'RX') {
        link!.receive(r.bytes);
        for (let e = link!.takeEvent(); e; e = link!.takeEvent()) {
          if (e.type === 'error') throw e.error;
          if (e.type === 'apdu') apdus.push(toHex(e.apdu));
        }
        return;
      }
      let out = link?.takeOutput();
      if (out === undefined) {
        if (f.control.kind === 'SNRM') {
          // The reference client sends an empty SNRM and asks for nothing: defaults.
          link = new HdlcClientLink({ client: f.src.logical, server: f.dest, clock, snrmParameters: false });
          link.connect();
        } else if (f.control.kind === 'DISC') {
          link!.disconnect();
        } else if (f.control.kind === 'I') {
          // A new request: gather its segments from the following TX frames.
          const parts = [f.info];
          for (let j = i + 1, seg = f.segmented; seg; j++) {
            const next = records[j]!;
            if (next.dir !== 'TX') continue;
            const nf = decodeFrame(next.bytes);
            parts.push(nf.info);
            seg = nf.segmented;
          }
          const payload = concatBytes(parts);
          expect(toHex(payload.subarray(0, 3))).toBe('E6E600');
          link!.sendApdu(payload.subarray(3));
        }
        out = link?.takeOutput();
      }
      expect({ line: r.lineNo, hex: out && toHex(out) }).toEqual({ line: r.lineNo, hex: toHex(r.bytes) });
    });
    expect(apdus.length).toBeGreaterThan(3);
    expect(link?.takeOutput()).toBeUndefined();
  });
});

describe('HdlcSecondaryLink replays the meter side of the trace vectors', () => {
  it.each(files)('%s: the meter link writes the same bytes as the reference meter', (file) => {
    const records = loadVectors(file);
    // The reference meter's quirks: 125-byte segments, parameters repeated in the UA to DISC.
    const meter = new HdlcSecondaryLink({ address: serverAddress(1), segmentSize: 125, uaParametersOnDisc: true });
    const answerAt = (i: number): Uint8Array => {
      // The reference meter's answer: the RX I-frames after record i, reassembled.
      const parts: Uint8Array[] = [];
      for (let j = i + 1, seg = true; seg; j++) {
        const r = records[j]!;
        if (r.dir !== 'RX') continue;
        const f = decodeFrame(r.bytes);
        if (f.control.kind !== 'I') continue;
        parts.push(f.info);
        seg = f.segmented;
      }
      return concatBytes(parts).subarray(3);
    };
    let requests = 0;
    records.forEach((r, i) => {
      if (r.dir === 'TX') {
        meter.receive(r.bytes);
        for (let e = meter.takeEvent(); e; e = meter.takeEvent()) {
          if (e.type === 'apdu') {
            requests++;
            meter.sendApdu(answerAt(i));
          }
        }
        return;
      }
      const out = meter.takeOutput();
      expect({ line: r.lineNo, hex: out && toHex(out) }).toEqual({ line: r.lineNo, hex: toHex(r.bytes) });
    });
    expect(requests).toBeGreaterThan(3);
    expect(meter.takeOutput()).toBeUndefined();
  });
});
