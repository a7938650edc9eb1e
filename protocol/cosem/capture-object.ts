/**
 * capture_object_definition: structure { class_id long-unsigned, logical_name octet-string,
 * attribute_index integer, data_index long-unsigned } — the columns of a Profile generic
 * (attribute 3) and the restricting / selected columns of selective access.
 */
import { DcuError, ErrorCode } from '../common/errors';
import type { Data } from '../axdr/data';
import { formatObis, obisEquals, obisFromData, obisToData } from './obis';
import type { Obis } from './obis';

export interface CaptureObject {
  readonly classId: number;
  readonly obis: Obis;
  readonly attributeIndex: number;
  /** 0 = the whole attribute; n = element n of an array/structure attribute. */
  readonly dataIndex: number;
}

function bad(what: string, d: Data): DcuError {
  const got = d.type === 'structure' || d.type === 'array' ? `${d.type}(${d.items.length})` : d.type;
  return new DcuError(ErrorCode.DecodeBadValue, `${what}: expected structure{uint16 class, octet-string(6) OBIS, int8 attribute, uint16 data index}, got ${got}`, {
    context: { what },
  });
}

function intOf(d: Data | undefined, types: readonly string[]): number | undefined {
  if (d === undefined) return undefined;
  if (!types.includes(d.type)) return undefined;
  return 'value' in d && typeof d.value === 'number' ? d.value : undefined;
}

/** Lenient on integer widths (some meters send uint8 attribute indexes), strict on shape. */
export function decodeCaptureObject(d: Data, what = 'capture object'): CaptureObject {
  if (d.type !== 'structure' || d.items.length !== 4) throw bad(what, d);
  const [c, ln, a, di] = d.items;
  const classId = intOf(c, ['uint16', 'uint8']);
  const attributeIndex = intOf(a, ['int8', 'uint8', 'int16']);
  const dataIndex = intOf(di, ['uint16', 'uint8']);
  if (classId === undefined || attributeIndex === undefined || dataIndex === undefined || ln === undefined) throw bad(what, d);
  return { classId, obis: obisFromData(ln, `${what} logical name`), attributeIndex, dataIndex };
}

export function encodeCaptureObject(co: CaptureObject): Data {
  return {
    type: 'structure',
    items: [
      { type: 'uint16', value: co.classId },
      obisToData(co.obis),
      { type: 'int8', value: co.attributeIndex },
      { type: 'uint16', value: co.dataIndex },
    ],
  };
}

/** Attribute 3 of Profile generic. */
export function decodeCaptureObjects(d: Data): CaptureObject[] {
  if (d.type !== 'array') throw new DcuError(ErrorCode.DecodeBadValue, `capture_objects: expected array, got ${d.type}`);
  return d.items.map((item, i) => decodeCaptureObject(item, `capture object ${i + 1}`));
}

export function encodeCaptureObjects(list: readonly CaptureObject[]): Data {
  return { type: 'array', items: list.map(encodeCaptureObject) };
}

export function captureObjectEquals(x: CaptureObject, y: CaptureObject): boolean {
  return x.classId === y.classId && x.attributeIndex === y.attributeIndex && x.dataIndex === y.dataIndex && obisEquals(x.obis, y.obis);
}

/** '3:1.0.1.8.0.255:2' (+ ':dataIndex' when not 0): a stable key for scaler maps. */
export function captureKey(co: Pick<CaptureObject, 'classId' | 'obis' | 'attributeIndex'> & { dataIndex?: number }): string {
  const base = `${co.classId}:${formatObis(co.obis)}:${co.attributeIndex}`;
  return co.dataIndex === undefined || co.dataIndex === 0 ? base : `${base}:${co.dataIndex}`;
}

/** The clock column: Clock (8) attribute 2. */
export function isClockColumn(co: CaptureObject): boolean {
  return co.classId === 8 && co.attributeIndex === 2;
}

/** A status column: an object 0.x.96.10.x.255 (status register) or 0.x.97.97.x (error register). */
export function isStatusColumn(co: CaptureObject): boolean {
  const [a, , c, d] = co.obis;
  return a === 0 && ((c === 96 && d === 10) || (c === 97 && d === 97));
}

export const CLOCK_OBIS: Obis = [0, 0, 1, 0, 0, 255];

/** The usual restricting object of range access: Clock 0.0.1.0.0.255 attribute 2. */
export const CLOCK_CAPTURE_OBJECT: CaptureObject = { classId: 8, obis: CLOCK_OBIS, attributeIndex: 2, dataIndex: 0 };
