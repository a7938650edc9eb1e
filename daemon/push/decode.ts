/**
 * A push as bytes → what it says, without I/O: the APDU (from a wrapper frame or an HDLC
 * frame's information field) is a data-notification or an event-notification, plain or in
 * general-glo-ciphering. A ciphered push names its sender by system title; the caller looks
 * the meter and its keys up, and an APDU that fails authentication ends in the GCM layer's
 * typed error. Anything else is a typed DcuError too.
 */
import { decodeApdu } from '../../protocol/apdu';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { toHex } from '../../protocol/common/hex';
import { readPushContent, type PushContent } from '../../protocol/cosem/push';
import type { HdlcFrame } from '../../protocol/hdlc/frame';
import { decipherApdu, GENERAL_GLO_CIPHERING, isCipheredTag } from '../../protocol/security/ciphered-apdu';

export interface PushKeys {
  readonly serial: string;
  readonly blockKey: Uint8Array;
  readonly authKey: Uint8Array;
}

/** The meter (and its keys) that owns a system title, or undefined. */
export type KeyLookup = (systemTitle: Uint8Array) => PushKeys | undefined;

export interface DecodedPush {
  readonly service: 'data-notification' | 'event-notification';
  /** Set for ciphered pushes: the authenticated sender. */
  readonly ciphered?: { readonly serial: string; readonly systemTitle: string; readonly invocationCounter: number };
  readonly content: PushContent;
}

const ALARM_REGISTER: readonly number[] = [0, 0, 97, 98, 0, 255];

export function decodePush(apdu: Uint8Array, lookup: KeyLookup): DecodedPush {
  const tag = apdu[0];
  if (tag === undefined) throw new DcuError(ErrorCode.DecodeTruncated, 'empty push APDU: expected a data-notification (0F) or event-notification (C2)');
  if (!isCipheredTag(tag)) return { ...decodePlain(apdu) };
  if (tag !== GENERAL_GLO_CIPHERING) {
    throw new DcuError(ErrorCode.SecurityUnsupported, `ciphered push with tag 0x${tag.toString(16)} carries no system title; meters must push with general-glo-ciphering (DB)`, {
      context: { tag },
    });
  }
  if (apdu.length < 10 || apdu[1] !== 8) {
    throw new DcuError(ErrorCode.DecodeBadLength, 'general-glo-ciphering push without an 8-byte system title at byte 1; the push is truncated or not DLMS', {
      context: { offset: 1, length: apdu.length },
    });
  }
  const systemTitle = apdu.subarray(2, 10);
  const keys = lookup(systemTitle);
  if (keys === undefined) {
    throw new DcuError(ErrorCode.MeterPushUnknown, `ciphered push from system title ${toHex(systemTitle)}, which no registered meter has; set meterSystemTitle (and keys) on the meter`, {
      context: { systemTitle: toHex(systemTitle) },
    });
  }
  const d = decipherApdu(apdu, { blockKey: keys.blockKey, authKey: keys.authKey });
  if (!d.securityControl.authenticated) {
    throw new DcuError(ErrorCode.SecurityUnsupported, `push from ${keys.serial} is not authenticated (encryption only); only authenticated pushes become alarms`, {
      context: { meter: keys.serial },
    });
  }
  const plain = decodePlain(d.apdu);
  return { ...plain, ciphered: { serial: keys.serial, systemTitle: toHex(systemTitle), invocationCounter: d.invocationCounter } };
}

function decodePlain(apdu: Uint8Array): DecodedPush {
  const a = decodeApdu(apdu);
  if (a.type === 'data-notification') return { service: a.type, content: readPushContent(a.body) };
  if (a.type === 'event-notification') {
    const at = a.attribute;
    const isAlarm = at.instanceId.length === 6 && ALARM_REGISTER.every((b, i) => at.instanceId[i] === b);
    if (at.classId === 1 && isAlarm && at.attributeId === 2 && a.value.type === 'uint32') {
      return { service: a.type, content: { alarmRegister: a.value.value } };
    }
    throw new DcuError(ErrorCode.MeterPushContent, `event-notification about class ${at.classId} attribute ${at.attributeId} is not the alarm register 0.0.97.98.0.255; only alarm pushes are stored`, {
      context: { classId: at.classId },
    });
  }
  throw new DcuError(ErrorCode.MeterPushContent, `a ${a.type} is not a push: expected a data-notification (0F) or event-notification (C2)`, { context: { type: a.type } });
}

/** The APDU in an HDLC frame from a meter: its information field without the LLC header. */
export function apduOfFrame(frame: HdlcFrame): Uint8Array {
  const info = frame.info;
  if (info.length >= 3 && info[0] === 0xe6 && (info[1] === 0xe7 || info[1] === 0xe6) && info[2] === 0x00) return info.subarray(3);
  if (info.length === 0) throw new DcuError(ErrorCode.MeterPushContent, `unsolicited ${frame.control.kind} frame without an information field: nothing to decode`);
  return info;
}
