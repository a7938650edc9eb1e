/**
 * One slice of a meter's firmware update, inside one association (the caller holds the line):
 * from the meter's persisted campaign state it does what is next — confirm, poll, initiate
 * and send blocks, verify, activate — until done, until the meter needs time (verification,
 * activation) or until `keepGoing()` says the line is wanted (a more urgent waiter, or the
 * slice's share of line time is spent). The meter itself keeps the received blocks, so the
 * next slice resumes from image_first_not_transferred_block_number and the transferred-blocks
 * bit string.
 *
 * Never a block of another image: every slice that sends blocks calls image_transfer_initiate
 * with this image's identifier and size first — a meter holding a partial image with another
 * identifier starts over (IC 18), one holding this one keeps its blocks — and reads the block
 * to resume from only after that.
 */
import { ActionResult, actionResultName } from '../../protocol/apdu/results';
import type { Data } from '../../protocol/axdr/data';
import { bitStringToString } from '../../protocol/axdr/data';
import type { DlmsClient } from '../../protocol/client/client';
import { IMAGE_TRANSFER, ImageStatus } from '../../protocol/client/image-transfer';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import type { CampaignMeterState, KoReason } from '../../storage/firmware';
import { ACTIVE_FIRMWARE, LOGICAL_DEVICE_NAME, identityText } from '../jobs/meter-checks';
import { imageIdentifier, type Manifest } from './images';

export type SliceOutcome =
  | { readonly kind: 'ok'; readonly firmware: string; readonly transferred: boolean }
  /** Paused by keepGoing(): continue as soon as the line is back. */
  | { readonly kind: 'paused'; readonly state: CampaignMeterState }
  /** The meter works (verifying, activating): look again after a while. */
  | { readonly kind: 'pending'; readonly state: CampaignMeterState }
  /** Verified; activation waits for its time or a command. */
  | { readonly kind: 'ready' }
  | { readonly kind: 'ko'; readonly reason: KoReason; readonly detail: string };

export interface SliceInput {
  readonly state: CampaignMeterState;
  readonly manifest: Manifest;
  readonly image: Uint8Array;
  /** Activate in this slice once verified (policy now, or a scheduled time that has come). */
  readonly activate: boolean;
  /** Asked between requests: false pauses the slice. */
  readonly keepGoing: () => boolean;
  /** Persists each state change and the block progress. */
  readonly onProgress: (state: CampaignMeterState, blocksDone: number, blocksTotal: number) => void;
  /** The image payload of each image_block_transfer as it goes out (re-sent blocks too). */
  readonly onBlockSent?: (payloadBytes: number) => void;
  /** Called once, before the first block goes out (coherence baseline). */
  readonly beforeTransfer?: () => Promise<void>;
  /** The active firmware and logical device name the session read at association: not read again. */
  readonly identity?: FirmwareIdentity;
}

export interface FirmwareIdentity {
  readonly firmware: string | undefined;
  readonly model: string | undefined;
}

/** IC 18 attributes a slice needs before it decides: image_transfer_status, _enabled, image_block_size. */
interface TransferState {
  readonly status: number;
  readonly enabled: boolean;
  readonly blockSize: number;
}

const ref = (index: number) => ({ classId: 18, obis: IMAGE_TRANSFER, index });

function uint(d: Data, what: string): number {
  if ((d.type === 'uint32' || d.type === 'uint16' || d.type === 'uint8' || d.type === 'enum') && typeof d.value === 'number') return d.value;
  throw new DcuError(ErrorCode.DecodeBadValue, `image transfer ${what} is ${d.type}, expected an unsigned integer`);
}

async function readUint(client: DlmsClient, index: number, what: string): Promise<number> {
  return uint(await client.getValue(ref(index)), what);
}

async function action(client: DlmsClient, method: number, parameters: Data): Promise<ActionResult> {
  return (await client.action({ classId: 18, obis: IMAGE_TRANSFER, index: method }, parameters)).result;
}

