/**
 * `dcu probe … flash IMAGE`: a firmware image to one meter on site (optical probe, use case
 * #5) through Image transfer (IC 18), resumable: a second run after an interrupted one sends
 * only the blocks the meter misses. Never a block of another image on top of a partial one:
 * see protocol/client/image-resume.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DlmsClient } from '../../protocol/client/client';
import {
  activateImage,
  checkAfterInitiate,
  imageBlock,
  imageBlockCount,
  initiateImage,
  planImageBlocks,
  planImageStart,
  readImageTransferInfo,
  sendImageBlock,
  verifyImage,
  type ImageStart,
  type PollOptions,
} from '../../protocol/client/image-resume';
import { ImageStatus } from '../../protocol/client/image-transfer';
import type { Clock } from '../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { toHex } from '../../protocol/common/hex';
import { formatBytes, TransferProgress, type ProgressMode } from './progress';

export interface FlashRequest {
  command: 'flash';
  image: string;
  identifier?: string;
  activate: boolean;
  blockSize?: string;
}

export interface PreparedFlash {
  command: 'flash';
  path: string;
  image: Uint8Array;
  identifier: Uint8Array;
  /** How the identifier reads (text when printable, else hex:…). */
  identifierText: string;
  activate: boolean;
  blockSize?: number;
}

const usage = (m: string): DcuError => new DcuError(ErrorCode.Usage, m);

/** The default image identifier: the first 8 bytes of the file's SHA-256, as 16 hex digits (ASCII). */
export function defaultIdentifier(image: Uint8Array): string {
  return createHash('sha256').update(image).digest('hex').slice(0, 16).toUpperCase();
}

function parseIdentifier(text: string): Uint8Array {
  if (text.toLowerCase().startsWith('hex:')) {
    const hex = text.slice(4);
    if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw usage('--identifier hex:… takes an even number of hex digits, e.g. hex:0102AB');
    return new Uint8Array(Buffer.from(hex, 'hex'));
  }
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

function identifierText(id: Uint8Array): string {
  return id.every((b) => b >= 0x20 && b < 0x7f) ? Buffer.from(id).toString('latin1') : `hex:${toHex(id)}`;
}

export function prepareFlash(req: FlashRequest): PreparedFlash {
  let image: Uint8Array;
  try {
    image = new Uint8Array(readFileSync(req.image));
  } catch (e) {
    throw usage(`cannot read the image ${req.image}: ${(e as NodeJS.ErrnoException).code ?? String(e)} — give the path of the vendor's image file`);
  }
  if (image.length === 0) throw usage(`the image ${req.image} is empty: give the vendor's image file`);
  if (image.length > 0xffffffff) throw usage(`the image ${req.image} is larger than 4 GiB (image_size is a uint32)`);
  const identifier = parseIdentifier(req.identifier ?? defaultIdentifier(image));
  if (identifier.length === 0 || identifier.length > 255) throw usage('--identifier must be 1 to 255 bytes');
  let blockSize: number | undefined;
  if (req.blockSize !== undefined) {
    blockSize = /^\d+$/.test(req.blockSize) ? Number(req.blockSize) : NaN;
    if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 65535) throw usage(`--block-size must be a whole number from 1 to 65535, got "${req.blockSize}"`);
  }
  return { command: 'flash', path: req.image, image, identifier, identifierText: identifierText(identifier), activate: req.activate, ...(blockSize === undefined ? {} : { blockSize }) };
}

export interface FlashIo {
  /** A finished line (the command's messages). */
  line: (text: string) => void;
  /** Raw progress output (the bar redraws with \r). */
  progress: (text: string) => void;
  mode: ProgressMode;
  clock: Clock;
  /** The command line that reaches this meter, for the "activate later" hint. */
  commandLine?: string;
  /** Status polling while the meter verifies / activates (default every 1 s, for 10 min). */
  poll?: PollOptions;
  /** Kept up to date while the command runs: where it stands, for a Ctrl-C message. */
  where?: FlashWhere;
}

/** Where a flash stands (what an interrupted command tells the technician). */
export interface FlashWhere {
  phase: 'connecting' | 'reading' | 'transfer' | 'verify' | 'activate';
  /** Blocks the meter held or acknowledged so far, of blockCount. */
  blocksHeld: number;
  blockCount: number;
}

/** The Ctrl-C message: where the flash stopped, and that the same command resumes it. */
export function interruptedText(w: FlashWhere): string {
  const at =
    w.phase === 'transfer'
      ? `during the transfer, ${w.blocksHeld} of ${w.blockCount} blocks on the meter`
      : w.phase === 'verify'
        ? `while the meter verified the image (all ${w.blockCount} blocks sent)`
        : w.phase === 'activate'
          ? 'while the meter activated the image'
          : w.phase === 'reading'
            ? "while reading the meter's image transfer state (nothing sent yet)"
            : 'while connecting (nothing sent yet)';
  return `dcu probe: interrupted ${at}\n  the meter keeps the blocks it acknowledged: run the same command again to resume`;
}

export interface FlashResult {
  text: string;
  json: Record<string, unknown>;
}

