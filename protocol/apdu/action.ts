import type { ByteReader, ByteWriter } from '../common/bytes';
import { readData, writeData } from '../axdr/codec';
import type { Data } from '../axdr/data';
import { type DataBlock, readBlockNumber, readDataBlock, writeBlockNumber, writeDataBlock } from './datablock';
import { type MethodDescriptor, readMethodDescriptor, writeMethodDescriptor } from './descriptors';
import { badTag, expectApduTag, readOptional, readSequence, writeOptional, writeSequence } from './fields';
import { type InvokeIdAndPriority, readInvoke, writeInvoke } from './invoke';
import { type ActionResult, type GetDataResult, readActionResult, readGetDataResult, writeGetDataResult } from './results';

export const ACTION_REQUEST = 0xc3;
export const ACTION_RESPONSE = 0xc7;

interface ActionBase {
  readonly type: 'action-request';
  readonly invoke: InvokeIdAndPriority;
}

export type ActionRequest =
  | (ActionBase & { readonly kind: 'normal'; readonly method: MethodDescriptor; readonly parameters?: Data })
  | (ActionBase & { readonly kind: 'next-pblock'; readonly blockNumber: number })
  | (ActionBase & { readonly kind: 'with-list'; readonly methods: readonly MethodDescriptor[]; readonly parameters: readonly Data[] })
  | (ActionBase & { readonly kind: 'with-first-pblock'; readonly method: MethodDescriptor; readonly block: DataBlock })
  | (ActionBase & { readonly kind: 'with-list-and-first-pblock'; readonly methods: readonly MethodDescriptor[]; readonly block: DataBlock })
  | (ActionBase & { readonly kind: 'with-pblock'; readonly block: DataBlock });

/** Action-Response-With-Optional-Data: result and, optionally, return parameters. */
export interface ActionOutcome {
  readonly result: ActionResult;
  readonly returnParameters?: GetDataResult;
}

interface ActionRespBase {
  readonly type: 'action-response';
  readonly invoke: InvokeIdAndPriority;
}

export type ActionResponse =
  | (ActionRespBase & { readonly kind: 'normal'; readonly outcome: ActionOutcome })
  | (ActionRespBase & { readonly kind: 'with-pblock'; readonly block: DataBlock })
  | (ActionRespBase & { readonly kind: 'with-list'; readonly outcomes: readonly ActionOutcome[] })
  | (ActionRespBase & { readonly kind: 'next-pblock'; readonly blockNumber: number });

const REQUEST_CHOICE = {
  normal: 1,
  'next-pblock': 2,
  'with-list': 3,
  'with-first-pblock': 4,
  'with-list-and-first-pblock': 5,
  'with-pblock': 6,
} as const;
const RESPONSE_CHOICE = { normal: 1, 'with-pblock': 2, 'with-list': 3, 'next-pblock': 4 } as const;

export function readActionRequest(r: ByteReader): ActionRequest {
  expectApduTag(r, ACTION_REQUEST, 'action-request');
  const at = r.baseOffset + r.offset;
  const choice = r.u8('Action-Request choice');
  const invoke = readInvoke(r);
  const base = { type: 'action-request', invoke } as const;
  switch (choice) {
    case 1: {
      const method = readMethodDescriptor(r);
      const parameters = readOptional(r, 'method invocation parameters', (rr) => readData(rr));
      return parameters === undefined ? { ...base, kind: 'normal', method } : { ...base, kind: 'normal', method, parameters };
    }
    case 2:
      return { ...base, kind: 'next-pblock', blockNumber: readBlockNumber(r) };
    case 3: {
      const methods = readSequence(r, 'method list', readMethodDescriptor);
      return { ...base, kind: 'with-list', methods, parameters: readSequence(r, 'parameter list', (rr) => readData(rr)) };
    }
    case 4: {
      const method = readMethodDescriptor(r);
      return { ...base, kind: 'with-first-pblock', method, block: readDataBlock(r) };
    }
    case 5: {
      const methods = readSequence(r, 'method list', readMethodDescriptor);
      return { ...base, kind: 'with-list-and-first-pblock', methods, block: readDataBlock(r) };
    }
    case 6:
      return { ...base, kind: 'with-pblock', block: readDataBlock(r) };
    default:
      throw badTag(at, choice, 'Action-Request choice');
  }
}

export function writeActionRequest(w: ByteWriter, a: ActionRequest): void {
  w.u8(ACTION_REQUEST).u8(REQUEST_CHOICE[a.kind]);
  writeInvoke(w, a.invoke);
  switch (a.kind) {
    case 'normal':
      writeMethodDescriptor(w, a.method);
      writeOptional(w, a.parameters, writeData);
      return;
    case 'next-pblock':
      writeBlockNumber(w, a.blockNumber);
      return;
    case 'with-list':
      writeSequence(w, a.methods, writeMethodDescriptor);
      writeSequence(w, a.parameters, writeData);
      return;
    case 'with-first-pblock':
      writeMethodDescriptor(w, a.method);
      writeDataBlock(w, a.block);
      return;
    case 'with-list-and-first-pblock':
      writeSequence(w, a.methods, writeMethodDescriptor);
      writeDataBlock(w, a.block);
      return;
    case 'with-pblock':
      writeDataBlock(w, a.block);
      return;
  }
}

function readOutcome(r: ByteReader): ActionOutcome {
  const result = readActionResult(r);
  const returnParameters = readOptional(r, 'return parameters', readGetDataResult);
  return returnParameters === undefined ? { result } : { result, returnParameters };
}

function writeOutcome(w: ByteWriter, o: ActionOutcome): void {
  w.u8(o.result);
  writeOptional(w, o.returnParameters, writeGetDataResult);
}

export function readActionResponse(r: ByteReader): ActionResponse {
  expectApduTag(r, ACTION_RESPONSE, 'action-response');
  const at = r.baseOffset + r.offset;
  const choice = r.u8('Action-Response choice');
  const invoke = readInvoke(r);
  const base = { type: 'action-response', invoke } as const;
  switch (choice) {
    case 1:
      return { ...base, kind: 'normal', outcome: readOutcome(r) };
    case 2:
      return { ...base, kind: 'with-pblock', block: readDataBlock(r) };
    case 3:
      return { ...base, kind: 'with-list', outcomes: readSequence(r, 'action result list', readOutcome) };
    case 4:
      return { ...base, kind: 'next-pblock', blockNumber: readBlockNumber(r) };
    default:
      throw badTag(at, choice, 'Action-Response choice');
  }
}

export function writeActionResponse(w: ByteWriter, a: ActionResponse): void {
  w.u8(ACTION_RESPONSE).u8(RESPONSE_CHOICE[a.kind]);
  writeInvoke(w, a.invoke);
  switch (a.kind) {
    case 'normal':
      writeOutcome(w, a.outcome);
      return;
    case 'with-pblock':
      writeDataBlock(w, a.block);
      return;
    case 'with-list':
      writeSequence(w, a.outcomes, writeOutcome);
      return;
    case 'next-pblock':
      writeBlockNumber(w, a.blockNumber);
      return;
  }
}