const refusedBy = (what: string, r: ActionResult): SliceOutcome => ({ kind: 'ko', reason: 'refused', detail: `the meter refused ${what} (${actionResultName(r)})` });

/** The meter's active firmware identifier and logical device name. */
export async function readFirmwareIdentity(client: DlmsClient): Promise<FirmwareIdentity> {
  const [fw, name] = await client.getWithList([ACTIVE_FIRMWARE, LOGICAL_DEVICE_NAME].map((o) => ({ classId: 1, obis: o, index: 2 })));
  return { firmware: fw?.ok === true ? identityText(fw.data) : undefined, model: name?.ok === true ? identityText(name.data) : undefined };
}

/** Why this image must not go to a meter with this identity (model, current version), if so. */
export function targetProblem(m: Manifest, id: FirmwareIdentity): string | undefined {
  if (m.model !== undefined && !(id.model ?? '').startsWith(m.model)) return `image ${m.id} is for model ${m.model}; the meter is ${id.model ?? 'of an unknown model'} (logical device name)`;
  if (m.fromVersions !== undefined && !m.fromVersions.includes(id.firmware ?? '')) return `image ${m.id} replaces ${m.fromVersions.join(' or ')}; the meter runs ${id.firmware ?? 'an unknown version'}`;
  return undefined;
}

/** Status, enabled and block size in one round trip where the meter grants get-with-list. */
async function readTransferState(client: DlmsClient): Promise<TransferState> {
  const [status, enabled, blockSize] = await client.getWithList([ref(6), ref(5), ref(2)]);
  const value = (o: typeof status, what: string): Data => {
    if (o?.ok !== true) throw new DcuError(ErrorCode.MeterDataAccess, `image transfer ${what}: the meter refused the read (${o === undefined ? 'no result' : `data-access-result ${o.result}`})`);
    return o.data;
  };
  const e = value(enabled, 'enabled');
  return { status: uint(value(status, 'status'), 'status'), enabled: !(e.type === 'boolean' && !e.value), blockSize: uint(value(blockSize, 'block size'), 'block size') };
}

export async function runSlice(client: DlmsClient, s: SliceInput): Promise<SliceOutcome> {
  const m = s.manifest;
  const id = s.identity ?? (await readFirmwareIdentity(client));
  const late = s.state === 'activating' || s.state === 'confirming';
  if (id.firmware === m.version) return { kind: 'ok', firmware: m.version, transferred: late };
  if (!late) {
    const problem = targetProblem(m, id);
    if (problem !== undefined) return { kind: 'ko', reason: 'refused', detail: problem };
  }
  if (late) {
    const status = await readUint(client, 6, 'status');
    if (status === ImageStatus.activationInitiated) return { kind: 'pending', state: 'activating' };
    if (status === ImageStatus.activationFailed) return { kind: 'ko', reason: 'activation-failed', detail: `the meter reports activation failed; it still runs ${id.firmware ?? 'an unknown version'}` };
    return { kind: 'ko', reason: 'version-unchanged', detail: `activated, but the meter still runs ${id.firmware ?? 'an unknown version'} (expected ${m.version})` };
  }
  const ic18 = await readTransferState(client);
  const status = ic18.status;
  if (status === ImageStatus.verificationInitiated) return { kind: 'pending', state: 'verifying' };
  if (status === ImageStatus.activationInitiated) return { kind: 'pending', state: 'activating' };
  if (s.state === 'verifying' && status === ImageStatus.verificationFailed) return { kind: 'ko', reason: 'verify-failed', detail: 'the meter reports the image verification failed' };
  const ready = (s.state === 'verifying' || s.state === 'ready') && status === ImageStatus.verificationSuccessful;
  if (!ready) {
    const sent = await transferBlocks(client, s, ic18);
    if (sent !== undefined) return sent;
    if (!s.keepGoing()) return { kind: 'paused', state: 'transferring' };
    s.onProgress('verifying', -1, -1);
    const v = await action(client, 3, { type: 'int8', value: 0 });
    if (v === ActionResult.temporaryFailure) return { kind: 'pending', state: 'verifying' };
    if (v !== ActionResult.success) return { kind: 'ko', reason: 'verify-failed', detail: `the meter answered ${actionResultName(v)} to image_verify` };
  }
  s.onProgress('ready', -1, -1);
  if (!s.activate) return { kind: 'ready' };
  if (!s.keepGoing()) return { kind: 'paused', state: 'ready' };
  s.onProgress('activating', -1, -1);
  const a = await action(client, 4, { type: 'int8', value: 0 });
  if (a === ActionResult.temporaryFailure) return { kind: 'pending', state: 'activating' };
  if (a !== ActionResult.success) return { kind: 'ko', reason: 'activation-failed', detail: `the meter answered ${actionResultName(a)} to image_activate` };
  s.onProgress('confirming', -1, -1);
  const after = await readFirmwareIdentity(client);
  if (after.firmware === m.version) return { kind: 'ok', firmware: m.version, transferred: true };
  // A meter that restarts to activate answers with the new version on the next association.
  return { kind: 'pending', state: 'confirming' };
}

