/**
 * Access policies (ready-made ones for meter models and tests) and the checks the server
 * makes before it calls an object: does the attribute / method exist, may this client use it.
 */
import { getClass } from '../cosem/classes';
import { AttributeAccess } from '../cosem/classes/types';
import type { AccessPolicy, AttributeAccessMode, ServerObject } from './object';

/** Read every attribute, invoke nothing (a public client). */
export const readOnlyPolicy: AccessPolicy = {
  attribute: () => 'read',
  method: () => false,
};

/** Read and write every attribute, invoke every method (a management client). */
export const fullAccessPolicy: AccessPolicy = {
  attribute: () => 'read-write',
  method: () => true,
};

function fromTableMode(mode: number): AttributeAccessMode {
  switch (mode) {
    case AttributeAccess.read:
    case AttributeAccess.authRead:
      return 'read';
    case AttributeAccess.write:
    case AttributeAccess.authWrite:
      return 'write';
    case AttributeAccess.readWrite:
    case AttributeAccess.authReadWrite:
      return 'read-write';
    default:
      return 'none';
  }
}

/**
 * The access the interface-class tables suggest (e.g. Register value read, Data value
 * read-write, Association LN secret write-only); every method allowed. Attributes of
 * undescribed classes are read-only.
 */
export const classTablePolicy: AccessPolicy = {
  attribute(object, attribute) {
    const c = getClass(object.classId, object.version);
    if (c === undefined) return 'read';
    const a = c.attributes.find((x) => x.index === attribute);
    return a === undefined ? 'none' : fromTableMode(a.access);
  },
  method: () => true,
};

export const canReadMode = (m: AttributeAccessMode): boolean => m === 'read' || m === 'read-write';
export const canWriteMode = (m: AttributeAccessMode): boolean => m === 'write' || m === 'read-write';

/** object_list access_mode enum of a policy mode. */
export function accessModeNumber(m: AttributeAccessMode): number {
  switch (m) {
    case 'none':
      return AttributeAccess.noAccess;
    case 'read':
      return AttributeAccess.read;
    case 'write':
      return AttributeAccess.write;
    case 'read-write':
      return AttributeAccess.readWrite;
  }
}

/** Attribute indexes of an object: its own list, else its class table, else logical_name only. */
export function attributeIndexes(object: ServerObject): readonly number[] {
  if (object.attributeIds !== undefined) return object.attributeIds;
  const c = getClass(object.classId, object.version);
  return c === undefined ? [1] : c.attributes.map((a) => a.index);
}

export function methodIndexes(object: ServerObject): readonly number[] {
  if (object.methodIds !== undefined) return object.methodIds;
  const c = getClass(object.classId, object.version);
  return c === undefined ? [] : c.methods.map((m) => m.index);
}

/** False when the object's list or its described class lacks the attribute (otherwise the object decides). */
export function attributeExists(object: ServerObject, attribute: number): boolean {
  if (attribute < 1) return false;
  if (object.attributeIds !== undefined) return object.attributeIds.includes(attribute);
  const c = getClass(object.classId, object.version);
  return c === undefined || c.attributes.some((a) => a.index === attribute);
}

export function methodExists(object: ServerObject, method: number): boolean {
  if (method < 1) return false;
  if (object.methodIds !== undefined) return object.methodIds.includes(method);
  const c = getClass(object.classId, object.version);
  return c === undefined || c.methods.some((m) => m.index === method);
}
