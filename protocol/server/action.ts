/**
 * ACTION service: normal, with-list, parameters in pblocks (with-first-pblock, with-pblock;
 * each block but the last is acknowledged with next-pblock and its number) and return
 * parameters in pblocks when the answer is too long (the client asks for each with
 * next-pblock carrying the last block's number).
 *
 * raw-data of pblocks carries the encoded Data of the parameters (request) or of the return
 * parameters (response), the result being success.
 */
import { decodeData, encodeData } from '../axdr/codec';
import type { Data } from '../axdr/data';
import type { ActionOutcome as WireOutcome, ActionRequest, ActionResponse } from '../apdu/action';
import type { DataBlock } from '../apdu/datablock';
import type { MethodDescriptor } from '../apdu/descriptors';
import type { ExceptionResponse } from '../apdu/errors';
import type { InvokeIdAndPriority } from '../apdu/invoke';
import { ActionResult } from '../apdu/results';
import { checkMethodParameter, getClass } from '../cosem/classes';
import { methodExists } from './access';
import { ACTION_BLOCK_HEADER, acceptBlock, nextBlock, startIncoming, startOutgoing } from './blocks';
import { NOT_NEGOTIATED, type ServiceContext, granted } from './service-context';

function preCheck(s: ServiceContext, m: MethodDescriptor): ActionResult {
  const object = s.find(m.classId, m.instanceId);
  if (object === undefined || !methodExists(object, m.methodId)) return ActionResult.objectUndefined;
  if (!s.association.client.access.method(object, m.methodId)) return ActionResult.readWriteDenied;
  return ActionResult.success;
}

/** One method invocation with all checks; never throws. */
export function invokeMethod(s: ServiceContext, m: MethodDescriptor, parameters: Data | undefined): WireOutcome {
  const pre = preCheck(s, m);
  if (pre !== ActionResult.success) return { result: pre };
  const object = s.find(m.classId, m.instanceId);
  if (object === undefined) return { result: ActionResult.objectUndefined };
  try {
    if (parameters !== undefined && getClass(object.classId, object.version) !== undefined && !checkMethodParameter(object.classId, m.methodId, parameters, object.version).ok) {
      return { result: ActionResult.typeUnmatched };
    }
    const out = object.action(m.methodId, parameters, s.request);
    return out.returnValue === undefined ? { result: out.result } : { result: out.result, returnParameters: { kind: 'data', data: out.returnValue } };
  } catch {
    return { result: ActionResult.hardwareFault };
  }
}

/** Normal answer, or the first with-pblock of long return parameters. */
function answer(s: ServiceContext, invoke: InvokeIdAndPriority, outcome: WireOutcome): ActionResponse {
  const rp = outcome.returnParameters;
  if (rp?.kind !== 'data') return { type: 'action-response', kind: 'normal', invoke, outcome };
  const raw = encodeData(rp.data);
  // C7 01 iid result 01 00 Data
  if (6 + raw.length <= s.association.maxSendPduSize) return { type: 'action-response', kind: 'normal', invoke, outcome };
  if (!granted(s, 'block-transfer-with-action')) return { type: 'action-response', kind: 'normal', invoke, outcome: { result: ActionResult.otherReason } };
  s.state.longActionOut = startOutgoing(invoke, raw);
  return pblockOut(s, invoke);
}

function pblockOut(s: ServiceContext, invoke: InvokeIdAndPriority): ActionResponse {
  const long = s.state.longActionOut;
  if (long === undefined) return { type: 'action-response', kind: 'normal', invoke, outcome: { result: ActionResult.noLongActionInProgress } };
  const b = nextBlock(long, s.association.maxSendPduSize, ACTION_BLOCK_HEADER);
  if (b.lastBlock) delete s.state.longActionOut;
  return { type: 'action-response', kind: 'with-pblock', invoke, block: b };
}

const fail = (invoke: InvokeIdAndPriority, result: ActionResult): ActionResponse => ({ type: 'action-response', kind: 'normal', invoke, outcome: { result } });

function complete(s: ServiceContext, invoke: InvokeIdAndPriority, method: MethodDescriptor, raw: Uint8Array): ActionResponse {
  let parameters: Data;
  try {
    parameters = decodeData(raw);
  } catch {
    return fail(invoke, ActionResult.typeUnmatched);
  }
  return answer(s, invoke, invokeMethod(s, method, parameters));
}

function firstPblock(s: ServiceContext, invoke: InvokeIdAndPriority, method: MethodDescriptor, block: DataBlock): ActionResponse {
  const pre = preCheck(s, method);
  if (pre !== ActionResult.success) return fail(invoke, pre);
  const inc = startIncoming({ kind: 'action', method });
  const r = acceptBlock(inc, block.blockNumber, block.raw, block.lastBlock, s.maxReassembledBytes);
  if (!r.ok) return fail(invoke, r.reason === 'too-long' ? ActionResult.longActionAborted : ActionResult.dataBlockUnavailable);
  if (r.complete !== undefined) return complete(s, invoke, method, r.complete);
  s.state.longActionIn = inc;
  return { type: 'action-response', kind: 'next-pblock', invoke, blockNumber: block.blockNumber };
}

export function handleAction(req: ActionRequest, s: ServiceContext): ActionResponse | ExceptionResponse {
  if (!granted(s, 'action')) return NOT_NEGOTIATED;
  const invoke = req.invoke;
  const blocks = granted(s, 'block-transfer-with-action');
  if (req.kind !== 'with-pblock') delete s.state.longActionIn;
  if (req.kind !== 'next-pblock') delete s.state.longActionOut;
  switch (req.kind) {
    case 'normal':
      return answer(s, invoke, invokeMethod(s, req.method, req.parameters));
    case 'with-list': {
      if (!granted(s, 'multiple-references')) return NOT_NEGOTIATED;
      const outcomes = req.methods.map((m, i) => invokeMethod(s, m, req.parameters[i]));
      return { type: 'action-response', kind: 'with-list', invoke, outcomes };
    }
    case 'with-first-pblock':
      if (!blocks) return NOT_NEGOTIATED;
      return firstPblock(s, invoke, req.method, req.block);
    case 'with-pblock': {
      const inc = s.state.longActionIn;
      if (inc?.target.kind !== 'action') return fail(invoke, ActionResult.noLongActionInProgress);
      const r = acceptBlock(inc, req.block.blockNumber, req.block.raw, req.block.lastBlock, s.maxReassembledBytes);
      if (!r.ok) {
        delete s.state.longActionIn;
        return fail(invoke, r.reason === 'too-long' ? ActionResult.longActionAborted : ActionResult.dataBlockUnavailable);
      }
      if (r.complete === undefined) return { type: 'action-response', kind: 'next-pblock', invoke, blockNumber: req.block.blockNumber };
      delete s.state.longActionIn;
      return complete(s, invoke, inc.target.method, r.complete);
    }
    case 'next-pblock': {
      const long = s.state.longActionOut;
      if (long === undefined) return fail(invoke, ActionResult.noLongActionInProgress);
      if (req.blockNumber !== long.lastBlock) {
        delete s.state.longActionOut;
        return fail(invoke, ActionResult.dataBlockUnavailable);
      }
      return pblockOut(s, invoke);
    }
    case 'with-list-and-first-pblock':
      // Lists of long parameters are rare; refuse rather than guess the raw-data layout.
      return NOT_NEGOTIATED;
  }
}