/** Initiate, then blocks from the first missing one and the gaps; undefined when all are in. */
async function transferBlocks(client: DlmsClient, s: SliceInput, ic18: TransferState): Promise<SliceOutcome | undefined> {
  if (!ic18.enabled) return { kind: 'ko', reason: 'refused', detail: 'image transfer is disabled on this meter (image_transfer_enabled = false)' };
  const blockSize = ic18.blockSize;
  if (blockSize <= 0) throw new DcuError(ErrorCode.DecodeBadValue, 'image block size 0: the meter cannot take an image');
  const size = s.image.length;
  const total = Math.ceil(size / blockSize);
  const identifier = new TextEncoder().encode(imageIdentifier(s.manifest));
  await s.beforeTransfer?.();
  const init = await action(client, 1, { type: 'structure', items: [{ type: 'octet-string', value: identifier }, { type: 'uint32', value: size }] });
  if (init === ActionResult.temporaryFailure) return { kind: 'pending', state: 'transferring' };
  if (init !== ActionResult.success) return refusedBy(`image ${s.manifest.id} at image_transfer_initiate`, init);
  let first = Math.min(await readUint(client, 4, 'first not transferred block'), total);
  s.onProgress('transferring', first, total);
  const send = async (n: number): Promise<SliceOutcome | undefined> => {
    const value = s.image.subarray(n * blockSize, Math.min(size, (n + 1) * blockSize));
    s.onBlockSent?.(value.length);
    const r = await action(client, 2, { type: 'structure', items: [{ type: 'uint32', value: n }, { type: 'octet-string', value }] });
    if (r === ActionResult.temporaryFailure) return { kind: 'pending', state: 'transferring' };
    if (r !== ActionResult.success) return refusedBy(`block ${n}`, r);
    return undefined;
  };
  let sinceSaved = 0;
  for (; first < total; first++) {
    if (!s.keepGoing()) {
      s.onProgress('transferring', first, total);
      return { kind: 'paused', state: 'transferring' };
    }
    const bad = await send(first);
    if (bad !== undefined) return bad;
    if (++sinceSaved >= 16) {
      s.onProgress('transferring', first + 1, total);
      sinceSaved = 0;
    }
  }
  const bits = await client.get(ref(3));
  if (bits.ok && bits.data.type === 'bit-string') {
    const text = bitStringToString(bits.data);
    for (let n = 0; n < total; n++) {
      if (text[n] === '1') continue;
      if (!s.keepGoing()) return { kind: 'paused', state: 'transferring' };
      const bad = await send(n);
      if (bad !== undefined) return bad;
      // Progress unchanged; persists what was counted (bytes) as often as the first pass does.
      if (++sinceSaved >= 16) {
        s.onProgress('transferring', -1, -1);
        sinceSaved = 0;
      }
    }
  }
  s.onProgress('transferring', total, total);
  return undefined;
}
