/**
 * Free loopback ports for tests that start servers on fixed ports (a simulated TCP fleet
 * listens on BASE…BASE+n-1): a block found free now, from a random start, so parallel suites
 * do not collide the way fixed ranges do.
 */
import { createServer } from 'node:net';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The first port of `n` consecutive free ones (between 20000 and 60000). */
export async function freePortBlock(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (40_000 - n));
    let ok = true;
    for (let p = base; p < base + n && ok; p++) ok = await isFree(p);
    if (ok) return base;
  }
  throw new Error(`no block of ${n} free ports found`);
}
