/**
 * Virtual serial lines: the fleet's serial lines as in-memory port pairs instead of socat
 * ptys, so a concentrator runs in the same process as the simulator, on the same injected
 * clock (a FakeClock in tests and benches: virtual time is line time). The meter side is the
 * fleet's SimLine (multi-drop routing, turnaround latency, answers paced at the baud rate);
 * the concentrator's side paces its requests at the same rate, so both directions occupy the
 * line as on a real half-duplex bus. Pass `createPty` and `openLinePort` to startFleet, and
 * `open` to the concentrator (dcud's openSerialLine).
 */
import type { Clock } from '../protocol/common/clock';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { memoryTransportPair, type MemoryTransport } from '../protocol/transport/memory';
import type { ByteTransport } from '../protocol/transport/types';
import { PacedTransmitter } from './pacing';
import type { SimPty } from './pty';

/** What moved on one virtual line, both directions. */
export interface VirtualLineStats {
  /** The path the concentrator opens (the fleet's line device). */
  readonly path: string;
  /** Bytes the concentrator sent (requests). */
  readonly bytesToMeters: number;
  /** Bytes the meters sent (answers, including frames for other clients on the bus). */
  readonly bytesFromMeters: number;
  /** Bursts the concentrator sent (one per request frame or window). */
  readonly requests: number;
}

interface VirtualLine {
  readonly clientPath: string;
  readonly client: MemoryTransport;
  readonly sim: MemoryTransport;
  port: PacedPort | undefined;
}

/** The concentrator's end of a line: writes leave at the baud rate, after the previous burst. */
class PacedPort implements ByteTransport {
  readonly description: string;
  private readonly tx: PacedTransmitter;
  bytesIn = 0;
  requests = 0;

  constructor(
    private readonly inner: MemoryTransport,
    clock: Clock,
    baud: number,
    tickMs: number,
  ) {
    this.description = `virtual line ${inner.description}`;
    this.tx = new PacedTransmitter({ clock, baud, tickMs, write: (b) => inner.write(b) });
    inner.onData((chunk) => {
      this.bytesIn += chunk.length;
    });
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  get bytesOut(): number {
    return this.tx.bytesSent;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.inner.isOpen) return Promise.reject(new DcuError(ErrorCode.TransportClosed, `${this.description} is closed; open it first`));
    this.requests++;
    return this.tx.send(bytes);
  }

  close(): Promise<void> {
    this.tx.clear();
    return this.inner.close();
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.inner.onData(listener);
  }

  onClose(listener: (error?: DcuError) => void): () => void {
    return this.inner.onClose(listener);
  }
}

export class VirtualSerialLines {
  private readonly byClient = new Map<string, VirtualLine>();
  private readonly bySim = new Map<string, VirtualLine>();

  /**
   * `tickMs`: pacing granularity of the concentrator's side; pass the same to startFleet
   * (FleetDeps.pacingTickMs). Default Infinity: every burst arrives whole once it has left.
   */
  constructor(
    private readonly clock: Clock,
    readonly tickMs = Number.POSITIVE_INFINITY,
  ) {}

  /** FleetDeps.createPty: a memory pair where socat would link two ptys. */
  readonly createPty = (clientPath: string, simPath: string): Promise<SimPty> => {
    const [client, sim] = memoryTransportPair([clientPath, simPath]);
    client.record = false;
    sim.record = false;
    const line: VirtualLine = { clientPath, client, sim, port: undefined };
    this.byClient.set(clientPath, line);
    this.bySim.set(simPath, line);
    return Promise.resolve({
      clientPath,
      simPath,
      pid: 0,
      onExit: () => undefined,
      close: () => client.close(),
    });
  };

  /** FleetDeps.openLinePort: the meter side of the pair (SimLine paces it). */
  readonly openLinePort = (path: string): ByteTransport => {
    const line = this.bySim.get(path);
    if (line === undefined) throw new DcuError(ErrorCode.TransportOpenFailed, `no virtual line at ${path}; create it with createPty first`);
    return line.sim;
  };

  /** The concentrator's side of the line at `path` (the fleet's line device), paced at `baud`. */
  open(path: string, baud: number): ByteTransport {
    const line = this.byClient.get(path);
    if (line === undefined) throw new DcuError(ErrorCode.TransportOpenFailed, `no virtual line at ${path}; start the fleet with this VirtualSerialLines' createPty`);
    line.port ??= new PacedPort(line.client, this.clock, baud, this.tickMs);
    return line.port;
  }

  stats(): VirtualLineStats[] {
    return [...this.byClient.values()].map((l) => ({ path: l.clientPath, bytesToMeters: l.port?.bytesOut ?? 0, bytesFromMeters: l.port?.bytesIn ?? 0, requests: l.port?.requests ?? 0 }));
  }
}
