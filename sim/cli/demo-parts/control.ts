/**
 * The demo's control socket for `dcu demo wan down|up` (cli/demo-command.ts): one
 * command line in, one answer line out. A socket left by a demo that died is replaced; one
 * that answers belongs to another running demo, and this one then does without (keys work).
 */
import { existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';

export interface Control {
  readonly path: string | undefined;
  close(): Promise<void>;
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export async function startControl(path: string, handle: (line: string) => string): Promise<Control> {
  if (existsSync(path)) {
    if (await answers(path)) return { path: undefined, close: () => Promise.resolve() };
    unlinkSync(path);
  }
  const server: Server = createServer((c) => {
    let buf = '';
    c.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      c.end(`${handle(buf.slice(0, nl).trim())}\n`);
    });
    c.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }),
  };
}
