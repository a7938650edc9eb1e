import type { ByteReader, ByteWriter } from '../common/bytes';
import { readData, writeData } from '../axdr/codec';
import type { Data } from '../axdr/data';
import { checkInt, checkLength, checkUint, readOptional, writeOptional } from './fields';

/** Cosem-Attribute-Descriptor: class-id u16, instance-id (OBIS, 6 bytes, no length), attribute-id i8. */
export interface AttributeDescriptor {
  readonly classId: number;
  readonly instanceId: Uint8Array;
  readonly attributeId: number;
}

/** Cosem-Method-Descriptor: class-id u16, instance-id (OBIS, 6 bytes), method-id i8. */
export interface MethodDescriptor {
  readonly classId: number;
  readonly instanceId: Uint8Array;
  readonly methodId: number;
}

/** Selective-Access-Descriptor: access-selector u8 and its parameters. */
export interface AccessSelection {
  readonly selector: number;
  readonly parameters: Data;
}

/** Cosem-Attribute-Descriptor-With-Selection (GET/SET with-list, and the normal requests). */
export interface AttributeWithSelection {
  readonly attribute: AttributeDescriptor;
  readonly access?: AccessSelection;
}

export const OBIS_LENGTH = 6;

function writeObjectRef(w: ByteWriter, classId: number, instanceId: Uint8Array, member: number, what: string): void {
  w.u16(checkUint(classId, 0xffff, 'class id'));
  w.bytes(checkLength(instanceId, OBIS_LENGTH, 'instance id (OBIS)'));
  w.i8(checkInt(member, -128, 127, what));
}

export function readAttributeDescriptor(r: ByteReader): AttributeDescriptor {
  const classId = r.u16('class id');
  const instanceId = r.copy(OBIS_LENGTH, 'instance id (OBIS)');
  return { classId, instanceId, attributeId: r.i8('attribute id') };
}

export function writeAttributeDescriptor(w: ByteWriter, d: AttributeDescriptor): void {
  writeObjectRef(w, d.classId, d.instanceId, d.attributeId, 'attribute id');
}

export function readMethodDescriptor(r: ByteReader): MethodDescriptor {
  const classId = r.u16('class id');
  const instanceId = r.copy(OBIS_LENGTH, 'instance id (OBIS)');
  return { classId, instanceId, methodId: r.i8('method id') };
}

export function writeMethodDescriptor(w: ByteWriter, d: MethodDescriptor): void {
  writeObjectRef(w, d.classId, d.instanceId, d.methodId, 'method id');
}

export function readAccessSelection(r: ByteReader): AccessSelection | undefined {
  return readOptional(r, 'access selection', (rr) => ({ selector: rr.u8('access selector'), parameters: readData(rr) }));
}

export function writeAccessSelection(w: ByteWriter, a: AccessSelection | undefined): void {
  writeOptional(w, a, (ww, v) => {
    ww.u8(checkUint(v.selector, 255, 'access selector'));
    writeData(ww, v.parameters);
  });
}

export function readAttributeWithSelection(r: ByteReader): AttributeWithSelection {
  const attribute = readAttributeDescriptor(r);
  const access = readAccessSelection(r);
  return access === undefined ? { attribute } : { attribute, access };
}

export function writeAttributeWithSelection(w: ByteWriter, a: AttributeWithSelection): void {
  writeAttributeDescriptor(w, a.attribute);
  writeAccessSelection(w, a.access);
}
