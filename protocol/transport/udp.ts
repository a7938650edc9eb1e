/**
 * UDP transport (node:dgram). One datagram = one chunk (the wrapper carries one APDU per
 * datagram). The client side is a connected socket, so ICMP "port unreachable" from a peer
 * that went away surfaces as ECONNREFUSED → TransportVanished. The simulator side listens on
 * one socket and hands out one ByteTransport per remote address.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { DcuError, ErrorCode } from '../common/errors';
import { Listeners } from './listeners';
import type { ByteTransport } from './types';

export interface UdpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** Local port to bind (default: any). */
  readonly localPort?: number;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function bindAndConnect(socket: Socket, localPort: number | undefined, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    const connect = (): void => {
      socket.connect(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    };
    if (localPort === undefined) connect();
    else socket.bind(localPort, connect);
  });
}

export class UdpTransport implements ByteTransport {
  readonly host: string;
  readonly port: number;
  private readonly localPort: number | undefined;
  private socket: Socket | undefined;
  private readonly dataListeners = new Listeners<[Uint8Array]>();
  private readonly closeListeners = new Listeners<[DcuError?]>();

  constructor(options: UdpTransportOptions) {
    this.host = options.host;
    this.port = options.port;
    this.localPort = options.localPort;
  }

  get description(): string {
    return `udp ${this.host}:${this.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== undefined;
  }

  async open(): Promise<void> {
    if (this.socket) return;
    const socket = createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
    try {
      await bindAndConnect(socket, this.localPort, this.host, this.port);
    } catch (e) {
      socket.close();
      throw new DcuError(ErrorCode.TransportOpenFailed, `cannot open ${this.description}: ${errorText(e)}`, {
        cause: e,
        context: { host: this.host, port: this.port },
      });
    }
    this.socket = socket;
    socket.on('message', (msg: Buffer) => {
      if (socket === this.socket) this.dataListeners.emit(new Uint8Array(msg));
    });
    socket.on('error', (err) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      socket.close();
      this.closeListeners.emit(
        new DcuError(ErrorCode.TransportVanished, `${this.description} failed: ${err.message}`, {
          cause: err,
          context: { host: this.host, port: this.port },
        }),
      );
    });
  }

  async write(bytes: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket) {
      throw new DcuError(ErrorCode.TransportClosed, `${this.description} is not open`, {
        context: { host: this.host, port: this.port },
      });
    }
    await new Promise<void>((resolve, reject) => {
      socket.send(bytes, (err) =>
        err
          ? reject(
              new DcuError(ErrorCode.TransportWriteFailed, `send to ${this.description} failed: ${err.message}`, {
                cause: err,
                context: { host: this.host, port: this.port },
              }),
            )
          : resolve(),
      );
    });
  }

  async close(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.closeListeners.emit();
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.dataListeners.add(listener);
  }

  onClose(listener: (error?: DcuError) => void): () => void {
    return this.closeListeners.add(listener);
  }
}

/** One remote address seen by a UDP listener, as a ByteTransport. */
class UdpPeerTransport implements ByteTransport {
  private open_ = true;
  readonly dataListeners = new Listeners<[Uint8Array]>();
  private readonly closeListeners = new Listeners<[DcuError?]>();

  constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
    private readonly forget: () => void,
  ) {}

  get description(): string {
    return `udp peer ${this.host}:${this.port}`;
  }

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    // Exists only while open: it is created by the listener.
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.open_) {
      throw new DcuError(ErrorCode.TransportClosed, `${this.description} is closed`, {
        context: { host: this.host, port: this.port },
      });
    }
    await new Promise<void>((resolve, reject) => {
      this.socket.send(bytes, this.port, this.host, (err) =>
        err
          ? reject(
              new DcuError(ErrorCode.TransportWriteFailed, `send to ${this.description} failed: ${err.message}`, {
                cause: err,
              }),
            )
          : resolve(),
      );
    });
  }

  close(): Promise<void> {
    this.shut(undefined);
    return Promise.resolve();
  }

  shut(error: DcuError | undefined): void {
    if (!this.open_) return;
    this.open_ = false;
    this.forget();
    this.closeListeners.emit(error);
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.dataListeners.add(listener);
  }

  onClose(listener: (error?: DcuError) => void): () => void {
    return this.closeListeners.add(listener);
  }
}

export interface UdpListener {
  readonly host: string;
  readonly port: number;
  /** Closes the socket; every peer transport closes too. */
  close(): Promise<void>;
}

/** Binds host:port (0 = any free port); the first datagram from a new address creates its transport. */
export async function listenUdp(
  port: number,
  host: string,
  onPeer: (transport: ByteTransport) => void,
): Promise<UdpListener> {
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  const peers = new Map<string, UdpPeerTransport>();
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err) =>
      reject(
        new DcuError(ErrorCode.TransportOpenFailed, `cannot bind udp ${host}:${port}: ${err.message}`, {
          cause: err,
          context: { host, port },
        }),
      ),
    );
    socket.bind(port, host, () => resolve());
  });
  socket.on('error', () => undefined); // per-send failures reach the sender's promise
  socket.on('message', (msg: Buffer, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let peer = peers.get(key);
    if (!peer) {
      peer = new UdpPeerTransport(socket, rinfo.address, rinfo.port, () => peers.delete(key));
      peers.set(key, peer);
      onPeer(peer);
    }
    peer.dataListeners.emit(new Uint8Array(msg));
  });
  return {
    host,
    port: socket.address().port,
    async close() {
      for (const p of [...peers.values()]) p.shut(undefined);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
