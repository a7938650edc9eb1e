/**
 * Block bookkeeping for long responses (GET with-datablock, ACTION with-pblock) and long
 * requests (SET with-datablock, ACTION with-pblock): block sizing so each APDU fits the
 * negotiated size, and reassembly with block-number checks.
 */
import { concatBytes } from '../common/hex';
import type { InvokeIdAndPriority } from '../apdu/invoke';
import type { IncomingBlocks, IncomingTarget, OutgoingBlocks } from './state';

/** Reassembled requests larger than this are refused (long-set / long-action aborted) unless the limits say otherwise. */
export const MAX_INCOMING_BYTES = 1 << 20;

/** Bytes of an A-XDR length prefix for n. */
export function lengthPrefixSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x100) return 2;
  if (n < 0x10000) return 3;
  return 5;
}

/** Largest raw-data slice such that header + length prefix + slice ≤ maxApdu (at least 1). */
export function rawBlockSize(maxApdu: number, header: number): number {
  let n = maxApdu - header - 1;
  while (n > 1 && header + lengthPrefixSize(n) + n > maxApdu) n--;
  return Math.max(1, n);
}

/** Header before raw-data: GET C4 02 iid last block-no(4) choice = 9; ACTION C7 02 iid last block-no(4) = 8. */
export const GET_BLOCK_HEADER = 9;
export const ACTION_BLOCK_HEADER = 8;

export function startOutgoing(invoke: InvokeIdAndPriority, raw: Uint8Array): OutgoingBlocks {
  return { invoke, raw, offset: 0, lastBlock: 0 };
}

export interface Block {
  readonly blockNumber: number;
  readonly lastBlock: boolean;
  readonly raw: Uint8Array;
}

/** Cuts the next block (advances `out`). */
export function nextBlock(out: OutgoingBlocks, maxApdu: number, header: number): Block {
  const size = rawBlockSize(maxApdu, header);
  const raw = out.raw.subarray(out.offset, out.offset + size);
  out.offset += raw.length;
  out.lastBlock += 1;
  return { blockNumber: out.lastBlock, lastBlock: out.offset >= out.raw.length, raw: raw.slice() };
}

export function startIncoming(target: IncomingTarget): IncomingBlocks {
  return { target, chunks: [], size: 0, lastBlock: 0 };
}

export type Accepted = { readonly ok: true; readonly complete?: Uint8Array } | { readonly ok: false; readonly reason: 'block-number' | 'too-long' };

/** Adds block `n` (must be the one after the last); returns the whole data with the last block. */
export function acceptBlock(inc: IncomingBlocks, n: number, raw: Uint8Array, last: boolean, maxBytes = MAX_INCOMING_BYTES): Accepted {
  if (n !== inc.lastBlock + 1) return { ok: false, reason: 'block-number' };
  if (inc.size + raw.length > maxBytes) return { ok: false, reason: 'too-long' };
  inc.chunks.push(raw);
  inc.size += raw.length;
  inc.lastBlock = n;
  return last ? { ok: true, complete: concatBytes(inc.chunks) } : { ok: true };
}
