/**
 * Serial port transport over the `serialport` package. Line settings are real port settings:
 * IEC 62056-21 mode E signs on at 300 7E1 (the UART adds the parity bit, the bytes written are
 * plain 7-bit ASCII) and then switches to 8N1. A baud change uses the binding's update(); any
 * other framing change (7E1 → 8N1) reopens the port, since the binding cannot change it on an
 * open port (opening flushes both directions, as a baud change does). Received characters at
 * 7 data bits are masked to 7 bits: a pty (Linux forces CS8 and no parity on ptys, silently),
 * a terminal server or a USB-to-IP bridge passes the parity bit through, a UART does not.
 * `softwareParity` keeps the port at 8N1 and adds/strips the parity bit in software instead
 * (parity.ts) — for an adapter whose driver cannot do 7 data bits. A port that disappears
 * (USB adapter unplugged, pty closed) is reported to onClose listeners as TransportVanished.
 */
import { SerialPort } from 'serialport';
import { DcuError, ErrorCode } from '../common/errors';
import { Listeners } from './listeners';
import { addParity, stripParity, type EmulatedParity } from './parity';
import { guardHangUpReads } from './serial-read-guard';
import type { SerialByteTransport, SerialSettings } from './types';

export interface SerialTransportOptions extends Partial<SerialSettings> {
  readonly path: string;
  /** Exclusive lock on the device (default true). */
  readonly lock?: boolean;
  /** Speak 7E1/7O1 as 8N1 with the parity bit set in software (default false: real port settings). */
  readonly softwareParity?: boolean;
}

export const DEFAULT_SERIAL_SETTINGS: SerialSettings = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 };

/** "9600 8N1" */
export function formatSerialSettings(s: SerialSettings): string {
  const p = s.parity === 'none' ? 'N' : s.parity === 'even' ? 'E' : 'O';
  return `${s.baudRate} ${s.dataBits}${p}${s.stopBits}`;
}

interface OsFraming {
  readonly dataBits: 7 | 8;
  readonly parity: SerialSettings['parity'];
  readonly stopBits: 1 | 2;
  readonly emulate: EmulatedParity | undefined;
}

/** What the OS port is set to for the wanted line settings. */
function osFramingFor(s: SerialSettings, softwareParity: boolean): OsFraming {
  if (softwareParity && s.dataBits === 7 && s.parity !== 'none' && s.stopBits === 1) {
    return { dataBits: 8, parity: 'none', stopBits: 1, emulate: s.parity };
  }
  return { dataBits: s.dataBits, parity: s.parity, stopBits: s.stopBits, emulate: undefined };
}

