/**
 * dcud as a child process for end-to-end tests: started on a config file, its output kept
 * (for the failure message), resolved once it says it started; `stop` sends SIGTERM and
 * waits for the exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DIST } from './cli';
import { until } from './until';

export const DCUD = join(DIST, 'daemon', 'cli', 'dcud.js');

export interface DcudChild {
  readonly child: ChildProcess;
  /** Everything dcud printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

export async function startDcud(configFile: string, timeoutMs = 30_000): Promise<DcudChild> {
  const child = spawn(process.execPath, [DCUD, '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await until(() => log.includes('dcud started'), 'dcud to start', timeoutMs).catch((e: unknown) => {
    throw new Error(`${String(e)}\n${log.slice(-3000)}`);
  });
  return {
    child,
    output: () => log,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The `meters:` entries of simulated TCP meters, read by the LLS client 17. */
export function tcpMeterEntries(endpoints: readonly { serial: string; tcp?: { port: number } }[], line = 'ip'): string[] {
  return endpoints.map((m) => `  - { serial: ${m.serial}, line: ${line}, address: "127.0.0.1:${m.tcp?.port ?? 0}", client: 17, auth: low, password: "00000000" }`);
}
