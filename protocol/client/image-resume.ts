/**
 * Resuming an Image transfer (IC 18) step by step, for callers that show progress or must
 * decide before a block goes out (the technician's `dcu probe … flash`):
 *
 *   readImageTransferInfo → planImageStart (pure: fresh, resume, or already verified /
 *   activated) → initiate → readImageTransferInfo again → planImageBlocks (pure: which
 *   blocks the meter still misses) → sendImageBlock … → verify → activate.
 *
 * An identifier is bound to the blocks by image_transfer_initiate: a meter holding a partial
 * transfer of another image starts over on initiate with ours, one holding ours (same
 * identifier and size) keeps its blocks. The identifier of a partial transfer cannot be
 * read (image_to_activate_info is filled only after verification), so a partial transfer
 * whose block count differs from ours is another image for sure, and a meter that still
 * reports its blocks after our initiate is refused (checkAfterInitiate) rather than fed.
 */
import { ActionResult } from '../apdu/results';
import type { Data } from '../axdr/data';
import { bitStringToString } from '../axdr/data';
import { DcuError, ErrorCode } from '../common/errors';
import { bytesEqual, toHex } from '../common/hex';
import type { DlmsClient } from './client';
import { dataAccessError } from './errors';
import { IMAGE_TRANSFER, ImageStatus, call, readUint, waitForStatus } from './image-transfer';

const ref = (index: number) => ({ classId: 18, obis: IMAGE_TRANSFER, index });

/** One entry of image_to_activate_info (attribute 7). */
export interface ImageToActivate {
  size: number;
  identifier: Uint8Array;
  signature: Uint8Array;
}

/** What the meter says about its image transfer (attributes 2 to 7). */
export interface ImageTransferInfo {
  enabled: boolean;
  blockSize: number;
  status: number;
  firstNotTransferred: number;
  /** image_transferred_blocks_status as '1'/'0' per block (its length is the meter's block count). */
  transferred: string;
  toActivate: ImageToActivate[];
}

function asUint(d: Data, what: string): number {
  if ((d.type === 'uint32' || d.type === 'uint16' || d.type === 'uint8' || d.type === 'enum') && typeof d.value === 'number') return d.value;
  throw new DcuError(ErrorCode.DecodeBadValue, `image transfer ${what} is ${d.type}, expected an unsigned integer`);
}

function toActivateInfo(d: Data): ImageToActivate[] {
  if (d.type !== 'array') throw new DcuError(ErrorCode.DecodeBadValue, `image_to_activate_info is ${d.type}, expected an array of {size, identifier, signature}`);
  return d.items.map((item) => {
    const [size, id, sig] = item.type === 'structure' ? item.items : [];
    if (size === undefined || id?.type !== 'octet-string') throw new DcuError(ErrorCode.DecodeBadValue, 'image_to_activate_info entry is not {size, identifier, signature}');
    return { size: asUint(size, 'image_to_activate_size'), identifier: id.value, signature: sig?.type === 'octet-string' ? sig.value : new Uint8Array(0) };
  });
}

/**
 * Reads attributes 2 to 7 of the Image transfer object. `fallbackBlockSize` stands in for
 * image_block_size when the meter refuses to give it.
 */
export async function readImageTransferInfo(client: DlmsClient, fallbackBlockSize?: number): Promise<ImageTransferInfo> {
  const enabled = await client.getValue(ref(5));
  const size = await client.get(ref(2));
  if (!size.ok && fallbackBlockSize === undefined) throw dataAccessError(size.result, 'image_block_size');
  const blockSize = size.ok ? asUint(size.data, 'block size') : (fallbackBlockSize ?? 0);
  const status = await readUint(client, 6, 'status');
  const firstNotTransferred = await readUint(client, 4, 'first not transferred block');
  const bits = await client.get(ref(3));
  if (!bits.ok) throw dataAccessError(bits.result, 'image_transferred_blocks_status');
  if (bits.data.type !== 'bit-string') throw new DcuError(ErrorCode.DecodeBadValue, `image_transferred_blocks_status is ${bits.data.type}, expected a bit-string`);
  const info = await client.get(ref(7));
  return {
    enabled: !(enabled.type === 'boolean' && !enabled.value),
    blockSize,
    status,
    firstNotTransferred,
    transferred: bitStringToString(bits.data),
    toActivate: info.ok ? toActivateInfo(info.data) : [],
  };
}

export type ImageStart =
  /** Nothing of ours on the meter: initiate, then every block. */
  | { kind: 'fresh'; reason: 'no-transfer' | 'other-image' | 'other-image-verified' | 'ours-activated' }
  /** A partial transfer that may be ours: initiate (the meter keeps our blocks), then the missing ones. */
  | { kind: 'resume' }
  /** Our image is on the meter, verified (or its activation failed / is pending): activate only. */
  | { kind: 'verified' };

/**
 * What to do with the meter as it is, before any initiate. `blockSize` is the one the blocks
 * will be cut with (the meter's). A verified image of ours is not sent again; an activated
 * one is (the meter may have been rolled back since: it is the technician's explicit ask).
 */