function sameOsFraming(a: OsFraming, b: OsFraming): boolean {
  return a.dataBits === b.dataBits && a.parity === b.parity && a.stopBits === b.stopBits;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const DISCONNECT_CODES = new Set(['EIO', 'ENXIO', 'EBADF', 'ENODEV', 'EPIPE']);

function looksDisconnected(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  return (
    (typeof code === 'string' && DISCONNECT_CODES.has(code)) ||
    (e as { disconnected?: unknown }).disconnected === true ||
    /\b(EIO|ENXIO|EBADF|ENODEV)\b|bad file descriptor|i\/o error/i.test(e.message)
  );
}

export class SerialTransport implements SerialByteTransport {
  readonly path: string;
  private current: SerialSettings;
  private readonly lock: boolean;
  private readonly softwareParity: boolean;
  private port: SerialPort | undefined;
  private framing: OsFraming;
  private readonly dataListeners = new Listeners<[Uint8Array]>();
  private readonly closeListeners = new Listeners<[DcuError?]>();
  /** Characters dropped for a wrong (software) parity bit since open. */
  parityErrors = 0;

  constructor(options: SerialTransportOptions) {
    this.path = options.path;
    this.lock = options.lock ?? true;
    this.softwareParity = options.softwareParity ?? false;
    this.current = {
      baudRate: options.baudRate ?? DEFAULT_SERIAL_SETTINGS.baudRate,
      dataBits: options.dataBits ?? DEFAULT_SERIAL_SETTINGS.dataBits,
      parity: options.parity ?? DEFAULT_SERIAL_SETTINGS.parity,
      stopBits: options.stopBits ?? DEFAULT_SERIAL_SETTINGS.stopBits,
    };
    this.framing = osFramingFor(this.current, this.softwareParity);
  }

  get description(): string {
    return `${this.path}@${formatSerialSettings(this.current)}`;
  }

  get isOpen(): boolean {
    return this.port !== undefined;
  }

  get settings(): SerialSettings {
    return { ...this.current };
  }

  async open(): Promise<void> {
    if (this.port) return;
    this.port = await this.openPort(this.current);
    this.parityErrors = 0;
  }

  private async openPort(settings: SerialSettings): Promise<SerialPort> {
    const framing = osFramingFor(settings, this.softwareParity);
    const port = new SerialPort({
      path: this.path,
      baudRate: settings.baudRate,
      dataBits: framing.dataBits,
      parity: framing.parity,
      stopBits: framing.stopBits,
      lock: this.lock,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (!err) {
          resolve();
          return;
        }
        reject(
          new DcuError(ErrorCode.TransportOpenFailed, `cannot open serial port ${this.path}: ${err.message}`, {
            cause: err,
            context: { path: this.path, baudRate: settings.baudRate },
          }),
        );
      });
    });
    this.framing = framing;
    guardHangUpReads(port.port);
    port.on('data', (chunk: Buffer) => {
      if (port !== this.port) return;
      this.deliver(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    // Without an 'error' listener a failed write would crash the process; failures reach
    // callers through write() and the 'close' event.
    port.on('error', () => undefined);
    port.on('close', (err: unknown) => {
      if (port !== this.port) return; // closed by us (close() or a reopen)
      this.port = undefined;
      this.closeListeners.emit(
        new DcuError(ErrorCode.TransportVanished, `serial port ${this.path} vanished: ${errorText(err ?? 'closed')}`, {
          cause: err,
          context: { path: this.path },
        }),
      );
    });
    return port;
  }

  private deliver(chunk: Uint8Array): void {
    let bytes = chunk;
    if (this.framing.emulate) {
      const r = stripParity(chunk, this.framing.emulate);
      this.parityErrors += r.errors;
      bytes = r.bytes;
      if (bytes.length === 0) return;
    } else if (this.framing.dataBits === 7) {
      bytes = chunk.map((b) => b & 0x7f); // what a 7-bit UART delivers, parity bit or not
    } else {
      bytes = chunk.slice();
    }
    this.dataListeners.emit(bytes);
  }

  async write(bytes: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port) {
      throw new DcuError(ErrorCode.TransportClosed, `serial port ${this.path} is not open`, {
        context: { path: this.path },
      });
    }
    // At 7 data bits a UART sends the low 7 bits (and its own parity bit); a pty sends
    // whatever it is given, so clear bit 7 here to put the same characters on the line.
    const out = this.framing.emulate
      ? addParity(bytes, this.framing.emulate)
      : this.framing.dataBits === 7
        ? bytes.map((b) => b & 0x7f)
        : bytes;
    const fail = (err: unknown): DcuError =>
      looksDisconnected(err)
        ? new DcuError(ErrorCode.TransportVanished, `serial port ${this.path} vanished while writing: ${errorText(err)}`, {
            cause: err,
            context: { path: this.path },
          })
        : new DcuError(ErrorCode.TransportWriteFailed, `write to serial port ${this.path} failed: ${errorText(err)}`, {
            cause: err,
            context: { path: this.path, length: bytes.length },
          });
    await new Promise<void>((resolve, reject) => {
      port.write(Buffer.from(out.buffer, out.byteOffset, out.byteLength), (err) => (err ? reject(fail(err)) : resolve()));
    });
    // Drained: the bytes have left the OS buffer (matters before a baud change).
    await new Promise<void>((resolve, reject) => {
      port.drain((err) => (err ? reject(fail(err)) : resolve()));
    });
  }

  async update(settings: Partial<SerialSettings>): Promise<void> {
    const next: SerialSettings = { ...this.current, ...settings };
    const port = this.port;
    if (!port) {
      this.current = next;
      return;
    }
    const framing = osFramingFor(next, this.softwareParity);
    if (sameOsFraming(framing, this.framing)) {
      if (next.baudRate !== this.current.baudRate) {
        await new Promise<void>((resolve, reject) => {
          port.update({ baudRate: next.baudRate }, (err) =>
            err
              ? reject(
                  new DcuError(
                    ErrorCode.TransportWriteFailed,
                    `cannot set ${this.path} to ${next.baudRate} baud: ${err.message}`,
                    { cause: err, context: { path: this.path, baudRate: next.baudRate } },
                  ),
                )
              : resolve(),
          );
        });
      }
      this.framing = framing;
      this.current = next;
      return;
    }
    // The OS framing must change: reopen (the binding cannot change it on an open port).
    this.port = undefined;
    await closePort(port);
    try {
      this.port = await this.openPort(next);
      this.current = next;
    } catch (e) {
      const error =
        e instanceof DcuError
          ? e
          : new DcuError(ErrorCode.TransportOpenFailed, `cannot reopen ${this.path}: ${errorText(e)}`, { cause: e });
      this.closeListeners.emit(error);
      throw error;
    }
  }

  async close(): Promise<void> {
    const port = this.port;
    if (!port) return;
    this.port = undefined;
    await closePort(port);
    this.closeListeners.emit();
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.dataListeners.add(listener);
  }

  onClose(listener: (error?: DcuError) => void): () => void {
    return this.closeListeners.add(listener);
  }
}

function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return Promise.resolve();
  return new Promise((resolve) => {
    port.close(() => resolve()); // a close error leaves nothing to do: the fd is gone either way
  });
}
