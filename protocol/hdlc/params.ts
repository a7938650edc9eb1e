import { ByteReader, ByteWriter } from '../common/bytes';
import { DcuError, ErrorCode } from '../common/errors';

/**
 * HDLC parameter negotiation field carried in SNRM and UA (IEC 62056-46 §6.4.4.4.3.2):
 * `81 80 len | 05 n max-info-tx | 06 n max-info-rx | 07 n window-tx | 08 n window-rx`.
 * Values are n = 1, 2 or 4 big-endian bytes. Each station states its own view: in the SNRM
 * "tx" is what the client sends, in the UA "tx" is what the meter sends.
 */
export interface HdlcParameters {
  readonly maxInfoTx: number;
  readonly maxInfoRx: number;
  readonly windowTx: number;
  readonly windowRx: number;
}

/** Values that apply when the field or one of its parameters is absent. */
export const DEFAULT_HDLC_PARAMETERS: HdlcParameters = { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 };

/** Largest information field the standard allows (a 2047-byte frame minus overhead). */
export const MAX_INFO_LENGTH = 2030;
/** Largest window with modulo-8 sequence numbers. */
export const MAX_WINDOW = 7;

const FORMAT_ID = 0x81;
const GROUP_ID = 0x80;
const IDS = { maxInfoTx: 0x05, maxInfoRx: 0x06, windowTx: 0x07, windowRx: 0x08 } as const;

function writeParam(w: ByteWriter, id: number, value: number, size: 1 | 2 | 4): void {
  w.u8(id).u8(size);
  if (size === 1) w.u8(value);
  else if (size === 2) w.u16(value);
  else w.u32(value);
}

function check(p: HdlcParameters): void {
  for (const [k, v, max] of [
    ['maxInfoTx', p.maxInfoTx, MAX_INFO_LENGTH],
    ['maxInfoRx', p.maxInfoRx, MAX_INFO_LENGTH],
    ['windowTx', p.windowTx, MAX_WINDOW],
    ['windowRx', p.windowRx, MAX_WINDOW],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > max) {
      throw new DcuError(ErrorCode.EncodeInvalid, `HDLC parameter ${k} must be 1..${max}, got ${v}`, { context: { [k]: v } });
    }
  }
}

/**
 * Encodes the parameter field. Max-info values take 1 byte up to 255, else 2; window sizes
 * take 4 bytes, the form of the Green Book examples that picky meters expect.
 */
export function encodeHdlcParameters(p: HdlcParameters): Uint8Array {
  check(p);
  const body = new ByteWriter(24);
  writeParam(body, IDS.maxInfoTx, p.maxInfoTx, p.maxInfoTx > 0xff ? 2 : 1);
  writeParam(body, IDS.maxInfoRx, p.maxInfoRx, p.maxInfoRx > 0xff ? 2 : 1);
  writeParam(body, IDS.windowTx, p.windowTx, 4);
  writeParam(body, IDS.windowRx, p.windowRx, 4);
  const b = body.finish();
  return new ByteWriter(b.length + 3).u8(FORMAT_ID).u8(GROUP_ID).u8(b.length).bytes(b).finish();
}

/**
 * Decodes the parameter field of an SNRM or UA. An empty field gives the defaults; absent
 * parameters take their default; unknown parameter ids are skipped. Values are returned as
 * sent (the link clamps them); zero is rejected. Bytes after the group are ignored.
 */
export function decodeHdlcParameters(info: Uint8Array): HdlcParameters {
  if (info.length === 0) return DEFAULT_HDLC_PARAMETERS;
  const r = new ByteReader(info);
  const format = r.u8('format identifier');
  if (format !== FORMAT_ID) {
    throw new DcuError(ErrorCode.DecodeBadTag, `HDLC parameter format identifier 0x${format.toString(16)} at byte 0 (expected 0x81)`, {
      context: { offset: 0 },
    });
  }
  const group = r.u8('group identifier');
  if (group !== GROUP_ID) {
    throw new DcuError(ErrorCode.DecodeBadTag, `HDLC parameter group identifier 0x${group.toString(16)} at byte 1 (expected 0x80)`, {
      context: { offset: 1 },
    });
  }
  const groupLen = r.u8('group length');
  if (groupLen > r.remaining) {
    throw new DcuError(ErrorCode.DecodeBadLength, `HDLC parameter group length ${groupLen} at byte 2, ${r.remaining} byte(s) follow`, {
      context: { offset: 2, length: groupLen, remaining: r.remaining },
    });
  }
  const out = { ...DEFAULT_HDLC_PARAMETERS };
  const end = 3 + groupLen; // bytes after the group are not ours: ignore them
  while (r.offset < end) {
    const at = r.offset;
    const id = r.u8('parameter id');
    const n = r.u8('parameter length');
    if (n < 1 || n > 4) {
      throw new DcuError(ErrorCode.DecodeBadLength, `HDLC parameter 0x${id.toString(16)} length ${n} at byte ${at + 1} (expected 1..4)`, {
        context: { offset: at + 1 },
      });
    }
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + r.u8('parameter value');
    const key = (Object.keys(IDS) as (keyof typeof IDS)[]).find((k) => IDS[k] === id);
    if (key === undefined) continue;
    if (v === 0) {
      throw new DcuError(ErrorCode.DecodeBadValue, `HDLC parameter ${key} = 0 at byte ${at}`, { context: { offset: at } });
    }
    out[key] = v;
  }
  return out;
}

/**
 * What the client uses after the UA: its transmit side is bounded by what the meter
 * receives, and the other way round.
 */
export function negotiateFromUa(asked: HdlcParameters, ua: HdlcParameters): HdlcParameters {
  return {
    maxInfoTx: Math.min(asked.maxInfoTx, ua.maxInfoRx, MAX_INFO_LENGTH),
    maxInfoRx: Math.min(asked.maxInfoRx, ua.maxInfoTx, MAX_INFO_LENGTH),
    windowTx: Math.min(asked.windowTx, ua.windowRx, MAX_WINDOW),
    windowRx: Math.min(asked.windowRx, ua.windowTx, MAX_WINDOW),
  };
}

/**
 * What the meter grants (its own view, sent in the UA) given the client's SNRM (client view)
 * and the meter's limits (meter view).
 */
export function negotiateForUa(snrm: HdlcParameters, limits: HdlcParameters): HdlcParameters {
  return {
    maxInfoTx: Math.min(snrm.maxInfoRx, limits.maxInfoTx, MAX_INFO_LENGTH),
    maxInfoRx: Math.min(snrm.maxInfoTx, limits.maxInfoRx, MAX_INFO_LENGTH),
    windowTx: Math.min(snrm.windowRx, limits.windowTx, MAX_WINDOW),
    windowRx: Math.min(snrm.windowTx, limits.windowRx, MAX_WINDOW),
  };
}
