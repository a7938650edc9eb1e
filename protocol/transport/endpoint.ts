import type { Clock } from '../common/clock';
import { systemClock } from '../common/clock';
import { openModeE } from './mode-e-driver';
import type { ModeEResult } from './mode-e';
import { SerialTransport } from './serial';
import { TcpTransport } from './tcp';
import type { ByteTransport } from './types';
import { UdpTransport } from './udp';

/** Where a meter is reached. */
export type Endpoint =
  | { kind: 'serial'; path: string; baudRate: number; modeE?: boolean }
  | { kind: 'tcp' | 'udp'; host: string; port: number };

export function describeEndpoint(e: Endpoint): string {
  return e.kind === 'serial' ? `${e.path}@${e.baudRate}${e.modeE ? ' (mode E)' : ''}` : `${e.kind} ${e.host}:${e.port}`;
}

export interface OpenedEndpoint {
  transport: ByteTransport;
  /** Set when the line was opened through IEC 62056-21 mode E. */
  modeE?: ModeEResult;
}

/**
 * Opens the transport for an endpoint. With mode E the serial port starts at 300 baud 7E1,
 * signs on, and is left at the baud rate the meter proposed, 8N1, ready for HDLC.
 */
export async function openEndpoint(e: Endpoint, clock: Clock = systemClock, timeoutMs = 5000): Promise<OpenedEndpoint> {
  if (e.kind === 'serial') {
    if (e.modeE) {
      const serial = new SerialTransport({ path: e.path, baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 });
      await serial.open();
      try {
        const modeE = await openModeE(serial, { maxBaudRate: e.baudRate > 300 ? Math.max(e.baudRate, 9600) : 19200, identificationTimeoutMs: timeoutMs }, clock);
        return { transport: serial, modeE };
      } catch (err) {
        await serial.close();
        throw err;
      }
    }
    const serial = new SerialTransport({ path: e.path, baudRate: e.baudRate, dataBits: 8, parity: 'none', stopBits: 1 });
    await serial.open();
    return { transport: serial };
  }
  const transport = e.kind === 'tcp' ? new TcpTransport({ host: e.host, port: e.port, connectTimeoutMs: timeoutMs }) : new UdpTransport({ host: e.host, port: e.port });
  await transport.open();
  return { transport };
}
