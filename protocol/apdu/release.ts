import type { ByteReader, ByteWriter } from '../common/bytes';
import { berTag, expectTag } from '../axdr/ber';
import { type Part, type RawAcseElement, duplicate, encodeParts, field, readAcseChildren, rawPart } from './acse';
import type { UserInformation } from './initiate';

export const RLRQ = 0x62;
export const RLRE = 0x63;

const RLRQ_TAG = berTag.application(2, true);
const RLRE_TAG = berTag.application(3, true);

/**
 * RLRQ (A-RELEASE request, 62) and RLRE (A-RELEASE response, 63): optional reason
 * ([0] IMPLICIT INTEGER, see ReleaseRequestReason / ReleaseResponseReason) and optional
 * user-information (ciphered contexts carry a glo-initiate there).
 */
export interface Rlrq {
  readonly type: 'rlrq';
  readonly reason?: number;
  readonly userInformation?: UserInformation;
  readonly otherElements?: readonly RawAcseElement[];
}

export interface Rlre {
  readonly type: 'rlre';
  readonly reason?: number;
  readonly userInformation?: UserInformation;
  readonly otherElements?: readonly RawAcseElement[];
}

interface ReleaseFields {
  reason?: number;
  userInformation?: UserInformation;
  otherElements?: readonly RawAcseElement[];
}

function readRelease(r: ByteReader, outer: typeof RLRQ_TAG, what: string): ReleaseFields {
  const v: ReleaseFields = {};
  const others: RawAcseElement[] = [];
  for (const e of readAcseChildren(r, outer, what)) {
    if (e.tag.cls === 'context' && e.tag.number === 0) {
      expectTag(e, berTag.context(0), `${what} reason`);
      if (v.reason !== undefined) throw duplicate(e, `${what} reason`);
      v.reason = field.implicitInteger.decode(e);
    } else if (e.tag.cls === 'context' && e.tag.number === 30) {
      expectTag(e, berTag.context(30, true), `${what} user-information`);
      if (v.userInformation !== undefined) throw duplicate(e, `${what} user-information`);
      v.userInformation = field.userInformation.decode(e);
    } else {
      others.push({ tag: e.tag, value: e.value.slice() });
    }
  }
  if (others.length > 0) v.otherElements = others;
  return v;
}

function writeRelease(w: ByteWriter, outer: typeof RLRQ_TAG, a: ReleaseFields): void {
  const parts: Part[] = [];
  if (a.reason !== undefined) parts.push(field.implicitInteger.encode(0, a.reason));
  if (a.userInformation) parts.push(field.userInformation.encode(30, a.userInformation));
  for (const o of a.otherElements ?? []) parts.push(rawPart(o));
  w.bytes(encodeParts(outer, parts));
}

export function readRlrq(r: ByteReader): Rlrq {
  return { type: 'rlrq', ...readRelease(r, RLRQ_TAG, 'RLRQ') };
}

export function writeRlrq(w: ByteWriter, a: Rlrq): void {
  writeRelease(w, RLRQ_TAG, a);
}

export function readRlre(r: ByteReader): Rlre {
  return { type: 'rlre', ...readRelease(r, RLRE_TAG, 'RLRE') };
}

export function writeRlre(w: ByteWriter, a: Rlre): void {
  writeRelease(w, RLRE_TAG, a);
}
