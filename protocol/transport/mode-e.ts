/**
 * Sans-IO opening of IEC 62056-21 protocol mode E (HDLC through an optical probe), client
 * (HHU) side. The machine never touches a port: it emits commands (configure the line, send
 * bytes, wait, await input, done/fail) and is fed received bytes and timeouts. The driver in
 * mode-e-driver.ts runs it over a SerialByteTransport; the meter side is mode-e-responder.ts.
 *
 * Sequence: 300 7E1 → `/?[address]!\r\n` → identification `/XXXZ[\W]ident\r\n` → (reaction
 * delay) → `06 '2' Z '2' \r\n` → (switch delay) → Z baud 8N1 → optional switch confirm from
 * the meter (the same ACK message at the new baud, 7E1; read at 8N1 its parity bits are masked)
 * → at the earliest `meterSwitchMs` after the ACK, done (the caller may send SNRM).
 * The messages are plain 7-bit ASCII: the port's 7E1 setting adds the parity bit. Received
 * characters have bit 7 masked, so a meter (or a bridge) that hands over the parity bit in
 * bit 7 is understood as well as one that sends plain 7-bit characters.
 */
import { DcuError, ErrorCode } from '../common/errors';
import {
  ACK,
  baudLetterFor,
  decodeIdentification,
  encodeHdlcAck,
  encodeRequest,
  lineEnd,
  MODE_C_BAUD_RATES,
  printable,
  SIGN_ON_SETTINGS,
  type Identification,
} from './mode-e-messages';
import type { SerialSettings } from './types';

export type ModeECommand<R> =
  | { readonly type: 'configure'; readonly settings: SerialSettings }
  | { readonly type: 'send'; readonly bytes: Uint8Array }
  | { readonly type: 'wait'; readonly ms: number }
  /** Wait for input: feed receive() with every chunk; call timeout() after timeoutMs (none: wait forever). */
  | { readonly type: 'await'; readonly timeoutMs?: number }
  | { readonly type: 'done'; readonly result: R }
  | { readonly type: 'fail'; readonly error: DcuError };

/** What the driver needs from either side's machine. */
export interface ModeEMachine<R> {
  start(): void;
  receive(chunk: Uint8Array): void;
  timeout(): void;
  takeCommand(): ModeECommand<R> | undefined;
}

export interface ModeEOptions {
  /** Device address for `/?address!` (default none: any meter answers). */
  readonly address?: string;
  /** Highest baud rate to accept, even if the meter offers more (default 19200). */
  readonly maxBaudRate?: number;
  /** Time allowed for the identification to arrive after the request (default 3000 ms). */
  readonly identificationTimeoutMs?: number;
  /** Pause between identification and ACK; the standard's minimum reaction time is 200 ms. */
  readonly ackDelayMs?: number;
  /** Pause after the ACK has drained before switching baud (default 100 ms, below the meter's 200 ms reaction time). */
  readonly switchDelayMs?: number;
  /** How long to watch for the meter's switch confirm at the new baud (default 500 ms; 0 = don't). */
  readonly confirmWindowMs?: number;
  /**
   * The meter changes baud this long after the ACK (IEC 62056-21: 200–300 ms); without its
   * switch confirm the opening ends no earlier, so the first HDLC frame is not sent into the
   * old baud rate (default 300 ms).
   */
  readonly meterSwitchMs?: number;
}

export interface ModeEResult {
  readonly identification: Identification;
  readonly baudRate: number;
  readonly baudLetter: string;
  /** Line settings after the switch (baud of Z, 8N1). */
  readonly settings: SerialSettings;
  /** The meter confirmed the switch with an ACK at the new baud. */
  readonly confirmed: boolean;
}

const MAX_LINE = 128;
const MAX_LOG = 256;

type ClientState = 'idle' | 'identifying' | 'confirming' | 'done' | 'failed';

export class ModeEClient implements ModeEMachine<ModeEResult> {
  private stateValue: ClientState = 'idle';
  private readonly commands: ModeECommand<ModeEResult>[] = [];
  private buf: number[] = [];
  private readonly log: number[] = [];
  private readonly request: Uint8Array;
  private pending: Omit<ModeEResult, 'confirmed'> | undefined;
  private readonly o: Required<Omit<ModeEOptions, 'address'>>;

  constructor(options: ModeEOptions = {}) {
    this.request = encodeRequest(options.address ?? '');
    this.o = {
      maxBaudRate: options.maxBaudRate ?? 19200,
      identificationTimeoutMs: options.identificationTimeoutMs ?? 3000,
      ackDelayMs: options.ackDelayMs ?? 200,
      switchDelayMs: options.switchDelayMs ?? 100,
      confirmWindowMs: options.confirmWindowMs ?? 500,
      meterSwitchMs: options.meterSwitchMs ?? 300,
    };
  }

  get state(): ClientState {
    return this.stateValue;
  }

  /** Everything received so far, printable (for diagnostics). */
  get received(): string {
    return printable(Uint8Array.from(this.log));
  }

