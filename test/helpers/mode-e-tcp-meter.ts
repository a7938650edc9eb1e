/**
 * A mode E meter on TCP that insists on plain 7-bit ASCII during the IEC 62056-21 phase, as
 * software meter emulators do when reached through `socat pty … tcp:…`, a terminal server or a
 * USB-to-IP bridge (no UART on the way: what the client writes is what arrives). A chunk with
 * bit 7 set in that phase is refused (recorded, not answered), so a sign-on sent as 8N1 bytes
 * with a software parity bit (`AF 3F 21 8D 0A`) gets no identification.
 *
 * The 62056-21 dialogue is the simulator's ModeEResponder (run by runModeE over this line);
 * after the switch the connection serves the mini meter over HDLC (serveMeter), or the given
 * handler (a simulator meter, shared by every connection). One meter per connection;
 * `dropConnections()` cuts them (a probe pulled off mid-session).
 */
import { systemClock, type Clock } from '../../protocol/common/clock';
import type { DcuError } from '../../protocol/common/errors';
import type { ApduHandler } from '../../protocol/server/contract';
import { toHex } from '../../protocol/common/hex';
import { runModeE } from '../../protocol/transport/mode-e-driver';
import { ModeEResponder, type ModeEResponderOptions, type ModeEServed } from '../../protocol/transport/mode-e-responder';
import { listenTcp, type TcpTransport } from '../../protocol/transport/tcp';
import type { SerialByteTransport, SerialSettings } from '../../protocol/transport/types';
import { createMiniMeterServer } from './mini-meter';
import { serveMeter } from './serve-meter';

export interface StrictModeEMeter {
  readonly host: string;
  readonly port: number;
  /** Every chunk received during the 62056-21 phase, hex, in order. */
  readonly signOnChunks: readonly string[];
  /** The chunks of signOnChunks that were refused because a byte had bit 7 set. */
  readonly refused: readonly string[];
  /** Resolves when a client completed the opening (the HDLC meter is then being served). */
  readonly served: Promise<ModeEServed>;
  /** Closes every open client connection (the listener stays). */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * The TCP connection seen as a serial line for the responder: line settings are only
 * recorded (TCP has none) and received chunks pass the 7-bit check while `strict` holds.
 */
class SevenBitLine implements SerialByteTransport {
  settings: SerialSettings = { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 };
  strict = true;

  constructor(
    private readonly tcp: TcpTransport,
    private readonly signOnChunks: string[],
    private readonly refused: string[],
  ) {}

  get description(): string {
    return `${this.tcp.description} (mode E, 7-bit only)`;
  }

  get isOpen(): boolean {
    return this.tcp.isOpen;
  }

  open(): Promise<void> {
    return this.tcp.open();
  }

  write(bytes: Uint8Array): Promise<void> {
    return this.tcp.write(bytes);
  }

  close(): Promise<void> {
    return this.tcp.close();
  }

  update(settings: Partial<SerialSettings>): Promise<void> {
    this.settings = { ...this.settings, ...settings };
    return Promise.resolve();
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.tcp.onData((chunk) => {
      if (!this.strict) return;
      this.signOnChunks.push(toHex(chunk));
      if (chunk.some((b) => b > 0x7f)) {
        this.refused.push(toHex(chunk));
        return;
      }
      listener(chunk);
    });
  }

  onClose(listener: (error?: DcuError) => void): () => void {
    return this.tcp.onClose(listener);
  }
}

export async function listenStrictModeEMeter(
  options: { readonly responder?: ModeEResponderOptions; readonly clock?: Clock; readonly handler?: ApduHandler } = {},
): Promise<StrictModeEMeter> {
  const clock = options.clock ?? systemClock;
  const signOnChunks: string[] = [];
  const refused: string[] = [];
  let resolveServed: (s: ModeEServed) => void = () => undefined;
  const served = new Promise<ModeEServed>((resolve) => {
    resolveServed = resolve;
  });
  const connections = new Set<TcpTransport>();
  const listener = await listenTcp(0, '127.0.0.1', (tcp) => {
    connections.add(tcp);
    tcp.onClose(() => connections.delete(tcp));
    const line = new SevenBitLine(tcp, signOnChunks, refused);
    runModeE(line, new ModeEResponder(options.responder), clock).then(
      (agreed) => {
        line.strict = false; // HDLC from here on: binary, every byte value
        serveMeter(tcp, options.handler ?? createMiniMeterServer(clock).server, { framing: 'hdlc', clock });
        resolveServed(agreed);
      },
      () => undefined, // the client went away mid-opening: nothing to serve
    );
  });
  return {
    host: listener.host,
    port: listener.port,
    signOnChunks,
    refused,
    served,
    dropConnections: () => {
      for (const tcp of connections) void tcp.close();
    },
    close: () => listener.close(),
  };
}
