/**
 * Wrapper stream splitter for TCP: turns arbitrary chunks into wrapper frames. A frame may
 * be split over chunks or several frames may share one chunk. The header is checked as soon
 * as its 8 bytes are in, so the buffer never grows beyond 8 + maxApduLength bytes.
 * A bad header (version != 1, or a length over the limit) yields one error item and the
 * splitter resynchronises on the next `00 01` in the stream.
 */
import { DcuError, ErrorCode, isDcuError } from '../common/errors';
import { concatBytes } from '../common/hex';
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
}

const EMPTY = new Uint8Array(0);

export class WrapperSplitter {
  private buf: Uint8Array = EMPTY;
  /** Stream offset of buf[0], for error messages. */
  private streamOffset = 0;
  private resyncing = false;
  private readonly maxApduLength: number;

  constructor(options: WrapperSplitterOptions = {}) {
    this.maxApduLength = Math.min(options.maxApduLength ?? WRAPPER_MAX_APDU_LENGTH, WRAPPER_MAX_APDU_LENGTH);
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.buf.length;
  }

  reset(): void {
    this.streamOffset += this.buf.length;
    this.buf = EMPTY;
    this.resyncing = false;
  }

  push(chunk: Uint8Array): WrapperStreamItem[] {
    const items: WrapperStreamItem[] = [];
    this.buf = this.buf.length === 0 ? chunk.slice() : concatBytes([this.buf, chunk]);
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
        const h = decodeWrapperHeader(this.buf, 0, this.maxApduLength);
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
      if (this.buf.length < total) break;
      const apdu = this.buf.slice(WRAPPER_HEADER_LENGTH, total);
      this.consume(total);
      this.resyncing = false;
      items.push({ type: 'frame', frame: { source, destination, apdu } });
    }
    return items;
  }

  private consume(n: number): void {
    this.buf = this.buf.subarray(n);
    this.streamOffset += n;
  }

  /** Drops bytes from `from` on until the buffer starts with a possible header (`00 01` or a trailing `00`). */
  private dropUntilCandidate(from: number): void {
    let i = from;
    for (; i < this.buf.length; i++) {
      if (this.buf[i] !== 0x00) continue;
      if (i + 1 >= this.buf.length || this.buf[i + 1] === 0x01) break;
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
