/**
 * General block transfer (GBT, tag E0) on the meter side, sans-IO: reassembly of a request
 * that arrives as GBT blocks and the response sent back as a GBT stream within the client's
 * window (DLMS UA Green Book, "general block transfer mechanism").
 *
 * Rules followed (both sides of this stack use the same):
 * - Every GBT APDU carries the sender's receive window (block-control bits 0-5) and, in
 *   block-number-ack, the number of the last block received in sequence from the peer.
 * - The sender of a long APDU sends up to the peer's window blocks in a row: streaming bit
 *   set on every block but the last of the burst; then it waits for an acknowledgement.
 * - The receiver acknowledges at the end of a burst (streaming = 0) with an empty GBT APDU.
 *   When blocks are missing it acknowledges the last block received in sequence and sets
 *   its window to the number of missing blocks, so exactly those are sent again.
 * - An empty GBT APDU is an acknowledgement; one carrying a block number ack re-sends the
 *   stream from the block after it (lost blocks, or a client that timed out waiting).
 * - Once a request came as GBT, its response goes back as GBT too (the parties continue
 *   with GBT until the response is complete). A long response to a plain request starts
 *   with one block (the client's window is not known yet) and continues in its window.
 * - Acknowledgements take a block number of their own (the block number counts every GBT
 *   APDU a party sends in one exchange); blocks sent again keep their number.
 */
import { encodeApdu } from '../apdu';
import type { GeneralBlockTransfer } from '../apdu/gbt';
import { concatBytes } from '../common/hex';
import { MAX_INCOMING_BYTES, rawBlockSize } from './blocks';

/** Tag, block-control, block number, block number ack: the bytes before block-data's length. */
export const GBT_HEADER = 6;

/** Per-session GBT state (one exchange at a time). */
export interface GbtState {
  /** Request blocks received, by block number. */
  readonly inBlocks: Map<number, Uint8Array>;
  inSize: number;
  /** Number of the request's last block, once seen. */
  inLast: number | undefined;
  /** Last request block received in sequence (block-number-ack we send). */
  inAcked: number;
  /** Number of the client's last GBT APDU in sequence, acknowledgements included (block-number-ack of our response blocks). */
  peerNumber: number;
  /** The client's receive window (1 until it tells us). */
  peerWindow: number;
  /** Block numbers this side used in the exchange (acknowledgements and data). */
  ownCounter: number;
  /** Response being streamed: its blocks and the block number of the first one. */
  out: { readonly blocks: readonly Uint8Array[]; readonly firstNumber: number } | undefined;
}

export function newGbtState(): GbtState {
  return { inBlocks: new Map(), inSize: 0, inLast: undefined, inAcked: 0, peerNumber: 0, peerWindow: 1, ownCounter: 0, out: undefined };
}

export interface GbtLimits {
  /** Our receive window, advertised in every GBT APDU (1..63). */
  readonly window: number;
  /** Largest APDU we may send (the association's max send PDU). */
  readonly maxSend: number;
  /** Most APDUs the framing can take for one request (1 when it carries one answer per request). */
  readonly burstLimit: number;
  /** Largest request reassembled from GBT blocks (default MAX_INCOMING_BYTES). */
  readonly maxIncoming?: number;
}

export type GbtOutcome =
  | { readonly kind: 'send'; readonly apdus: readonly Uint8Array[] }
  /** The request is complete: handle it, then call startResponse with the answer. */
  | { readonly kind: 'request'; readonly apdu: Uint8Array }
  | { readonly kind: 'too-long' };

function gbt(lastBlock: boolean, streaming: boolean, window: number, blockNumber: number, blockNumberAck: number, data: Uint8Array): Uint8Array {
  const apdu: GeneralBlockTransfer = { type: 'general-block-transfer', lastBlock, streaming, window, blockNumber, blockNumberAck, data };
  return encodeApdu(apdu);
}

function resetIncoming(st: GbtState): void {
  st.peerNumber = 0;
  st.inBlocks.clear();
  st.inSize = 0;
  st.inLast = undefined;
  st.inAcked = 0;
}

/** Splits an APDU into block-data slices that fit maxApdu with the GBT header. */
export function gbtSlices(apdu: Uint8Array, maxApdu: number): Uint8Array[] {
  const size = rawBlockSize(maxApdu, GBT_HEADER);
  const out: Uint8Array[] = [];
  for (let at = 0; at < apdu.length; at += size) out.push(apdu.slice(at, at + size));
  if (out.length === 0) out.push(new Uint8Array(0));
  return out;
}

