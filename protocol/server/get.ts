/**
 * GET service (normal, with-list, next) with block transfer of long answers.
 *
 * - An answer whose APDU would exceed the association's max send size goes out as
 *   with-datablock blocks (raw-data = the encoded Data, or for with-list the encoded
 *   SEQUENCE OF Get-Data-Result); get-request-next with the last block's number continues.
 * - Next with another number ends the long get: data-block-number-invalid (19); next
 *   without a long get: no-long-get-in-progress (16). Any other request abandons a long get.
 * - Without block transfer negotiated, a too-long answer is other-reason (250).
 * - Selective access without 'selective-access' negotiated is other-reason too.
 */
import { ByteWriter } from '../common/bytes';
import { encodeData } from '../axdr/codec';
import type { AccessSelection, AttributeDescriptor } from '../apdu/descriptors';
import { writeSequence } from '../apdu/fields';
import type { GetRequest, GetResponse } from '../apdu/get';
import type { InvokeIdAndPriority } from '../apdu/invoke';
import { DataAccessResult, type GetDataResult, writeGetDataResult } from '../apdu/results';
import type { ExceptionResponse } from '../apdu/errors';
import { obisToData } from '../cosem/obis';
import { attributeExists, canReadMode } from './access';
import { GET_BLOCK_HEADER, nextBlock, startOutgoing } from './blocks';
import { NOT_NEGOTIATED, type ServiceContext, granted } from './service-context';

const err = (error: DataAccessResult): GetDataResult => ({ kind: 'error', error });

/** One attribute read with all checks; never throws. */
export function readAttribute(s: ServiceContext, d: AttributeDescriptor, access: AccessSelection | undefined): GetDataResult {
  const object = s.find(d.classId, d.instanceId);
  if (object === undefined || !attributeExists(object, d.attributeId)) return err(DataAccessResult.objectUndefined);
  if (!canReadMode(s.association.client.access.attribute(object, d.attributeId))) return err(DataAccessResult.readWriteDenied);
  if (access !== undefined && !granted(s, 'selective-access')) return err(DataAccessResult.otherReason);
  if (d.attributeId === 1) return { kind: 'data', data: obisToData(object.obis) };
  try {
    const out = object.get(d.attributeId, s.request, access);
    return out.ok ? { kind: 'data', data: out.data } : err(out.result);
  } catch {
    return err(DataAccessResult.hardwareFault);
  }
}

function firstBlock(s: ServiceContext, invoke: InvokeIdAndPriority, raw: Uint8Array): GetResponse {
  const long = startOutgoing(invoke, raw);
  s.state.longGet = long;
  return blockResponse(s, invoke);
}

function blockResponse(s: ServiceContext, invoke: InvokeIdAndPriority): GetResponse {
  const long = s.state.longGet;
  if (long === undefined) {
    return { type: 'get-response', kind: 'with-datablock', invoke, lastBlock: true, blockNumber: 0, result: { kind: 'error', error: DataAccessResult.noLongGetInProgress } };
  }
  const b = nextBlock(long, s.association.maxSendPduSize, GET_BLOCK_HEADER);
  if (b.lastBlock) delete s.state.longGet;
  return { type: 'get-response', kind: 'with-datablock', invoke, lastBlock: b.lastBlock, blockNumber: b.blockNumber, result: { kind: 'raw', raw: b.raw } };
}

/** Size of a Get-Response-Normal carrying data: C4 01 iid 00 Data. */
const normalSize = (encoded: Uint8Array): number => 4 + encoded.length;

export function handleGet(req: GetRequest, s: ServiceContext): GetResponse | ExceptionResponse {
  if (!granted(s, 'get')) return NOT_NEGOTIATED;
  const invoke = req.invoke;
  switch (req.kind) {
    case 'normal': {
      delete s.state.longGet;
      const result = readAttribute(s, req.attribute, req.access);
      if (result.kind === 'error') return { type: 'get-response', kind: 'normal', invoke, result };
      const encoded = encodeData(result.data);
      if (normalSize(encoded) <= s.association.maxSendPduSize) return { type: 'get-response', kind: 'normal', invoke, result };
      if (!granted(s, 'block-transfer-with-get-or-read')) return { type: 'get-response', kind: 'normal', invoke, result: err(DataAccessResult.otherReason) };
      return firstBlock(s, invoke, encoded);
    }
    case 'with-list': {
      delete s.state.longGet;
      if (!granted(s, 'multiple-references')) return NOT_NEGOTIATED;
      const results = req.attributes.map((a) => readAttribute(s, a.attribute, a.access));
      const w = new ByteWriter(256);
      writeSequence(w, results, writeGetDataResult);
      const raw = w.finish();
      if (3 + raw.length <= s.association.maxSendPduSize) return { type: 'get-response', kind: 'with-list', invoke, results };
      if (!granted(s, 'block-transfer-with-get-or-read')) {
        return { type: 'get-response', kind: 'with-list', invoke, results: results.map((r) => (r.kind === 'data' ? err(DataAccessResult.otherReason) : r)) };
      }
      return firstBlock(s, invoke, raw);
    }
    case 'next': {
      const long = s.state.longGet;
      if (long === undefined) {
        return { type: 'get-response', kind: 'with-datablock', invoke, lastBlock: true, blockNumber: req.blockNumber, result: { kind: 'error', error: DataAccessResult.noLongGetInProgress } };
      }
      if (req.blockNumber !== long.lastBlock) {
        delete s.state.longGet;
        return { type: 'get-response', kind: 'with-datablock', invoke, lastBlock: true, blockNumber: req.blockNumber, result: { kind: 'error', error: DataAccessResult.dataBlockNumberInvalid } };
      }
      return blockResponse(s, invoke);
    }
  }
}
