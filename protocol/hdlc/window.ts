import { concatBytes } from '../common/hex';

/**
 * Sequence-number bookkeeping shared by the client and the meter side: a go-back-N sender
 * and an in-order receiver, modulo 8 (IEC 62056-46 §6.4.4). No I/O, no timers.
 */

export const LLC_REQUEST = Uint8Array.of(0xe6, 0xe6, 0x00);
export const LLC_RESPONSE = Uint8Array.of(0xe6, 0xe7, 0x00);

/** One I-frame worth of data with its send sequence number. */
export interface Segment {
  readonly ns: number;
  readonly info: Uint8Array;
  /** More segments of the same APDU follow (S bit). */
  readonly segmented: boolean;
}

const mod8 = (v: number): number => ((v % 8) + 8) % 8;

export class SendWindow {
  private queue: { info: Uint8Array; segmented: boolean }[] = [];
  private unacked: Segment[] = [];
  /** V(S): sequence number of the next new I-frame. */
  vs = 0;

  reset(): void {
    this.queue = [];
    this.unacked = [];
    this.vs = 0;
  }

  /** Splits a payload into segments of at most maxInfo bytes and queues them. */
  load(payload: Uint8Array, maxInfo: number): void {
    for (let at = 0; at < payload.length || at === 0; at += maxInfo) {
      const end = Math.min(payload.length, at + maxInfo);
      this.queue.push({ info: payload.slice(at, end), segmented: end < payload.length });
      if (end >= payload.length) break;
    }
  }

  get outstanding(): number {
    return this.unacked.length;
  }

  /** Segments loaded and not sent yet. */
  get queued(): number {
    return this.queue.length;
  }

  get hasQueued(): boolean {
    return this.queue.length > 0;
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.unacked.length === 0;
  }

  /**
   * Processes N(R) from the peer. Returns true when it acknowledged at least one frame.
   * An N(R) outside [oldest unacked, V(S)] is stale or bogus and changes nothing.
   */
  ack(nr: number): boolean {
    const first = this.unacked[0];
    if (first === undefined) return false;
    const k = mod8(nr - first.ns);
    if (k === 0 || k > this.unacked.length) return false;
    this.unacked.splice(0, k);
    return true;
  }

  /** The unacknowledged segments, oldest first, to send again (go-back-N). */
  retransmit(): readonly Segment[] {
    return this.unacked.slice();
  }

  /** Takes new segments until `window` are outstanding and assigns them N(S). */
  sendNew(window: number): Segment[] {
    const out: Segment[] = [];
    while (this.unacked.length < window) {
      const next = this.queue.shift();
      if (next === undefined) break;
      const seg: Segment = { ns: this.vs, info: next.info, segmented: next.segmented };
      this.vs = mod8(this.vs + 1);
      this.unacked.push(seg);
      out.push(seg);
    }
    return out;
  }
}

export type ReceiveResult =
  | { readonly kind: 'accepted'; readonly complete?: Uint8Array }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'out-of-sequence' }
  /** The APDU being reassembled would exceed the limit: its segments are dropped. */
  | { readonly kind: 'too-long'; readonly bytes: number; readonly limit: number };

/** Reassembly limit when the owner does not set one: the largest APDU (u16) plus its LLC header. */
export const DEFAULT_MAX_REASSEMBLY = 0xffff + 3;

export class ReceiveWindow {
  private parts: Uint8Array[] = [];
  private size = 0;
  /** V(R): the N(S) expected next. */
  vr = 0;

  /** @param maxBytes largest APDU (LLC header included) reassembled from segments. */
  constructor(readonly maxBytes = DEFAULT_MAX_REASSEMBLY) {}

  reset(): void {
    this.parts = [];
    this.size = 0;
    this.vr = 0;
  }

  /** True while segments of an APDU have been received and more are due. */
  get inProgress(): boolean {
    return this.parts.length > 0;
  }

  get bufferedBytes(): number {
    return this.size;
  }

  accept(ns: number, info: Uint8Array, segmented: boolean): ReceiveResult {
    if (ns !== this.vr) return mod8(ns + 1) === this.vr ? { kind: 'duplicate' } : { kind: 'out-of-sequence' };
    const bytes = this.size + info.length;
    if (bytes > this.maxBytes) {
      // Endless segments must not grow memory: drop what was gathered, the owner ends the link.
      this.parts = [];
      this.size = 0;
      return { kind: 'too-long', bytes, limit: this.maxBytes };
    }
    this.vr = mod8(this.vr + 1);
    this.parts.push(info);
    this.size = bytes;
    if (segmented) return { kind: 'accepted' };
    const complete = concatBytes(this.parts);
    this.parts = [];
    this.size = 0;
    return { kind: 'accepted', complete };
  }
}

/** Prepends an LLC header. */
export function withLlc(llc: Uint8Array, apdu: Uint8Array): Uint8Array {
  return concatBytes([llc, apdu]);
}

/** Strips the expected LLC header, or returns undefined when it is not there. */
export function stripLlc(llc: Uint8Array, payload: Uint8Array): Uint8Array | undefined {
  if (payload.length < llc.length) return undefined;
  for (let i = 0; i < llc.length; i++) if (payload[i] !== llc[i]) return undefined;
  return payload.slice(llc.length);
}
