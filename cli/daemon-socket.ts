/**
 * The CLI's side of the daemon's local socket (daemon/api/socket.ts): send one request, get
 * its answers line by line until the last one.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { SOCKET_FILE } from '../daemon/api/socket';
import type { OnDemandResult } from '../daemon/jobs/on-demand';

export interface Answer {
  readonly type: 'accepted' | 'attempt' | 'result' | 'done' | 'cancelled' | 'error' | 'log' | 'end';
  readonly job?: string;
  readonly meters?: number;
  readonly created?: boolean;
  readonly state?: string;
  readonly result?: OnDemandResult;
  readonly error?: { code: number; message: string };
  readonly exe?: number;
  readonly warn?: number;
  readonly fail?: number;
  readonly cancelled?: number;
  /** `log`: one pino line of the daemon. */
  readonly line?: Record<string, unknown>;
}

export const socketPath = (stateDir: string): string => join(stateDir, SOCKET_FILE);

/** Resolves after the answer `last` says is the last one (or an error, or the daemon closing). */
export function ask(stateDir: string, request: object, onAnswer: (a: Answer) => void, last: (a: Answer) => boolean = (a) => a.type === 'done', signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath(stateDir));
    signal?.addEventListener(
      'abort',
      () => {
        socket.destroy();
        resolve();
      },
      { once: true },
    );
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ id: String(process.pid), ...request })}\n`));
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const a = JSON.parse(buffer.slice(0, nl)) as Answer;
        buffer = buffer.slice(nl + 1);
        onAnswer(a);
        if (a.type === 'error' || last(a)) {
          socket.end();
          resolve();
        }
      }
    });
    socket.on('close', () => resolve());
  });
}

export function notReachable(command: string, stateDir: string, e: unknown): string {
  return `${command}: the daemon is not reachable on ${socketPath(stateDir)} (${(e as NodeJS.ErrnoException).code ?? String(e)}): is dcud running with this stateDir? (--state DIR)`;
}
