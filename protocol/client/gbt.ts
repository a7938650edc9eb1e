/**
 * General block transfer (GBT, tag E0) on the client side: a request longer than the meter's
 * max PDU travels as a sequence of GBT APDUs, streamed up to the meter's window; an answer
 * that arrives as GBT blocks is reassembled, acknowledged at the end of every burst, and
 * missing blocks are asked for again (DLMS UA Green Book, "general block transfer").
 *
 * What goes on the wire (the meter side, protocol/server/gbt.ts, follows the same rules):
 * - every GBT APDU carries our receive window and, in block-number-ack, the last block of
 *   the peer's message received in sequence;
 * - a burst is up to the peer's window blocks, streaming bit on all but its last; the peer's
 *   window is learned from its GBT APDUs (one block at a time until then);
 * - at the end of a burst (streaming 0) the receiver sends an empty GBT APDU: block-number-ack
 *   = last block in sequence; when blocks are missing its window is the number missing, so
 *   exactly those come again;
 * - silence where a block or an acknowledgement is due (the peer's burst or our last block was
 *   lost) is answered after the response timeout with the same empty APDU, `retries` times
 *   (over HDLC the link retransmits lost frames itself: one wait covers the exchange there).
 * The ciphered APDU (glo-/ded-) is what gets split: GBT sits below ciphering.
 */
import { decodeApdu, encodeApdu } from '../apdu';
import type { GeneralBlockTransfer } from '../apdu/gbt';
import { DcuError, ErrorCode, isDcuError } from '../common/errors';
import { concatBytes } from '../common/hex';
import type { Logger } from '../common/log';

export const GENERAL_BLOCK_TRANSFER_TAG = 0xe0;

/** Tag, block-control, block number, block number ack: the bytes before block-data's length. */
const GBT_HEADER = 6;

/** Tags of unsolicited APDUs that may cross a GBT exchange (data-notification, event-notification). */
const UNSOLICITED_TAGS: ReadonlySet<number> = new Set([0x0f, 0xc2]);

/** How one association moves GBT APDUs (the link driver). */
export interface GbtIo {
  /** `more`: further blocks of the same burst follow (no answer is due to this one yet). */
  send(apdu: Uint8Array, more?: boolean): void;
  /** Next APDU from the meter, or undefined after timeoutMs of silence. */
  next(timeoutMs: number): Promise<Uint8Array | undefined>;
  /** A block moved the exchange on (new data in sequence, or our blocks acknowledged): the deadline's measure. */
  progress?(bytes: number): void;
  /** An APDU is sent again because the meter stayed silent (a lost block or acknowledgement). */
  retried?(): void;
}

/**
 * GBT APDUs in a row that move nothing on (repeats, empty blocks, blocks past the last,
 * acknowledgements of nothing new) before the meter is deemed stuck: room for a few
 * retransmitted windows.
 */
export const MAX_FRUITLESS_GBT = 3 * 64;

export interface GbtParams {
  /** Our receive window (1..63), advertised in every GBT APDU. */
  readonly window: number;
  /** The link can carry several APDUs without an answer in between (wrapper, HDLC that streams). */
  readonly streaming: boolean;
  /** The meter's max receive PDU: no GBT APDU we send is longer. */
  readonly maxPdu: number;
  /** Silence before we acknowledge again (lost block or lost acknowledgement). */
  readonly timeoutMs: number;
  readonly retries: number;
  /** Largest reassembled answer accepted. */
  readonly maxBytes: number;
}

function lengthPrefixSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** Block-data bytes per GBT APDU so that the whole APDU fits maxPdu. */
export function gbtBlockSize(maxPdu: number): number {
  let n = maxPdu - GBT_HEADER - 1;
  while (n > 1 && GBT_HEADER + lengthPrefixSize(n) + n > maxPdu) n--;
  return Math.max(1, n);
}

function encodeGbt(lastBlock: boolean, streaming: boolean, window: number, blockNumber: number, blockNumberAck: number, data: Uint8Array): Uint8Array {
  return encodeApdu({ type: 'general-block-transfer', lastBlock, streaming, window, blockNumber, blockNumberAck, data });
}

