/**
 * Real pseudo-terminal pairs for serial integration tests: socat joins two ptys and links
 * them at `a` and `b`. Bytes written to one come out of the other (baud/parity are ignored
 * by ptys, but termios calls succeed, so the code under test runs as on real hardware).
 *
 *   const pair = await createPtyPair();
 *   ... new SerialTransport({ path: pair.a, ... }) ...
 *   await pair.close();
 *
 * `close()` kills socat (the ports vanish, like an unplugged USB adapter) and removes the
 * temporary directory. Pass `dir` to reuse link paths (a replugged adapter at the same path).
 * `createPtyTcpBridge` links one pty to a TCP server instead (a terminal server's view).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** Path of one end (a symlink to /dev/pts/N). */
  readonly a: string;
  /** Path of the other end. */
  readonly b: string;
  readonly dir: string;
  /** socat's process id. */
  readonly pid: number;
  /** Kills socat (both ends vanish); keeps the directory so a new pair can reuse the paths. */
  kill(): Promise<void>;
  /** Kills socat and removes the directory if this pair created it. Idempotent. */
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** Directory for the links (default: a new temporary directory). */
  readonly dir?: string;
  /** How long to wait for socat to create the links (default 5000 ms). */
  readonly timeoutMs?: number;
}

/** socat processes still running; killed if the test process exits without closing them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A running socat whose pty links exist; `close()` also removes `dir` when it was created here. */
interface Socat {
  readonly pid: number;
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** Starts socat with two addresses and waits until the data transfer loop runs and `links` exist. */
async function startSocat(addresses: readonly [string, string], links: readonly string[], dir: string, ownDir: boolean, timeoutMs = 30_000): Promise<Socat> {
  const child = spawn('socat', ['-d', '-d', ...addresses], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  installExitHook();
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`cannot start socat (is it installed?): ${e.message}`)));
  });

  const deadline = Date.now() + timeoutMs;
  const ready = (async () => {
    // socat logs "starting data transfer loop" once both addresses are open (ptys linked, TCP connected).
    while (!(links.every((l) => existsSync(l)) && stderr.includes('starting data transfer loop'))) {
      if (child.exitCode !== null) throw new Error(`socat exited with ${child.exitCode}: ${stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`socat did not create ${links.join(' and ')} in time: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    await Promise.race([ready, spawnError]);
  } catch (e) {
    child.kill('SIGKILL');
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await waitExit(child);
  };
  let closed = false;
  return {
    pid: child.pid ?? -1,
    kill,
    async close() {
      if (closed) return;
      closed = true;
      await kill();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'dcu-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const socat = await startSocat([`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], [a, b], dir, ownDir, options.timeoutMs);
  return { a, b, dir, ...socat };
}

export interface PtyTcpBridge {
  /** Path of the pty (a symlink to /dev/pts/N): open it as a serial port. */
  readonly path: string;
  readonly dir: string;
  /** socat's process id. */
  readonly pid: number;
  /** Kills socat (the pty vanishes, the TCP connection closes). */
  kill(): Promise<void>;
  /** Kills socat and removes the directory if this bridge created it. Idempotent. */
  close(): Promise<void>;
}

/**
 * A pty bridged to a TCP server, as a terminal server or a USB-to-IP adapter presents a
 * remote meter: `socat pty,raw,echo=0,link=PATH tcp:HOST:PORT`. socat connects at once, so
 * the server must be listening; bytes cross verbatim both ways (no baud rate, no parity).
 */
export async function createPtyTcpBridge(target: { readonly host: string; readonly port: number }, options: PtyPairOptions = {}): Promise<PtyTcpBridge> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'dcu-pty-'));
  const path = join(dir, 'tty');
  const socat = await startSocat([`pty,raw,echo=0,link=${path}`, `tcp:${target.host}:${target.port}`], [path], dir, ownDir, options.timeoutMs);
  return { path, dir, ...socat };
}
