import type { ByteReader, ByteWriter } from '../common/bytes';
import { readData, writeData } from '../axdr/codec';
import type { Data } from '../axdr/data';
import { type DataBlock, readBlockNumber, readDataBlock, writeBlockNumber, writeDataBlock } from './datablock';
import {
  type AccessSelection,
  type AttributeDescriptor,
  type AttributeWithSelection,
  readAttributeWithSelection,
  writeAttributeWithSelection,
} from './descriptors';
import { badTag, expectApduTag, readSequence, writeSequence } from './fields';
import { type InvokeIdAndPriority, readInvoke, writeInvoke } from './invoke';
import { type DataAccessResult, readDataAccessResult, writeDataAccessResult } from './results';

export const SET_REQUEST = 0xc1;
export const SET_RESPONSE = 0xc5;

interface SetBase {
  readonly type: 'set-request';
  readonly invoke: InvokeIdAndPriority;
}

export type SetRequest =
  | (SetBase & { readonly kind: 'normal'; readonly attribute: AttributeDescriptor; readonly access?: AccessSelection; readonly value: Data })
  | (SetBase & {
      readonly kind: 'with-first-datablock';
      readonly attribute: AttributeDescriptor;
      readonly access?: AccessSelection;
      readonly block: DataBlock;
    })
  | (SetBase & { readonly kind: 'with-datablock'; readonly block: DataBlock })
  | (SetBase & { readonly kind: 'with-list'; readonly attributes: readonly AttributeWithSelection[]; readonly values: readonly Data[] })
  | (SetBase & { readonly kind: 'with-list-and-first-datablock'; readonly attributes: readonly AttributeWithSelection[]; readonly block: DataBlock });

interface SetRespBase {
  readonly type: 'set-response';
  readonly invoke: InvokeIdAndPriority;
}

export type SetResponse =
  | (SetRespBase & { readonly kind: 'normal'; readonly result: DataAccessResult })
  | (SetRespBase & { readonly kind: 'datablock'; readonly blockNumber: number })
  | (SetRespBase & { readonly kind: 'last-datablock'; readonly result: DataAccessResult; readonly blockNumber: number })
  | (SetRespBase & { readonly kind: 'last-datablock-with-list'; readonly results: readonly DataAccessResult[]; readonly blockNumber: number })
  | (SetRespBase & { readonly kind: 'with-list'; readonly results: readonly DataAccessResult[] });

const SET_REQUEST_CHOICE = { normal: 1, 'with-first-datablock': 2, 'with-datablock': 3, 'with-list': 4, 'with-list-and-first-datablock': 5 } as const;
const SET_RESPONSE_CHOICE = { normal: 1, datablock: 2, 'last-datablock': 3, 'last-datablock-with-list': 4, 'with-list': 5 } as const;

export function readSetRequest(r: ByteReader): SetRequest {
  expectApduTag(r, SET_REQUEST, 'set-request');
  const at = r.baseOffset + r.offset;
  const choice = r.u8('Set-Request choice');
  const invoke = readInvoke(r);
  const base = { type: 'set-request', invoke } as const;
  switch (choice) {
    case 1: {
      const { attribute, access } = readAttributeWithSelection(r);
      const value = readData(r);
      return access === undefined ? { ...base, kind: 'normal', attribute, value } : { ...base, kind: 'normal', attribute, access, value };
    }
    case 2: {
      const { attribute, access } = readAttributeWithSelection(r);
      const block = readDataBlock(r);
      return access === undefined
        ? { ...base, kind: 'with-first-datablock', attribute, block }
        : { ...base, kind: 'with-first-datablock', attribute, access, block };
    }
    case 3:
      return { ...base, kind: 'with-datablock', block: readDataBlock(r) };
    case 4: {
      const attributes = readSequence(r, 'attribute list', readAttributeWithSelection);
      return { ...base, kind: 'with-list', attributes, values: readSequence(r, 'value list', (rr) => readData(rr)) };
    }
    case 5: {
      const attributes = readSequence(r, 'attribute list', readAttributeWithSelection);
      return { ...base, kind: 'with-list-and-first-datablock', attributes, block: readDataBlock(r) };
    }
    default:
      throw badTag(at, choice, 'Set-Request choice');
  }
}

export function writeSetRequest(w: ByteWriter, a: SetRequest): void {
  w.u8(SET_REQUEST).u8(SET_REQUEST_CHOICE[a.kind]);
  writeInvoke(w, a.invoke);
  switch (a.kind) {
    case 'normal':
    case 'with-first-datablock':
      writeAttributeWithSelection(w, a.access === undefined ? { attribute: a.attribute } : { attribute: a.attribute, access: a.access });
      if (a.kind === 'normal') writeData(w, a.value);
      else writeDataBlock(w, a.block);
      return;
    case 'with-datablock':
      writeDataBlock(w, a.block);
      return;
    case 'with-list':
      writeSequence(w, a.attributes, writeAttributeWithSelection);
      writeSequence(w, a.values, writeData);
      return;
    case 'with-list-and-first-datablock':
      writeSequence(w, a.attributes, writeAttributeWithSelection);
      writeDataBlock(w, a.block);
      return;
  }
}

export function readSetResponse(r: ByteReader): SetResponse {
  expectApduTag(r, SET_RESPONSE, 'set-response');
  const at = r.baseOffset + r.offset;
  const choice = r.u8('Set-Response choice');
  const invoke = readInvoke(r);
  const base = { type: 'set-response', invoke } as const;
  switch (choice) {
    case 1:
      return { ...base, kind: 'normal', result: readDataAccessResult(r) };
    case 2:
      return { ...base, kind: 'datablock', blockNumber: readBlockNumber(r) };
    case 3: {
      const result = readDataAccessResult(r);
      return { ...base, kind: 'last-datablock', result, blockNumber: readBlockNumber(r) };
    }
    case 4: {
      const results = readSequence(r, 'result list', readDataAccessResult);
      return { ...base, kind: 'last-datablock-with-list', results, blockNumber: readBlockNumber(r) };
    }
    case 5:
      return { ...base, kind: 'with-list', results: readSequence(r, 'result list', readDataAccessResult) };
    default:
      throw badTag(at, choice, 'Set-Response choice');
  }
}

export function writeSetResponse(w: ByteWriter, a: SetResponse): void {
  w.u8(SET_RESPONSE).u8(SET_RESPONSE_CHOICE[a.kind]);
  writeInvoke(w, a.invoke);
  switch (a.kind) {
    case 'normal':
      writeDataAccessResult(w, a.result);
      return;
    case 'datablock':
      writeBlockNumber(w, a.blockNumber);
      return;
    case 'last-datablock':
      writeDataAccessResult(w, a.result);
      writeBlockNumber(w, a.blockNumber);
      return;
    case 'last-datablock-with-list':
      writeSequence(w, a.results, writeDataAccessResult);
      writeBlockNumber(w, a.blockNumber);
      return;
    case 'with-list':
      writeSequence(w, a.results, writeDataAccessResult);
      return;
  }
}
