/**
 * Sans-IO wrapper links. Same shape as the HDLC link (sendApdu / receive / takeOutput /
 * takeEvent) so the client can run over either framing; the transport moves the bytes.
 *
 * - WrapperClientLink: one client wPort talking to one logical device.
 * - WrapperServerLink: the meter side (simulator): routes frames by destination wPort to
 *   the logical devices it serves and answers with the ports swapped.
 */
import { DcuError, ErrorCode } from '../common/errors';
import { encodeWrapper } from './codec';
import { WrapperSplitter } from './splitter';

export type WrapperLinkEvent =
  | { readonly type: 'apdu'; readonly apdu: Uint8Array; readonly source: number; readonly destination: number }
  | { readonly type: 'error'; readonly error: DcuError };

export interface WrapperClientLinkOptions {
  /** Client address (our wPort), e.g. 16 for the public client. */
  readonly clientWPort: number;
  /** Logical device address of the meter (its wPort), usually 1. */
  readonly serverWPort: number;
  /** Largest APDU accepted from the meter (default 65535). */
  readonly maxApduLength?: number;
}

abstract class WrapperLinkBase<E> {
  protected readonly splitter: WrapperSplitter;
  private readonly output: Uint8Array[] = [];
  private readonly events: E[] = [];

  constructor(maxApduLength: number | undefined, expectedPorts?: { readonly source: number; readonly destination: number }) {
    this.splitter = new WrapperSplitter({
      ...(maxApduLength === undefined ? {} : { maxApduLength }),
      ...(expectedPorts === undefined ? {} : { expectedPorts }),
    });
  }

  /** Next chunk of bytes to hand to the transport, if any. */
  takeOutput(): Uint8Array | undefined {
    return this.output.shift();
  }

  /** Next event produced by received bytes, if any. */
  takeEvent(): E | undefined {
    return this.events.shift();
  }

  /** Bytes received inside well-formed frames so far (see WrapperSplitter.progress). */
  get progress(): number {
    return this.splitter.progress;
  }

  /** Drops buffered partial input (after a reconnect). */
  reset(): void {
    this.splitter.reset();
  }

  protected emit(event: E): void {
    this.events.push(event);
  }

  protected queue(bytes: Uint8Array): void {
    this.output.push(bytes);
  }
}

export class WrapperClientLink extends WrapperLinkBase<WrapperLinkEvent> {
  readonly clientWPort: number;
  readonly serverWPort: number;

  constructor(options: WrapperClientLinkOptions) {
    // Progress (what keeps the silence watchdog alive) is only a frame from the meter to us.
    super(options.maxApduLength, { source: options.serverWPort, destination: options.clientWPort });
    this.clientWPort = options.clientWPort;
    this.serverWPort = options.serverWPort;
    // Validate the ports once, up front.
    encodeWrapper({ source: this.clientWPort, destination: this.serverWPort, apdu: new Uint8Array(0) });
  }

  sendApdu(apdu: Uint8Array): void {
    this.queue(encodeWrapper({ source: this.clientWPort, destination: this.serverWPort, apdu }));
  }

  receive(chunk: Uint8Array): void {
    for (const item of this.splitter.push(chunk)) {
      if (item.type === 'error') {
        this.emit(item);
        continue;
      }
      const { source, destination, apdu } = item.frame;
      if (source !== this.serverWPort || destination !== this.clientWPort) {
        this.emit({
          type: 'error',
          error: new DcuError(
            ErrorCode.FramingBadAddress,
            `wrapper frame from wPort ${source} to wPort ${destination}, expected ${this.serverWPort} → ${this.clientWPort}`,
            { context: { source, destination, expectedSource: this.serverWPort, expectedDestination: this.clientWPort } },
          ),
        });
        continue;
      }
      this.emit({ type: 'apdu', apdu, source, destination });
    }
  }
}

export type WrapperServerEvent =
  | {
      readonly type: 'apdu';
      readonly apdu: Uint8Array;
      /** Client wPort (the frame's source). */
      readonly client: number;
      /** Logical device addressed (the frame's destination). */
      readonly logicalDevice: number;
    }
  | { readonly type: 'error'; readonly error: DcuError };

export interface WrapperServerLinkOptions {
  /** Logical device addresses served; frames to other wPorts yield an error event. */
  readonly logicalDevices: readonly number[];
  readonly maxApduLength?: number;
}

export class WrapperServerLink extends WrapperLinkBase<WrapperServerEvent> {
  private readonly devices: ReadonlySet<number>;

  constructor(options: WrapperServerLinkOptions) {
    super(options.maxApduLength);
    this.devices = new Set(options.logicalDevices);
  }

  receive(chunk: Uint8Array): void {
    for (const item of this.splitter.push(chunk)) {
      if (item.type === 'error') {
        this.emit(item);
        continue;
      }
      const { source, destination, apdu } = item.frame;
      if (!this.devices.has(destination)) {
        this.emit({
          type: 'error',
          error: new DcuError(
            ErrorCode.FramingBadAddress,
            `wrapper frame for wPort ${destination}, which is no logical device here (${[...this.devices].join(', ')})`,
            { context: { source, destination } },
          ),
        });
        continue;
      }
      this.emit({ type: 'apdu', apdu, client: source, logicalDevice: destination });
    }
  }

  /** Answers `to` (an apdu event) with the ports swapped. */
  reply(to: { readonly client: number; readonly logicalDevice: number }, apdu: Uint8Array): void {
    this.queue(encodeWrapper({ source: to.logicalDevice, destination: to.client, apdu }));
  }
}
