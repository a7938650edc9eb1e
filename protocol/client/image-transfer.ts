import { ActionResult, actionResultName } from '../apdu/results';
import type { Data } from '../axdr/data';
import { bitStringToString } from '../axdr/data';
import { sleep } from '../common/clock';
import { DcuError, ErrorCode } from '../common/errors';
import { obis } from '../cosem/obis';
import type { DlmsClient } from './client';
import { dataAccessError } from './errors';

/**
 * Firmware update through Image transfer (IC 18, 0.0.44.0.0.255), client side:
 * enable check → initiate {identifier, size} → blocks from first_not_transferred (so an
 * interrupted transfer resumes) → fill gaps from transferred_blocks → verify → activate,
 * polling image_transfer_status while the meter answers temporary-failure.
 */

export const IMAGE_TRANSFER = obis('0.0.44.0.0.255');

export const ImageStatus = {
  notInitiated: 0,
  initiated: 1,
  verificationInitiated: 2,
  verificationSuccessful: 3,
  verificationFailed: 4,
  activationInitiated: 5,
  activationSuccessful: 6,
  activationFailed: 7,
} as const;

export interface ImageTransferOptions {
  identifier: Uint8Array;
  image: Uint8Array;
  /** Activate after verification (default true). */
  activate?: boolean;
  /** Poll interval while the meter verifies/activates (default 1000 ms, on the client's clock). */
  pollIntervalMs?: number;
  /** Give up polling after this long (default 10 min). */
  pollTimeoutMs?: number;
  /** Called after every block (for progress and for tests that interrupt a transfer). */
  onBlock?: (blockNumber: number, blockCount: number) => void;
}

export interface ImageTransferReport {
  blockSize: number;
  blockCount: number;
  /** Block the transfer (re)started from: > 0 means it resumed. */
  resumedFrom: number;
  blocksSent: number;
  status: number;
}

const ref = (index: number) => ({ classId: 18, obis: IMAGE_TRANSFER, index });

function uint(d: Data, what: string): number {
  if ((d.type === 'uint32' || d.type === 'uint16' || d.type === 'uint8' || d.type === 'enum') && typeof d.value === 'number') return d.value;
  throw new DcuError(ErrorCode.DecodeBadValue, `image transfer ${what} is ${d.type}, expected an unsigned integer`);
}

export async function readUint(client: DlmsClient, index: number, what: string): Promise<number> {
  return uint(await client.getValue(ref(index)), what);
}

export async function call(client: DlmsClient, method: number, parameters: Data, what: string): Promise<ActionResult> {
  const o = await client.action({ classId: 18, obis: IMAGE_TRANSFER, index: method }, parameters);
  if (o.result !== ActionResult.success && o.result !== ActionResult.temporaryFailure) {
    throw new DcuError(ErrorCode.MeterActionResult, `image transfer ${what}: the meter answered ${actionResultName(o.result)}`, { context: { result: o.result } });
  }
  return o.result;
}

export async function waitForStatus(client: DlmsClient, done: number, failed: number, options: Pick<ImageTransferOptions, 'pollIntervalMs' | 'pollTimeoutMs'>, what: string): Promise<number> {
  const clock = client.options.clock;
  const deadline = clock.now() + (options.pollTimeoutMs ?? 600_000);
  for (;;) {
    const status = await readUint(client, 6, 'status');
    if (status === done) return status;
    if (status === failed) throw new DcuError(ErrorCode.MeterActionResult, `image ${what} failed (image_transfer_status ${status})`, { context: { status } });
    if (clock.now() > deadline) throw new DcuError(ErrorCode.Timeout, `image ${what} still pending after ${options.pollTimeoutMs ?? 600_000} ms (status ${status})`);
    await sleep(clock, options.pollIntervalMs ?? 1000);
  }
}

export async function transferImage(client: DlmsClient, options: ImageTransferOptions): Promise<ImageTransferReport> {
  const enabled = await client.getValue(ref(5));
  if (enabled.type === 'boolean' && !enabled.value) throw new DcuError(ErrorCode.MeterUnsupported, 'image transfer is disabled on this meter (image_transfer_enabled = false)');
  const blockSize = await readUint(client, 2, 'block size');
  if (blockSize <= 0) throw new DcuError(ErrorCode.DecodeBadValue, 'image block size 0');
  const size = options.image.length;
  const blockCount = Math.ceil(size / blockSize);

  await call(client, 1, { type: 'structure', items: [{ type: 'octet-string', value: options.identifier }, { type: 'uint32', value: size }] }, 'initiate');
  const resumedFrom = Math.min(await readUint(client, 4, 'first not transferred block'), blockCount);

  let blocksSent = 0;
  const send = async (n: number): Promise<void> => {
    const value = options.image.subarray(n * blockSize, Math.min(size, (n + 1) * blockSize));
    await call(client, 2, { type: 'structure', items: [{ type: 'uint32', value: n }, { type: 'octet-string', value }] }, `block ${n}`);
    blocksSent++;
    options.onBlock?.(n, blockCount);
  };
  for (let n = resumedFrom; n < blockCount; n++) await send(n);

  // Blocks the meter still misses (lost earlier, or sent out of order before a restart).
  const bits = await client.get(ref(3));
  if (bits.ok && bits.data.type === 'bit-string') {
    const text = bitStringToString(bits.data);
    for (let n = 0; n < blockCount; n++) if (text[n] !== '1') await send(n);
  } else if (!bits.ok) {
    throw dataAccessError(bits.result, 'image_transferred_blocks_status');
  }

  if ((await call(client, 3, { type: 'int8', value: 0 }, 'verify')) === ActionResult.temporaryFailure) {
    await waitForStatus(client, ImageStatus.verificationSuccessful, ImageStatus.verificationFailed, options, 'verification');
  }
  let status: number = ImageStatus.verificationSuccessful;
  if (options.activate !== false) {
    if ((await call(client, 4, { type: 'int8', value: 0 }, 'activate')) === ActionResult.temporaryFailure) {
      status = await waitForStatus(client, ImageStatus.activationSuccessful, ImageStatus.activationFailed, options, 'activation');
    } else {
      status = ImageStatus.activationSuccessful;
    }
  }
  return { blockSize, blockCount, resumedFrom, blocksSent, status };
}