export function planImageStart(s: Pick<ImageTransferInfo, 'status' | 'transferred' | 'toActivate'>, identifier: Uint8Array, size: number, blockSize: number): ImageStart {
  const ours = s.toActivate.some((i) => i.size === size && bytesEqual(i.identifier, identifier));
  switch (s.status) {
    case ImageStatus.notInitiated:
      return { kind: 'fresh', reason: 'no-transfer' };
    case ImageStatus.initiated:
    case ImageStatus.verificationFailed:
      return s.transferred.length === Math.ceil(size / blockSize) ? { kind: 'resume' } : { kind: 'fresh', reason: 'other-image' };
    case ImageStatus.verificationSuccessful:
    case ImageStatus.activationInitiated:
    case ImageStatus.activationFailed:
      return ours ? { kind: 'verified' } : { kind: 'fresh', reason: 'other-image-verified' };
    case ImageStatus.activationSuccessful:
      return ours ? { kind: 'fresh', reason: 'ours-activated' } : { kind: 'fresh', reason: 'no-transfer' };
    default:
      return { kind: 'fresh', reason: 'no-transfer' };
  }
}

/**
 * The blocks the meter still misses, ascending: those from image_first_not_transferred_block_number
 * on whose bit is not set (a bit set there was received out of order), and the gaps below it
 * that the bit string shows. Bits beyond the meter's bit string count as missing.
 */
export function planImageBlocks(blockCount: number, firstNotTransferred: number, transferred: string): number[] {
  const out: number[] = [];
  const first = Math.min(Math.max(0, firstNotTransferred), blockCount);
  for (let n = 0; n < blockCount; n++) {
    const bit = transferred[n];
    if (n < first ? bit === '0' : bit !== '1') out.push(n);
  }
  return out;
}

/**
 * After our initiate: a fresh start must find no block on the meter. A meter that keeps the
 * blocks of another image across an initiate with a new identifier would get ours on top of
 * them — refuse instead.
 */
export function checkAfterInitiate(start: ImageStart, after: Pick<ImageTransferInfo, 'transferred' | 'firstNotTransferred'>, identifier: Uint8Array): void {
  if (start.kind !== 'fresh') return;
  if (after.firstNotTransferred === 0 && !after.transferred.includes('1')) return;
  throw new DcuError(
    ErrorCode.MeterActionResult,
    `the meter kept blocks of another image after image_transfer_initiate with identifier ${toHex(identifier)} (first not transferred block ${after.firstNotTransferred}): no block was sent`,
    { context: { firstNotTransferred: after.firstNotTransferred } },
  );
}

/** Pure size check: the meter's block count for an image of `size` bytes. */
export function imageBlockCount(size: number, blockSize: number): number {
  if (!Number.isInteger(blockSize) || blockSize <= 0) throw new DcuError(ErrorCode.DecodeBadValue, `image block size ${blockSize}: the meter must give a positive image_block_size`);
  return Math.ceil(size / blockSize);
}

export async function initiateImage(client: DlmsClient, identifier: Uint8Array, size: number): Promise<void> {
  const r = await call(client, 1, { type: 'structure', items: [{ type: 'octet-string', value: identifier }, { type: 'uint32', value: size }] }, 'initiate');
  if (r === ActionResult.temporaryFailure) throw new DcuError(ErrorCode.MeterActionResult, 'image transfer initiate: the meter is busy (temporary failure: a verification or activation is pending); try again in a minute', { context: { result: r } });
}

/** Block n of the image, cut with the meter's block size. */
export function imageBlock(image: Uint8Array, blockSize: number, n: number): Uint8Array {
  return image.subarray(n * blockSize, Math.min(image.length, (n + 1) * blockSize));
}

export async function sendImageBlock(client: DlmsClient, image: Uint8Array, blockSize: number, n: number): Promise<void> {
  const value = imageBlock(image, blockSize, n);
  const r = await call(client, 2, { type: 'structure', items: [{ type: 'uint32', value: n }, { type: 'octet-string', value }] }, `block ${n}`);
  if (r === ActionResult.temporaryFailure) throw new DcuError(ErrorCode.MeterActionResult, `image block ${n}: the meter answered temporary failure (busy); run the transfer again to resume`, { context: { result: r, block: n } });
}

export interface PollOptions {
  pollIntervalMs?: number;
  pollTimeoutMs?: number;
}

/** image_verify, polling image_transfer_status while the meter answers temporary-failure. */
export async function verifyImage(client: DlmsClient, options: PollOptions = {}): Promise<void> {
  if ((await call(client, 3, { type: 'int8', value: 0 }, 'verify')) === ActionResult.temporaryFailure) {
    await waitForStatus(client, ImageStatus.verificationSuccessful, ImageStatus.verificationFailed, options, 'verification');
  }
}

/** image_activate, polling likewise; returns the final image_transfer_status. */
export async function activateImage(client: DlmsClient, options: PollOptions = {}): Promise<number> {
  if ((await call(client, 4, { type: 'int8', value: 0 }, 'activate')) === ActionResult.temporaryFailure) {
    return waitForStatus(client, ImageStatus.activationSuccessful, ImageStatus.activationFailed, options, 'activation');
  }
  return ImageStatus.activationSuccessful;
}
