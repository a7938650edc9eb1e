/**
 * What a GET or an ACTION gives back to the caller, and the small conversions between the
 * client's CosemRef and the APDU descriptors / results.
 */
import type { AttributeDescriptor, MethodDescriptor } from '../apdu/descriptors';
import { readSequence } from '../apdu/fields';
import { readGetDataResult, type ActionResult, type DataAccessResult, type GetDataResult } from '../apdu/results';
import type { Data } from '../axdr/data';
import { ByteReader } from '../common/bytes';
import type { CosemRef } from '../cosem/classes';
import { obisToBytes } from '../cosem/obis';

/** A meter's answer to a read: the value, or its DataAccessResult (a result, not an exception). */
export type GetOutcome = { ok: true; data: Data } | { ok: false; result: DataAccessResult };

export interface ActionOutcome {
  result: ActionResult;
  returnValue?: GetOutcome;
}

export function toGetOutcome(r: GetDataResult): GetOutcome {
  return r.kind === 'data' ? { ok: true, data: r.data } : { ok: false, result: r.error };
}

/** The raw data of a list answer sent in blocks: SEQUENCE OF Get-Data-Result. */
export function decodeGetDataResults(raw: Uint8Array): GetDataResult[] {
  const r = new ByteReader(raw);
  const results = readSequence(r, 'GET with list results', readGetDataResult);
  r.expectEnd('GET with list results');
  return results;
}

export function attributeDescriptor(ref: CosemRef): AttributeDescriptor {
  return { classId: ref.classId, instanceId: obisToBytes(ref.obis), attributeId: ref.index };
}

export function methodDescriptor(ref: CosemRef): MethodDescriptor {
  return { classId: ref.classId, instanceId: obisToBytes(ref.obis), methodId: ref.index };
}
