import { DcuError, ErrorCode, isDcuError } from '../common/errors';
import { checkCrc } from './fcs';
import { decodeFrame, HDLC_FLAG, headerLength, MIN_FRAME_LENGTH, type HdlcFrame } from './frame';
import { MAX_INFO_LENGTH } from './params';

/**
 * Byte stream → HDLC frames. Knows framing only (flags, length, HCS/FCS), nothing about
 * the link state. Never throws and never waits for more than one frame's worth of bytes:
 * anything that cannot start a valid frame is skipped up to the next 0x7E and reported.
 */
export type SplitterEvent =
  | { readonly type: 'frame'; readonly frame: HdlcFrame; readonly raw: Uint8Array }
  /** Bytes skipped while looking for a frame start (line noise, a partial frame). */
  | { readonly type: 'garbage'; readonly bytes: Uint8Array }
  /** A delimited frame that failed its checks (bad FCS, unknown control); it was skipped. */
  | { readonly type: 'error'; readonly error: DcuError; readonly raw: Uint8Array };

export interface SplitterOptions {
  /** Largest length field accepted (default: a 2030-byte info field plus a 4-byte server address). */
  readonly maxFrameLength?: number;
}

/** 2 format + 4 dest + 4 src + 1 control + 2 HCS + 2 FCS around the information field. */
const OVERHEAD = 15;

export class HdlcSplitter {
  private buf = new Uint8Array(4096);
  private start = 0;
  private end = 0;
  private readonly maxLength: number;
  /** buf[start] is a flag that closed a frame or ended a run of flags: not garbage. */
  private startIsDelimiter = false;

  constructor(options: SplitterOptions = {}) {
    this.maxLength = Math.min(0x7ff, options.maxFrameLength ?? MAX_INFO_LENGTH + OVERHEAD);
  }

  /** Bytes held back as the start of an incomplete frame. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** True when the buffer holds more than flags (a frame has started arriving). */
  get inFrame(): boolean {
    for (let i = this.start; i < this.end; i++) if (this.buf[i] !== HDLC_FLAG) return true;
    return false;
  }

  /** Drops buffered bytes (inter-frame timeout, line handed over). */
  reset(): void {
    this.start = 0;
    this.end = 0;
    this.startIsDelimiter = false;
  }

  /** Appends a chunk and returns every event it completes, in stream order. */
  push(chunk: Uint8Array): SplitterEvent[] {
    this.append(chunk);
    const events: SplitterEvent[] = [];
    let garbageFrom = -1;
    const flushGarbage = (to: number): void => {
      if (garbageFrom >= 0 && to > garbageFrom) {
        events.push({ type: 'garbage', bytes: this.buf.slice(garbageFrom, to) });
      }
      garbageFrom = -1;
    };
    const skip = (to: number): void => {
      if (garbageFrom < 0) garbageFrom = this.startIsDelimiter ? this.start + 1 : this.start;
      this.startIsDelimiter = false;
      this.start = to;
    };

    for (;;) {
      const b = this.buf;
      // Find the next flag; everything before it is garbage.
      let p = this.start;
      while (p < this.end && b[p] !== HDLC_FLAG) p++;
      if (p > this.start) skip(p);
      if (p >= this.end) break;
      // Collapse runs of flags (idle flags, closing flag followed by opening flag).
      while (p + 1 < this.end && b[p + 1] === HDLC_FLAG) p++;
      if (p > this.start) {
        flushGarbage(this.start);
        this.start = p;
        this.startIsDelimiter = true;
      }
      const verdict = this.tryFrame(p);
      if (verdict === 'need-more') break;
      if (verdict === 'garbage') {
        skip(p + 1);
        continue;
      }
      flushGarbage(p);
      // Keep the closing flag: it may be the opening flag of the next frame.
      const raw = b.slice(p, verdict + 1);
      this.start = verdict;
      this.startIsDelimiter = true;
      try {
        events.push({ type: 'frame', frame: decodeFrame(raw), raw });
      } catch (e) {
        const error = isDcuError(e) ? e : new DcuError(ErrorCode.Internal, String(e), { cause: e });
        events.push({ type: 'error', error, raw });
      }
    }
    flushGarbage(this.start);
    if (this.start === this.end) this.reset();
    return events;
  }

  /**
   * Looks at a candidate frame starting with the flag at p. Returns the index of its closing
   * flag, 'need-more' when it may still complete, or 'garbage' when it cannot be a frame.
   */
  private tryFrame(p: number): number | 'need-more' | 'garbage' {
    const b = this.buf;
    if (p + 3 > this.end) return 'need-more';
    const hi = b[p + 1] ?? 0;
    if ((hi & 0xf0) !== 0xa0) return 'garbage';
    const length = ((hi & 0x07) << 8) | (b[p + 2] ?? 0);
    if (length < MIN_FRAME_LENGTH || length > this.maxLength) return 'garbage';
    // Check the header early so a false start never holds back the frames behind it.
    const closing = p + 1 + length;
    const fcsAt = closing - 2;
    let header: number | undefined;
    try {
      header = headerLength(b, p + 1, Math.min(this.end, fcsAt));
    } catch {
      return 'garbage';
    }
    if (header === undefined) return fcsAt <= this.end ? 'garbage' : 'need-more';
    const infoStart = p + 1 + header;
    if (infoStart > fcsAt) return 'garbage';
    if (infoStart < fcsAt) {
      if (infoStart + 2 > fcsAt) return 'garbage';
      if (infoStart + 2 > this.end) return 'need-more';
      if (!checkCrc(b, p + 1, infoStart)) return 'garbage';
    }
    if (closing >= this.end) return 'need-more';
    if (b[closing] !== HDLC_FLAG) return 'garbage';
    return closing;
  }

  private append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const need = live + chunk.length;
      const next = need > this.buf.length ? new Uint8Array(Math.max(need, this.buf.length * 2)) : this.buf;
      if (next === this.buf) next.copyWithin(0, this.start, this.end);
      else next.set(this.buf.subarray(this.start, this.end), 0);
      this.buf = next;
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}
