/**
 * Image transfer (IC 18) state machine of the simulated meter, without I/O or clock: each
 * input (initiate, block, verify, activate, tick, enable) gives the next state, the
 * Action-Result the meter answers and a typed reason when it refuses.
 *
 *   not-initiated ─initiate→ initiated ─verify→ [verification-initiated ─tick→]
 *     verification-successful | verification-failed
 *   verification-successful ─activate→ [activation-initiated ─tick→] activation-successful | activation-failed
 *
 * While a verification or activation is pending (configurable delay, meter time) the meter
 * answers temporary-failure and the client polls image_transfer_status. activate on an
 * image not yet verified verifies it first. initiate with the identifier and size of the
 * image in transfer resumes it: received blocks are kept (meters keep them in flash).
 *
 * The image buffer is the only mutable part: blocks are written into it in place (copying
 * a 256 KiB image per block would be quadratic); everything else is copied per transition.
 */
import { createHash } from 'node:crypto';
import { ActionResult } from '../../protocol/apdu/results';
import { bytesEqual } from '../../protocol/common/hex';
import type { ImageTransferOptions } from './options';

export type ImageStatus =
  | 'not-initiated'
  | 'initiated'
  | 'verification-initiated'
  | 'verification-successful'
  | 'verification-failed'
  | 'activation-initiated'
  | 'activation-successful'
  | 'activation-failed';

/** image_transfer_status enum values (attribute 6). */
export const IMAGE_STATUS_CODE: Readonly<Record<ImageStatus, number>> = {
  'not-initiated': 0,
  initiated: 1,
  'verification-initiated': 2,
  'verification-successful': 3,
  'verification-failed': 4,
  'activation-initiated': 5,
  'activation-successful': 6,
  'activation-failed': 7,
};

export interface ImageTransferState {
  readonly status: ImageStatus;
  /** image_transfer_enabled (attribute 5). */
  readonly enabled: boolean;
  readonly identifier: Uint8Array;
  readonly size: number;
  readonly blockSize: number;
  /** Received blocks, bit n = block n, most significant bit of byte 0 first. */
  readonly received: Uint8Array;
  /** The image as received so far (size bytes; mutated in place by blocks). */
  readonly image: Uint8Array;
  /** Blocks received with a length other than expected (size mismatch at verification). */
  readonly badBlocks: readonly number[];
  /** Meter time at which a pending verification / activation ends. */
  readonly dueAt?: number;
  /** SHA-256 of the image, once verified. */
  readonly signature?: Uint8Array;
}

export type ImageInput =
  | { readonly type: 'initiate'; readonly identifier: Uint8Array; readonly size: number }
  | { readonly type: 'block'; readonly number: number; readonly value: Uint8Array }
  | { readonly type: 'verify'; readonly now: number }
  | { readonly type: 'activate'; readonly now: number }
  | { readonly type: 'tick'; readonly now: number }
  | { readonly type: 'enable'; readonly enabled: boolean };

export type ImageRefusal =
  | 'disabled'
  | 'not-initiated'
  | 'busy'
  | 'bad-size'
  | 'bad-identifier'
  | 'block-out-of-range'
  | 'block-too-long'
  | 'incomplete'
  | 'size-mismatch'
  | 'verification-fault'
  | 'activation-fault'
  | 'not-verified';

export type ImageEffect =
  | { readonly type: 'verified'; readonly identifier: Uint8Array }
  | { readonly type: 'verification-failed'; readonly reason: ImageRefusal }
  | { readonly type: 'activated'; readonly identifier: Uint8Array }
  | { readonly type: 'activation-failed' };

export interface ImageStep {
  readonly state: ImageTransferState;
  readonly result: ActionResult;
  readonly reason?: ImageRefusal;
  readonly effects: readonly ImageEffect[];
}

export type ImageConfig = Pick<ImageTransferOptions, 'maxImageSize' | 'verifyDelayMs' | 'activationDelayMs' | 'failVerification' | 'failActivation' | 'acceptIdentifierPrefix'>;

export function initialImageState(blockSize: number): ImageTransferState {
  return { status: 'not-initiated', enabled: true, identifier: new Uint8Array(0), size: 0, blockSize, received: new Uint8Array(0), image: new Uint8Array(0), badBlocks: [] };
}

