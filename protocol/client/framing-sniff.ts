/**
 * Recognises a meter that answers in the other framing, from the first bytes it sends before
 * any frame of ours was understood: an HDLC frame starts `7E A0..AF` (flag, frame format
 * type 3), a wrapper frame `00 01` (version 1) followed by the meter's wPort (its logical
 * device) and ours (the client address). Without this the client waits for its timeout and
 * the technician is sent to check cables; with it the association fails at once with
 * FramingMismatch naming the framing to use. Sans-IO: bytes in, a verdict out.
 */
import { DcuError, ErrorCode } from '../common/errors';
import type { Framing } from './options';

export class FramingSniffer {
  private head: number[] = [];
  private done = false;

  constructor(
    private readonly expected: Framing,
    private readonly clientAddress: number,
    private readonly serverLogical: number,
  ) {}

  /** The link understood a frame: the framing is right, stop looking. */
  settle(): void {
    this.done = true;
    this.head = [];
  }

  /** Looks at received bytes; returns a FramingMismatch error when they are the other framing. */
  push(chunk: Uint8Array): DcuError | undefined {
    if (this.done) return undefined;
    for (const b of chunk) {
      if (this.head.length >= 6) break;
      this.head.push(b);
    }
    const detected = this.expected === 'wrapper' ? this.looksHdlc() : this.looksWrapper();
    if (detected === undefined) return undefined;
    this.done = true;
    if (!detected) return undefined;
    const other: Framing = this.expected === 'wrapper' ? 'hdlc' : 'wrapper';
    const seen = this.head.map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
    return new DcuError(ErrorCode.FramingMismatch, `the meter answered with ${other === 'hdlc' ? 'HDLC frames' : 'wrapper frames'} (${seen} …) but this session uses the ${this.expected}: use --framing ${other}`, {
      context: { expected: this.expected, detected: other },
    });
  }

  /** true / false once decided, undefined while too few bytes are in. */
  private looksHdlc(): boolean | undefined {
    const [flag, format] = this.head;
    if (flag === undefined) return undefined;
    if (flag !== 0x7e) return false;
    if (format === undefined) return undefined;
    return (format & 0xf0) === 0xa0;
  }

  private looksWrapper(): boolean | undefined {
    const wanted = [0x00, 0x01, (this.serverLogical >> 8) & 0xff, this.serverLogical & 0xff, (this.clientAddress >> 8) & 0xff, this.clientAddress & 0xff];
    for (let i = 0; i < wanted.length; i++) {
      const b = this.head[i];
      if (b === undefined) return undefined;
      if (b !== wanted[i]) return false;
    }
    return true;
  }
}
