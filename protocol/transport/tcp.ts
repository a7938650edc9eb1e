/**
 * TCP transport (node:net): client connections to meters/gateways, and a listener for the
 * simulator side that hands out one ByteTransport per accepted connection.
 */
import { createServer, Socket, type Server } from 'node:net';
import { DcuError, ErrorCode } from '../common/errors';
import { Listeners } from './listeners';
import type { ByteTransport } from './types';

export interface TcpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** Give up connecting after this long (default 10000 ms). */
  readonly connectTimeoutMs?: number;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class TcpTransport implements ByteTransport {
  readonly host: string;
  readonly port: number;
  private readonly connectTimeoutMs: number;
  private socket: Socket | undefined;
  private lastError: Error | undefined;
  private readonly dataListeners = new Listeners<[Uint8Array]>();
  private readonly closeListeners = new Listeners<[DcuError?]>();

  constructor(options: TcpTransportOptions) {
    this.host = options.host;
    this.port = options.port;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10000;
  }

  /** Wraps an already connected socket (server side). */
  static fromSocket(socket: Socket): TcpTransport {
    const t = new TcpTransport({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
    t.attach(socket);
    return t;
  }

  get description(): string {
    return `tcp ${this.host}:${this.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== undefined;
  }

  async open(): Promise<void> {
    if (this.socket) return;
    const socket = new Socket();
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(
          new DcuError(ErrorCode.TransportOpenFailed, `cannot connect to ${this.host}:${this.port}: ${err.message}`, {
            cause: err,
            context: { host: this.host, port: this.port },
          }),
        );
      };
      const timer = setTimeout(() => fail(new Error(`no answer in ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      socket.once('error', fail);
      socket.connect({ host: this.host, port: this.port }, () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve();
      });
    });
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    socket.setNoDelay(true);
    this.socket = socket;
    this.lastError = undefined;
    socket.on('data', (chunk: Buffer) => {
      if (socket === this.socket) this.dataListeners.emit(new Uint8Array(chunk));
    });
    socket.on('error', (err) => {
      this.lastError = err;
    });
    socket.on('close', () => {
      if (socket !== this.socket) return; // closed by close()
      this.socket = undefined;
      const why = this.lastError ? this.lastError.message : 'the peer closed the connection';
      this.closeListeners.emit(
        new DcuError(ErrorCode.TransportVanished, `${this.description} closed: ${why}`, {
          cause: this.lastError,
          context: { host: this.host, port: this.port },
        }),
      );
    });
  }

  async write(bytes: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed || !socket.writable) {
      throw new DcuError(ErrorCode.TransportClosed, `${this.description} is not open`, {
        context: { host: this.host, port: this.port },
      });
    }
    await new Promise<void>((resolve, reject) => {
      socket.write(bytes, (err) =>
        err
          ? reject(
              new DcuError(ErrorCode.TransportWriteFailed, `write to ${this.description} failed: ${errorText(err)}`, {
                cause: err,
                context: { host: this.host, port: this.port },
              }),
            )
          : resolve(),
      );
    });
  }

  /** Back-pressure: stop reading (the peer's bytes wait in the kernel, then the peer's writes block) until resume(). */
  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  async close(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    await new Promise<void>((resolve) => {
      if (socket.destroyed) {
        resolve();
        return;
      }
      const timer = setTimeout(() => socket.destroy(), 1000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
    this.closeListeners.emit();
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.dataListeners.add(listener);
  }

  onClose(listener: (error?: DcuError) => void): () => void {
    return this.closeListeners.add(listener);
  }
}

export interface TcpListener {
  readonly host: string;
  /** The bound port (useful when listening on port 0). */
  readonly port: number;
  /** Stops accepting and closes every accepted connection. */
  close(): Promise<void>;
}

/** Listens on host:port (port 0 = any free port) and hands each connection to onConnection. */
export async function listenTcp(
  port: number,
  host: string,
  onConnection: (transport: TcpTransport) => void,
): Promise<TcpListener> {
  const accepted = new Set<TcpTransport>();
  const server: Server = createServer((socket) => {
    const t = TcpTransport.fromSocket(socket);
    accepted.add(t);
    t.onClose(() => accepted.delete(t));
    onConnection(t);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new DcuError(ErrorCode.TransportOpenFailed, `cannot listen on ${host}:${port}: ${err.message}`, {
          cause: err,
          context: { host, port },
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    host,
    port: bound,
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...accepted].map((t) => t.close()));
      await closing;
    },
  };
}
