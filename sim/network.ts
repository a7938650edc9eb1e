/**
 * Meters over TCP on loopback: one listening port per meter. Framing is the IEC 62056-47
 * wrapper (default, as meters with an Ethernet/cellular module speak) or HDLC over TCP (as
 * a terminal server in front of an RS-485 bus passes it). Each connection is the protocol's
 * own meter station (WrapperMeterStation, or HdlcMeterStation through the router), so GBT
 * streams and the handler-error policy are the same as on a serial line. Faults and
 * turnaround latency apply as on a serial line; there is no baud-rate pacing.
 *
 * A bad client cannot exhaust the simulator:
 * - back-pressure: once `maxBufferedBytes` of answers wait to be written (a client that does
 *   not read), the connection stops reading until they drain to half; requests wait in the
 *   kernel and the client's writes block;
 * - a connection that sends nothing for `idleTimeoutMs` is closed;
 * - at most `maxConnections` connections per meter; more are closed at once, with a log line.
 */
import type { Clock, TimerHandle } from '../protocol/common/clock';
import { concatBytes } from '../protocol/common/hex';
import type { Logger } from '../protocol/common/log';
import { nullLogger } from '../protocol/common/log';
import type { HdlcParameters } from '../protocol/hdlc/params';
import type { ApduHandler } from '../protocol/server/contract';
import { WrapperMeterStation } from '../protocol/server/wrapper-station';
import { listenTcp, type TcpListener, type TcpTransport } from '../protocol/transport/tcp';
import { PacedTransmitter } from './pacing';
import type { Rng } from './prng';
import { HdlcRouter } from './router';
import type { MeterSlot } from './slot';

/** The simulator only listens on loopback. */
export const SIM_HOST = '127.0.0.1';

export type TcpFraming = 'wrapper' | 'hdlc';

/** Per-connection limits (see the file comment). */
export const TCP_LIMIT_DEFAULTS = {
  maxConnections: 4,
  idleTimeoutMs: 120_000,
  maxBufferedBytes: 256 * 1024,
} as const;

/** Received bytes are handed to the meter in pieces this long, so answers stop piling up between checks. */
const INPUT_PIECE = 256;

export interface SimTcpEndpointOptions {
  readonly slot: MeterSlot;
  /** Port to listen on (0 = any free port; see `port` after start()). */
  readonly port: number;
  readonly framing: TcpFraming;
  readonly clock: Clock;
  readonly latencyMs: number;
  readonly jitterMs?: number;
  readonly rng: Rng;
  readonly hdlcLimits?: Partial<HdlcParameters>;
  readonly inactivityTimeoutMs?: number;
  /** Connections at once for this meter (default 4); more are closed on accept. */
  readonly maxConnections?: number;
  /** Close a connection that sent nothing for this long (default 120 s; 0 = never). */
  readonly idleTimeoutMs?: number;
  /** Answer bytes waiting to be written before a connection stops reading (default 256 KiB). */
  readonly maxBufferedBytes?: number;
  readonly log?: Logger;
}

export interface SimTcpStats {
  accepted: number;
  /** Connections closed on accept: the meter already had maxConnections. */
  refused: number;
  /** Connections closed by the idle timeout. */
  idleClosed: number;
  /** Times a connection stopped reading because its answers were not drained. */
  pauses: number;
  /** Most answer bytes that ever waited on one connection. */
  peakBufferedBytes: number;
  /** Times the meter handler threw (answered per the station policy; the connection lives on). */
  handlerErrors: number;
  /** Frames refused: wrapper frames for another logical device or malformed; HDLC frames with a bad check sequence. */
  framingErrors: number;
  /** Bytes received from clients, and answer bytes sent to them, over all connections. */
  bytesIn: number;
  bytesOut: number;
}

let connectionCounter = 0;

/** One accepted connection: its station, its (unpaced) transmitter and its limits. */
class Connection {
  readonly id = `tcp${++connectionCounter}`;
  private readonly tx: PacedTransmitter;
  private readonly wrapper: WrapperMeterStation | undefined;
  private readonly router: HdlcRouter | undefined;
  private readonly maxBuffered: number;
  /** Answer bytes handed to the transmitter and not yet written. */
  buffered = 0;
  paused = false;
  /** Received bytes not yet handed to the meter (what arrived while over the limit). */
  private readonly held: Uint8Array[] = [];
  private idle: TimerHandle | undefined;

