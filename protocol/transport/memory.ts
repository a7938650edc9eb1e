import { DcuError, ErrorCode } from '../common/errors';
import type { ByteTransport } from './types';

/**
 * Two ByteTransports wired to each other in memory (a stand-in for a cable: unit tests, and
 * the virtual serial lines that run dcud and the simulator in one process).
 * Delivery is asynchronous (next microtask), as from a real socket; `drop` lets a test lose
 * chunks in one direction. Each end keeps what it wrote in `written` for tests to inspect,
 * unless `record` is turned off (long runs).
 */
class MemoryEnd implements ByteTransport {
  peer: MemoryEnd | undefined;
  isOpen = false;
  written: Uint8Array[] = [];
  record = true;
  drop: ((chunk: Uint8Array) => boolean) | undefined;
  private readonly dataListeners = new Set<(chunk: Uint8Array) => void>();
  private readonly closeListeners = new Set<(error?: DcuError) => void>();

  constructor(readonly description: string) {}

  open(): Promise<void> {
    this.isOpen = true;
    return Promise.resolve();
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(new DcuError(ErrorCode.TransportClosed, `${this.description} is closed`));
    if (this.record) this.written.push(bytes.slice());
    const peer = this.peer;
    if (peer && !this.drop?.(bytes)) {
      const copy = bytes.slice();
      queueMicrotask(() => {
        if (peer.isOpen) for (const l of peer.dataListeners) l(copy);
      });
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.isOpen = false;
    return Promise.resolve();
  }

  /** Simulates the other side vanishing (cable pulled). */
  vanish(): void {
    this.isOpen = false;
    for (const l of this.closeListeners) l(new DcuError(ErrorCode.TransportVanished, `${this.description} vanished`));
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onClose(listener: (error?: DcuError) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }
}

export type MemoryTransport = MemoryEnd;

export function memoryTransportPair(names: readonly [string, string] = ['memory a', 'memory b']): [MemoryTransport, MemoryTransport] {
  const a = new MemoryEnd(names[0]);
  const b = new MemoryEnd(names[1]);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
