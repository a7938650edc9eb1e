/**
 * One configured line at run time: its arbiter (who may talk now) and how a meter on it is
 * reached. A serial line is one port shared by every meter on it (MultidropLine: frames
 * routed by HDLC address, the port reopened after the adapter vanished); a TCP/UDP line opens
 * one connection per association, up to its concurrency.
 */
import type { LineConfig } from '../../config/schema';
import { parseDuration } from '../../config/units';
import type { Clock } from '../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import type { ServerAddress } from '../../protocol/hdlc/address';
import { openEndpoint } from '../../protocol/transport/endpoint';
import { MultidropLine, type UnclaimedFrameHook } from '../../protocol/transport/multidrop';
import { SerialTransport } from '../../protocol/transport/serial';
import type { ByteTransport } from '../../protocol/transport/types';
import { LineArbiter, type ArbiterEvents } from './arbiter';

export interface MeterAddress {
  /** HDLC server address (serial lines, and HDLC over TCP). */
  readonly server: ServerAddress;
  /** HOST:PORT on TCP/UDP lines. */
  readonly host?: string;
  readonly port?: number;
}

/** "1/17" on serial lines (logical/physical: 2-byte HDLC address, 4-byte beyond 127); "HOST:PORT" on IP lines. */
export function parseMeterAddress(line: LineConfig, address: string): MeterAddress {
  if (line.serial !== undefined) {
    const m = /^(\d+)(?:\/(\d+))?$/.exec(address);
    if (!m) throw new DcuError(ErrorCode.Config, `line ${line.name}: "${address}" is not LOGICAL[/PHYSICAL]`);
    const logical = Number(m[1]);
    if (m[2] === undefined) return { server: { logical, size: 1 } };
    const physical = Number(m[2]);
    // 2 bytes carry 7-bit parts; larger buses (physical 128…16383) need the 4-byte form.
    if (logical > 0x3fff || physical > 0x3fff) throw new DcuError(ErrorCode.Config, `line ${line.name}: "${address}" is beyond HDLC addressing (logical and physical at most 16383)`);
    return { server: { logical, physical, size: logical < 0x80 && physical < 0x80 ? 2 : 4 } };
  }
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!m) throw new DcuError(ErrorCode.Config, `line ${line.name}: "${address}" is not HOST:PORT`);
  return { server: { logical: 1, size: 1 }, host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

/**
 * Opens the byte path of a serial line: the serial port itself by default; tests and benches
 * pass an in-memory line to a simulator (SimLine) so the daemon runs in-process on a FakeClock.
 */
export type SerialLineOpener = (line: LineConfig & { readonly serial: NonNullable<LineConfig['serial']> }) => ByteTransport;

export const openSerialPort: SerialLineOpener = (line) => new SerialTransport({ path: line.serial.path, baudRate: line.serial.baud });

/** Bytes of one session as they move: written to the meter, received from it. */
export type SessionBytesHook = (sent: number, received: number) => void;

export interface LineSessionHandle {
  readonly transport: ByteTransport;
  close(): Promise<void>;
}

export class LineRuntime {
  readonly arbiter: LineArbiter;
  readonly framing: 'hdlc' | 'wrapper';
  readonly timeoutMs: number;
  readonly retries: number;
  private multidrop: MultidropLine | undefined;
  /** Serial lines: frames no session owns (meters pushing); set before the line opens. */
  onUnsolicited: UnclaimedFrameHook | undefined;
  /** Since start: bytes through sessions, session-milliseconds (open to close), frames sent again after a timeout or a loss (/metrics). */
  readonly traffic = { sentBytes: 0, receivedBytes: 0, sessionMs: 0, framesRetried: 0 };

  constructor(
    readonly config: LineConfig,
    private readonly clock: Clock,
    events: ArbiterEvents = {},
    private readonly openSerial: SerialLineOpener = openSerialPort,
  ) {
    const ip = config.tcp ?? config.udp;
    this.arbiter = new LineArbiter(config.name, ip === undefined ? 1 : ip.concurrency, events);
    this.framing = config.serial !== undefined ? 'hdlc' : (ip?.framing ?? 'wrapper');
    this.timeoutMs = parseDuration(config.timeout) ?? 3000;
    this.retries = config.retries;
  }

  get name(): string {
    return this.config.name;
  }

  /**
   * A byte path to one meter; call while holding the arbiter's lease. Counted in `traffic`,
   * and given to `onBytes` as they move (a firmware campaign counts its sessions' bytes).
   */
  async open(address: MeterAddress, client: number, alsoClients: readonly number[] = [], onBytes?: SessionBytesHook): Promise<LineSessionHandle> {
    const h = await this.openSession(address, client, alsoClients);
    const t = this.traffic;
    const inner = h.transport;
    const since = this.clock.now();
    const counted: ByteTransport = {
      get description() {
        return inner.description;
      },
      get isOpen() {
        return inner.isOpen;
      },
      open: () => inner.open(),
      write: (bytes) => {
        t.sentBytes += bytes.length;
        onBytes?.(bytes.length, 0);
        return inner.write(bytes);
      },
      close: () => inner.close(),
      onData: (listener) => inner.onData((chunk) => {
        t.receivedBytes += chunk.length;
        onBytes?.(0, chunk.length);
        listener(chunk);
      }),
      onClose: (listener) => inner.onClose(listener),
    };
    let closed = false;
    return {
      transport: counted,
      close: () => {
        if (!closed) t.sessionMs += this.clock.now() - since;
        closed = true;
        return h.close();
      },
    };
  }

  private async openSession(address: MeterAddress, client: number, alsoClients: readonly number[]): Promise<LineSessionHandle> {
    const c = this.config;
    if (c.serial !== undefined) {
      this.multidrop ??= this.serialLine(c.serial);
      const session = await this.multidrop.acquire({ server: address.server, client, alsoClients });
      return { transport: session, close: () => Promise.resolve(session.release()) };
    }
    const kind = c.tcp !== undefined ? 'tcp' : 'udp';
    const { transport } = await openEndpoint({ kind, host: address.host ?? '', port: address.port ?? 0 }, this.clock, this.timeoutMs);
    return { transport, close: () => transport.close() };
  }

  /** Serial lines: opens the port between sessions so pushes are heard; IP lines: nothing. */
  async listenUnsolicited(): Promise<void> {
    if (this.config.serial === undefined) return;
    this.multidrop ??= this.serialLine(this.config.serial);
    await this.multidrop.listen();
  }

  private serialLine(serial: NonNullable<LineConfig['serial']>): MultidropLine {
    return new MultidropLine(this.openSerial({ ...this.config, serial }), (f) => this.onUnsolicited?.(f));
  }

  async close(): Promise<void> {
    this.arbiter.close('dcud is stopping');
    await this.multidrop?.close();
  }
}
