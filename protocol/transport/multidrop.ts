import { DcuError, ErrorCode, isDcuError } from '../common/errors';
import { addressEquals, clientAddress, formatAddress, type HdlcAddress, type ServerAddress } from '../hdlc/address';
import type { HdlcFrame } from '../hdlc/frame';
import { HdlcSplitter } from '../hdlc/splitter';
import { Listeners } from './listeners';
import type { ByteTransport } from './types';

/**
 * Many meters on one serial line (RS-485 bus, transparent PLC/RF modem), told apart by
 * their HDLC server address. The line owns the port: it cuts received bytes into frames,
 * routes each frame to the session it belongs to and hands the port to one association at
 * a time. A session is itself a ByteTransport, so the layers above do not know whether
 * they talk to a point-to-point port or a share of a bus.
 */

export interface LineTarget {
  readonly server: ServerAddress;
  readonly client: number;
  /**
   * Other client addresses this session may use with the same meter while it holds the line
   * (a secured client reads the meter's invocation counter as the public client 16 first).
   */
  readonly alsoClients?: readonly number[];
}

export interface LineSession extends ByteTransport, LineTarget {
  /** Gives the line to the next waiter. Idempotent; close() does the same. */
  release(): void;
}

export interface MultidropStats {
  /** Frames that belonged to no session (other meters answering late, noise that framed). */
  dropped: number;
  /** Our own frames read back (half-duplex adapters that echo). */
  echoed: number;
  badFrames: number;
  garbageBytes: number;
  reopens: number;
}

interface Waiter {
  readonly target: LineTarget;
  readonly resolve: (s: LineSession) => void;
  readonly reject: (e: DcuError) => void;
}

/**
 * Frames no session owns (a meter speaking first: a UI frame with a push, a late answer of
 * another meter). Called synchronously with the decoded frame; it must not throw or block.
 */
export type UnclaimedFrameHook = (frame: HdlcFrame) => void;

export class MultidropLine {
  private readonly splitter = new HdlcSplitter();
  private readonly waiters: Waiter[] = [];
  private current: Session | undefined;
  private unsubscribe: (() => void)[] = [];
  private subscribed = false;
  private pumping = false;
  private closed = false;
  private opened = 0;
  private opening: Promise<void> | undefined;
  readonly stats: MultidropStats = { dropped: 0, echoed: 0, badFrames: 0, garbageBytes: 0, reopens: 0 };

  constructor(
    private readonly transport: ByteTransport,
    private readonly onUnclaimed?: UnclaimedFrameHook,
  ) {}

  get description(): string {
    return `multidrop ${this.transport.description}`;
  }

  /** Sessions waiting for the line (not counting the holder). */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with the line once every earlier holder released it, opening (or reopening,
   * after the adapter vanished) the port first. Rejects with the open error, or with
   * TransportClosed after close().
   */
  acquire(target: LineTarget): Promise<LineSession> {
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise<LineSession>((resolve, reject) => {
      this.waiters.push({ target, resolve, reject });
      void this.pump();
    });
  }

  /**
   * Opens the port without a session, so frames the meters send first reach the unclaimed
   * hook while nobody holds the line. A port that vanishes is reopened by the next acquire.
   */
  async listen(): Promise<void> {
    if (this.closed || this.current !== undefined) return;
    await this.ensureOpen();
  }

