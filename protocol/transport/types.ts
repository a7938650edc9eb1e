import type { DcuError } from '../common/errors';

/**
 * A byte pipe. Transports only move bytes: framing (HDLC, wrapper) and everything above
 * live in the sans-IO layers. Implementations: serial (serialport), TCP, UDP, and in tests
 * whatever a test needs.
 */
export interface ByteTransport {
  /** Human-readable endpoint, e.g. "/dev/ttyUSB0@9600" or "tcp 127.0.0.1:4059". */
  readonly description: string;
  readonly isOpen: boolean;
  /** Opens the endpoint; rejects with DcuError TransportOpenFailed. */
  open(): Promise<void>;
  /** Writes all bytes (resolves once handed to the OS); rejects with TransportWriteFailed/TransportClosed. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes; idempotent. */
  close(): Promise<void>;
  /** Subscribes to received chunks; returns an unsubscribe function. */
  onData(listener: (chunk: Uint8Array) => void): () => void;
  /**
   * Subscribes to the endpoint closing. `error` is set when it closed by itself
   * (peer closed, USB adapter unplugged: TransportVanished), absent after close().
   */
  onClose(listener: (error?: DcuError) => void): () => void;
}

export type Parity = 'none' | 'even' | 'odd';

export interface SerialSettings {
  baudRate: number;
  dataBits: 7 | 8;
  parity: Parity;
  stopBits: 1 | 2;
}

/** A serial port whose line settings can change while open (IEC 62056-21 mode E baud switch). */
export interface SerialByteTransport extends ByteTransport {
  readonly settings: SerialSettings;
  update(settings: Partial<SerialSettings>): Promise<void>;
}

export function isSerialTransport(t: ByteTransport): t is SerialByteTransport {
  return 'update' in t && typeof (t as { update?: unknown }).update === 'function';
}
