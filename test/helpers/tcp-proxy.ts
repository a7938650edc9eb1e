/**
 * A TCP proxy between a client and a server that can turn into a black hole: `blackhole()`
 * keeps the connections open but forwards nothing either way (a half-open cellular link:
 * no FIN, no RST, just silence). New connections are forwarded normally. `cut()` is a WAN
 * outage: live connections go silent and so do new ones (accepted, never answered) until
 * `restore()`, which resets the silent ones (the carrier lost their state) and forwards again.
 * `hold()` keeps what the server answers until `release()` (a meter as slow as the test wants, deterministically).
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Live connections stop forwarding, silently. */
  blackhole(): void;
  /** WAN down: live and new connections forward nothing. */
  cut(): void;
  /** WAN back: the silent connections are reset, new ones are forwarded. */
  restore(): void;
  /** The server's answers wait (all connections, new ones too) until release(). */
  hold(): void;
  /** Delivers what was held, and forwards as usual again. */
  release(): void;
  /** Bytes forwarded so far: client → server and server → client (TCP payload, MQTT headers included). */
  bytes(): { readonly up: number; readonly down: number };
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs: { a: Socket; b: Socket; dead: boolean }[] = [];
  let up = 0;
  let down = 0;
  let wanDown = false;
  let held: { a: Socket; d: Buffer }[] | undefined;
  const server = createServer((a) => {
    const b = createConnection({ port: targetPort, host: '127.0.0.1' });
    const pair = { a, b, dead: wanDown };
    pairs.push(pair);
    a.on('data', (d) => {
      if (pair.dead) return;
      up += d.length;
      b.write(d);
    });
    b.on('data', (d) => {
      if (pair.dead) return;
      down += d.length;
      if (held !== undefined) held.push({ a, d });
      else a.write(d);
    });
    const end = (): void => {
      if (pair.dead) return; // a black hole never tells anyone
      a.destroy();
      b.destroy();
    };
    a.on('close', end);
    b.on('close', end);
    a.on('error', () => undefined);
    b.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (typeof addr !== 'object' || addr === null) throw new Error('proxy has no port');
  return {
    port: addr.port,
    bytes: () => ({ up, down }),
    hold: () => {
      held ??= [];
    },
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const { a, d } of waiting) a.write(d);
    },
    blackhole: () => {
      for (const p of pairs) p.dead = true;
    },
    cut: () => {
      wanDown = true;
      for (const p of pairs) p.dead = true;
    },
    restore: () => {
      wanDown = false;
      for (const p of pairs.splice(0)) {
        if (!p.dead) {
          pairs.push(p);
          continue;
        }
        p.a.destroy();
        p.b.destroy();
      }
    },
    close: async () => {
      for (const p of pairs) {
        p.a.destroy();
        p.b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