  /** Fails waiters with TransportClosed, ends the current session and closes the port. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(this.closedError());
    this.current?.end(undefined);
    this.current = undefined;
    this.detach();
    await this.transport.close();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.current === undefined) {
        const w = this.waiters.shift();
        if (w === undefined) break;
        try {
          await this.ensureOpen();
        } catch (e) {
          w.reject(
            isDcuError(e)
              ? e
              : new DcuError(ErrorCode.TransportOpenFailed, `cannot open ${this.transport.description}`, { cause: e }),
          );
          continue;
        }
        if (this.isClosed()) {
          // close() ran while the port was opening
          w.reject(this.closedError());
          break;
        }
        this.splitter.reset();
        const s = new Session(this, this.transport, w.target);
        this.current = s;
        w.resolve(s);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** One open at a time: listen() and a session's acquire may ask together. */
  private ensureOpen(): Promise<void> {
    this.opening ??= this.openOnce().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async openOnce(): Promise<void> {
    if (this.transport.isOpen && this.subscribed) return;
    if (!this.transport.isOpen) {
      await this.transport.open();
      if (this.opened++ > 0) this.stats.reopens++;
    }
    this.attach();
  }

  private attach(): void {
    this.detach();
    this.unsubscribe = [
      this.transport.onData((chunk) => this.onData(chunk)),
      this.transport.onClose((error) => this.onTransportClose(error)),
    ];
    this.subscribed = true;
  }

  private detach(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.subscribed = false;
    this.splitter.reset();
  }

  private onData(chunk: Uint8Array): void {
    for (const ev of this.splitter.push(chunk)) {
      if (ev.type === 'garbage') this.stats.garbageBytes += ev.bytes.length;
      else if (ev.type === 'error') this.stats.badFrames++;
      else {
        const s = this.current;
        const f = ev.frame;
        // A UI frame is never part of an association's exchange: a meter speaks first.
        if (f.control.kind !== 'UI' && s?.matches(f.src, f.dest) === true) s.deliver(ev.raw);
        else if (s?.matches(f.dest, f.src) === true) this.stats.echoed++;
        else {
          this.stats.dropped++;
          this.onUnclaimed?.(f);
        }
      }
    }
  }

  private onTransportClose(error: DcuError | undefined): void {
    this.detach();
    if (error === undefined || this.closed) return;
    const vanished =
      error.code === ErrorCode.TransportVanished
        ? error
        : new DcuError(ErrorCode.TransportVanished, `${this.transport.description} went away: ${error.message}`, {
            cause: error,
            context: error.context,
          });
    const s = this.current;
    this.current = undefined;
    s?.end(vanished);
    void this.pump();
  }

  /** Called by a session when it is released. */
  released(s: Session): void {
    if (this.current !== s) return;
    this.current = undefined;
    this.splitter.reset();
    void this.pump();
  }

  /** A method, so the check after an await is not narrowed away. */
  private isClosed(): boolean {
    return this.closed;
  }

  private closedError(): DcuError {
    return new DcuError(ErrorCode.TransportClosed, `${this.description} is closed`);
  }
}

class Session implements LineSession {
  readonly server: ServerAddress;
  readonly client: number;
  private readonly clientAddrs: readonly HdlcAddress[];
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly closeListeners = new Listeners<[DcuError | undefined]>();
  private active = true;

  constructor(
    private readonly line: MultidropLine,
    private readonly transport: ByteTransport,
    target: LineTarget,
  ) {
    this.server = target.server;
    this.client = target.client;
    this.clientAddrs = [target.client, ...(target.alsoClients ?? [])].map(clientAddress);
  }

  get description(): string {
    return `${this.transport.description} meter ${formatAddress(this.server)} client ${this.client}`;
  }

  get isOpen(): boolean {
    return this.active && this.transport.isOpen;
  }

  matches(src: HdlcAddress, dest: HdlcAddress): boolean {
    return addressEquals(src, this.server) && this.clientAddrs.some((c) => addressEquals(dest, c));
  }

  deliver(frame: Uint8Array): void {
    if (this.active) this.data.emit(frame);
  }

  /** Ends the session: error = the line failed under it, undefined = released/closed. */
  end(error: DcuError | undefined): void {
    if (!this.active) return;
    this.active = false;
    this.closeListeners.emit(error);
  }

  open(): Promise<void> {
    return this.active ? Promise.resolve() : Promise.reject(this.closedError());
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.active) throw this.closedError();
    await this.transport.write(bytes);
  }

  release(): void {
    this.end(undefined);
    this.line.released(this);
  }

  close(): Promise<void> {
    this.release();
    return Promise.resolve();
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.data.add(listener);
  }

  onClose(listener: (error?: DcuError) => void): () => void {
    return this.closeListeners.add(listener);
  }

  private closedError(): DcuError {
    return new DcuError(ErrorCode.TransportClosed, `${this.description}: session released`);
  }
}
