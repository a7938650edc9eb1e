import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DIST = join(__dirname, '..', '..', 'dist');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Outer limit of one CLI run: only a guard against a hang. A node process starts in well under
 * a second on an idle box and in several on a loaded 2-core one, so this is generous; tests
 * wait for the process to end, never for a span of time.
 */
export const CLI_LIMIT_MS = 120_000;

/** Outer limit of a test that runs many CLI processes one after the other (see CLI_LIMIT_MS). */
export const MANY_CLI_LIMIT_MS = 600_000;

/**
 * Runs a built CLI (`dcu`, `dcu-sim`) as a child process, the way a technician does.
 * Asynchronous, so a meter served inside the test process keeps answering.
 */
export function runCli(bin: 'dcu' | 'dcud' | 'dcu-sim' | 'demo', args: readonly string[], timeoutMs = CLI_LIMIT_MS, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  const script = cliScript(bin);
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

function cliScript(bin: 'dcu' | 'dcud' | 'dcu-sim' | 'demo'): string {
  const script = bin === 'dcu' ? join(DIST, 'cli', 'dcu.js') : bin === 'dcud' ? join(DIST, 'daemon', 'bin', 'dcud.js') : join(DIST, 'sim', 'cli', `${bin}.js`);
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first (npm test does)`);
  return script;
}

export interface StartedCli {
  readonly child: ChildProcess;
  /** Resolves with the first stdout line that matches (the output so far is kept). */
  waitForLine(match: (line: string) => boolean): Promise<string>;
  /** What it wrote on stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited, with everything it printed. */
  readonly exited: Promise<CliResult>;
}

/** Starts a built CLI and leaves it running: for tests that interrupt it (kill -9 mid-work). */
export function startCli(bin: 'dcu' | 'dcud' | 'dcu-sim' | 'demo', args: readonly string[], env: NodeJS.ProcessEnv = process.env): StartedCli {
  const child = spawn(process.execPath, [cliScript(bin), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const check = (): void => {
    for (const line of stdout.split('\n')) {
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i];
        if (w !== undefined && w.match(line)) {
          waiters.splice(i, 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    check();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    exited,
    stderr: () => stderr,
    waitForLine: (match) =>
      new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        check();
        void exited.then((r) => reject(new Error(`${bin} exited (${r.code}) before the line was printed\n${r.stdout}\n${r.stderr}`)));
      }),
  };
}
