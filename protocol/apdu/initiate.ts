import { ByteReader, ByteWriter } from '../common/bytes';
import { DcuError, ErrorCode } from '../common/errors';
import { berTag, decodeBitString, encodeBitString, expectTag, readBerElement, writeBerElement } from '../axdr/ber';
import { type Conformance, conformanceFromNumber, conformanceToNumber } from './conformance';
import { CONFIRMED_SERVICE_ERROR, type ConfirmedServiceError, readConfirmedServiceError, writeConfirmedServiceError } from './errors';
import { badValue, checkInt, checkUint, expectApduTag, readOptional, writeOptional } from './fields';

export const INITIATE_REQUEST = 0x01;
export const INITIATE_RESPONSE = 0x08;
export const DLMS_VERSION = 6;
/** VAA name of logical-name referencing; short-name referencing uses 0xFA00. */
export const VAA_NAME_LN = 0x0007;
export const VAA_NAME_SN = 0xfa00;

/** InitiateRequest (01), carried in the AARQ user-information. */
export interface InitiateRequest {
  readonly dedicatedKey?: Uint8Array;
  /** DEFAULT TRUE: sent as 00 when true, 01 00 when false. */
  readonly responseAllowed: boolean;
  readonly proposedQualityOfService?: number;
  readonly proposedDlmsVersion: number;
  readonly proposedConformance: Conformance;
  readonly clientMaxReceivePduSize: number;
}

/** InitiateResponse (08), carried in the AARE user-information. */
export interface InitiateResponse {
  readonly negotiatedQualityOfService?: number;
  readonly negotiatedDlmsVersion: number;
  readonly negotiatedConformance: Conformance;
  readonly serverMaxReceivePduSize: number;
  readonly vaaName: number;
}

/**
 * What travels in user-information: a plain initiate request/response, a
 * confirmed-service-error, or anything else (glo-/ded-initiate 0x21/0x28/0x41/0x48) kept raw
 * for protocol/security to decipher.
 */
export type UserInformation =
  | { readonly kind: 'initiate-request'; readonly request: InitiateRequest }
  | { readonly kind: 'initiate-response'; readonly response: InitiateResponse }
  | { readonly kind: 'confirmed-service-error'; readonly error: ConfirmedServiceError }
  | { readonly kind: 'raw'; readonly bytes: Uint8Array };

/** Conformance is [APPLICATION 31] IMPLICIT BIT STRING (SIZE 24): 5F 1F 04 00 xx xx xx. */
const CONFORMANCE_TAG = berTag.application(31);

function readConformance(r: ByteReader): Conformance {
  const e = readBerElement(r);
  expectTag(e, CONFORMANCE_TAG, 'conformance');
  const bits = decodeBitString(e.value, e.valueOffset);
  if (bits.bytes.length !== 3) throw badValue(e.valueOffset, `conformance of ${bits.bytes.length} bytes (expected 3)`);
  const [a = 0, b = 0, c = 0] = bits.bytes;
  return conformanceFromNumber((a << 16) | (b << 8) | c);
}

function writeConformance(w: ByteWriter, c: Conformance): void {
  const v = conformanceToNumber(c);
  writeBerElement(w, CONFORMANCE_TAG, encodeBitString({ unusedBits: 0, bytes: Uint8Array.of(v >>> 16, (v >>> 8) & 0xff, v & 0xff) }));
}

export function readInitiateRequest(r: ByteReader): InitiateRequest {
  expectApduTag(r, INITIATE_REQUEST, 'initiate-request');
  const dedicatedKey = readOptional(r, 'dedicated key', (rr) => rr.lengthPrefixed('dedicated key'));
  const allowed = readOptional(r, 'response-allowed', (rr) => rr.u8('response-allowed') !== 0);
  const qos = readOptional(r, 'proposed quality of service', (rr) => rr.i8('proposed quality of service'));
  const proposedDlmsVersion = r.u8('proposed DLMS version');
  const proposedConformance = readConformance(r);
  const clientMaxReceivePduSize = r.u16('client max receive PDU size');
  return {
    ...(dedicatedKey === undefined ? {} : { dedicatedKey }),
    responseAllowed: allowed ?? true,
    ...(qos === undefined ? {} : { proposedQualityOfService: qos }),
    proposedDlmsVersion,
    proposedConformance,
    clientMaxReceivePduSize,
  };
}

