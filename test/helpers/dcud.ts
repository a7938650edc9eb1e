/**
 * dcud as a child process for end-to-end tests: started on a config file, its output kept
 * (for the failure message), resolved once it says it started; `stop` sends SIGTERM and
 * waits for the exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from './cli';
import { until } from './until';

export const DCUD = join(DIST, 'daemon', 'bin', 'dcud.js');

export interface DcudChild {
  readonly child: ChildProcess;
  /** Everything dcud printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

export async function startDcud(configFile: string, timeoutMs = 120_000): Promise<DcudChild> {
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

export interface TcpDcudConfig {
  readonly id: string;
  readonly stateDir: string;
  /** HOST:PORT of the HTTPS API, when the test uses it. */
  readonly api?: string;
  /** The `ip` line's settings inside `{ … }` after the name and tcp parts, e.g. "timeout: 2s". */
  readonly line: string;
  readonly concurrency: number;
  /** `meters:` entries (tcpMeterEntries or written by hand). */
  readonly meters: readonly string[];
}

/**
 * Writes the configuration most end-to-end tests need: one TCP line `ip`, its meters, the API
 * when asked, and scheduled collection off (the test reads on demand). Returns the file's path.
 */
export function writeTcpDcudConfig(file: string, c: TcpDcudConfig): string {
  writeFileSync(
    file,
    [
      `id: ${c.id}`,
      `stateDir: ${c.stateDir}`,
      'timeZone: UTC',
      ...(c.api === undefined ? [] : [`api: { listen: "${c.api}" }`]),
      'lines:',
      `  - { name: ip, tcp: { concurrency: ${c.concurrency} }, ${c.line} }`,
      'meters:',
      ...c.meters,
      'collection:',
      '  load-profile: { every: 1d, enabled: false }',
      '  clock: { every: 1d, enabled: false }',
      '',
    ].join('\n'),
  );
  return file;
}
