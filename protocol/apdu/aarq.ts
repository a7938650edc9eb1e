import type { ByteReader, ByteWriter } from '../common/bytes';
import { type BerBitString, type BerElement, berTag, expectTag } from '../axdr/ber';
import type { ApplicationContextName, AssociationResult, MechanismName, ResultSourceDiagnostic } from './acse-values';
import { type AcseRequirements, type Part, type RawAcseElement, duplicate, encodeParts, field, missing, rawPart, readAcseChildren } from './acse';
import type { UserInformation } from './initiate';

export const AARQ = 0x60;
export const AARE = 0x61;

const AARQ_TAG = berTag.application(0, true);
const AARE_TAG = berTag.application(1, true);

/** AARQ (A-ASSOCIATE request), [APPLICATION 0]. */
export interface Aarq {
  readonly type: 'aarq';
  readonly protocolVersion?: BerBitString;
  readonly applicationContext: ApplicationContextName;
  /** Client system title (8 bytes for ciphered contexts). */
  readonly callingApTitle?: Uint8Array;
  readonly callingAeQualifier?: Uint8Array;
  readonly acseRequirements?: AcseRequirements;
  readonly mechanism?: MechanismName;
  /** LLS password or HLS challenge CtoS. */
  readonly callingAuthenticationValue?: Uint8Array;
  readonly userInformation?: UserInformation;
  /** Elements not interpreted here (called AP title, implementation information, ...). */
  readonly otherElements?: readonly RawAcseElement[];
}

/** AARE (A-ASSOCIATE response), [APPLICATION 1]. */
export interface Aare {
  readonly type: 'aare';
  readonly protocolVersion?: BerBitString;
  readonly applicationContext: ApplicationContextName;
  readonly result: AssociationResult;
  readonly diagnostic: ResultSourceDiagnostic;
  /** Meter system title. */
  readonly respondingApTitle?: Uint8Array;
  readonly respondingAeQualifier?: Uint8Array;
  readonly acseRequirements?: AcseRequirements;
  readonly mechanism?: MechanismName;
  /** HLS challenge StoC. */
  readonly respondingAuthenticationValue?: Uint8Array;
  readonly userInformation?: UserInformation;
  readonly otherElements?: readonly RawAcseElement[];
}

type Handler = readonly [constructed: boolean, name: string, apply: (e: BerElement) => void];

/** Dispatch children on their context tag number; unknown ones are collected raw. */
function dispatch(children: readonly BerElement[], handlers: Readonly<Record<number, Handler>>): RawAcseElement[] {
  const seen = new Set<number>();
  const others: RawAcseElement[] = [];
  for (const e of children) {
    const h = e.tag.cls === 'context' ? handlers[e.tag.number] : undefined;
    if (h === undefined) {
      others.push({ tag: e.tag, value: e.value.slice() });
      continue;
    }
    const [constructed, name, apply] = h;
    expectTag(e, berTag.context(e.tag.number, constructed), name);
    if (seen.has(e.tag.number)) throw duplicate(e, name);
    seen.add(e.tag.number);
    apply(e);
  }
  return others;
}

type Mutable<T> = { -readonly [K in keyof T]?: T[K] };

export function readAarq(r: ByteReader): Aarq {
  const offset = r.baseOffset + r.offset;
  const children = readAcseChildren(r, AARQ_TAG, 'AARQ');
  const v: Mutable<Aarq> = {};
  const others = dispatch(children, {
    0: [false, 'protocol-version', (e) => (v.protocolVersion = field.protocolVersion.decode(e))],
    1: [true, 'application-context-name', (e) => (v.applicationContext = field.applicationContext.decode(e))],
    6: [true, 'calling-AP-title', (e) => (v.callingApTitle = field.octets.decode(e, 'calling-AP-title'))],
    7: [true, 'calling-AE-qualifier', (e) => (v.callingAeQualifier = field.octets.decode(e, 'calling-AE-qualifier'))],
    10: [false, 'sender-acse-requirements', (e) => (v.acseRequirements = field.acseRequirements.decode(e))],
    11: [false, 'mechanism-name', (e) => (v.mechanism = field.mechanism.decode(e))],
    12: [true, 'calling-authentication-value', (e) => (v.callingAuthenticationValue = field.authenticationValue.decode(e))],
    30: [true, 'user-information', (e) => (v.userInformation = field.userInformation.decode(e))],
  });
  const { applicationContext } = v;
  if (applicationContext === undefined) throw missing('AARQ', 'application-context-name', offset);
  return { ...v, type: 'aarq', applicationContext, ...(others.length > 0 ? { otherElements: others } : {}) };
}

