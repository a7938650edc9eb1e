/**
 * Setting a meter's clock to "now" so that it is right when the meter applies it.
 *
 * The time is taken immediately before the SET request is encoded (DlmsClient.set encodes
 * synchronously, before its first await), never earlier (argument parsing, port opening and
 * the association take seconds on a slow line). It is then advanced by the one-way transfer
 * time of the request: the bytes of the request frame × 10 bits / baud on a serial line,
 * plus a known latency (modem, terminal server) if configured. The meter applies the value
 * after it received the last byte, so that is the instant it must hold.
 *
 * What is left (ClockSet.residual): the meter's clock resolution (a meter without hundredths
 * keeps whole seconds: up to 1 s), one character time (the estimate counts whole bytes),
 * the meter's processing time (not known, usually a few ms) and, on TCP/UDP or a line with
 * unknown latency, the network delay. The daemon's clock synchronisation uses this code.
 */
import { encodeApdu } from '../apdu';
import { invokeIdAndPriority } from '../apdu/invoke';
import type { DataAccessResult } from '../apdu/results';
import type { Data } from '../axdr/data';
import { encodeDateTimeOctets, epochToDateTime } from '../axdr/datetime';
import { obisToBytes, obis } from '../cosem/obis';
import type { DlmsClient } from './client';
import type { ClientOptions } from './options';
import { CIPHER_OVERHEAD } from './secure-channel';

const CLOCK_TIME = { classId: 8, obis: obis('0.0.1.0.0.255'), index: 2 } as const;

export interface SetClockNowOptions {
  /** This machine's time (default: the client's clock). Called once, right before the SET is encoded. */
  now?: () => number;
  /** Blue-Book deviation of the local time written (minutes, default 0 = UTC). */
  deviation?: number;
  /** Line speed for the transfer time; default the client's serial line, none on TCP/UDP. */
  baudRate?: number;
  /** Known one-way latency added to the transfer time, ms (default 0 = none known). */
  latencyMs?: number;
}

export interface ClockSet {
  result: DataAccessResult;
  /** This machine's time when the request was encoded. */
  takenAt: number;
  /** The instant written: takenAt + compensationMs (to 10 ms, the date-time's resolution). */
  setTo: number;
  /** Transfer time of the request at the baud plus the known latency. */
  compensationMs: number;
  /** Bytes of the request on the line (frame, LLC, ciphering included). */
  requestBytes: number;
  /** The baud the transfer time was computed at; undefined on TCP/UDP (not compensated). */
  baudRate: number | undefined;
  latencyMs: number;
}

/** Bytes framing adds around an APDU: HDLC flags, format, addresses, control, HCS, FCS, LLC; wrapper header. */
export function framingOverhead(options: Pick<ClientOptions, 'framing' | 'serverAddress'>): number {
  if (options.framing === 'wrapper') return 8;
  const s = options.serverAddress;
  const serverSize = s.size ?? (s.physical === undefined ? 1 : s.logical < 0x80 && s.physical < 0x80 ? 2 : 4);
  return 2 + 2 + serverSize + 1 + 1 + 2 + 2 + 3;
}

/** Line time of n bytes at baud (8N1: 10 bits a byte), ms. */
export const transferMs = (bytes: number, baudRate: number): number => (bytes * 10 * 1000) / baudRate;

function clockValue(epochMs: number, deviation: number, client: DlmsClient): Data {
  return { type: 'octet-string', value: encodeDateTimeOctets(epochToDateTime(epochMs, { deviation, clockStatus: 0, convention: client.options.deviationConvention })) };
}

/** Sets the meter clock to this machine's time, compensated for the request's transfer. */
export async function setClockNow(client: DlmsClient, options: SetClockNowOptions = {}): Promise<ClockSet> {
  const deviation = options.deviation ?? 0;
  const baudRate = options.baudRate ?? client.lineBaudRate;
  const latencyMs = options.latencyMs ?? 0;
  // The request's size does not depend on the time in it: size it once with any instant.
  const apdu = encodeApdu({
    type: 'set-request',
    kind: 'normal',
    invoke: invokeIdAndPriority(1),
    attribute: { classId: CLOCK_TIME.classId, instanceId: obisToBytes(CLOCK_TIME.obis), attributeId: CLOCK_TIME.index },
    value: clockValue(0, deviation, client),
  });
  const ciphered = client.options.security !== undefined && client.options.security.policy !== 'none';
  const requestBytes = apdu.length + (ciphered ? CIPHER_OVERHEAD : 0) + framingOverhead(client.options);
  const compensationMs = (baudRate === undefined ? 0 : transferMs(requestBytes, baudRate)) + latencyMs;
  const now = options.now ?? (() => client.options.clock.now());
  // Taken here; client.set() encodes before its first await, so nothing runs in between.
  const takenAt = now();
  const setTo = Math.round((takenAt + compensationMs) / 10) * 10;
  const result = await client.set(CLOCK_TIME, clockValue(setTo, deviation, client));
  return { result, takenAt, setTo, compensationMs, requestBytes, baudRate, latencyMs };
}

/**
 * How far off the meter may still be after setClockNow, ms: its resolution (1,000 for a clock
 * without hundredths, else 10) plus one character time. Network delay on TCP/UDP without a
 * known latency is not included (`latencyUnknown`).
 */
export function clockSetResidual(set: ClockSet, meterHasHundredths: boolean): { residualMs: number; latencyUnknown: boolean } {
  const charMs = set.baudRate === undefined ? 0 : transferMs(1, set.baudRate);
  return { residualMs: Math.ceil((meterHasHundredths ? 10 : 1000) + charMs), latencyUnknown: set.baudRate === undefined && set.latencyMs === 0 };
}
