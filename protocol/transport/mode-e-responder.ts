/**
 * Meter side of IEC 62056-21 mode E, for the simulator: listens at 300 7E1 for a sign-on
 * `/?[address]!\r\n`, answers with its identification (after the reaction time), accepts an
 * HDLC ACK `06 '2' Z '2' \r\n` for a baud up to the one it offered, switches to that baud at
 * 8N1 and optionally confirms with the same ACK as 7E1 characters (the parity bit in bit 7 of
 * an 8N1 byte is the same signal on the line). Switching the port once, before the confirm,
 * avoids a second reopen right after it: a reopen flushes the output, and on a pty that
 * discards what the peer has not read yet. Received characters have bit 7 masked.
 * Anything else (another address, a readout ACK, silence) returns it to listening.
 */
import { DcuError, ErrorCode } from '../common/errors';
import type { ModeECommand, ModeEMachine } from './mode-e';
import {
  ACK,
  baudLetterFor,
  baudLetterInfo,
  encodeHdlcAck,
  encodeIdentification,
  lineEnd,
  SIGN_ON_SETTINGS,
} from './mode-e-messages';
import { addParity } from './parity';
import type { SerialSettings } from './types';

export interface ModeEResponderOptions {
  /** Three-letter manufacturer code (default "DCU"). */
  readonly manufacturer?: string;
  /** Identification after the baud letter (default "SIM"). */
  readonly identification?: string;
  /** Highest baud offered (a mode C/E rate, default 9600). */
  readonly baudRate?: number;
  /** Device address this meter answers to besides the empty one (default: answers any request). */
  readonly address?: string;
  /** Reaction time before answering (default 200 ms, the standard's minimum). */
  readonly reactionMs?: number;
  /** How long to wait for the ACK after the identification (default 3000 ms). */
  readonly ackTimeoutMs?: number;
  /** Confirm the switch with the ACK message at the new baud (default true). */
  readonly sendSwitchConfirm?: boolean;
}

export interface ModeEServed {
  readonly baudRate: number;
  readonly settings: SerialSettings;
}

type ResponderState = 'idle' | 'listening' | 'awaitingAck' | 'done';

const MAX_LINE = 128;

export class ModeEResponder implements ModeEMachine<ModeEServed> {
  private stateValue: ResponderState = 'idle';
  private readonly commands: ModeECommand<ModeEServed>[] = [];
  private buf: number[] = [];
  private readonly offeredLetter: string;
  private readonly offeredBaud: number;
  private readonly o: Required<Omit<ModeEResponderOptions, 'address'>> & { readonly address: string | undefined };

  constructor(options: ModeEResponderOptions = {}) {
    const baudRate = options.baudRate ?? 9600;
    const letter = baudLetterFor(baudRate);
    if (letter === undefined) {
      throw new DcuError(ErrorCode.InvalidValue, `mode E baud rate ${baudRate} is not one of 300..19200`, {
        context: { baudRate },
      });
    }
    this.offeredLetter = letter;
    this.offeredBaud = baudRate;
    this.o = {
      manufacturer: (options.manufacturer ?? 'DCU').padEnd(3, 'X').slice(0, 3),
      identification: options.identification ?? 'SIM',
      baudRate,
      address: options.address,
      reactionMs: options.reactionMs ?? 200,
      ackTimeoutMs: options.ackTimeoutMs ?? 3000,
      sendSwitchConfirm: options.sendSwitchConfirm ?? true,
    };
  }

  get state(): ResponderState {
    return this.stateValue;
  }

  takeCommand(): ModeECommand<ModeEServed> | undefined {
    return this.commands.shift();
  }

  start(): void {
    if (this.stateValue !== 'idle') return;
    this.listen(true);
  }

  private listen(configure: boolean): void {
    this.stateValue = 'listening';
    this.buf = [];
    if (configure) this.commands.push({ type: 'configure', settings: SIGN_ON_SETTINGS });
    this.commands.push({ type: 'await' });
  }

  timeout(): void {
    if (this.stateValue === 'awaitingAck') this.listen(false);
  }

  receive(chunk: Uint8Array): void {
    if (this.stateValue !== 'listening' && this.stateValue !== 'awaitingAck') return;
    for (const b of chunk) {
      const c = b & 0x7f;
      // A line starts with '/' (request) or ACK; anything before is noise.
      if (this.buf.length === 0 && c !== 0x2f && c !== ACK) continue;
      this.buf.push(c);
    }
    for (;;) {
      const bytes = Uint8Array.from(this.buf);
      const end = lineEnd(bytes);
      if (end < 0) {
        if (bytes.length > MAX_LINE) this.buf = [];
        return;
      }
      this.buf = this.buf.slice(end);
      if (this.onLine(String.fromCharCode(...bytes.subarray(0, end)))) return;
    }
  }

  /** Handles one line; true when it produced commands (the rest of the input is dropped). */
  private onLine(line: string): boolean {
    const request = /^\/\?([^!]*)!\r\n$/.exec(line);
    if (request) {
      const addr = request[1] ?? '';
      if (addr !== '' && addr !== this.o.address) return false; // another meter's address
      this.stateValue = 'awaitingAck';
      this.buf = [];
      this.commands.push(
        { type: 'wait', ms: this.o.reactionMs },
        {
          type: 'send',
          bytes: encodeIdentification({
            manufacturer: this.o.manufacturer,
            baudLetter: this.offeredLetter,
            enhanced: '2',
            identification: this.o.identification,
          }),
        },
        { type: 'await', timeoutMs: this.o.ackTimeoutMs },
      );
      return true;
    }
    if (this.stateValue !== 'awaitingAck') return false;
    if (line.length === 6 && line.charCodeAt(0) === ACK && line[1] === '2' && line[3] === '2') {
      const letter = line[2] ?? '';
      const info = baudLetterInfo(letter);
      if (info.mode === 'C' && info.baudRate <= this.offeredBaud) {
        this.switchTo(letter, info.baudRate);
        return true;
      }
    }
    // A readout ACK, an unsupported baud or garbage: back to listening.
    this.listen(false);
    return true;
  }

  private switchTo(letter: string, baudRate: number): void {
    this.stateValue = 'done';
    this.buf = [];
    const settings: SerialSettings = { baudRate, dataBits: 8, parity: 'none', stopBits: 1 };
    this.commands.push({ type: 'configure', settings });
    if (this.o.sendSwitchConfirm) {
      this.commands.push(
        { type: 'wait', ms: this.o.reactionMs },
        { type: 'send', bytes: addParity(encodeHdlcAck(letter), 'even') },
      );
    }
    this.commands.push({ type: 'done', result: { baudRate, settings } });
  }
}