export function blockCount(s: Pick<ImageTransferState, 'size' | 'blockSize'>): number {
  return Math.ceil(s.size / s.blockSize);
}

export function isBlockReceived(s: ImageTransferState, n: number): boolean {
  return ((s.received[n >> 3] ?? 0) & (0x80 >> (n & 7))) !== 0;
}

/** image_first_not_transferred_block_number: the block count when all are in. */
export function firstMissingBlock(s: ImageTransferState): number {
  const n = blockCount(s);
  for (let byte = 0; byte < s.received.length; byte++) {
    if (s.received[byte] === 0xff) continue;
    for (let i = byte * 8; i < Math.min(n, byte * 8 + 8); i++) if (!isBlockReceived(s, i)) return i;
  }
  return n;
}

const step = (state: ImageTransferState, result: ActionResult = ActionResult.success, effects: readonly ImageEffect[] = []): ImageStep => ({ state, result, effects });
const refuse = (state: ImageTransferState, reason: ImageRefusal, effects: readonly ImageEffect[] = []): ImageStep => ({
  state,
  result: reason === 'busy' ? ActionResult.temporaryFailure : ActionResult.otherReason,
  reason,
  effects,
});

/** The state without a pending deadline or a verified signature (optional fields). */
function without(s: ImageTransferState, key: 'dueAt' | 'signature'): ImageTransferState {
  const base: ImageTransferState = {
    status: s.status,
    enabled: s.enabled,
    identifier: s.identifier,
    size: s.size,
    blockSize: s.blockSize,
    received: s.received,
    image: s.image,
    badBlocks: s.badBlocks,
  };
  if (key === 'dueAt') return s.signature === undefined ? base : { ...base, signature: s.signature };
  return s.dueAt === undefined ? base : { ...base, dueAt: s.dueAt };
}

const pending = (s: ImageTransferState): boolean => s.status === 'verification-initiated' || s.status === 'activation-initiated';

export function imageTransferStep(s0: ImageTransferState, input: ImageInput, config: ImageConfig): ImageStep {
  if (input.type === 'enable') return step({ ...s0, enabled: input.enabled });
  if (input.type === 'tick') return tick(s0, input.now, config);
  if (!s0.enabled) return refuse(s0, 'disabled');
  switch (input.type) {
    case 'initiate':
      return initiate(s0, input.identifier, input.size, config);
    case 'block':
      return block(s0, input.number, input.value);
    case 'verify':
      return verify(tick(s0, input.now, config), input.now, config);
    case 'activate':
      return activate(tick(s0, input.now, config), input.now, config);
  }
}

function initiate(s: ImageTransferState, identifier: Uint8Array, size: number, config: ImageConfig): ImageStep {
  if (pending(s)) return refuse(s, 'busy');
  if (identifier.length === 0) return refuse(s, 'bad-identifier');
  if (config.acceptIdentifierPrefix !== undefined && !new TextDecoder().decode(identifier).startsWith(config.acceptIdentifierPrefix)) return refuse(s, 'bad-identifier');
  if (!Number.isInteger(size) || size <= 0 || size > config.maxImageSize) return refuse(s, 'bad-size');
  const same = s.status !== 'not-initiated' && s.status !== 'activation-successful' && s.size === size && bytesEqual(s.identifier, identifier);
  if (same) return step(without(without({ ...s, status: 'initiated' }, 'signature'), 'dueAt'));
  return step({
    status: 'initiated',
    enabled: s.enabled,
    identifier: identifier.slice(),
    size,
    blockSize: s.blockSize,
    received: new Uint8Array(Math.ceil(Math.ceil(size / s.blockSize) / 8)),
    image: new Uint8Array(size),
    badBlocks: [],
  });
}

