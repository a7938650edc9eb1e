/**
 * The demo's WAN: a TCP relay between dcud and the HES broker. `cut()` drops the live
 * connections and refuses new ones (the cellular link is gone); `restore()` lets them through
 * again. The HES console talks to the broker directly, as a head-end would.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface Wan {
  readonly port: number;
  readonly up: boolean;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startWan(targetPort: number): Promise<Wan> {
  let up = true;
  const live = new Set<Socket>();
  const server = createServer((a) => {
    if (!up) {
      a.destroy();
      return;
    }
    const b = createConnection({ port: targetPort, host: '127.0.0.1' });
    live.add(a);
    live.add(b);
    a.pipe(b);
    b.pipe(a);
    const end = (): void => {
      a.destroy();
      b.destroy();
      live.delete(a);
      live.delete(b);
    };
    for (const s of [a, b]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (typeof addr !== 'object' || addr === null) throw new Error('the WAN relay has no port');
  const dropAll = (): void => {
    for (const s of live) s.destroy();
    live.clear();
  };
  return {
    port: addr.port,
    get up() {
      return up;
    },
    cut: () => {
      up = false;
      dropAll();
    },
    restore: () => {
      up = true;
    },
    close: async () => {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
