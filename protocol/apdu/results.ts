import type { ByteReader, ByteWriter } from '../common/bytes';
import { readData, writeData } from '../axdr/codec';
import type { Data } from '../axdr/data';
import { badTag, badValue, invert } from './fields';

/** Data-Access-Result (Blue Book): a meter's negative answer is a value, not an exception. */
export const DataAccessResult = {
  success: 0,
  hardwareFault: 1,
  temporaryFailure: 2,
  readWriteDenied: 3,
  objectUndefined: 4,
  objectClassInconsistent: 9,
  objectUnavailable: 11,
  typeUnmatched: 12,
  scopeOfAccessViolated: 13,
  dataBlockUnavailable: 14,
  longGetAborted: 15,
  noLongGetInProgress: 16,
  longSetAborted: 17,
  noLongSetInProgress: 18,
  dataBlockNumberInvalid: 19,
  otherReason: 250,
} as const;
export type DataAccessResult = (typeof DataAccessResult)[keyof typeof DataAccessResult];

/** Action-Result (Blue Book). */
export const ActionResult = {
  success: 0,
  hardwareFault: 1,
  temporaryFailure: 2,
  readWriteDenied: 3,
  objectUndefined: 4,
  objectClassInconsistent: 9,
  objectUnavailable: 11,
  typeUnmatched: 12,
  scopeOfAccessViolated: 13,
  dataBlockUnavailable: 14,
  longActionAborted: 15,
  noLongActionInProgress: 16,
  otherReason: 250,
} as const;
export type ActionResult = (typeof ActionResult)[keyof typeof ActionResult];

const DAR_BY_VALUE = invert(DataAccessResult);
const ACTION_BY_VALUE = invert(ActionResult);

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** 'read-write-denied' for 3; `unknown (n)` for values outside the enum. */
export function dataAccessResultName(v: number): string {
  const k = DAR_BY_VALUE.get(v);
  return k === undefined ? `unknown (${v})` : kebab(k);
}

export function actionResultName(v: number): string {
  const k = ACTION_BY_VALUE.get(v);
  return k === undefined ? `unknown (${v})` : kebab(k);
}

export function isDataAccessResult(v: number): v is DataAccessResult {
  return DAR_BY_VALUE.has(v);
}

export function isActionResult(v: number): v is ActionResult {
  return ACTION_BY_VALUE.has(v);
}

export function readDataAccessResult(r: ByteReader): DataAccessResult {
  const at = r.baseOffset + r.offset;
  const v = r.u8('data-access-result');
  if (!isDataAccessResult(v)) throw badValue(at, `data-access-result ${v}`);
  return v;
}

export function writeDataAccessResult(w: ByteWriter, v: DataAccessResult): void {
  w.u8(v);
}

export function readActionResult(r: ByteReader): ActionResult {
  const at = r.baseOffset + r.offset;
  const v = r.u8('action-result');
  if (!isActionResult(v)) throw badValue(at, `action-result ${v}`);
  return v;
}

/** Get-Data-Result: CHOICE { data [0] Data, data-access-result [1] }. */
export type GetDataResult = { readonly kind: 'data'; readonly data: Data } | { readonly kind: 'error'; readonly error: DataAccessResult };

export function readGetDataResult(r: ByteReader): GetDataResult {
  const at = r.baseOffset + r.offset;
  const choice = r.u8('Get-Data-Result choice');
  if (choice === 0) return { kind: 'data', data: readData(r) };
  if (choice === 1) return { kind: 'error', error: readDataAccessResult(r) };
  throw badTag(at, choice, 'Get-Data-Result choice');
}

export function writeGetDataResult(w: ByteWriter, v: GetDataResult): void {
  if (v.kind === 'data') {
    w.u8(0);
    writeData(w, v.data);
  } else {
    w.u8(1);
    writeDataAccessResult(w, v.error);
  }
}
