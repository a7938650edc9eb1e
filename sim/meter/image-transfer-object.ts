/** Image transfer (IC 18 v0) as a ServerObject over the meter's image state machine. */
import { ActionResult, DataAccessResult } from '../../protocol/apdu/results';
import type { Data } from '../../protocol/axdr/data';
import type { Obis } from '../../protocol/cosem/obis';
import type { ActionOutcome, GetOutcome, ServerObject } from '../../protocol/server/object';
import type { MeterCore } from './core';
import { IMAGE_STATUS_CODE, blockCount, firstMissingBlock, type ImageTransferState } from './image-transfer';

const SHOWS_IMAGE_INFO: ReadonlySet<string> = new Set(['verification-successful', 'activation-initiated', 'activation-successful', 'activation-failed']);

function transferredBlocks(s: ImageTransferState): Data {
  const n = blockCount(s);
  return { type: 'bit-string', length: n, value: s.received.slice(0, Math.ceil(n / 8)) };
}

function imageToActivateInfo(s: ImageTransferState): Data {
  if (!SHOWS_IMAGE_INFO.has(s.status)) return { type: 'array', items: [] };
  return {
    type: 'array',
    items: [
      {
        type: 'structure',
        items: [
          { type: 'uint32', value: s.size },
          { type: 'octet-string', value: s.identifier },
          { type: 'octet-string', value: s.signature ?? new Uint8Array(0) },
        ],
      },
    ],
  };
}

export class ImageTransferObject implements ServerObject {
  readonly classId = 18;
  readonly version = 0;

  constructor(
    readonly obis: Obis,
    private readonly core: MeterCore,
  ) {}

  get(attribute: number): GetOutcome {
    const s = this.core.imageState();
    const ok = (data: Data): GetOutcome => ({ ok: true, data });
    switch (attribute) {
      case 2:
        return ok({ type: 'uint32', value: s.blockSize });
      case 3:
        return ok(transferredBlocks(s));
      case 4:
        return ok({ type: 'uint32', value: firstMissingBlock(s) });
      case 5:
        return ok({ type: 'boolean', value: s.enabled });
      case 6:
        return ok({ type: 'enum', value: IMAGE_STATUS_CODE[s.status] });
      case 7:
        return ok(imageToActivateInfo(s));
      default:
        return { ok: false, result: DataAccessResult.objectUndefined };
    }
  }

  set(attribute: number, value: Data): DataAccessResult {
    if (attribute !== 5 || value.type !== 'boolean') return DataAccessResult.readWriteDenied;
    this.core.imageStep({ type: 'enable', enabled: value.value });
    return DataAccessResult.success;
  }

  action(method: number, parameters: Data | undefined): ActionOutcome {
    const now = this.core.clock.now();
    switch (method) {
      case 1: {
        const [id, size] = parameters?.type === 'structure' ? parameters.items : [];
        if (id?.type !== 'octet-string' || size?.type !== 'uint32') return { result: ActionResult.typeUnmatched };
        return { result: this.core.imageStep({ type: 'initiate', identifier: id.value, size: size.value }).result };
      }
      case 2: {
        const [n, value] = parameters?.type === 'structure' ? parameters.items : [];
        if (n?.type !== 'uint32' || value?.type !== 'octet-string') return { result: ActionResult.typeUnmatched };
        return { result: this.core.imageStep({ type: 'block', number: n.value, value: value.value }).result };
      }
      case 3:
        return { result: this.core.imageStep({ type: 'verify', now }).result };
      case 4:
        return { result: this.core.imageStep({ type: 'activate', now }).result };
      default:
        return { result: ActionResult.objectUndefined };
    }
  }
}
