/**
 * `dcu demo wan down|up`: cuts or restores the WAN of the running demo (`npm start`) from
 * another terminal, as the `w` key does. It talks to the demo's control socket (one line
 * in, one line out); the demo is found at $DCU_DEMO_SOCKET or a per-user path in the
 * temporary directory.
 */
import type { Command } from 'commander';
import { createConnection } from 'node:net';
import { demoSocketPath } from '../common/demo-paths';
import { ExitCode } from '../common/exit-codes';

export interface DemoIo {
  out(text: string): void;
  err(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

/** Sends one command line to the demo and returns its one-line answer. */
export function demoCommand(path: string, line: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let answer = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`the demo at ${path} did not answer in ${timeoutMs} ms`));
    }, timeoutMs);
    c.on('connect', () => c.write(`${line}\n`));
    c.on('data', (d: Buffer) => (answer += d.toString()));
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on('end', () => {
      clearTimeout(timer);
      resolve(answer.trim());
    });
  });
}

export function registerDemo(program: Command, onExit: (code: number) => void, io: DemoIo): void {
  program
    .command('demo')
    .description('control the running demo (npm start)')
    .command('wan')
    .description('cut (down) or restore (up) the demo WAN between dcud and the HES broker')
    .argument('<state>', 'down or up')
    .action(async (state: string) => {
      if (state !== 'down' && state !== 'up') {
        io.err(`dcu demo wan: "${state}" is neither down nor up`);
        onExit(ExitCode.usage);
        return;
      }
      const path = demoSocketPath(io.env);
      try {
        io.out(await demoCommand(path, `wan ${state}`));
        onExit(ExitCode.ok);
      } catch (e) {
        const code = (e as { code?: string }).code;
        const why = code === 'ENOENT' || code === 'ECONNREFUSED' ? `no demo is running (its control socket ${path} is absent or dead): start it with \`npm start\`` : `cannot reach the demo at ${path}: ${e instanceof Error ? e.message : String(e)}`;
        io.err(`dcu demo wan: ${why}`);
        onExit(ExitCode.transport);
      }
    });
}