export function writeInitiateRequest(w: ByteWriter, v: InitiateRequest): void {
  w.u8(INITIATE_REQUEST);
  writeOptional(w, v.dedicatedKey, (ww, key) => ww.lengthPrefixed(key));
  writeOptional(w, v.responseAllowed ? undefined : false, (ww) => ww.u8(0));
  writeOptional(w, v.proposedQualityOfService, (ww, q) => ww.i8(checkInt(q, -128, 127, 'quality of service')));
  w.u8(checkUint(v.proposedDlmsVersion, 255, 'DLMS version'));
  writeConformance(w, v.proposedConformance);
  w.u16(checkUint(v.clientMaxReceivePduSize, 0xffff, 'client max receive PDU size'));
}

export function readInitiateResponse(r: ByteReader): InitiateResponse {
  expectApduTag(r, INITIATE_RESPONSE, 'initiate-response');
  const qos = readOptional(r, 'negotiated quality of service', (rr) => rr.i8('negotiated quality of service'));
  const negotiatedDlmsVersion = r.u8('negotiated DLMS version');
  const negotiatedConformance = readConformance(r);
  const serverMaxReceivePduSize = r.u16('server max receive PDU size');
  const vaaName = r.u16('VAA name');
  return {
    ...(qos === undefined ? {} : { negotiatedQualityOfService: qos }),
    negotiatedDlmsVersion,
    negotiatedConformance,
    serverMaxReceivePduSize,
    vaaName,
  };
}

export function writeInitiateResponse(w: ByteWriter, v: InitiateResponse): void {
  w.u8(INITIATE_RESPONSE);
  writeOptional(w, v.negotiatedQualityOfService, (ww, q) => ww.i8(checkInt(q, -128, 127, 'quality of service')));
  w.u8(checkUint(v.negotiatedDlmsVersion, 255, 'DLMS version'));
  writeConformance(w, v.negotiatedConformance);
  w.u16(checkUint(v.serverMaxReceivePduSize, 0xffff, 'server max receive PDU size'));
  w.u16(checkUint(v.vaaName, 0xffff, 'VAA name'));
}

/** Decode the xDLMS APDU inside user-information. `baseOffset` positions errors in the frame. */
export function decodeUserInformation(bytes: Uint8Array, baseOffset = 0): UserInformation {
  const r = new ByteReader(bytes, 0, baseOffset);
  let v: UserInformation;
  switch (bytes[0]) {
    case INITIATE_REQUEST:
      v = { kind: 'initiate-request', request: readInitiateRequest(r) };
      break;
    case INITIATE_RESPONSE:
      v = { kind: 'initiate-response', response: readInitiateResponse(r) };
      break;
    case CONFIRMED_SERVICE_ERROR:
      v = { kind: 'confirmed-service-error', error: readConfirmedServiceError(r) };
      break;
    case undefined:
      throw new DcuError(ErrorCode.DecodeTruncated, `empty user-information at byte ${baseOffset}`, { context: { offset: baseOffset } });
    default:
      return { kind: 'raw', bytes: bytes.slice() };
  }
  r.expectEnd('user-information xDLMS APDU');
  return v;
}

export function encodeUserInformation(v: UserInformation): Uint8Array {
  const w = new ByteWriter(32);
  switch (v.kind) {
    case 'initiate-request':
      writeInitiateRequest(w, v.request);
      break;
    case 'initiate-response':
      writeInitiateResponse(w, v.response);
      break;
    case 'confirmed-service-error':
      writeConfirmedServiceError(w, v.error);
      break;
    case 'raw':
      w.bytes(v.bytes);
      break;
  }
  return w.finish();
}
