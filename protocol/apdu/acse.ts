import { ByteReader, ByteWriter } from '../common/bytes';
import { DcuError, ErrorCode } from '../common/errors';
import {
  type BerBitString,
  type BerElement,
  type BerTag,
  UniversalTag,
  berTag,
  decodeBerInteger,
  decodeBitString,
  decodeOid,
  encodeBerElement,
  encodeBerInteger,
  encodeBitString,
  encodeExplicit,
  encodeOid,
  expectTag,
  readBerChildren,
  readBerElement,
  readExplicit,
  writeBerElement,
} from '../axdr/ber';
import {
  APPLICATION_CONTEXT_PREFIX,
  ApplicationContextName,
  AssociationResult,
  MECHANISM_PREFIX,
  MechanismName,
  type ResultSourceDiagnostic,
} from './acse-values';
import { badValue, invert } from './fields';
import { type UserInformation, decodeUserInformation, encodeUserInformation } from './initiate';

/**
 * ACSE building blocks shared by AARQ/AARE (aarq.ts) and RLRQ/RLRE (release.ts): each field
 * is one context-tagged BER element; encoders return [tag number, element bytes] parts that
 * are emitted in tag order, as the ASN.1 SEQUENCE requires.
 */

/** An element this codec does not interpret, kept so nothing is silently lost. */
export interface RawAcseElement {
  readonly tag: BerTag;
  readonly value: Uint8Array;
}

export interface AcseRequirements {
  /** Bit 0: the authentication functional unit. */
  readonly authentication: boolean;
}

export type Part = readonly [order: number, bytes: Uint8Array];

const OID = berTag.universal(UniversalTag.objectIdentifier);
const OCTETS = berTag.universal(UniversalTag.octetString);
const INTEGER = berTag.universal(UniversalTag.integer);

const CONTEXT_BY_VALUE = invert(ApplicationContextName);
const MECHANISM_BY_VALUE = invert(MechanismName);
const RESULT_BY_VALUE = invert(AssociationResult);

function nameFromOid<K extends string>(e: BerElement, content: Uint8Array, prefix: readonly number[], table: ReadonlyMap<number, K>, what: string): K {
  const oid = decodeOid(content, e.valueOffset);
  const last = oid[oid.length - 1];
  const prefixOk = oid.length === prefix.length + 1 && prefix.every((p, i) => oid[i] === p);
  const name = prefixOk && last !== undefined ? table.get(last) : undefined;
  if (name === undefined) throw badValue(e.offset, `${what} ${oid.join('.')}`);
  return name;
}

export function encodeParts(outer: BerTag, parts: Part[]): Uint8Array {
  const w = new ByteWriter(128);
  const sorted = [...parts].sort((a, b) => a[0] - b[0]);
  const content = new ByteWriter(128);
  for (const [, bytes] of sorted) content.bytes(bytes);
  writeBerElement(w, outer, content.finish());
  return w.finish();
}

/** Decode the single outer element of an ACSE APDU and return its children. */
export function readAcseChildren(r: ByteReader, outer: BerTag, what: string): BerElement[] {
  const e = readBerElement(r);
  expectTag(e, outer, what);
  return readBerChildren(e);
}

export function orderOf(tag: BerTag): number {
  return tag.cls === 'context' ? tag.number : 1000 + tag.number;
}

export function rawPart(e: RawAcseElement): Part {
  return [orderOf(e.tag), encodeBerElement(e.tag, e.value)];
}

export function duplicate(e: BerElement, what: string): DcuError {
  return new DcuError(ErrorCode.DecodeBadValue, `duplicate ${what} at byte ${e.offset}`, { context: { offset: e.offset } });
}

export function missing(what: string, field: string, offset: number): DcuError {
  return new DcuError(ErrorCode.DecodeBadValue, `${what} without ${field} (element at byte ${offset})`, { context: { offset } });
}

// ---------------------------------------------------------------- field codecs

