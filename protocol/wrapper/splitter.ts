/**
 * Wrapper stream splitter for TCP: turns arbitrary chunks into wrapper frames. A frame may
 * be split over chunks or several frames may share one chunk. The header is checked as soon
 * as its 8 bytes are in, so the buffer never grows beyond 8 + maxApduLength bytes.
 * A bad header (version != 1, or a length over the limit) yields one error item and the
 * splitter resynchronises on the next `00 01` in the stream.
 */
import { DcuError, ErrorCode, isDcuError } from '../common/errors';
import {
  WRAPPER_HEADER_LENGTH,
  WRAPPER_MAX_APDU_LENGTH,
  decodeWrapperHeader,
  type WrapperFrame,
} from './codec';

export type WrapperStreamItem =
  | { readonly type: 'frame'; readonly frame: WrapperFrame }
  | { readonly type: 'error'; readonly error: DcuError };

export interface WrapperSplitterOptions {
  /** Largest APDU accepted (default 65535, the u16 limit). */
  readonly maxApduLength?: number;
  /**
   * The ports the frames we wait for carry (a client link: the meter's wPort → ours). When
   * set, only such frames count as progress: garbage that happens to hold `00 01` and a
   * plausible length is read past as usual, but it no longer keeps a watchdog alive.
   */
  readonly expectedPorts?: { readonly source: number; readonly destination: number };
}

/**
 * Received bytes not consumed yet: one growable buffer with a read and a write offset, so a
 * stream fed one byte at a time costs linear time (no re-concatenation per chunk).
 */
class ByteQueue {
  private store = new Uint8Array(256);
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  /** The unconsumed bytes (a view, valid until the next append). */
  view(): Uint8Array {
    return this.store.subarray(this.head, this.tail);
  }

  at(i: number): number | undefined {
    return i < this.length ? this.store[this.head + i] : undefined;
  }

  append(chunk: Uint8Array): void {
    if (this.tail + chunk.length > this.store.length) {
      const live = this.length;
      if (live + chunk.length <= this.store.length / 2) {
        this.store.copyWithin(0, this.head, this.tail); // room enough once compacted
      } else {
        const grown = new Uint8Array(Math.max(this.store.length * 2, live + chunk.length));
        grown.set(this.view());
        this.store = grown;
      }
      this.head = 0;
      this.tail = live;
    }
    this.store.set(chunk, this.tail);
    this.tail += chunk.length;
  }

  consume(n: number): void {
    this.head += n;
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  clear(): void {
    this.head = this.tail = 0;
    if (this.store.length > 4096) this.store = new Uint8Array(256); // give a big frame's buffer back
  }
}

export class WrapperSplitter {
  private readonly buf = new ByteQueue();
  /** Stream offset of the first unconsumed byte, for error messages. */
  private streamOffset = 0;
  private resyncing = false;
  /** See progress. */
  private moved = 0;
  /** Bytes of the frame on its way already counted in `moved`. */
  private partialSeen = 0;
  private readonly maxApduLength: number;
  private readonly expectedPorts: WrapperSplitterOptions['expectedPorts'];

  constructor(options: WrapperSplitterOptions = {}) {
    this.maxApduLength = Math.min(options.maxApduLength ?? WRAPPER_MAX_APDU_LENGTH, WRAPPER_MAX_APDU_LENGTH);
    this.expectedPorts = options.expectedPorts;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.buf.length;
  }

  /**
   * Grows by the bytes of a frame on its way (valid header, body still coming) and by 1 per
   * complete frame; never decreases. Garbage and bad headers do not count: a watchdog
   * restarted on this measures progress, not noise, and a whole frame earns no more than one
   * step (the layer above judges whether its APDU was worth anything). With expectedPorts,
   * frames between other ports do not count either (random bytes look like a header every
   * 64 KiB or so, and their "body" would otherwise count byte by byte).
   */
  get progress(): number {
    return this.moved;
  }

  reset(): void {
    this.partialSeen = 0;
    this.streamOffset += this.buf.length;
    this.buf.clear();
    this.resyncing = false;
  }

  push(chunk: Uint8Array): WrapperStreamItem[] {
    const items: WrapperStreamItem[] = [];
    this.buf.append(chunk);
    for (;;) {
      if (this.buf.length < WRAPPER_HEADER_LENGTH) {
        // While resyncing, a leading byte that cannot start `00 01` is dropped at once.
        if (this.resyncing) this.dropUntilCandidate(0);
        break;
      }
      let length: number;
      let source: number;
      let destination: number;
      try {
        const h = decodeWrapperHeader(this.buf.view(), 0, this.maxApduLength);
        ({ length, source, destination } = h);
      } catch (e) {
        const error = isDcuError(e) ? e : new DcuError(ErrorCode.FramingBadFormat, String(e));
        if (!this.resyncing) {
          items.push({ type: 'error', error: this.atStream(error) });
          this.resyncing = true;
        }
        this.dropUntilCandidate(1);
        continue;
      }
      const total = WRAPPER_HEADER_LENGTH + length;
      const counts = this.expectedPorts === undefined || (source === this.expectedPorts.source && destination === this.expectedPorts.destination);
      if (this.buf.length < total) {
        if (counts) this.moved += Math.max(0, this.buf.length - this.partialSeen);
        this.partialSeen = this.buf.length;
        break;
      }
      const apdu = this.buf.view().slice(WRAPPER_HEADER_LENGTH, total);
      this.consume(total);
      if (counts) this.moved += 1;
      this.partialSeen = 0;
      this.resyncing = false;
      items.push({ type: 'frame', frame: { source, destination, apdu } });
    }
    return items;
  }

  private consume(n: number): void {
    this.buf.consume(n);
    this.streamOffset += n;
  }

  /** Drops bytes from `from` on until the buffer starts with a possible header (`00 01` or a trailing `00`). */
  private dropUntilCandidate(from: number): void {
    let i = from;
    const n = this.buf.length;
    for (; i < n; i++) {
      if (this.buf.at(i) !== 0x00) continue;
      if (i + 1 >= n || this.buf.at(i + 1) === 0x01) break;
    }
    this.consume(i);
  }

  private atStream(error: DcuError): DcuError {
    return new DcuError(error.code, `${error.message} (stream byte ${this.streamOffset})`, {
      cause: error,
      context: { ...error.context, streamOffset: this.streamOffset },
    });
  }
}
