import type { ByteReader, ByteWriter } from '../common/bytes';
import {
  type AccessSelection,
  type AttributeDescriptor,
  type AttributeWithSelection,
  readAttributeWithSelection,
  writeAttributeWithSelection,
} from './descriptors';
import { readBlockNumber, writeBlockNumber } from './datablock';
import { badTag, expectApduTag, readBoolean, readSequence, writeSequence } from './fields';
import { type InvokeIdAndPriority, readInvoke, writeInvoke } from './invoke';
import {
  type DataAccessResult,
  type GetDataResult,
  readDataAccessResult,
  readGetDataResult,
  writeDataAccessResult,
  writeGetDataResult,
} from './results';

export const GET_REQUEST = 0xc0;
export const GET_RESPONSE = 0xc4;

export type GetRequest =
  | {
      readonly type: 'get-request';
      readonly kind: 'normal';
      readonly invoke: InvokeIdAndPriority;
      readonly attribute: AttributeDescriptor;
      readonly access?: AccessSelection;
    }
  | { readonly type: 'get-request'; readonly kind: 'next'; readonly invoke: InvokeIdAndPriority; readonly blockNumber: number }
  | {
      readonly type: 'get-request';
      readonly kind: 'with-list';
      readonly invoke: InvokeIdAndPriority;
      readonly attributes: readonly AttributeWithSelection[];
    };

/** DataBlock-G result: a slice of the encoded Data, or the reason there is none. */
export type BlockResult = { readonly kind: 'raw'; readonly raw: Uint8Array } | { readonly kind: 'error'; readonly error: DataAccessResult };

export type GetResponse =
  | { readonly type: 'get-response'; readonly kind: 'normal'; readonly invoke: InvokeIdAndPriority; readonly result: GetDataResult }
  | {
      readonly type: 'get-response';
      readonly kind: 'with-datablock';
      readonly invoke: InvokeIdAndPriority;
      readonly lastBlock: boolean;
      readonly blockNumber: number;
      readonly result: BlockResult;
    }
  | {
      readonly type: 'get-response';
      readonly kind: 'with-list';
      readonly invoke: InvokeIdAndPriority;
      readonly results: readonly GetDataResult[];
    };

// readX consumes the tag byte too; writeX writes it.

export function readGetRequest(r: ByteReader): GetRequest {
  expectApduTag(r, GET_REQUEST, 'get-request');
  const at = r.baseOffset + r.offset;
  const choice = r.u8('Get-Request choice');
  const invoke = readInvoke(r);
  switch (choice) {
    case 1: {
      const { attribute, access } = readAttributeWithSelection(r);
      return access === undefined
        ? { type: 'get-request', kind: 'normal', invoke, attribute }
        : { type: 'get-request', kind: 'normal', invoke, attribute, access };
    }
    case 2:
      return { type: 'get-request', kind: 'next', invoke, blockNumber: readBlockNumber(r) };
    case 3:
      return { type: 'get-request', kind: 'with-list', invoke, attributes: readSequence(r, 'attribute list', readAttributeWithSelection) };
    default:
      throw badTag(at, choice, 'Get-Request choice');
  }
}

export function writeGetRequest(w: ByteWriter, a: GetRequest): void {
  w.u8(GET_REQUEST);
  switch (a.kind) {
    case 'normal':
      w.u8(1);
      writeInvoke(w, a.invoke);
      writeAttributeWithSelection(w, a.access === undefined ? { attribute: a.attribute } : { attribute: a.attribute, access: a.access });
      return;
    case 'next':
      w.u8(2);
      writeInvoke(w, a.invoke);
      writeBlockNumber(w, a.blockNumber);
      return;
    case 'with-list':
      w.u8(3);
      writeInvoke(w, a.invoke);
      writeSequence(w, a.attributes, writeAttributeWithSelection);
      return;
  }
}

function readBlockResult(r: ByteReader): BlockResult {
  const at = r.baseOffset + r.offset;
  const choice = r.u8('DataBlock-G result choice');
  if (choice === 0) return { kind: 'raw', raw: r.lengthPrefixed('raw-data') };
  if (choice === 1) return { kind: 'error', error: readDataAccessResult(r) };
  throw badTag(at, choice, 'DataBlock-G result choice');
}

export function readGetResponse(r: ByteReader): GetResponse {
  expectApduTag(r, GET_RESPONSE, 'get-response');
  const at = r.baseOffset + r.offset;
  const choice = r.u8('Get-Response choice');
  const invoke = readInvoke(r);
  switch (choice) {
    case 1:
      return { type: 'get-response', kind: 'normal', invoke, result: readGetDataResult(r) };
    case 2: {
      const lastBlock = readBoolean(r, 'last-block');
      const blockNumber = readBlockNumber(r);
      return { type: 'get-response', kind: 'with-datablock', invoke, lastBlock, blockNumber, result: readBlockResult(r) };
    }
    case 3:
      return { type: 'get-response', kind: 'with-list', invoke, results: readSequence(r, 'result list', readGetDataResult) };
    default:
      throw badTag(at, choice, 'Get-Response choice');
  }
}

export function writeGetResponse(w: ByteWriter, a: GetResponse): void {
  w.u8(GET_RESPONSE);
  switch (a.kind) {
    case 'normal':
      w.u8(1);
      writeInvoke(w, a.invoke);
      writeGetDataResult(w, a.result);
      return;
    case 'with-datablock':
      w.u8(2);
      writeInvoke(w, a.invoke);
      w.u8(a.lastBlock ? 1 : 0);
      writeBlockNumber(w, a.blockNumber);
      if (a.result.kind === 'raw') {
        w.u8(0);
        w.lengthPrefixed(a.result.raw);
      } else {
        w.u8(1);
        writeDataAccessResult(w, a.result.error);
      }
      return;
    case 'with-list':
      w.u8(3);
      writeInvoke(w, a.invoke);
      writeSequence(w, a.results, writeGetDataResult);
      return;
  }
}