function block(s: ImageTransferState, n: number, value: Uint8Array): ImageStep {
  if (pending(s)) return refuse(s, 'busy');
  if (s.status !== 'initiated' && s.status !== 'verification-failed') return refuse(s, 'not-initiated');
  if (!Number.isInteger(n) || n < 0 || n >= blockCount(s)) return refuse(s, 'block-out-of-range');
  if (value.length > s.blockSize) return refuse(s, 'block-too-long');
  const offset = n * s.blockSize;
  const expected = Math.min(s.blockSize, s.size - offset);
  s.image.set(value.subarray(0, expected), offset);
  const received = s.received.slice();
  received[n >> 3] = (received[n >> 3] ?? 0) | (0x80 >> (n & 7));
  const others = s.badBlocks.filter((b) => b !== n);
  const badBlocks = value.length === expected ? others : [...others, n];
  return step(without({ ...s, status: 'initiated', received, badBlocks }, 'signature'));
}

/** The verdict on the image as it is: undefined = good. */
function check(s: ImageTransferState, config: ImageConfig): ImageRefusal | undefined {
  if (firstMissingBlock(s) < blockCount(s)) return 'incomplete';
  if (s.badBlocks.length > 0) return 'size-mismatch';
  if (config.failVerification) return 'verification-fault';
  return undefined;
}

function finishVerification(s: ImageTransferState, config: ImageConfig): ImageStep {
  const bad = check(s, config);
  const base = without(s, 'dueAt');
  if (bad !== undefined) return refuse({ ...base, status: 'verification-failed' }, bad, [{ type: 'verification-failed', reason: bad }]);
  const signature = Uint8Array.from(createHash('sha256').update(s.image).digest());
  return step({ ...base, status: 'verification-successful', signature }, ActionResult.success, [{ type: 'verified', identifier: s.identifier }]);
}

function finishActivation(s: ImageTransferState, config: ImageConfig): ImageStep {
  const base = without(s, 'dueAt');
  if (config.failActivation) return refuse({ ...base, status: 'activation-failed' }, 'activation-fault', [{ type: 'activation-failed' }]);
  return step({ ...base, status: 'activation-successful' }, ActionResult.success, [{ type: 'activated', identifier: s.identifier }]);
}

/** Completes a pending verification or activation whose time has come. */
function tick(s: ImageTransferState, now: number, config: ImageConfig): ImageStep {
  if (!pending(s) || s.dueAt === undefined || now < s.dueAt) return step(s);
  return s.status === 'verification-initiated' ? finishVerification(s, config) : finishActivation(s, config);
}

function verify(prior: ImageStep, now: number, config: ImageConfig): ImageStep {
  const s = prior.state;
  switch (s.status) {
    case 'not-initiated':
      return refuse(s, 'not-initiated', prior.effects);
    case 'verification-initiated':
    case 'activation-initiated':
      return refuse(s, 'busy', prior.effects);
    case 'verification-successful':
    case 'activation-successful':
    case 'activation-failed':
      return { ...prior, result: ActionResult.success };
    case 'initiated':
    case 'verification-failed': {
      if (config.verifyDelayMs > 0) return refuse({ ...s, status: 'verification-initiated', dueAt: now + config.verifyDelayMs }, 'busy', prior.effects);
      const done = finishVerification(s, config);
      return { ...done, effects: [...prior.effects, ...done.effects] };
    }
  }
}

function activate(prior: ImageStep, now: number, config: ImageConfig): ImageStep {
  let s = prior.state;
  let effects = prior.effects;
  switch (s.status) {
    case 'not-initiated':
      return refuse(s, 'not-initiated', effects);
    case 'verification-initiated':
    case 'activation-initiated':
      return refuse(s, 'busy', effects);
    case 'verification-failed':
      return refuse(s, 'not-verified', effects);
    case 'activation-successful':
      return { ...prior, result: ActionResult.success };
    case 'initiated': {
      // Not verified yet: the meter verifies first (without the verification delay).
      const v = finishVerification(s, config);
      effects = [...effects, ...v.effects];
      if (v.result !== ActionResult.success) return { ...v, effects };
      s = v.state;
      break;
    }
    case 'verification-successful':
    case 'activation-failed':
      break;
  }
  if (config.activationDelayMs > 0) return refuse({ ...s, status: 'activation-initiated', dueAt: now + config.activationDelayMs }, 'busy', effects);
  const done = finishActivation(s, config);
  return { ...done, effects: [...effects, ...done.effects] };
}
