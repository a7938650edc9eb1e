/**
 * Association LN object_list (attribute 2): array of structure { class_id u16, version u8,
 * logical_name octet-string(6), access_rights structure { attribute_access array of
 * structure { attribute_id i8, access_mode enum, access_selectors null | array of i8 },
 * method_access array of structure { method_id i8, access_mode enum (v1+) | boolean (v0) } } }.
 */
import { DcuError, ErrorCode } from '../common/errors';
import type { Data } from '../axdr/data';
import { className } from './classes';
import { AttributeAccess, MethodAccess } from './classes/types';
import { formatObis, obisFromData, obisToData } from './obis';
import type { Obis } from './obis';
import { obisName } from './obis-names';

export interface AttributeAccessItem {
  readonly index: number;
  /** 0 no access, 1 read, 2 write, 3 read-write, 4..6 the authenticated variants (v1/v2). */
  readonly mode: number;
  /** Access selectors the attribute supports; null when the meter sent null-data. */
  readonly selectors: readonly number[] | null;
}

export interface MethodAccessItem {
  readonly index: number;
  /** 0 no access, 1 access, 2 authenticated access. */
  readonly mode: number;
  /** True when the meter sent a boolean (Association LN version 0). */
  readonly asBoolean?: boolean;
}

export interface ObjectListEntry {
  readonly classId: number;
  readonly version: number;
  readonly obis: Obis;
  readonly attributeAccess: readonly AttributeAccessItem[];
  readonly methodAccess: readonly MethodAccessItem[];
}

function bad(path: string, expected: string, d: Data | undefined): DcuError {
  const got = d === undefined ? 'nothing' : d.type === 'structure' || d.type === 'array' ? `${d.type}(${d.items.length})` : d.type;
  return new DcuError(ErrorCode.DecodeBadValue, `object_list ${path}: expected ${expected}, got ${got}`, { context: { path } });
}

function items(d: Data | undefined, type: 'array' | 'structure', path: string, count?: number): Data[] {
  if (d === undefined || d.type !== type || (count !== undefined && d.items.length !== count)) {
    throw bad(path, count === undefined ? type : `${type} of ${count}`, d);
  }
  return d.items;
}

function int(d: Data | undefined, path: string): number {
  if (d !== undefined && (d.type === 'int8' || d.type === 'uint8' || d.type === 'uint16' || d.type === 'enum' || d.type === 'int16')) return d.value;
  throw bad(path, 'integer', d);
}

function decodeEntry(d: Data, i: number): ObjectListEntry {
  const p = `[${i}]`;
  const [cls, ver, ln, rights] = items(d, 'structure', p, 4);
  const [attrs, methods] = items(rights, 'structure', `${p}.access_rights`, 2);
  const attributeAccess = items(attrs, 'array', `${p}.attribute_access`).map((a, j): AttributeAccessItem => {
    const q = `${p}.attribute_access[${j}]`;
    const [id, mode, sel] = items(a, 'structure', q, 3);
    let selectors: number[] | null;
    if (sel?.type === 'null') selectors = null;
    else selectors = items(sel, 'array', `${q}.access_selectors`).map((s, k) => int(s, `${q}.access_selectors[${k}]`));
    return { index: int(id, `${q}.attribute_id`), mode: int(mode, `${q}.access_mode`), selectors };
  });
  const methodAccess = items(methods, 'array', `${p}.method_access`).map((m, j): MethodAccessItem => {
    const q = `${p}.method_access[${j}]`;
    const [id, mode] = items(m, 'structure', q, 2);
    if (mode?.type === 'boolean') return { index: int(id, `${q}.method_id`), mode: mode.value ? MethodAccess.access : MethodAccess.noAccess, asBoolean: true };
    return { index: int(id, `${q}.method_id`), mode: int(mode, `${q}.access_mode`) };
  });
  return { classId: int(cls, `${p}.class_id`), version: int(ver, `${p}.version`), obis: obisFromData(ln ?? { type: 'null' }, `object_list ${p}.logical_name`), attributeAccess, methodAccess };
}

export function decodeObjectList(d: Data): ObjectListEntry[] {
  if (d.type !== 'array') throw bad('', 'array', d);
  return d.items.map(decodeEntry);
}

export function encodeObjectListEntry(e: ObjectListEntry): Data {
  return {
    type: 'structure',
    items: [
      { type: 'uint16', value: e.classId },
      { type: 'uint8', value: e.version },
      obisToData(e.obis),
      {
        type: 'structure',
        items: [
          {
            type: 'array',
            items: e.attributeAccess.map((a) => ({
              type: 'structure',
              items: [
                { type: 'int8', value: a.index },
                { type: 'enum', value: a.mode },
                a.selectors === null ? { type: 'null' } : { type: 'array', items: a.selectors.map((s): Data => ({ type: 'int8', value: s })) },
              ],
            })),
          },
          {
            type: 'array',
            items: e.methodAccess.map((m) => ({
              type: 'structure',
              items: [{ type: 'int8', value: m.index }, m.asBoolean === true ? { type: 'boolean', value: m.mode !== 0 } : { type: 'enum', value: m.mode }],
            })),
          },
        ],
      },
    ],
  };
}

export function encodeObjectList(entries: readonly ObjectListEntry[]): Data {
  return { type: 'array', items: entries.map(encodeObjectListEntry) };
}

// ---------------------------------------------------------------- access helpers (v1/v2 modes)

const ATTRIBUTE_ACCESS_NAMES = ['no-access', 'read', 'write', 'read-write', 'authenticated-read', 'authenticated-write', 'authenticated-read-write'];

export function attributeAccessName(mode: number): string {
  return ATTRIBUTE_ACCESS_NAMES[mode] ?? `access(${mode})`;
}

export function methodAccessName(mode: number): string {
  return ['no-access', 'access', 'authenticated-access'][mode] ?? `access(${mode})`;
}

export const canRead = (mode: number): boolean =>
  mode === AttributeAccess.read || mode === AttributeAccess.readWrite || mode === AttributeAccess.authRead || mode === AttributeAccess.authReadWrite;

export const canWrite = (mode: number): boolean =>
  mode === AttributeAccess.write || mode === AttributeAccess.readWrite || mode === AttributeAccess.authWrite || mode === AttributeAccess.authReadWrite;

/** Access of one attribute, or undefined when the entry does not list it. */
export function attributeAccessOf(e: ObjectListEntry, index: number): number | undefined {
  return e.attributeAccess.find((a) => a.index === index)?.mode;
}

/** One line per object: "15 v2 0.0.40.0.0.255 Association LN (current association)". */
export function describeObjectListEntry(e: ObjectListEntry): string {
  const cls = className(e.classId) ?? `class ${e.classId}`;
  const name = obisName(e.obis);
  return `${e.classId} v${e.version} ${formatObis(e.obis)} ${cls}${name === undefined ? '' : ` (${name})`}`;
}
