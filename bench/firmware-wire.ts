/**
 * Where the bytes of a firmware campaign go on an HDLC line, for the firmware bench: taps the
 * daemon's end of the line (both directions), splits the bytes into HDLC frames, puts
 * segmented I-frames back together into APDUs and sorts every byte into one bucket:
 *   framing      I-frame flags, format, addresses, control, HCS, FCS, and the LLC header
 *   rr           receive-ready (and RNR) frames: the acknowledgements of a segmented APDU
 *   link         SNRM/UA/DISC/DM: link set-up and close
 *   association  AARQ/AARE, release RLRQ/RLRE (the APDUs)
 *   block        image_block_transfer requests (the APDU: xDLMS + ciphering header + payload)
 *   blockAnswer  the meter's answers to them
 *   other        every other request and answer: identity and status reads, initiate, the
 *                transferred-blocks bits, verify, activate, polls, the coherence reads
 *   garbage      bytes outside any frame
 * A request is an image block when its APDU is at least `blockSize` long (the last, short
 * block of an image whose size is not a multiple falls into `other`). Ciphered APDUs are
 * never opened: the image payload inside the block APDUs is what the daemon counted as sent.
 */
import { HdlcSplitter } from '../protocol/hdlc/splitter';
import type { ByteTransport } from '../protocol/transport/types';

export const BUCKETS = ['framing', 'rr', 'link', 'association', 'block', 'blockAnswer', 'other', 'garbage'] as const;
export type Bucket = (typeof BUCKETS)[number];

const LLC = 3;

export class WireTally {
  readonly bytes: Record<Bucket, number> = { framing: 0, rr: 0, link: 0, association: 0, block: 0, blockAnswer: 0, other: 0, garbage: 0 };
  /** Block requests seen. */
  blocks = 0;
  private readonly split = { out: new HdlcSplitter(), in: new HdlcSplitter() };
  private readonly apdu: { out: number[]; in: number[] } = { out: [], in: [] };
  private lastRequest: Bucket = 'other';

  constructor(private readonly blockSize: number) {}

  get total(): number {
    return BUCKETS.reduce((n, b) => n + this.bytes[b], 0);
  }

  /** The transport with every byte written to it and received from it tallied. */
  tap(t: ByteTransport): ByteTransport {
    return {
      get description() {
        return t.description;
      },
      get isOpen() {
        return t.isOpen;
      },
      open: () => t.open(),
      write: (bytes) => {
        this.push('out', bytes);
        return t.write(bytes);
      },
      close: () => t.close(),
      onData: (listener) =>
        t.onData((chunk) => {
          this.push('in', chunk);
          listener(chunk);
        }),
      onClose: (listener) => t.onClose(listener),
    };
  }

  private push(dir: 'out' | 'in', chunk: Uint8Array): void {
    for (const ev of this.split[dir].push(chunk)) {
      if (ev.type === 'garbage') {
        this.bytes.garbage += ev.bytes.length;
        continue;
      }
      if (ev.type === 'error') {
        this.bytes.garbage += ev.raw.length;
        continue;
      }
      const f = ev.frame;
      const kind = f.control.kind;
      if (kind === 'RR' || kind === 'RNR') {
        this.bytes.rr += ev.raw.length;
        continue;
      }
      if (kind !== 'I') {
        this.bytes.link += ev.raw.length;
        continue;
      }
      this.bytes.framing += ev.raw.length - f.info.length;
      const buf = this.apdu[dir];
      for (const b of f.info) buf.push(b);
      if (f.segmented) continue;
      this.apdu[dir] = [];
      this.bytes.framing += Math.min(LLC, buf.length);
      this.apdu1(dir, buf.length - Math.min(LLC, buf.length), buf[LLC]);
    }
  }

  private apdu1(dir: 'out' | 'in', length: number, tag: number | undefined): void {
    let bucket: Bucket;
    if (tag === 0x60 || tag === 0x61 || tag === 0x62 || tag === 0x63) bucket = 'association';
    else if (dir === 'out') bucket = length >= this.blockSize ? 'block' : 'other';
    else bucket = this.lastRequest === 'block' ? 'blockAnswer' : 'other';
    if (dir === 'out') {
      this.lastRequest = bucket;
      if (bucket === 'block') this.blocks++;
    }
    this.bytes[bucket] += length;
  }
}
