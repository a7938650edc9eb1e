/**
 * Meters over TCP on loopback: one listening port per meter. Framing is the IEC 62056-47
 * wrapper (default, as meters with an Ethernet/cellular module speak) or HDLC over TCP (as
 * a terminal server in front of an RS-485 bus passes it). Faults and turnaround latency
 * apply as on a serial line; there is no baud-rate pacing.
 */
import type { Clock } from '../protocol/common/clock';
import { concatBytes } from '../protocol/common/hex';
import type { Logger } from '../protocol/common/log';
import { nullLogger } from '../protocol/common/log';
import type { HdlcParameters } from '../protocol/hdlc/params';
import type { ServerSession } from '../protocol/server/contract';
import { listenTcp, type TcpListener, type TcpTransport } from '../protocol/transport/tcp';
import { WrapperServerLink } from '../protocol/wrapper/link';
import { PacedTransmitter } from './pacing';
import type { Rng } from './prng';
import { HdlcRouter } from './router';
import type { MeterSlot } from './slot';

/** The simulator only listens on loopback. */
export const SIM_HOST = '127.0.0.1';

export type TcpFraming = 'wrapper' | 'hdlc';

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
  readonly log?: Logger;
}

let connectionCounter = 0;

/** One accepted connection: its framing state, its sessions and its (unpaced) transmitter. */
class Connection {
  private readonly id = `tcp${++connectionCounter}`;
  private readonly tx: PacedTransmitter;
  private readonly wrapper: WrapperServerLink | undefined;
  private readonly router: HdlcRouter | undefined;
  private readonly sessions = new Map<number, ServerSession>();

  constructor(
    private readonly transport: TcpTransport,
    private readonly opts: SimTcpEndpointOptions,
    private readonly log: Logger,
  ) {
    this.tx = new PacedTransmitter({
      clock: opts.clock,
      baud: 0,
      write: (b) => transport.write(b),
      onError: () => void transport.close(),
    });
    const spec = opts.slot.spec;
    if (opts.framing === 'wrapper') {
      this.wrapper = new WrapperServerLink({ logicalDevices: [spec.logicalDevice] });
    } else {
      this.router = new HdlcRouter([opts.slot], {
        clock: opts.clock,
        where: this.id,
        log,
        ...(opts.hdlcLimits === undefined ? {} : { limits: opts.hdlcLimits }),
        ...(opts.inactivityTimeoutMs === undefined ? {} : { inactivityTimeoutMs: opts.inactivityTimeoutMs }),
      });
    }
    transport.onData((chunk) => this.onData(chunk));
  }

  close(): Promise<void> {
    this.tx.clear();
    return this.transport.close();
  }

  /** The connection is gone: the meter forgets its associations on it. */
  closed(): void {
    this.tx.clear();
    this.router?.dispose();
    const meter = this.opts.slot.peek();
    for (const s of this.sessions.values()) meter?.handler.release(s);
    this.sessions.clear();
  }

  private delay(): number {
    const j = this.opts.jitterMs ?? 0;
    return this.opts.latencyMs + (j > 0 ? this.opts.rng.int(j + 1) : 0) + this.opts.slot.faults.extraLatencyMs;
  }

  private onData(chunk: Uint8Array): void {
    if (this.router !== undefined) {
      for (const a of this.router.push(chunk)) void this.tx.send(concatBytes(a.frames), this.delay());
      return;
    }
    const link = this.wrapper;
    if (link === undefined) return;
    link.receive(chunk);
    for (let ev = link.takeEvent(); ev !== undefined; ev = link.takeEvent()) {
      if (ev.type === 'error') {
        this.log.debug({ conn: this.id, err: ev.error }, 'bad wrapper frame');
        continue;
      }
      const slot = this.opts.slot;
      if (slot.faults.dropIncoming()) continue;
      const answer = this.handle(ev.apdu, this.session(ev.client));
      if (answer === undefined) continue;
      link.reply(ev, answer);
      const frames: Uint8Array[] = [];
      for (let f = link.takeOutput(); f !== undefined; f = link.takeOutput()) {
        const g = slot.faults.outgoing(f);
        if (g !== undefined) frames.push(g);
      }
      if (frames.length > 0) void this.tx.send(concatBytes(frames), this.delay());
    }
  }

  private session(client: number): ServerSession {
    let s = this.sessions.get(client);
    if (s === undefined) {
      s = { id: `${this.id}:${this.opts.slot.spec.serial}:${client}`, clientAddress: client };
      this.sessions.set(client, s);
    }
    return s;
  }

  private handle(apdu: Uint8Array, session: ServerSession): Uint8Array | undefined {
    try {
      return this.opts.slot.meter.handler.handle(apdu, session);
    } catch (e) {
      this.log.error({ meter: this.opts.slot.spec.serial, err: e }, 'meter handler threw (contract: it must not)');
      return undefined;
    }
  }
}

export class SimTcpEndpoint {
  private listener: TcpListener | undefined;
  private readonly connections = new Set<Connection>();
  private unsubscribeCut: (() => void) | undefined;
  private readonly log: Logger;

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

  async start(): Promise<void> {
    this.listener = await listenTcp(this.opts.port, SIM_HOST, (t) => {
      const c = new Connection(t, this.opts, this.log);
      this.connections.add(c);
      t.onClose(() => {
        this.connections.delete(c);
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