const START_TEXT: Record<ImageStart['kind'], string> = {
  fresh: 'new transfer',
  resume: 'resuming the transfer held by the meter',
  verified: 'the meter already holds this image, verified: nothing to send',
};

const REASON_TEXT: Record<string, string> = {
  'no-transfer': 'no transfer in progress on the meter',
  'other-image': 'the meter held a partial transfer of another image: starting over',
  'other-image-verified': 'the meter held another verified image: starting over',
  'ours-activated': 'the meter activated this image before: sending it again',
};

export async function runFlash(client: DlmsClient, req: PreparedFlash, io: FlashIo): Promise<FlashResult> {
  const say = (text: string, json: Record<string, unknown>): void => (io.mode === 'json' ? io.line(JSON.stringify(json)) : io.line(text));
  const where = io.where ?? { phase: 'reading', blocksHeld: 0, blockCount: 0 };
  where.phase = 'reading';
  const before = await readImageTransferInfo(client, req.blockSize);
  if (!before.enabled) {
    throw new DcuError(ErrorCode.MeterUnsupported, `image transfer is disabled on this meter (image_transfer_enabled = false): enable it first, e.g. dcu probe … set 18:0.0.44.0.0.255:5 '{"boolean": true}'`);
  }
  const blockSize = before.blockSize;
  if (req.blockSize !== undefined && req.blockSize !== blockSize) {
    say(`note: the meter's image_block_size is ${blockSize}; --block-size ${req.blockSize} is used only when the meter does not give one`, { event: 'note', meterBlockSize: blockSize, requested: req.blockSize });
  }
  const size = req.image.length;
  const blockCount = imageBlockCount(size, blockSize);
  const start = planImageStart(before, req.identifier, size, blockSize);
  const id = req.identifierText;
  say(`image ${req.path}: ${formatBytes(size)}, identifier ${id}, ${blockCount} blocks of ${blockSize} bytes — ${start.kind === 'fresh' ? (REASON_TEXT[start.reason] ?? START_TEXT.fresh) : START_TEXT[start.kind]}`, {
    event: 'start',
    identifier: id,
    size,
    blockSize,
    blockCount,
    start: start.kind,
    ...(start.kind === 'fresh' ? { reason: start.reason } : {}),
  });

  let blocksSent = 0;
  let resumedFrom = 0;
  if (start.kind !== 'verified') {
    await initiateImage(client, req.identifier, size);
    const after = await readImageTransferInfo(client, blockSize);
    checkAfterInitiate(start, after, req.identifier);
    resumedFrom = Math.min(after.firstNotTransferred, blockCount);
    let missing = planImageBlocks(blockCount, after.firstNotTransferred, after.transferred);
    const have = size - missing.reduce((sum, n) => sum + imageBlock(req.image, blockSize, n).length, 0);
    if (start.kind === 'resume') {
      say(`the meter holds ${blockCount - missing.length} of ${blockCount} blocks (first missing ${missing[0] ?? blockCount}): sending ${missing.length}`, {
        event: 'resume',
        firstNotTransferred: after.firstNotTransferred,
        blocksHeld: blockCount - missing.length,
        blocksToSend: missing.length,
      });
    }
    const progress = new TransferProgress(io.mode, io.progress, io.clock, size, missing.length, have);
    Object.assign(where, { phase: 'transfer', blocksHeld: blockCount - missing.length, blockCount });
    try {
      // A second pass for blocks the meter dropped silently; a third finding gaps is an error.
      for (let pass = 0; missing.length > 0; pass++) {
        if (pass === 2) throw new DcuError(ErrorCode.MeterActionResult, `the meter still misses blocks ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ' …' : ''} after they were acknowledged twice; check the meter's image_transfer_status and try again`);
        for (const n of missing) {
          await sendImageBlock(client, req.image, blockSize, n);
          blocksSent++;
          where.blocksHeld = Math.min(blockCount, where.blocksHeld + 1);
          progress.block(n, imageBlock(req.image, blockSize, n).length);
        }
        const now = await readImageTransferInfo(client, blockSize);
        missing = planImageBlocks(blockCount, now.firstNotTransferred, now.transferred);
      }
    } finally {
      progress.end();
    }
    where.phase = 'verify';
    say('verifying the image on the meter …', { event: 'verify' });
    await verifyImage(client, io.poll);
  }

  let status: number = ImageStatus.verificationSuccessful;
  if (req.activate) {
    where.phase = 'activate';
    say('activating …', { event: 'activate' });
    status = await activateImage(client, io.poll);
  }
  const activated = status === ImageStatus.activationSuccessful;
  const later = `to activate it later: ${io.commandLine ?? 'dcu probe …'} flash ${req.path}${req.identifierText === defaultIdentifier(req.image) ? '' : ` --identifier ${id}`} --activate  (nothing is sent again)`;
  const text = `${activated ? 'image activated' : 'image transferred and verified'}: ${blocksSent} blocks sent${resumedFrom > 0 ? ` (resumed at block ${resumedFrom})` : ''}, ${blockCount} in all${activated ? '' : `\n${later}`}`;
  return {
    text,
    json: { event: 'done', identifier: id, size, blockSize, blockCount, start: start.kind, resumedFrom, blocksSent, status: activated ? 'activated' : 'verified' },
  };
}