function decodeGbt(bytes: Uint8Array): GeneralBlockTransfer {
  const a = decodeApdu(bytes);
  if (a.type !== 'general-block-transfer') throw new DcuError(ErrorCode.DecodeBadTag, `expected a general-block-transfer APDU at byte 0, got ${a.type}`);
  return a;
}

/** What arrived while a GBT exchange waited: a GBT APDU, or any other answer (exception …). */
type Arrival = { kind: 'gbt'; g: GeneralBlockTransfer } | { kind: 'other'; bytes: Uint8Array } | { kind: 'silence' };

/** GBT state of one association: the meter's window, learned from its GBT APDUs. */
export class GbtChannel {
  /** The meter's receive window, once a GBT APDU from it said so. */
  peerWindow: number | undefined;

  constructor(private readonly log: Logger) {}

  private ourWindow(p: GbtParams): number {
    return p.streaming ? Math.max(1, Math.min(63, p.window)) : 1;
  }

  private async arrive(io: GbtIo, p: GbtParams): Promise<Arrival> {
    for (;;) {
      const bytes = await io.next(p.timeoutMs);
      if (bytes === undefined) return { kind: 'silence' };
      const tag = bytes[0] ?? 0;
      if (tag === GENERAL_BLOCK_TRANSFER_TAG) {
        const g = decodeGbt(bytes);
        if (g.window > 0) this.peerWindow = g.window;
        return { kind: 'gbt', g };
      }
      if (UNSOLICITED_TAGS.has(tag)) {
        this.log.info({ tag }, 'unsolicited notification during a general block transfer');
        continue;
      }
      return { kind: 'other', bytes };
    }
  }

  private silence(retriesLeft: number, what: string, p: GbtParams): void {
    if (retriesLeft > 0) return;
    throw new DcuError(ErrorCode.Timeout, `general block transfer: no ${what} from the meter after ${p.retries + 1} waits of ${p.timeoutMs} ms`, {
      context: { timeoutMs: p.timeoutMs, retries: p.retries },
    });
  }

  /**
   * Sends a complete request APDU (already ciphered when the association is) as GBT blocks
   * and returns the complete answer APDU (reassembled when it came as GBT).
   */
  async exchange(request: Uint8Array, io: GbtIo, p: GbtParams): Promise<Uint8Array> {
    const size = gbtBlockSize(p.maxPdu);
    const blocks: Uint8Array[] = [];
    for (let at = 0; at < request.length; at += size) blocks.push(request.subarray(at, at + size));
    if (blocks.length > 0xffff) throw new DcuError(ErrorCode.EncodeInvalid, `request of ${request.length} bytes needs ${blocks.length} GBT blocks (at most 65535)`);
    const total = blocks.length;
    const window = this.ourWindow(p);
    let next = 1;
    let burst = p.streaming ? (this.peerWindow ?? 1) : 1;
    let sent = 0;
    let retries = p.retries;
    // Block numbers the meter gave its acknowledgements: its answer's blocks come after them.
    let meterAcks = 0;
    let bestAck = 0;
    let stale = 0;
    for (;;) {
      if (next <= total) {
        const end = Math.min(total, next + Math.max(1, burst) - 1);
        for (let n = next; n <= end; n++) io.send(encodeGbt(n === total, n < end, window, n, 0, blocks[n - 1] ?? new Uint8Array(0)), n < end);
        sent = Math.max(sent, end);
        next = end + 1;
      }
      const a = await this.arrive(io, p);
      if (a.kind === 'other') return a.bytes;
      if (a.kind === 'silence') {
        this.silence(retries--, 'acknowledgement or answer', p);
        // Our last block (or the meter's acknowledgement) was lost: ask where the meter is.
        io.send(encodeGbt(false, false, window, sent, 0, new Uint8Array(0)));
        io.retried?.();
        next = total + 1;
        continue;
      }
      const g = a.g;
      if (g.data.length > 0) return this.receive(g, io, p, sent, meterAcks);
      meterAcks = Math.max(meterAcks, g.blockNumber);
      if (g.blockNumberAck > bestAck) {
        io.progress?.((Math.min(g.blockNumberAck, total) - Math.min(bestAck, total)) * size);
        bestAck = g.blockNumberAck;
        stale = 0;
      } else if (++stale > MAX_FRUITLESS_GBT) {
        throw stuck(`acknowledgements of block ${bestAck} and nothing after it`, stale);
      }
      retries = p.retries;
      // An acknowledgement: continue after the block it acknowledges, within its window.
      next = g.blockNumberAck + 1;
      burst = p.streaming ? Math.max(1, g.window) : 1;
      if (next > total) next = total + 1; // the meter has everything; its answer follows
    }
  }