  takeCommand(): ModeECommand<ModeEResult> | undefined {
    return this.commands.shift();
  }

  start(): void {
    if (this.stateValue !== 'idle') return;
    this.stateValue = 'identifying';
    this.commands.push(
      { type: 'configure', settings: SIGN_ON_SETTINGS },
      { type: 'send', bytes: this.request },
      { type: 'await', timeoutMs: this.o.identificationTimeoutMs },
    );
  }

  receive(chunk: Uint8Array): void {
    for (const b of chunk) if (this.log.length < MAX_LOG) this.log.push(b);
    if (this.stateValue === 'identifying') this.receiveIdentification(chunk);
    else if (this.stateValue === 'confirming') this.receiveConfirm(chunk);
  }

  timeout(): void {
    if (this.stateValue === 'identifying') {
      this.fail(
        `no identification within ${this.o.identificationTimeoutMs} ms after ${printable(this.request)}` +
          (this.log.length ? `; received "${this.received}"` : '; nothing received (probe placed? meter awake?)'),
      );
    } else if (this.stateValue === 'confirming' && this.pending) {
      this.finishUnconfirmed(this.o.confirmWindowMs);
    }
  }

  private receiveIdentification(chunk: Uint8Array): void {
    for (const b of chunk) {
      const c = b & 0x7f;
      if (this.buf.length === 0 && c !== 0x2f) continue; // noise before '/'
      this.buf.push(c);
    }
    for (;;) {
      const bytes = Uint8Array.from(this.buf);
      const end = lineEnd(bytes);
      if (end < 0) {
        if (bytes.length > MAX_LINE) this.fail(`identification longer than ${MAX_LINE} bytes without CR LF: "${printable(bytes)}"`);
        return;
      }
      const line = bytes.subarray(0, end);
      this.buf = this.buf.slice(end);
      if (printable(line) === printable(this.request)) continue; // our own request echoed by the probe
      this.onIdentification(line);
      return;
    }
  }

  private onIdentification(line: Uint8Array): void {
    let id: Identification;
    try {
      id = decodeIdentification(line);
    } catch (e) {
      this.fail(e instanceof DcuError ? e.message : String(e));
      return;
    }
    if (id.baud.mode !== 'C') {
      const what = id.baud.mode === 'reserved' ? 'a reserved baud letter' : `protocol mode ${id.baud.mode}`;
      this.fail(
        `meter "${printable(line)}" announced ${what} ('${id.baudLetter}'); mode E needs a baud letter 0..6`,
      );
      return;
    }
    const cap = Math.min(id.baud.baudRate, this.o.maxBaudRate);
    const baudRate = [...MODE_C_BAUD_RATES].reverse().find((r) => r <= cap) ?? 300;
    const baudLetter = baudLetterFor(baudRate) ?? '0';
    const settings: SerialSettings = { baudRate, dataBits: 8, parity: 'none', stopBits: 1 };
    this.pending = { identification: id, baudRate, baudLetter, settings };
    this.buf = [];
    this.commands.push(
      { type: 'wait', ms: this.o.ackDelayMs },
      { type: 'send', bytes: encodeHdlcAck(baudLetter) },
      { type: 'wait', ms: this.o.switchDelayMs },
      { type: 'configure', settings },
    );
    if (this.o.confirmWindowMs > 0) {
      this.stateValue = 'confirming';
      this.commands.push({ type: 'await', timeoutMs: this.o.confirmWindowMs });
    } else {
      this.finishUnconfirmed(0);
    }
  }

  private receiveConfirm(chunk: Uint8Array): void {
    if (!this.pending) return;
    for (const b of chunk) this.buf.push(b & 0x7f); // sent at 7E1, read at 8N1: drop the parity bit
    const want = [ACK, 0x32, this.pending.baudLetter.charCodeAt(0), 0x32, 0x0d, 0x0a];
    const hay = this.buf;
    for (let i = 0; i + want.length <= hay.length; i++) {
      if (want.every((w, k) => hay[i + k] === w)) {
        this.finish(true);
        return;
      }
    }
    if (hay.length > MAX_LINE) this.buf = hay.slice(-want.length);
  }

  /** No confirm seen after `waitedMs` at the new baud: wait out the meter's switch time first. */
  private finishUnconfirmed(waitedMs: number): void {
    const rest = this.o.meterSwitchMs - this.o.switchDelayMs - waitedMs;
    if (rest > 0) this.commands.push({ type: 'wait', ms: rest });
    this.finish(false);
  }

  private finish(confirmed: boolean): void {
    if (!this.pending) return;
    this.stateValue = 'done';
    this.commands.push({ type: 'done', result: { ...this.pending, confirmed } });
  }

  private fail(message: string): void {
    this.stateValue = 'failed';
    this.commands.push({
      type: 'fail',
      error: new DcuError(ErrorCode.ModeEFailed, `mode E: ${message}`, { context: { received: this.received } }),
    });
  }
}
