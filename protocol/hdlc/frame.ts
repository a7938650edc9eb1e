import { DcuError, ErrorCode } from '../common/errors';
import { addressLength, decodeAddress, encodeAddress, type HdlcAddress } from './address';
import { decodeControl, encodeControl, type HdlcControl } from './control';
import { checkCrc, writeCrc } from './fcs';

/**
 * HDLC frame codec (IEC 62056-46 frame format type 3):
 * `7E | A0|S|len(11) | dest | src | control | [HCS(2) info] | FCS(2) | 7E`.
 * len counts the bytes between the flags. HCS only when an information field is present.
 * No byte stuffing: the length field delimits the frame.
 */

export const HDLC_FLAG = 0x7e;
/** Largest value of the 11-bit length field. */
export const MAX_FRAME_LENGTH = 0x7ff;
/** Smallest legal length field: format 2 + dest 1 + src 1 + control 1 + FCS 2. */
export const MIN_FRAME_LENGTH = 7;

export interface HdlcFrame {
  readonly dest: HdlcAddress;
  readonly src: HdlcAddress;
  readonly control: HdlcControl;
  /** Segmentation bit: more segments of the same APDU follow. */
  readonly segmented: boolean;
  /** Information field (empty when absent). */
  readonly info: Uint8Array;
}

const FORMAT_TYPE_MASK = 0xf000;
const FORMAT_TYPE_3 = 0xa000;
const SEGMENT_BIT = 0x0800;

/** Encodes a frame including both flags. Throws EncodeInvalid if it exceeds 2047 bytes. */
export function encodeFrame(frame: HdlcFrame): Uint8Array {
  const dest = encodeAddress(frame.dest);
  const src = encodeAddress(frame.src);
  const header = 2 + dest.length + src.length + 1;
  const infoLen = frame.info.length;
  const length = header + (infoLen > 0 ? 2 + infoLen : 0) + 2;
  if (length > MAX_FRAME_LENGTH) {
    throw new DcuError(ErrorCode.EncodeInvalid, `HDLC frame of ${length} bytes exceeds the 11-bit length field`, {
      context: { length },
    });
  }
  const out = new Uint8Array(length + 2);
  out[0] = HDLC_FLAG;
  const format = FORMAT_TYPE_3 | (frame.segmented ? SEGMENT_BIT : 0) | length;
  out[1] = format >>> 8;
  out[2] = format & 0xff;
  out.set(dest, 3);
  out.set(src, 3 + dest.length);
  out[1 + header - 1] = encodeControl(frame.control);
  let at = 1 + header;
  if (infoLen > 0) {
    writeCrc(out, 1, at);
    at += 2;
    out.set(frame.info, at);
    at += infoLen;
  }
  writeCrc(out, 1, at);
  out[at + 2] = HDLC_FLAG;
  return out;
}

/** Format field fields, or a FramingBadFormat error naming the offset. */
export function parseFormat(hi: number, lo: number, offset: number): { length: number; segmented: boolean } {
  const format = (hi << 8) | lo;
  if ((format & FORMAT_TYPE_MASK) !== FORMAT_TYPE_3) {
    throw new DcuError(
      ErrorCode.FramingBadFormat,
      `HDLC format 0x${format.toString(16).padStart(4, '0')} at byte ${offset} (expected type 3, 0xA000)`,
      { context: { offset, format } },
    );
  }
  const length = format & MAX_FRAME_LENGTH;
  if (length < MIN_FRAME_LENGTH) {
    throw new DcuError(ErrorCode.FramingBadFormat, `HDLC length ${length} at byte ${offset} is below ${MIN_FRAME_LENGTH}`, {
      context: { offset, length },
    });
  }
  return { length, segmented: (format & SEGMENT_BIT) !== 0 };
}

/**
 * Header length (format + addresses + control, without HCS) of the frame whose format field
 * starts at bytes[start], or undefined when the addresses are not complete yet.
 */
export function headerLength(bytes: Uint8Array, start: number, end = bytes.length): number | undefined {
  const dLen = addressLength(bytes, start + 2, end);
  if (dLen === undefined) return undefined;
  const sLen = addressLength(bytes, start + 2 + dLen, end);
  if (sLen === undefined) return undefined;
  return 2 + dLen + sLen + 1;
}

/** Decodes one frame `7E ... 7E` (exactly; the splitter cuts streams into such frames). */
export function decodeFrame(bytes: Uint8Array): HdlcFrame {
  const n = bytes.length;
  if (n < MIN_FRAME_LENGTH + 2) {
    throw new DcuError(ErrorCode.DecodeTruncated, `HDLC frame of ${n} bytes is shorter than ${MIN_FRAME_LENGTH + 2}`, {
      context: { offset: 0, length: n },
    });
  }
  if (bytes[0] !== HDLC_FLAG) {
    throw new DcuError(ErrorCode.FramingBadFormat, 'missing opening flag 0x7E at byte 0', { context: { offset: 0 } });
  }
  const { length, segmented } = parseFormat(bytes[1] ?? 0, bytes[2] ?? 0, 1);
  if (length + 2 !== n) {
    throw new DcuError(
      length + 2 > n ? ErrorCode.DecodeTruncated : ErrorCode.DecodeTrailingBytes,
      `HDLC length field ${length} at byte 1 does not match the ${n - 2} byte(s) between the flags`,
      { context: { offset: 1, length, actual: n - 2 } },
    );
  }
  if (bytes[n - 1] !== HDLC_FLAG) {
    throw new DcuError(ErrorCode.FramingBadFormat, `missing closing flag 0x7E at byte ${n - 1}`, { context: { offset: n - 1 } });
  }
  const end = n - 3; // start of FCS
  const header = headerLength(bytes, 1, end);
  if (header === undefined) {
    throw new DcuError(ErrorCode.DecodeTruncated, 'HDLC addresses run into the FCS at byte 3', { context: { offset: 3 } });
  }
  const ctrlAt = header; // 1 + header - 1
  if (ctrlAt >= end) {
    throw new DcuError(ErrorCode.DecodeTruncated, `HDLC control byte missing at byte ${ctrlAt}`, { context: { offset: ctrlAt } });
  }
  const infoStart = 1 + header;
  const afterHeader = end - infoStart;
  let info: Uint8Array = new Uint8Array(0);
  if (afterHeader > 0) {
    if (afterHeader < 2) {
      throw new DcuError(ErrorCode.DecodeTruncated, `HDLC HCS truncated at byte ${infoStart}`, { context: { offset: infoStart } });
    }
    if (!checkCrc(bytes, 1, infoStart)) {
      throw new DcuError(ErrorCode.FramingBadHcs, `bad HDLC HCS at byte ${infoStart}`, { context: { offset: infoStart } });
    }
    info = bytes.slice(infoStart + 2, end);
  }
  if (!checkCrc(bytes, 1, end)) {
    throw new DcuError(ErrorCode.FramingBadFcs, `bad HDLC FCS at byte ${end}`, { context: { offset: end } });
  }
  const dest = decodeAddress(bytes, 3, end);
  const src = decodeAddress(bytes, 3 + dest.length, end);
  const control = decodeControl(bytes[ctrlAt] ?? 0, ctrlAt);
  return { dest: dest.address, src: src.address, control, segmented, info };
}