/** Blocks of the response from block number `from`, as many as the client's window allows. */
function burst(st: GbtState, from: number, limits: GbtLimits): Uint8Array[] {
  const out = st.out;
  if (out === undefined) return [];
  const total = out.blocks.length;
  const first = Math.max(from, out.firstNumber);
  const index = first - out.firstNumber;
  if (index >= total) return [];
  const count = Math.max(1, Math.min(st.peerWindow, limits.burstLimit, total - index));
  const apdus: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const k = index + i;
    const data = out.blocks[k] ?? new Uint8Array(0);
    const number = out.firstNumber + k;
    st.ownCounter = Math.max(st.ownCounter, number);
    apdus.push(gbt(k === total - 1, i < count - 1, limits.window, number, st.peerNumber, data));
  }
  return apdus;
}

/** Empty GBT acknowledging the request so far; asks for the missing blocks when there is a gap. */
function acknowledge(st: GbtState, limits: GbtLimits): Uint8Array {
  let nextHeld: number | undefined;
  for (const n of st.inBlocks.keys()) if (n > st.inAcked && (nextHeld === undefined || n < nextHeld)) nextHeld = n;
  const window = nextHeld === undefined ? limits.window : Math.max(1, Math.min(63, nextHeld - st.inAcked - 1));
  st.ownCounter++;
  return gbt(false, false, window, st.ownCounter, st.inAcked, new Uint8Array(0));
}

/** A GBT APDU from the client. */
export function onClientGbt(st: GbtState, g: GeneralBlockTransfer, limits: GbtLimits): GbtOutcome {
  if (g.window > 0) st.peerWindow = g.window;
  if (g.data.length === 0) {
    // Acknowledgement: continue (or repeat) the response after the block it acknowledges.
    st.peerNumber = Math.max(st.peerNumber, g.blockNumber);
    if (st.out !== undefined) return { kind: 'send', apdus: burst(st, g.blockNumberAck + 1, limits) };
    // Nothing to send: say which request blocks we hold (none at all when the first were lost).
    return { kind: 'send', apdus: [acknowledge(st, limits)] };
  }
  if (st.out !== undefined) {
    // Data from the client while a response was streaming: a new exchange begins.
    st.out = undefined;
    st.ownCounter = 0;
    resetIncoming(st);
  }
  const n = g.blockNumber;
  if (n > st.inAcked && !st.inBlocks.has(n) && (st.inLast === undefined || n <= st.inLast)) {
    if (st.inSize + g.data.length > (limits.maxIncoming ?? MAX_INCOMING_BYTES)) {
      resetIncoming(st);
      return { kind: 'too-long' };
    }
    st.inBlocks.set(n, g.data);
    st.inSize += g.data.length;
  }
  if (g.lastBlock) st.inLast = n;
  while (st.inBlocks.has(st.inAcked + 1)) st.inAcked++;
  st.peerNumber = st.inAcked;
  if (st.inLast !== undefined && st.inAcked >= st.inLast) {
    const parts: Uint8Array[] = [];
    for (let i = 1; i <= st.inLast; i++) parts.push(st.inBlocks.get(i) ?? new Uint8Array(0));
    const acked = st.inAcked;
    resetIncoming(st);
    st.inAcked = acked;
    st.peerNumber = acked;
    return { kind: 'request', apdu: concatBytes(parts) };
  }
  if (g.streaming && !g.lastBlock) return { kind: 'send', apdus: [] };
  return { kind: 'send', apdus: [acknowledge(st, limits)] };
}

/**
 * Starts the response as a GBT stream: the first burst goes out now, the rest as the client
 * acknowledges. `peerWindowKnown` is false for an answer to a plain request (one block first).
 */
export function startResponse(st: GbtState, answer: Uint8Array, limits: GbtLimits, peerWindowKnown: boolean): Uint8Array[] {
  if (!peerWindowKnown) st.peerWindow = 1;
  st.out = { blocks: gbtSlices(answer, limits.maxSend), firstNumber: st.ownCounter + 1 };
  return burst(st, st.out.firstNumber, limits);
}

/** A plain request arrived: whatever GBT exchange was going on is over. */
export function endExchange(st: GbtState): void {
  st.out = undefined;
  st.ownCounter = 0;
  resetIncoming(st);
}
