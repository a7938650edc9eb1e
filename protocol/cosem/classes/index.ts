/**
 * The interface-class registry: descriptors by class id and version, name resolution,
 * generic value checks and the text form of attribute / method references.
 */
import { DcuError, ErrorCode } from '../../common/errors';
import type { Data } from '../../axdr/data';
import { formatObis, parseObis } from '../obis';
import type { Obis } from '../obis';
import { ASSOCIATION_LN, ASSOCIATION_LN_V0, ASSOCIATION_LN_V1, SAP_ASSIGNMENT } from './association';
import { DATA, DEMAND_REGISTER, EXTENDED_REGISTER, REGISTER, REGISTER_MONITOR } from './basic';
import { checkValue } from './check';
import type { ValueCheck } from './check';
import { CLOCK } from './clock';
import { DISCONNECT_CONTROL } from './disconnect-control';
import { IMAGE_TRANSFER } from './image-transfer';
import { PROFILE_GENERIC, PROFILE_GENERIC_V0 } from './profile-generic';
import { SECURITY_SETUP, SECURITY_SETUP_V0 } from './security-setup';
import type { AttributeDescriptor, ClassDescriptor, MethodDescriptor } from './types';

export * from './types';
export { checkValue, defaultValue, describeType } from './check';
export type { ValueCheck } from './check';

/** Every described class version. */
export const CLASS_DESCRIPTORS: readonly ClassDescriptor[] = [
  DATA,
  REGISTER,
  EXTENDED_REGISTER,
  DEMAND_REGISTER,
  PROFILE_GENERIC_V0,
  PROFILE_GENERIC,
  CLOCK,
  ASSOCIATION_LN_V0,
  ASSOCIATION_LN_V1,
  ASSOCIATION_LN,
  SAP_ASSIGNMENT,
  IMAGE_TRANSFER,
  REGISTER_MONITOR,
  SECURITY_SETUP_V0,
  SECURITY_SETUP,
  DISCONNECT_CONTROL,
];

/** Names of classes that are not (yet) described, for display of object lists. */
const OTHER_CLASS_NAMES: Readonly<Record<number, string>> = {
  6: 'Register activation',
  9: 'Script table',
  10: 'Schedule',
  11: 'Special days table',
  12: 'Association SN',
  19: 'IEC local port setup',
  20: 'Activity calendar',
  22: 'Single action schedule',
  23: 'IEC HDLC setup',
  24: 'IEC twisted pair setup',
  26: 'Utility tables',
  27: 'Modem configuration',
  28: 'Auto answer',
  29: 'Auto connect',
  40: 'Push setup',
  41: 'TCP-UDP setup',
  42: 'IPv4 setup',
  43: 'MAC address setup',
  44: 'PPP setup',
  45: 'GPRS modem setup',
  46: 'SMTP setup',
  47: 'GSM diagnostic',
  48: 'IPv6 setup',
  61: 'Register table',
  62: 'Compact data',
  63: 'Status mapping',
  65: 'Parameter monitor',
  67: 'Sensor manager',
  68: 'Arbitrator',
  71: 'Limiter',
  72: 'M-Bus client',
  74: 'M-Bus master port setup',
  76: 'M-Bus port setup',
  77: 'M-Bus diagnostic',
  90: 'G3-PLC MAC layer counters',
  91: 'G3-PLC MAC setup',
  92: 'G3-PLC 6LoWPAN adaptation layer setup',
  100: 'NTP setup',
  122: 'Function control',
  123: 'Array manager',
  124: 'Communication port protection',
  151: 'LTE monitoring',
  111: 'Account',
  112: 'Credit',
  113: 'Charge',
  115: 'Token gateway',
};

const byId = new Map<number, ClassDescriptor[]>();
for (const c of CLASS_DESCRIPTORS) {
  const list = byId.get(c.id) ?? [];
  list.push(c);
  list.sort((a, b) => a.version - b.version);
  byId.set(c.id, list);
}

/**
 * The descriptor of a class: the exact version when described, else the highest described
 * version below it (a meter's newer version is read as the newest we know), else the lowest.
 * Without a version: the newest described.
 */
export function getClass(classId: number, version?: number): ClassDescriptor | undefined {
  const list = byId.get(classId);
  if (list === undefined || list.length === 0) return undefined;
  if (version === undefined) return list[list.length - 1];
  let best: ClassDescriptor | undefined;
  for (const c of list) if (c.version <= version) best = c;
  return best ?? list[0];
}

export function requireClass(classId: number, version?: number): ClassDescriptor {
  const c = getClass(classId, version);
  if (c === undefined) {
    throw new DcuError(ErrorCode.UnknownClass, `interface class ${classId}${className(classId) === undefined ? '' : ` (${className(classId) ?? ''})`} is not described; described: ${describedClassList()}`, {
      context: { classId },
    });
  }
  return c;
}

function describedClassList(): string {
  return [...byId.values()].map((l) => `${l[0]?.id ?? '?'} ${l[0]?.key ?? '?'}`).join(', ');
}

export function className(classId: number): string | undefined {
  return byId.get(classId)?.[0]?.name ?? OTHER_CLASS_NAMES[classId];
}