export function writeAarq(w: ByteWriter, a: Aarq): void {
  const parts: Part[] = [field.applicationContext.encode(1, a.applicationContext)];
  if (a.protocolVersion) parts.push(field.protocolVersion.encode(0, a.protocolVersion));
  if (a.callingApTitle) parts.push(field.octets.encode(6, a.callingApTitle));
  if (a.callingAeQualifier) parts.push(field.octets.encode(7, a.callingAeQualifier));
  if (a.acseRequirements) parts.push(field.acseRequirements.encode(10, a.acseRequirements));
  if (a.mechanism !== undefined) parts.push(field.mechanism.encode(11, a.mechanism));
  if (a.callingAuthenticationValue) parts.push(field.authenticationValue.encode(12, a.callingAuthenticationValue));
  if (a.userInformation) parts.push(field.userInformation.encode(30, a.userInformation));
  for (const o of a.otherElements ?? []) parts.push(rawPart(o));
  w.bytes(encodeParts(AARQ_TAG, parts));
}

export function readAare(r: ByteReader): Aare {
  const offset = r.baseOffset + r.offset;
  const children = readAcseChildren(r, AARE_TAG, 'AARE');
  const v: Mutable<Aare> = {};
  const others = dispatch(children, {
    0: [false, 'protocol-version', (e) => (v.protocolVersion = field.protocolVersion.decode(e))],
    1: [true, 'application-context-name', (e) => (v.applicationContext = field.applicationContext.decode(e))],
    2: [true, 'result', (e) => (v.result = field.result.decode(e))],
    3: [true, 'result-source-diagnostic', (e) => (v.diagnostic = field.diagnostic.decode(e))],
    4: [true, 'responding-AP-title', (e) => (v.respondingApTitle = field.octets.decode(e, 'responding-AP-title'))],
    5: [true, 'responding-AE-qualifier', (e) => (v.respondingAeQualifier = field.octets.decode(e, 'responding-AE-qualifier'))],
    8: [false, 'responder-acse-requirements', (e) => (v.acseRequirements = field.acseRequirements.decode(e))],
    9: [false, 'mechanism-name', (e) => (v.mechanism = field.mechanism.decode(e))],
    10: [true, 'responding-authentication-value', (e) => (v.respondingAuthenticationValue = field.authenticationValue.decode(e))],
    30: [true, 'user-information', (e) => (v.userInformation = field.userInformation.decode(e))],
  });
  const { applicationContext, result, diagnostic } = v;
  if (applicationContext === undefined) throw missing('AARE', 'application-context-name', offset);
  if (result === undefined) throw missing('AARE', 'result', offset);
  if (diagnostic === undefined) throw missing('AARE', 'result-source-diagnostic', offset);
  return { ...v, type: 'aare', applicationContext, result, diagnostic, ...(others.length > 0 ? { otherElements: others } : {}) };
}

export function writeAare(w: ByteWriter, a: Aare): void {
  const parts: Part[] = [
    field.applicationContext.encode(1, a.applicationContext),
    field.result.encode(2, a.result),
    field.diagnostic.encode(3, a.diagnostic),
  ];
  if (a.protocolVersion) parts.push(field.protocolVersion.encode(0, a.protocolVersion));
  if (a.respondingApTitle) parts.push(field.octets.encode(4, a.respondingApTitle));
  if (a.respondingAeQualifier) parts.push(field.octets.encode(5, a.respondingAeQualifier));
  if (a.acseRequirements) parts.push(field.acseRequirements.encode(8, a.acseRequirements));
  if (a.mechanism !== undefined) parts.push(field.mechanism.encode(9, a.mechanism));
  if (a.respondingAuthenticationValue) parts.push(field.authenticationValue.encode(10, a.respondingAuthenticationValue));
  if (a.userInformation) parts.push(field.userInformation.encode(30, a.userInformation));
  for (const o of a.otherElements ?? []) parts.push(rawPart(o));
  w.bytes(encodeParts(AARE_TAG, parts));
}