  constructor(
    private readonly transport: TcpTransport,
    private readonly opts: SimTcpEndpointOptions,
    private readonly log: Logger,
    private readonly stats: SimTcpStats,
  ) {
    this.maxBuffered = Math.max(1, opts.maxBufferedBytes ?? TCP_LIMIT_DEFAULTS.maxBufferedBytes);
    this.tx = new PacedTransmitter({
      clock: opts.clock,
      baud: 0,
      write: (b) => transport.write(b),
      onError: () => void transport.close(),
    });
    const slot = opts.slot;
    if (opts.framing === 'wrapper') {
      this.wrapper = new WrapperMeterStation({
        handler: droppingHandler(slot),
        logicalDevices: [slot.spec.logicalDevice],
        name: `${this.id}:${slot.spec.serial}`,
        log: log.child({ meter: slot.spec.serial, conn: this.id }),
      });
    } else {
      this.router = new HdlcRouter([slot], {
        clock: opts.clock,
        where: this.id,
        log,
        ...(opts.hdlcLimits === undefined ? {} : { limits: opts.hdlcLimits }),
        ...(opts.inactivityTimeoutMs === undefined ? {} : { inactivityTimeoutMs: opts.inactivityTimeoutMs }),
      });
    }
    transport.onData((chunk) => this.onData(chunk));
    this.touch();
  }

  close(): Promise<void> {
    this.tx.clear();
    return this.transport.close();
  }

  /** The connection is gone: the meter forgets its associations on it. */
  closed(): void {
    this.idle?.cancel();
    this.idle = undefined;
    this.held.length = 0;
    this.tx.clear();
    this.router?.dispose();
    this.wrapper?.close();
  }

  get handlerErrors(): number {
    return (this.wrapper?.stats.handlerErrors ?? 0) + (this.router?.handlerErrors ?? 0);
  }

  get framingErrors(): number {
    return (this.wrapper?.stats.framingErrors ?? 0) + (this.router?.stats.badFrames ?? 0);
  }

  private touch(): void {
    this.idle?.cancel();
    this.idle = undefined;
    const ms = this.opts.idleTimeoutMs ?? TCP_LIMIT_DEFAULTS.idleTimeoutMs;
    if (ms <= 0) return;
    this.idle = this.opts.clock.setTimer(ms, () => {
      this.idle = undefined;
      this.stats.idleClosed++;
      this.log.info({ meter: this.opts.slot.spec.serial, conn: this.id, idleMs: ms }, 'TCP connection idle: closed (the client sent nothing; see tcpIdleTimeoutMs)');
      void this.close();
    });
  }

  private delay(): number {
    const j = this.opts.jitterMs ?? 0;
    return this.opts.latencyMs + (j > 0 ? this.opts.rng.int(j + 1) : 0) + this.opts.slot.faults.extraLatencyMs;
  }

  private onData(chunk: Uint8Array): void {
    this.stats.bytesIn += chunk.length;
    this.touch();
    this.held.push(chunk);
    this.drainInput();
  }

  /** Hands held input to the meter while the answers fit; stops reading when they do not. */
  private drainInput(): void {
    while (this.held.length > 0 && this.buffered < this.maxBuffered) {
      const chunk = this.held[0];
      if (chunk === undefined) break;
      if (chunk.length <= INPUT_PIECE) this.held.shift();
      else this.held[0] = chunk.subarray(INPUT_PIECE);
      this.feed(chunk.subarray(0, INPUT_PIECE));
    }
    if (this.buffered >= this.maxBuffered) {
      if (!this.paused) {
        this.paused = true;
        this.stats.pauses++;
        this.transport.pause();
        this.log.debug({ meter: this.opts.slot.spec.serial, conn: this.id, buffered: this.buffered }, 'client not reading: stopped reading its requests');
      }
    } else if (this.paused && this.held.length === 0) {
      this.paused = false;
      this.transport.resume();
    }
  }

