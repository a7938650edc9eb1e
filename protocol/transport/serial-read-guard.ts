/**
 * Work-around for a busy loop in @serialport/bindings-cpp (v13) on Linux/macOS: when a tty
 * hangs up (USB adapter unplugged, pty master closed) read() returns 0 bytes, and the
 * binding's unixRead retries at once, forever, without yielding to poll — the process spins
 * and its memory grows. We replace the read of the open port binding with one that treats a
 * 0-byte read as a hang-up: the stream then closes the port with a disconnect error, which
 * SerialTransport reports as TransportVanished. Non-unix bindings are left untouched.
 */
import { read as fsRead } from 'node:fs';

interface ReadResult {
  bytesRead: number;
  buffer: Buffer;
}

interface UnixPortBinding {
  fd: number | null;
  readonly isOpen: boolean;
  readonly poller: { once(event: 'readable', cb: (err: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<ReadResult>;
}

function isUnixPortBinding(b: unknown): b is UnixPortBinding {
  if (typeof b !== 'object' || b === null) return false;
  const o = b as { fd?: unknown; poller?: unknown; read?: unknown };
  return (
    (typeof o.fd === 'number' || o.fd === null) &&
    typeof o.read === 'function' &&
    typeof o.poller === 'object' &&
    o.poller !== null &&
    typeof (o.poller as { once?: unknown }).once === 'function'
  );
}

class ReadError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly canceled = false,
  ) {
    super(message);
  }
}

function readOnce(fd: number, buffer: Buffer, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fsRead(fd, buffer, offset, length, null, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/** Re-reads isOpen (a plain property access would stay narrowed across the await). */
function stillOpen(binding: UnixPortBinding): boolean {
  return binding.isOpen;
}

async function guardedRead(binding: UnixPortBinding, buffer: Buffer, offset: number, length: number): Promise<ReadResult> {
  for (;;) {
    const fd = binding.fd;
    if (!binding.isOpen || fd === null) throw new ReadError('Port is not open', 'ECANCELED', true);
    let n: number;
    try {
      n = await readOnce(fd, buffer, offset, length);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') {
        // Polling a destroyed poller crashes the native addon: check after every await.
        if (!stillOpen(binding)) throw new ReadError('Port is not open', 'ECANCELED', true);
        await new Promise<void>((resolve, reject) => {
          binding.poller.once('readable', (err) => (err ? reject(err) : resolve()));
        });
        continue;
      }
      throw e;
    }
    if (n === 0) throw new ReadError('hang-up: the device read returned end-of-file', 'EIO');
    return { bytesRead: n, buffer };
  }
}

/** Installs the guarded read on an open port binding (`serialPort.port`). Returns whether it did. */
export function guardHangUpReads(portBinding: unknown): boolean {
  if (!isUnixPortBinding(portBinding)) return false;
  const binding = portBinding;
  binding.read = (buffer, offset, length) => guardedRead(binding, buffer, offset, length);
  return true;
}
