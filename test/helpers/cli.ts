import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DIST = join(__dirname, '..', '..', 'dist');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a built CLI (`dcu`, `dcu-sim`) as a child process, the way a technician does.
 * Asynchronous, so a meter served inside the test process keeps answering.
 */
export function runCli(bin: 'dcu' | 'dcud' | 'dcu-sim' | 'demo', args: readonly string[], timeoutMs = 20_000, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  const script = join(DIST, bin === 'dcu' || bin === 'dcud' ? 'daemon' : 'sim', 'cli', `${bin}.js`);
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first (npm test does)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${bin} ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