export const field = {
  /** [0] IMPLICIT BIT STRING protocol-version. */
  protocolVersion: {
    encode: (n: number, v: BerBitString): Part => [n, encodeBerElement(berTag.context(n), encodeBitString(v))],
    decode: (e: BerElement): BerBitString => decodeBitString(e.value, e.valueOffset),
  },
  /** [n] EXPLICIT OBJECT IDENTIFIER application-context-name. */
  applicationContext: {
    encode: (n: number, v: ApplicationContextName): Part => [
      n,
      encodeExplicit(berTag.context(n, true), OID, encodeOid([...APPLICATION_CONTEXT_PREFIX, ApplicationContextName[v]])),
    ],
    decode: (e: BerElement): ApplicationContextName => {
      const inner = readExplicit(e, OID, 'application-context-name');
      return nameFromOid(inner, inner.value, APPLICATION_CONTEXT_PREFIX, CONTEXT_BY_VALUE, 'application-context-name');
    },
  },
  /** [n] IMPLICIT OBJECT IDENTIFIER mechanism-name. */
  mechanism: {
    encode: (n: number, v: MechanismName): Part => [n, encodeBerElement(berTag.context(n), encodeOid([...MECHANISM_PREFIX, MechanismName[v]]))],
    decode: (e: BerElement): MechanismName => nameFromOid(e, e.value, MECHANISM_PREFIX, MECHANISM_BY_VALUE, 'mechanism-name'),
  },
  /** [n] EXPLICIT OCTET STRING: AP title (system title) or AE qualifier. */
  octets: {
    encode: (n: number, v: Uint8Array): Part => [n, encodeExplicit(berTag.context(n, true), OCTETS, v)],
    decode: (e: BerElement, what: string): Uint8Array => readExplicit(e, OCTETS, what).value.slice(),
  },
  /** [n] IMPLICIT BIT STRING ACSE-requirements (07 80 = authentication). */
  acseRequirements: {
    encode: (n: number, v: AcseRequirements): Part => [
      n,
      encodeBerElement(berTag.context(n), encodeBitString({ unusedBits: 7, bytes: Uint8Array.of(v.authentication ? 0x80 : 0) })),
    ],
    decode: (e: BerElement): AcseRequirements => {
      const bits = decodeBitString(e.value, e.valueOffset);
      return { authentication: ((bits.bytes[0] ?? 0) & 0x80) !== 0 };
    },
  },
  /** [n] EXPLICIT Authentication-value, charstring choice [0] (password, challenge). */
  authenticationValue: {
    encode: (n: number, v: Uint8Array): Part => [n, encodeExplicit(berTag.context(n, true), berTag.context(0), v)],
    decode: (e: BerElement): Uint8Array => readExplicit(e, berTag.context(0), 'authentication-value (charstring)').value.slice(),
  },
  /** [n] EXPLICIT INTEGER (AARE result). */
  integer: {
    encode: (n: number, v: number): Part => [n, encodeExplicit(berTag.context(n, true), INTEGER, encodeBerInteger(v))],
    decode: (e: BerElement, what: string): number => {
      const inner = readExplicit(e, INTEGER, what);
      return decodeBerInteger(inner.value, inner.valueOffset);
    },
  },
  /** [n] IMPLICIT INTEGER (release reasons). */
  implicitInteger: {
    encode: (n: number, v: number): Part => [n, encodeBerElement(berTag.context(n), encodeBerInteger(v))],
    decode: (e: BerElement): number => decodeBerInteger(e.value, e.valueOffset),
  },
  result: {
    encode: (n: number, v: AssociationResult): Part => field.integer.encode(n, AssociationResult[v]),
    decode: (e: BerElement): AssociationResult => {
      const v = field.integer.decode(e, 'association result');
      const name = RESULT_BY_VALUE.get(v);
      if (name === undefined) throw badValue(e.offset, `association result ${v}`);
      return name;
    },
  },
  /** [n] EXPLICIT CHOICE { acse-service-user [1] INTEGER, acse-service-provider [2] INTEGER }. */
  diagnostic: {
    encode: (n: number, v: ResultSourceDiagnostic): Part => {
      const choice = v.source === 'acse-service-user' ? 1 : 2;
      return [n, encodeBerElement(berTag.context(n, true), encodeExplicit(berTag.context(choice, true), INTEGER, encodeBerInteger(v.value)))];
    },
    decode: (e: BerElement): ResultSourceDiagnostic => {
      const r = new ByteReader(e.value, 0, e.valueOffset);
      const choice = readBerElement(r);
      r.expectEnd('result-source-diagnostic');
      const source = choice.tag.number === 1 ? 'acse-service-user' : 'acse-service-provider';
      expectTag(choice, berTag.context(choice.tag.number === 1 ? 1 : 2, true), 'result-source-diagnostic');
      return { source, value: field.integer.decode(choice, 'result-source-diagnostic') };
    },
  },
  /** [30] EXPLICIT OCTET STRING user-information holding an xDLMS APDU. */
  userInformation: {
    encode: (n: number, v: UserInformation): Part => [n, encodeExplicit(berTag.context(n, true), OCTETS, encodeUserInformation(v))],
    decode: (e: BerElement): UserInformation => {
      const inner = readExplicit(e, OCTETS, 'user-information');
      return decodeUserInformation(inner.value, inner.valueOffset);
    },
  },
} as const;
