/**
 * IEC 62056-21 messages used to enter protocol mode E (HDLC) through an optical probe:
 *
 *   HHU → meter   request            `/ ? [address] ! CR LF`                  300 baud 7E1
 *   meter → HHU   identification     `/ XXX Z [\W] ident CR LF`
 *   HHU → meter   ack/option select  `ACK V Z Y CR LF` = `06 '2' Z '2' CR LF` (V='2' HDLC procedure, Y='2' binary mode)
 *   both switch to the baud of Z, then HDLC at 8N1 (some meters first confirm with the same
 *   ACK message at the new baud, still 7E1).
 *
 * Z (baud rate identification): '0'..'6' = 300..19200 for protocol modes C and E; '7'..'9'
 * reserved; 'A'..'F' = 600..19200 for protocol mode B ('G'..'I' reserved); any other character
 * = protocol mode A (300 baud, no option select). XXX: manufacturer; a lower-case third letter
 * announces a 20 ms minimum reaction time. `\W` (enhanced identification): W = '2' says binary
 * mode (HDLC) is supported.
 */
import { DcuError, ErrorCode } from '../common/errors';
import type { SerialSettings } from './types';

export const ACK = 0x06;
export const CR = 0x0d;
export const LF = 0x0a;
const ASCII = new TextEncoder();

/** Line settings at sign-on (IEC 62056-21: 300 baud, 7 data bits, even parity, 1 stop bit). */
export const SIGN_ON_SETTINGS: SerialSettings = { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 };

export const MODE_C_BAUD_RATES: readonly number[] = [300, 600, 1200, 2400, 4800, 9600, 19200];
const MODE_B_BAUD_RATES: readonly number[] = [600, 1200, 2400, 4800, 9600, 19200];

export type BaudLetterInfo =
  | { readonly mode: 'C'; readonly baudRate: number }
  | { readonly mode: 'B'; readonly baudRate: number }
  | { readonly mode: 'A'; readonly baudRate: 300 }
  | { readonly mode: 'reserved' };

export function baudLetterInfo(letter: string): BaudLetterInfo {
  const c = letter.charCodeAt(0);
  if (letter.length === 1 && c >= 0x30 && c <= 0x39) {
    const rate = MODE_C_BAUD_RATES[c - 0x30];
    return rate === undefined ? { mode: 'reserved' } : { mode: 'C', baudRate: rate };
  }
  if (letter.length === 1 && c >= 0x41 && c <= 0x49) {
    const rate = MODE_B_BAUD_RATES[c - 0x41];
    return rate === undefined ? { mode: 'reserved' } : { mode: 'B', baudRate: rate };
  }
  return { mode: 'A', baudRate: 300 };
}

/** Mode C/E baud letter for a rate ('5' for 9600); undefined when it has none. */
export function baudLetterFor(baudRate: number): string | undefined {
  const i = MODE_C_BAUD_RATES.indexOf(baudRate);
  return i < 0 ? undefined : String.fromCharCode(0x30 + i);
}

export function encodeRequest(address = ''): Uint8Array {
  if (!/^[\x20-\x7e]{0,32}$/.test(address) || /[/!?]/.test(address)) {
    throw new DcuError(ErrorCode.InvalidValue, `IEC 62056-21 device address "${address}" must be ≤ 32 printable characters without / ? !`, {
      context: { address },
    });
  }
  return ASCII.encode(`/?${address}!\r\n`);
}

/** `06 '2' Z '2' CR LF`: HDLC protocol procedure, binary mode, at baud letter Z. */
export function encodeHdlcAck(baudLetter: string): Uint8Array {
  return Uint8Array.of(ACK, 0x32, baudLetter.charCodeAt(0) & 0x7f, 0x32, CR, LF);
}

export interface Identification {
  /** Three-letter manufacturer code (XXX). */
  readonly manufacturer: string;
  readonly baudLetter: string;
  readonly baud: BaudLetterInfo;
  /** W of an enhanced identification `\W`, if present ('2' = binary mode supported). */
  readonly enhanced?: string;
  readonly identification: string;
  /** Lower-case third manufacturer letter: the meter reacts within 20 ms (not 200 ms). */
  readonly fastReaction: boolean;
}

function text(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `<${b.toString(16).padStart(2, '0')}>`;
  return s;
}

/** Printable rendering of received bytes for error messages: "/ABC5<0d><0a>". */
export const printable = text;

/** Parses one identification line (with its CR LF). */
export function decodeIdentification(line: Uint8Array): Identification {
  const s = String.fromCharCode(...line);
  const bad = (what: string): DcuError =>
    new DcuError(ErrorCode.ModeEFailed, `bad IEC 62056-21 identification "${text(line)}": ${what}`, {
      context: { received: text(line) },
    });
  if (!s.endsWith('\r\n')) throw bad('expected CR LF at the end');
  if (s[0] !== '/') throw bad("expected '/' at byte 0");
  if (line.length < 7) throw bad('too short (need / XXX Z ident CR LF)');
  for (let i = 0; i < line.length - 2; i++) {
    const b = line[i] ?? 0;
    if (b < 0x20 || b > 0x7e) throw bad(`non-printable byte 0x${b.toString(16).padStart(2, '0')} at byte ${i}`);
  }
  const manufacturer = s.slice(1, 4);
  const baudLetter = s.slice(4, 5);
  let rest = s.slice(5, -2);
  let enhanced: string | undefined;
  if (rest.startsWith('\\') && rest.length >= 2) {
    enhanced = rest[1];
    rest = rest.slice(2);
  }
  const third = manufacturer[2] ?? '';
  return {
    manufacturer,
    baudLetter,
    baud: baudLetterInfo(baudLetter),
    ...(enhanced === undefined ? {} : { enhanced }),
    identification: rest,
    fastReaction: third >= 'a' && third <= 'z',
  };
}

export function encodeIdentification(id: {
  manufacturer: string;
  baudLetter: string;
  identification: string;
  enhanced?: string;
}): Uint8Array {
  const enh = id.enhanced === undefined ? '' : `\\${id.enhanced}`;
  return ASCII.encode(`/${id.manufacturer}${id.baudLetter}${enh}${id.identification}\r\n`);
}

/** Finds the first CR LF-terminated line in buf; returns its end (exclusive) or -1. */
export function lineEnd(buf: Uint8Array): number {
  for (let i = 1; i < buf.length; i++) if (buf[i - 1] === CR && buf[i] === LF) return i + 1;
  return -1;
}