  /**
   * Reassembles an answer that arrives as GBT blocks; `first` is the first one received,
   * `ownCounter` the block numbers we used so far in this exchange.
   */
  async receive(first: GeneralBlockTransfer | undefined, io: GbtIo, p: GbtParams, ownCounter = 0, meterAcks = 0): Promise<Uint8Array> {
    const window = this.ourWindow(p);
    const held = new Map<number, Uint8Array>();
    let base = meterAcks; // block numbers up to here are the meter's acknowledgements, not data
    let acked = meterAcks;
    // Acknowledgements in a row that brought nothing new: a meter that does not follow them.
    let fruitless = 0;
    let last: number | undefined;
    let size = 0;
    let counter = ownCounter;
    let retries = p.retries;
    // GBT APDUs in a row that brought nothing new (repeats, empty blocks, blocks past the last).
    let stale = 0;
    const acknowledge = (): void => {
      if (++fruitless > p.retries + 2) {
        throw new DcuError(ErrorCode.MeterBlockSequence, `general block transfer: the meter does not send block ${acked + 1} again (asked ${fruitless - 1} times)`, {
          context: { acked, held: held.size },
        });
      }
      let nextHeld: number | undefined;
      for (const n of held.keys()) if (n > acked && (nextHeld === undefined || n < nextHeld)) nextHeld = n;
      const w = nextHeld === undefined ? window : Math.max(1, Math.min(63, nextHeld - acked - 1));
      counter++;
      io.send(encodeGbt(true, false, w, counter, acked, new Uint8Array(0)));
    };
    let g = first;
    for (;;) {
      if (g !== undefined) {
        let fresh = false;
        if (g.data.length === 0) {
          if (held.size === 0 && g.blockNumber > base) acked = base = g.blockNumber;
        } else {
          const n = g.blockNumber;
          if (n > acked && !held.has(n) && (last === undefined || n <= last)) {
            fruitless = 0;
            fresh = true;
            size += g.data.length;
            if (size > p.maxBytes) throw new DcuError(ErrorCode.DecodeBadLength, `general block transfer over ${p.maxBytes} bytes refused (limits.maxReassembledBytes)`);
            held.set(n, g.data);
            io.progress?.(g.data.length);
          }
          if (g.lastBlock) last = n;
          while (held.has(acked + 1)) acked++;
          if (last !== undefined && acked >= last) {
            const parts: Uint8Array[] = [];
            for (let i = base + 1; i <= last; i++) parts.push(held.get(i) ?? new Uint8Array(0));
            return concatBytes(parts);
          }
          retries = p.retries;
          if (!g.streaming || g.lastBlock) acknowledge();
        }
        stale = fresh ? 0 : stale + 1;
        if (stale > MAX_FRUITLESS_GBT) throw stuck(`repeated or empty blocks while block ${acked + 1} is due`, stale);
      }
      const a = await this.arrive(io, p);
      if (a.kind === 'other') {
        // The meter gave up the stream and answered otherwise (exception-response …).
        return a.bytes;
      }
      if (a.kind === 'silence') {
        this.silence(retries--, 'block', p);
        this.log.debug({ acked, held: held.size }, 'GBT block overdue: acknowledging again');
        acknowledge();
        io.retried?.();
        g = undefined;
        continue;
      }
      g = a.g;
    }
  }
}

function stuck(what: string, count: number): DcuError {
  return new DcuError(ErrorCode.MeterBlockSequence, `general block transfer: the meter sent ${count} APDUs in a row that moved nothing on (${what})`, {
    context: { count },
  });
}

/** next() for GbtIo over a driver whose nextApdu throws Timeout on silence. */
export async function nextOrSilence(next: (timeoutMs: number) => Promise<Uint8Array>, timeoutMs: number): Promise<Uint8Array | undefined> {
  try {
    return await next(timeoutMs);
  } catch (e) {
    if (isDcuError(e) && e.code === ErrorCode.Timeout) return undefined;
    throw e;
  }
}
