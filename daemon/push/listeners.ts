/**
 * Where meters push over IP: a TCP listener (a meter connects, sends one or more wrapper
 * frames, closes) and a UDP socket (one wrapper frame per datagram). Bytes are cut with the
 * protocol's wrapper codec and each APDU goes to the PushHandler. Hostile input cannot
 * hurt: APDUs are bounded, a TCP connection that sends garbage or nothing for
 * PUSH_IDLE_MS is closed, and every failure is one rate-limited log line.
 */
import type { Clock, TimerHandle } from '../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { listenTcp, type TcpListener } from '../../protocol/transport/tcp';
import { listenUdp, type UdpListener } from '../../protocol/transport/udp';
import { decodeWrapper } from '../../protocol/wrapper/codec';
import { WrapperSplitter } from '../../protocol/wrapper/splitter';
import type { PushHandler, PushSource } from './handler';

/** Largest push APDU accepted (an alarm push is under 100 bytes; a large profile push fits). */
export const PUSH_MAX_APDU = 4096;
/** A TCP push connection silent this long is closed. */
export const PUSH_IDLE_MS = 30_000;

export interface PushListenOptions {
  readonly tcp?: string;
  readonly udp?: string;
}

export interface PushListeners {
  readonly tcpPort?: number;
  readonly udpPort?: number;
  close(): Promise<void>;
}

/** "HOST:PORT" (IPv6 in brackets) → host, port. */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65_535) throw new DcuError(ErrorCode.Config, `${what}: "${text}" is not HOST:PORT (e.g. 0.0.0.0:4059)`, { context: { value: text } });
  return { host: m[1] ?? m[2] ?? '', port };
}

export async function startPushListeners(options: PushListenOptions, handler: PushHandler, clock: Clock): Promise<PushListeners> {
  let tcp: TcpListener | undefined;
  let udp: UdpListener | undefined;
  try {
    if (options.tcp !== undefined) {
      const { host, port } = parseHostPort(options.tcp, 'push.tcp');
      tcp = await listenTcp(port, host, (t) => {
        const source: PushSource = { kind: 'tcp', peer: t.host };
        const splitter = new WrapperSplitter({ maxApduLength: PUSH_MAX_APDU });
        let idle: TimerHandle | undefined;
        const touch = (): void => {
          idle?.cancel();
          idle = clock.setTimer(PUSH_IDLE_MS, () => void t.close());
        };
        touch();
        t.onClose(() => idle?.cancel());
        t.onData((chunk) => {
          touch();
          for (const item of splitter.push(chunk)) {
            if (item.type === 'frame') handler.handle(source, item.frame.apdu);
            else {
              handler.reject(source, item.error);
              void t.close();
              return;
            }
          }
        });
      });
    }
    if (options.udp !== undefined) {
      const { host, port } = parseHostPort(options.udp, 'push.udp');
      udp = await listenUdp(port, host, (peer) => {
        const source: PushSource = { kind: 'udp', peer: peer.description.replace(/^udp (peer )?/, '').replace(/:\d+$/, '') };
        peer.onData((datagram) => {
          try {
            handler.handle(source, decodeWrapper(datagram, PUSH_MAX_APDU).apdu);
          } catch (e) {
            handler.reject(source, e);
          }
          // One datagram, one push: forget the peer, so spoofed sources cannot pile up.
          void peer.close();
        });
      });
    }
  } catch (e) {
    await tcp?.close();
    await udp?.close();
    throw e;
  }
  return {
    ...(tcp === undefined ? {} : { tcpPort: tcp.port }),
    ...(udp === undefined ? {} : { udpPort: udp.port }),
    close: async () => {
      await tcp?.close();
      await udp?.close();
    },
  };
}
