/**
 * The simulated meter's pushes as bytes (no I/O): an IDIS alarm push (or last gasp) as a
 * Data-Notification APDU, ciphered with general-glo-ciphering when the push client is
 * secured, and its HDLC form for a serial bus.
 *
 * On HDLC the push is a UI frame: the meter has no connection (no SNRM/UA, no sequence
 * numbers) when it speaks first, and the DLMS UA describes event reports on HDLC as a
 * pending PDU sent in a UI frame from the management logical device to the client. The
 * information field carries the LLC header E6 E7 00 as any meter → client APDU.
 */
import { ByteWriter } from '../../protocol/common/bytes';
import { fromHex } from '../../protocol/common/hex';
import { writeDataNotification } from '../../protocol/apdu/notification';
import { cipherApdu } from '../../protocol/security/ciphered-apdu';
import type { SecurityPolicy } from '../../protocol/security/security-control';
import { alarmPushBody } from '../../protocol/cosem/push';
import type { Obis } from '../../protocol/cosem/obis';
import { clientAddress, type ServerAddress } from '../../protocol/hdlc/address';
import { encodeFrame } from '../../protocol/hdlc/frame';
import { SIM_KEYS, type ClientCredential } from '../types';

/** The simulated meter's logical device name (0.0.42.0.0.255): "DCU" + serial, at most 16 characters. */
export function simLogicalDeviceName(serial: string): string {
  return `DCU${serial}`.slice(0, 16);
}

export interface PushCipher {
  readonly policy: Exclude<SecurityPolicy, 'none'>;
  readonly systemTitle: Uint8Array;
  readonly blockKey: Uint8Array;
  readonly authKey: Uint8Array;
}

/** How the meter protects pushes to this client: as its association would (HLS → ciphered), else plain. */
export function pushCipherFor(credential: ClientCredential | undefined, systemTitle: Uint8Array): PushCipher | undefined {
  if (credential === undefined) return undefined;
  const policy = credential.policy ?? (credential.auth === 'high' ? 'auth-enc' : 'none');
  if (policy === 'none' || (credential.auth !== 'high' && credential.auth !== 'high-sha256')) return undefined;
  return { policy, systemTitle, blockKey: fromHex(credential.blockKey ?? SIM_KEYS.blockKey), authKey: fromHex(credential.authKey ?? SIM_KEYS.authKey) };
}

export interface AlarmPush {
  readonly pushSetup: Obis;
  readonly logicalDeviceName: string;
  readonly alarmRegister: number;
  /** Long invoke id (24 bits). */
  readonly invokeId: number;
}

/** The Data-Notification APDU of an alarm push, ciphered when `cipher` is given. */
export function encodeAlarmPush(push: AlarmPush, cipher?: PushCipher, invocationCounter = 0): Uint8Array {
  const w = new ByteWriter(64);
  writeDataNotification(w, {
    type: 'data-notification',
    invoke: { invokeId: push.invokeId & 0xffffff, selfDescriptive: false, breakOnError: false, confirmed: false, highPriority: false },
    body: alarmPushBody(push.pushSetup, push.logicalDeviceName, push.alarmRegister),
  });
  const plain = w.finish();
  if (cipher === undefined) return plain;
  return cipherApdu(plain, { ...cipher, invocationCounter, general: true });
}

const LLC_METER_TO_CLIENT = Uint8Array.of(0xe6, 0xe7, 0x00);

/** The push as an HDLC UI frame from the meter's server address to the client. */
export function pushUiFrame(apdu: Uint8Array, server: ServerAddress, client: number): Uint8Array {
  const info = new Uint8Array(LLC_METER_TO_CLIENT.length + apdu.length);
  info.set(LLC_METER_TO_CLIENT);
  info.set(apdu, LLC_METER_TO_CLIENT.length);
  return encodeFrame({ dest: clientAddress(client), src: server, control: { kind: 'UI', pf: true }, segmented: false, info });
}
