import { ByteReader, ByteWriter } from '../common/bytes';
import { DcuError, ErrorCode } from '../common/errors';
import { AARE, AARQ, type Aare, type Aarq, readAare, readAarq, writeAare, writeAarq } from './aarq';
import { ACTION_REQUEST, ACTION_RESPONSE, type ActionRequest, type ActionResponse, readActionRequest, readActionResponse, writeActionRequest, writeActionResponse } from './action';
import { type CipheredApdu, isCipheredApduTag, readCipheredApdu } from './ciphered';
import {
  CONFIRMED_SERVICE_ERROR,
  type ConfirmedServiceError,
  EXCEPTION_RESPONSE,
  type ExceptionResponse,
  readConfirmedServiceError,
  readExceptionResponse,
  writeConfirmedServiceError,
  writeExceptionResponse,
} from './errors';
import { badTag, hex2 } from './fields';
import { GENERAL_BLOCK_TRANSFER, type GeneralBlockTransfer, readGeneralBlockTransfer, writeGeneralBlockTransfer } from './gbt';
import { GET_REQUEST, GET_RESPONSE, type GetRequest, type GetResponse, readGetRequest, readGetResponse, writeGetRequest, writeGetResponse } from './get';
import {
  DATA_NOTIFICATION,
  type DataNotification,
  EVENT_NOTIFICATION,
  type EventNotification,
  readDataNotification,
  readEventNotification,
  writeDataNotification,
  writeEventNotification,
} from './notification';
import { RLRE, RLRQ, type Rlre, type Rlrq, readRlre, readRlrq, writeRlre, writeRlrq } from './release';
import { SET_REQUEST, SET_RESPONSE, type SetRequest, type SetResponse, readSetRequest, readSetResponse, writeSetRequest, writeSetResponse } from './set';

export * from './aarq';
export * from './acse-values';
export type { AcseRequirements, RawAcseElement } from './acse';
export * from './action';
export * from './ciphered';
export * from './conformance';
export * from './datablock';
export * from './descriptors';
export * from './errors';
export * from './gbt';
export * from './get';
export * from './initiate';
export * from './invoke';
export * from './notification';
export * from './release';
export * from './results';
export * from './set';

/** Every APDU this layer knows, discriminated by `type` (and `kind` within a family). */
export type Apdu =
  | Aarq
  | Aare
  | Rlrq
  | Rlre
  | GetRequest
  | GetResponse
  | SetRequest
  | SetResponse
  | ActionRequest
  | ActionResponse
  | ExceptionResponse
  | ConfirmedServiceError
  | DataNotification
  | EventNotification
  | GeneralBlockTransfer
  | CipheredApdu;

export type ApduType = Apdu['type'];

type Reader = (r: ByteReader) => Apdu;

const READERS: ReadonlyMap<number, Reader> = new Map<number, Reader>([
  [AARQ, readAarq],
  [AARE, readAare],
  [RLRQ, readRlrq],
  [RLRE, readRlre],
  [GET_REQUEST, readGetRequest],
  [GET_RESPONSE, readGetResponse],
  [SET_REQUEST, readSetRequest],
  [SET_RESPONSE, readSetResponse],
  [ACTION_REQUEST, readActionRequest],
  [ACTION_RESPONSE, readActionResponse],
  [EXCEPTION_RESPONSE, readExceptionResponse],
  [CONFIRMED_SERVICE_ERROR, readConfirmedServiceError],
  [DATA_NOTIFICATION, readDataNotification],
  [EVENT_NOTIFICATION, readEventNotification],
  [GENERAL_BLOCK_TRANSFER, readGeneralBlockTransfer],
]);

/** Read one APDU at the reader's position, dispatching on its tag. */
export function readApdu(r: ByteReader): Apdu {
  const at = r.baseOffset + r.offset;
  const tag = r.peekU8('APDU tag');
  const read = READERS.get(tag);
  if (read) return read(r);
  if (isCipheredApduTag(tag)) return readCipheredApdu(r);
  throw badTag(at, tag, 'APDU tag');
}

/**
 * Decode exactly one APDU (LLC header or wrapper already removed). Anything malformed ends
 * in a DcuError naming the byte offset; trailing bytes are an error.
 */
export function decodeApdu(bytes: Uint8Array, baseOffset = 0): Apdu {
  const r = new ByteReader(bytes, 0, baseOffset);
  const apdu = readApdu(r);
  r.expectEnd(`${apdu.type} APDU`);
  return apdu;
}

export function writeApdu(w: ByteWriter, a: Apdu): void {
  switch (a.type) {
    case 'aarq':
      return writeAarq(w, a);
    case 'aare':
      return writeAare(w, a);
    case 'rlrq':
      return writeRlrq(w, a);
    case 'rlre':
      return writeRlre(w, a);
    case 'get-request':
      return writeGetRequest(w, a);
    case 'get-response':
      return writeGetResponse(w, a);
    case 'set-request':
      return writeSetRequest(w, a);
    case 'set-response':
      return writeSetResponse(w, a);
    case 'action-request':
      return writeActionRequest(w, a);
    case 'action-response':
      return writeActionResponse(w, a);
    case 'exception-response':
      return writeExceptionResponse(w, a);
    case 'confirmed-service-error':
      return writeConfirmedServiceError(w, a);
    case 'data-notification':
      return writeDataNotification(w, a);
    case 'event-notification':
      return writeEventNotification(w, a);
    case 'general-block-transfer':
      return writeGeneralBlockTransfer(w, a);
    case 'ciphered':
      if (a.bytes[0] !== a.tag || !isCipheredApduTag(a.tag)) {
        throw new DcuError(ErrorCode.EncodeInvalid, `ciphered APDU bytes must start with a ciphered tag (0x${hex2(a.tag)})`);
      }
      w.bytes(a.bytes);
      return;
  }
}

export function encodeApdu(a: Apdu): Uint8Array {
  const w = new ByteWriter(64);
  writeApdu(w, a);
  return w.finish();
}
