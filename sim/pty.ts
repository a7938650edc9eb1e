/**
 * A pseudo-terminal pair made by socat: the simulator opens `simPath`, the client (dcu, a
 * DLMS tool) opens `clientPath` as if it were an RS-485 adapter. Bytes written to one end
 * come out of the other; the baud rate set on either end is ignored (pacing.ts emulates it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DcuError, ErrorCode } from '../protocol/common/errors';

export interface SimPty {
  readonly clientPath: string;
  readonly simPath: string;
  readonly pid: number;
  /** Subscribes to socat exiting by itself (the line is gone). */
  onExit(listener: (detail: string) => void): void;
  /** Stops socat (both links disappear). Idempotent. */
  close(): Promise<void>;
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts socat linking two ptys at clientPath and simPath (existing links are replaced). */
export async function createSimPty(clientPath: string, simPath: string, timeoutMs = 5000): Promise<SimPty> {
  // Its own process group: Ctrl-C in the terminal reaches dcu-sim only, which stops its lines
  // and then socat. In the terminal's group socat died first, and the lines logged a vanished
  // port (with a stack trace) and "socat exited (SIGINT)" on every Ctrl-C.
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${clientPath}`, `pty,raw,echo=0,link=${simPath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  let closing = false;
  const exitListeners: ((detail: string) => void)[] = [];
  child.once('exit', (code, signal) => {
    if (closing) return;
    for (const l of exitListeners) l(`socat exited (${signal ?? String(code)}): ${stderr.trim().split('\n').pop() ?? ''}`);
  });

  const started = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', (e) =>
        reject(
          new DcuError(ErrorCode.TransportOpenFailed, `cannot start socat for ${clientPath} (is socat installed?): ${e.message}`, {
            cause: e,
            context: { path: clientPath },
          }),
        ),
      );
      const poll = (): void => {
        if (existsSync(clientPath) && existsSync(simPath) && stderr.includes('starting data transfer loop')) {
          resolve();
          return;
        }
        if (child.exitCode !== null) {
          reject(new DcuError(ErrorCode.TransportOpenFailed, `socat exited with ${child.exitCode}: ${stderr.trim()}`, { context: { path: clientPath } }));
          return;
        }
        if (Date.now() - started > timeoutMs) {
          reject(new DcuError(ErrorCode.Timeout, `socat did not create ${clientPath} within ${timeoutMs} ms: ${stderr.trim()}`, { context: { path: clientPath } }));
          return;
        }
        setTimeout(poll, 5);
      };
      poll();
    });
  } catch (e) {
    closing = true;
    child.kill('SIGKILL');
    throw e;
  }

  return {
    clientPath,
    simPath,
    pid: child.pid ?? -1,
    onExit(listener) {
      exitListeners.push(listener);
    },
    async close() {
      closing = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await waitExit(child);
    },
  };
}
