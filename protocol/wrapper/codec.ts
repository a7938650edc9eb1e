/**
 * IEC 62056-47 wrapper (DLMS over TCP/UDP): an 8-byte header in front of each APDU,
 * `version 0x0001 | source wPort | destination wPort | APDU length`, all u16 big-endian.
 * No LLC bytes (unlike HDLC). wPort = client address on the client side, logical device
 * address on the meter side.
 */
import { ByteReader, ByteWriter } from '../common/bytes';
import { DcuError, ErrorCode } from '../common/errors';

export const WRAPPER_VERSION = 0x0001;
export const WRAPPER_HEADER_LENGTH = 8;
/** The length field is a u16: no APDU can be longer. */
export const WRAPPER_MAX_APDU_LENGTH = 0xffff;

export interface WrapperFrame {
  /** wPort of the sender (client address, or the meter's logical device). */
  readonly source: number;
  /** wPort of the receiver. */
  readonly destination: number;
  readonly apdu: Uint8Array;
}

export interface WrapperHeader {
  readonly version: number;
  readonly source: number;
  readonly destination: number;
  readonly length: number;
}

function checkPort(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new DcuError(ErrorCode.EncodeInvalid, `wrapper ${what} wPort ${value} is not a u16`, {
      context: { [what]: value },
    });
  }
}

export function encodeWrapper(frame: WrapperFrame): Uint8Array {
  checkPort(frame.source, 'source');
  checkPort(frame.destination, 'destination');
  if (frame.apdu.length > WRAPPER_MAX_APDU_LENGTH) {
    throw new DcuError(
      ErrorCode.FramingTooLong,
      `APDU of ${frame.apdu.length} bytes does not fit the wrapper's u16 length field`,
      { context: { length: frame.apdu.length, max: WRAPPER_MAX_APDU_LENGTH } },
    );
  }
  return new ByteWriter(WRAPPER_HEADER_LENGTH + frame.apdu.length)
    .u16(WRAPPER_VERSION)
    .u16(frame.source)
    .u16(frame.destination)
    .u16(frame.apdu.length)
    .bytes(frame.apdu)
    .finish();
}

/**
 * Reads and checks the 8-byte header at `offset` (version and length bound). Throws
 * DecodeTruncated (fewer than 8 bytes), FramingBadFormat (version) or FramingTooLong.
 */
export function decodeWrapperHeader(
  bytes: Uint8Array,
  offset = 0,
  maxApduLength = WRAPPER_MAX_APDU_LENGTH,
): WrapperHeader {
  const r = new ByteReader(bytes, offset);
  const version = r.u16('wrapper version');
  if (version !== WRAPPER_VERSION) {
    throw new DcuError(
      ErrorCode.FramingBadFormat,
      `wrapper version 0x${version.toString(16).padStart(4, '0')} at byte ${offset}, expected 0x0001`,
      { context: { offset, version } },
    );
  }
  const source = r.u16('wrapper source wPort');
  const destination = r.u16('wrapper destination wPort');
  const length = r.u16('wrapper length');
  if (length > maxApduLength) {
    throw new DcuError(
      ErrorCode.FramingTooLong,
      `wrapper length ${length} at byte ${offset + 6} exceeds the limit of ${maxApduLength}`,
      { context: { offset: offset + 6, length, max: maxApduLength } },
    );
  }
  return { version, source, destination, length };
}

/** Decodes exactly one wrapper frame; trailing bytes are an error. */
export function decodeWrapper(bytes: Uint8Array, maxApduLength = WRAPPER_MAX_APDU_LENGTH): WrapperFrame {
  const header = decodeWrapperHeader(bytes, 0, maxApduLength);
  const r = new ByteReader(bytes, WRAPPER_HEADER_LENGTH);
  const apdu = r.copy(header.length, 'wrapper APDU');
  r.expectEnd('wrapper frame');
  return { source: header.source, destination: header.destination, apdu };
}
