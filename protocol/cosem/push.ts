/**
 * Push content (Push setup, IC 40): what a meter sends in a Data-Notification. The body is a
 * structure with one element per entry of the push setup's push_object_list, in list order.
 * The alarm push as IDIS/DSMR meters send it has three entries:
 *
 *   1. the push setup's own logical name (class 40, attribute 1) — which push this is;
 *   2. the logical device name (class 1, 0.0.42.0.0.255, attribute 2) — who sends it;
 *   3. the alarm register (class 1, 0.0.97.98.0.255, attribute 2, double-long-unsigned).
 *
 * The "last gasp" sent on power down uses the same layout from another push setup
 * (LAST_GASP_PUSH_OBIS, the simulator's choice; brands differ). Reading is tolerant: the
 * first 6-byte octet-string is the push id, the first other octet-/visible-string the
 * logical device name, the first double-long-unsigned the alarm register.
 */
import type { Data } from '../axdr/data';
import { DcuError, ErrorCode } from '../common/errors';
import { type Obis, obisFromBytes, obisToBytes } from './obis';

/** IDIS "Push setup – alarm" (0.4.25.9.0.255). */
export const ALARM_PUSH_OBIS: Obis = [0, 4, 25, 9, 0, 255];
/** Power-down push ("last gasp"): push setup 0.5.25.9.0.255 in this project. */
export const LAST_GASP_PUSH_OBIS: Obis = [0, 5, 25, 9, 0, 255];

export interface PushContent {
  /** Logical name of the push setup that sent it (the push's identity). */
  readonly pushSetup?: Obis;
  /** Logical device name, as text when printable. */
  readonly logicalDeviceName?: string;
  /** Alarm register 0.0.97.98.0.255 value. */
  readonly alarmRegister?: number;
}

/** The body of an alarm (or last-gasp) push: {push setup LN, logical device name, alarm register}. */
export function alarmPushBody(pushSetup: Obis, logicalDeviceName: string, alarmRegister: number): Data {
  return {
    type: 'structure',
    items: [
      { type: 'octet-string', value: obisToBytes(pushSetup) },
      { type: 'octet-string', value: new TextEncoder().encode(logicalDeviceName) },
      { type: 'uint32', value: alarmRegister >>> 0 },
    ],
  };
}

const printable = (b: Uint8Array): boolean => b.length > 0 && b.every((x) => x >= 0x20 && x < 0x7f);

/** Reads a push body; throws MeterPushContent when it carries nothing usable. */
export function readPushContent(body: Data): PushContent {
  const items = body.type === 'structure' || body.type === 'array' ? body.items : [body];
  let pushSetup: Obis | undefined;
  let logicalDeviceName: string | undefined;
  let alarmRegister: number | undefined;
  for (const d of items) {
    if (d.type === 'octet-string' && d.value.length === 6 && pushSetup === undefined && !printable(d.value)) pushSetup = obisFromBytes(d.value);
    else if (d.type === 'octet-string' && logicalDeviceName === undefined && printable(d.value)) logicalDeviceName = new TextDecoder().decode(d.value);
    else if (d.type === 'visible-string' && logicalDeviceName === undefined) logicalDeviceName = d.value;
    else if (d.type === 'uint32' && alarmRegister === undefined) alarmRegister = d.value;
  }
  if (pushSetup === undefined && logicalDeviceName === undefined && alarmRegister === undefined) {
    throw new DcuError(ErrorCode.MeterPushContent, `push body (${body.type}) has no push id, logical device name or alarm register; expected the IDIS alarm push layout`, {
      context: { type: body.type },
    });
  }
  return {
    ...(pushSetup === undefined ? {} : { pushSetup }),
    ...(logicalDeviceName === undefined ? {} : { logicalDeviceName }),
    ...(alarmRegister === undefined ? {} : { alarmRegister }),
  };
}
