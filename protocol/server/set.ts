/**
 * SET service: normal, with-list, and block transfer of long values (with-first-datablock,
 * with-datablock, with-list-and-first-datablock). Each block but the last is acknowledged
 * with its number; the last one is answered with the result(s).
 *
 * Checks in order: object and attribute exist (object-undefined), the client may write
 * (read-write-denied; logical_name never), the value fits the class table (type-unmatched),
 * then the object decides.
 */
import { ByteReader } from '../common/bytes';
import { decodeData, readData } from '../axdr/codec';
import type { Data } from '../axdr/data';
import type { AccessSelection, AttributeDescriptor } from '../apdu/descriptors';
import type { DataBlock } from '../apdu/datablock';
import type { ExceptionResponse } from '../apdu/errors';
import { readSequence } from '../apdu/fields';
import type { InvokeIdAndPriority } from '../apdu/invoke';
import { DataAccessResult } from '../apdu/results';
import type { SetRequest, SetResponse } from '../apdu/set';
import { checkAttributeValue, getClass } from '../cosem/classes';
import { attributeExists, canWriteMode } from './access';
import { acceptBlock, startIncoming } from './blocks';
import { NOT_NEGOTIATED, type ServiceContext, granted } from './service-context';
import type { IncomingTarget } from './state';

/** Checks that do not need the value (also run on the first block of a long set). */
function preCheck(s: ServiceContext, d: AttributeDescriptor): DataAccessResult {
  const object = s.find(d.classId, d.instanceId);
  if (object === undefined || !attributeExists(object, d.attributeId)) return DataAccessResult.objectUndefined;
  if (d.attributeId === 1 || !canWriteMode(s.association.client.access.attribute(object, d.attributeId))) return DataAccessResult.readWriteDenied;
  return DataAccessResult.success;
}

/** One attribute write with all checks; never throws. */
export function writeAttribute(s: ServiceContext, d: AttributeDescriptor, value: Data): DataAccessResult {
  const pre = preCheck(s, d);
  if (pre !== DataAccessResult.success) return pre;
  const object = s.find(d.classId, d.instanceId);
  if (object === undefined) return DataAccessResult.objectUndefined;
  try {
    if (getClass(object.classId, object.version) !== undefined && !checkAttributeValue(object.classId, d.attributeId, value, object.version).ok) {
      return DataAccessResult.typeUnmatched;
    }
    return object.set(d.attributeId, value, s.request);
  } catch {
    return DataAccessResult.hardwareFault;
  }
}

type Item = { readonly attribute: AttributeDescriptor; readonly access?: AccessSelection };

function writeList(s: ServiceContext, items: readonly Item[], values: readonly Data[]): DataAccessResult[] {
  return items.map((it, i) => {
    const v = values[i];
    return v === undefined ? DataAccessResult.otherReason : writeAttribute(s, it.attribute, v);
  });
}

function lastError(invoke: InvokeIdAndPriority, blockNumber: number, result: DataAccessResult): SetResponse {
  return { type: 'set-response', kind: 'last-datablock', invoke, result, blockNumber };
}

/** Completes a long set with the reassembled raw data. */
function finish(s: ServiceContext, invoke: InvokeIdAndPriority, target: IncomingTarget, raw: Uint8Array, blockNumber: number): SetResponse {
  if (target.kind === 'set-list') {
    let values: Data[];
    try {
      const r = new ByteReader(raw);
      values = readSequence(r, 'value list', (rr) => readData(rr));
      r.expectEnd('value list');
    } catch {
      return { type: 'set-response', kind: 'last-datablock-with-list', invoke, results: target.attributes.map(() => DataAccessResult.typeUnmatched), blockNumber };
    }
    return { type: 'set-response', kind: 'last-datablock-with-list', invoke, results: writeList(s, target.attributes, values), blockNumber };
  }
  if (target.kind !== 'set') return lastError(invoke, blockNumber, DataAccessResult.otherReason);
  let value: Data;
  try {
    value = decodeData(raw);
  } catch {
    return lastError(invoke, blockNumber, DataAccessResult.typeUnmatched);
  }
  return lastError(invoke, blockNumber, writeAttribute(s, target.attribute, value));
}

function begin(s: ServiceContext, invoke: InvokeIdAndPriority, target: IncomingTarget, block: DataBlock): SetResponse {
  const inc = startIncoming(target);
  const r = acceptBlock(inc, block.blockNumber, block.raw, block.lastBlock, s.maxReassembledBytes);
  if (!r.ok) return lastError(invoke, block.blockNumber, r.reason === 'too-long' ? DataAccessResult.longSetAborted : DataAccessResult.dataBlockNumberInvalid);
  if (r.complete !== undefined) return finish(s, invoke, target, r.complete, block.blockNumber);
  s.state.longSet = inc;
  return { type: 'set-response', kind: 'datablock', invoke, blockNumber: block.blockNumber };
}

export function handleSet(req: SetRequest, s: ServiceContext): SetResponse | ExceptionResponse {
  if (!granted(s, 'set')) return NOT_NEGOTIATED;
  const invoke = req.invoke;
  const blocks = granted(s, 'block-transfer-with-set-or-write');
  if (req.kind !== 'with-datablock') delete s.state.longSet;
  switch (req.kind) {
    case 'normal':
      return { type: 'set-response', kind: 'normal', invoke, result: writeAttribute(s, req.attribute, req.value) };
    case 'with-list':
      if (!granted(s, 'multiple-references')) return NOT_NEGOTIATED;
      return { type: 'set-response', kind: 'with-list', invoke, results: writeList(s, req.attributes, req.values) };
    case 'with-first-datablock': {
      if (!blocks) return NOT_NEGOTIATED;
      const pre = preCheck(s, req.attribute);
      if (pre !== DataAccessResult.success) return lastError(invoke, req.block.blockNumber, pre);
      const target: IncomingTarget = req.access === undefined ? { kind: 'set', attribute: req.attribute } : { kind: 'set', attribute: req.attribute, access: req.access };
      return begin(s, invoke, target, req.block);
    }
    case 'with-list-and-first-datablock':
      if (!blocks || !granted(s, 'multiple-references')) return NOT_NEGOTIATED;
      return begin(s, invoke, { kind: 'set-list', attributes: req.attributes }, req.block);
    case 'with-datablock': {
      const inc = s.state.longSet;
      if (inc === undefined) return lastError(invoke, req.block.blockNumber, DataAccessResult.noLongSetInProgress);
      const r = acceptBlock(inc, req.block.blockNumber, req.block.raw, req.block.lastBlock, s.maxReassembledBytes);
      if (!r.ok) {
        delete s.state.longSet;
        return lastError(invoke, req.block.blockNumber, r.reason === 'too-long' ? DataAccessResult.longSetAborted : DataAccessResult.dataBlockNumberInvalid);
      }
      if (r.complete === undefined) return { type: 'set-response', kind: 'datablock', invoke, blockNumber: req.block.blockNumber };
      delete s.state.longSet;
      return finish(s, invoke, inc.target, r.complete, req.block.blockNumber);
    }
  }
}