  private feed(piece: Uint8Array): void {
    if (this.router !== undefined) {
      for (const a of this.router.push(piece)) this.send(concatBytes(a.frames));
      return;
    }
    const station = this.wrapper;
    if (station === undefined) return;
    station.receive(piece);
    const frames: Uint8Array[] = [];
    for (let f = station.takeOutput(); f !== undefined; f = station.takeOutput()) {
      const g = this.opts.slot.faults.outgoing(f);
      if (g !== undefined) frames.push(g);
    }
    if (frames.length > 0) this.send(concatBytes(frames));
  }

  private send(bytes: Uint8Array): void {
    this.stats.bytesOut += bytes.length;
    this.buffered += bytes.length;
    this.stats.peakBufferedBytes = Math.max(this.stats.peakBufferedBytes, this.buffered);
    void this.tx.send(bytes, this.delay()).then(() => {
      this.buffered -= bytes.length;
      // Resume at half the limit, not at every write, so a slow reader is not toggled per answer.
      if (this.paused && this.buffered <= this.maxBuffered / 2) this.drainInput();
    });
  }
}

/** The slot's handler with the meter's incoming-loss faults (a lost request is never handled). */
function droppingHandler(slot: MeterSlot): ApduHandler {
  const h = slot.handler;
  return {
    handle: (apdu, session) => (slot.faults.dropIncoming() ? undefined : h.handle(apdu, session)),
    handleBurst: (apdu, session) => (slot.faults.dropIncoming() ? [] : h.handleBurst(apdu, session)),
    release: (session) => h.release(session),
  };
}

export class SimTcpEndpoint {
  private listener: TcpListener | undefined;
  private readonly connections = new Set<Connection>();
  private unsubscribeCut: (() => void) | undefined;
  private readonly log: Logger;
  private readonly counters: SimTcpStats = { accepted: 0, refused: 0, idleClosed: 0, pauses: 0, peakBufferedBytes: 0, handlerErrors: 0, framingErrors: 0, bytesIn: 0, bytesOut: 0 };
  /** Errors counted by connections already closed. */
  private closedErrors = { handler: 0, framing: 0 };

  constructor(private readonly opts: SimTcpEndpointOptions) {
    this.log = opts.log ?? nullLogger;
  }

  get slot(): MeterSlot {
    return this.opts.slot;
  }

  get framing(): TcpFraming {
    return this.opts.framing;
  }

  /** The bound port (after start()). */
  get port(): number {
    return this.listener?.port ?? this.opts.port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Answer bytes waiting to be written, over all connections. */
  get bufferedBytes(): number {
    let n = 0;
    for (const c of this.connections) n += c.buffered;
    return n;
  }

  /** Connections currently not read (their client does not read its answers). */
  get pausedConnections(): number {
    let n = 0;
    for (const c of this.connections) if (c.paused) n++;
    return n;
  }

  get stats(): Readonly<SimTcpStats> {
    let handlerErrors = this.closedErrors.handler;
    let framingErrors = this.closedErrors.framing;
    for (const c of this.connections) {
      handlerErrors += c.handlerErrors;
      framingErrors += c.framingErrors;
    }
    return { ...this.counters, handlerErrors, framingErrors };
  }

  async start(): Promise<void> {
    const max = this.opts.maxConnections ?? TCP_LIMIT_DEFAULTS.maxConnections;
    this.listener = await listenTcp(this.opts.port, SIM_HOST, (t) => {
      if (this.connections.size >= max) {
        this.counters.refused++;
        this.log.warn(
          { meter: this.opts.slot.spec.serial, port: this.port, open: this.connections.size, max },
          'TCP connection refused: the meter already has its maximum of connections (close one, or raise tcpMaxConnections)',
        );
        void t.close();
        return;
      }
      this.counters.accepted++;
      const c = new Connection(t, this.opts, this.log, this.counters);
      this.connections.add(c);
      t.onClose(() => {
        if (!this.connections.delete(c)) return;
        this.closedErrors.handler += c.handlerErrors;
        this.closedErrors.framing += c.framingErrors;
        c.closed();
      });
    });
    // A power cut drops the meter's TCP connections, as a rebooting modem does.
    this.unsubscribeCut = this.opts.slot.onPowerCut(() => {
      for (const c of [...this.connections]) void c.close();
    });
  }

  async stop(): Promise<void> {
    this.unsubscribeCut?.();
    const l = this.listener;
    this.listener = undefined;
    await l?.close();
  }
}