export function findAttribute(classId: number, index: number, version?: number): AttributeDescriptor | undefined {
  return getClass(classId, version)?.attributes.find((a) => a.index === index);
}

export function findMethod(classId: number, index: number, version?: number): MethodDescriptor | undefined {
  return getClass(classId, version)?.methods.find((m) => m.index === index);
}

/** 'value', or 'attribute 12' when the class or index is not described. */
export function attributeName(classId: number, index: number, version?: number): string {
  return findAttribute(classId, index, version)?.name ?? `attribute ${index}`;
}

export function methodName(classId: number, index: number, version?: number): string {
  return findMethod(classId, index, version)?.name ?? `method ${index}`;
}

/** Check an attribute value against the table. Unknown class / attribute → DcuError. */
export function checkAttributeValue(classId: number, index: number, data: Data, version?: number): ValueCheck {
  const c = requireClass(classId, version);
  const a = c.attributes.find((x) => x.index === index);
  if (a === undefined) throw unknownMember(c, 'attribute', String(index));
  return checkValue(a.type, data);
}

export function checkMethodParameter(classId: number, index: number, data: Data, version?: number): ValueCheck {
  const c = requireClass(classId, version);
  const m = c.methods.find((x) => x.index === index);
  if (m === undefined) throw unknownMember(c, 'method', String(index));
  return checkValue(m.param, data);
}

/** A failed ValueCheck as a DcuError (InvalidValue) for callers that prefer throwing. */
export function valueCheckError(check: ValueCheck, what: string): DcuError | undefined {
  if (check.ok) return undefined;
  const at = check.path === '' ? '' : ` at ${check.path}`;
  return new DcuError(ErrorCode.InvalidValue, `${what}${at}: expected ${check.expected}, got ${check.got}`, {
    context: { path: check.path, expected: check.expected, got: check.got },
  });
}

function unknownMember(c: ClassDescriptor, kind: 'attribute' | 'method', token: string): DcuError {
  const list = (kind === 'attribute' ? c.attributes : c.methods).map((x) => `${x.index} ${x.name}`).join(', ');
  return new DcuError(ErrorCode.Usage, `${c.name} (class ${c.id} v${c.version}) has no ${kind} '${token}'; it has: ${list}`, {
    context: { classId: c.id, [kind]: token },
  });
}

// ---------------------------------------------------------------- references

export interface CosemRef {
  readonly classId: number;
  readonly obis: Obis;
  /** Attribute or method index. */
  readonly index: number;
}

const REF_HELP = "use CLASS:OBIS:MEMBER, e.g. '3:1.0.1.8.0.255:2' or 'register:1-0:1.8.0*255:value'";

function classFromToken(token: string, text: string): number {
  if (/^\d+$/.test(token)) return Number(token);
  const key = token.toLowerCase().replace(/[\s_]+/g, '-');
  for (const c of CLASS_DESCRIPTORS) if (c.key === key || c.name.toLowerCase().replace(/\s+/g, '-') === key) return c.id;
  throw new DcuError(ErrorCode.UnknownClass, `unknown interface class '${token}' in '${text}'; known: ${describedClassList()}`, { context: { text } });
}

function parseRef(text: string, kind: 'attribute' | 'method'): CosemRef {
  const t = text.trim();
  const first = t.indexOf(':');
  const last = t.lastIndexOf(':');
  if (first < 0 || last === first) throw new DcuError(ErrorCode.Usage, `not ${kind === 'attribute' ? 'an' : 'a'} ${kind} reference: '${text}'; ${REF_HELP}`, { context: { text } });
  const classId = classFromToken(t.slice(0, first), text);
  const obis = parseObis(t.slice(first + 1, last));
  const member = t.slice(last + 1);
  if (/^\d+$/.test(member)) {
    const index = Number(member);
    if (index < 1 || index > 127) throw new DcuError(ErrorCode.Usage, `${kind} index ${index} is not 1..127 in '${text}'`, { context: { text } });
    return { classId, obis, index };
  }
  const c = requireClass(classId);
  const list: readonly { index: number; name: string }[] = kind === 'attribute' ? c.attributes : c.methods;
  const wanted = member.toLowerCase().replace(/-/g, '_');
  const found = list.find((x) => x.name === wanted);
  if (found === undefined) throw unknownMember(c, kind, member);
  return { classId, obis, index: found.index };
}

/** '3:1.0.1.8.0.255:2', 'register:1-0:1.8.0*255:value', 'clock:0.0.1.0.0.255:time'. */
export const parseAttributeRef = (text: string): CosemRef => parseRef(text, 'attribute');
/** 'clock:0.0.1.0.0.255:shift_time', '18:0.0.44.0.0.255:1'. */
export const parseMethodRef = (text: string): CosemRef => parseRef(text, 'method');

/** '3:1.0.1.8.0.255:2' — the canonical numeric form (parses back with parseAttributeRef). */
export function formatRef(ref: CosemRef): string {
  return `${ref.classId}:${formatObis(ref.obis)}:${ref.index}`;
}

/** 'Register 1.0.1.8.0.255 value' for logs and tables. */
export function describeAttributeRef(ref: CosemRef, version?: number): string {
  return `${className(ref.classId) ?? `class ${ref.classId}`} ${formatObis(ref.obis)} ${attributeName(ref.classId, ref.index, version)}`;
}
