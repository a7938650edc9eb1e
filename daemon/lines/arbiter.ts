/**
 * Access to one communication line, by priority. A multi-drop serial line (PLC/RF modem,
 * RS-485) carries one association at a time (capacity 1); a TCP/UDP "line" serves up to its
 * configured concurrency. Waiters are served highest priority first, then in arrival order.
 * A holder is never interrupted mid-request: a long job asks `lease.preempted` between
 * requests and, when a more urgent waiter is queued, calls `lease.yield()` — the line goes
 * to the waiter and the job continues when the line comes back to it.
 */
import { DcuError, ErrorCode } from '../../protocol/common/errors';

/** Job priority classes, most urgent first (DAEMON.md). */
export const PRIORITY = { 'on-demand': 3, firmware: 2, scheduled: 1, background: 0 } as const;
export type PriorityClass = keyof typeof PRIORITY;

export interface Lease {
  readonly line: string;
  readonly holder: string;
  readonly priority: PriorityClass;
  /** True when a more urgent waiter is queued: finish the request in flight, then yield. */
  readonly preempted: boolean;
  /** Gives the line to the waiters that are more urgent, and resolves when it is back. */
  yield(): Promise<void>;
  release(): void;
}

interface Waiter {
  readonly holder: string;
  readonly priority: PriorityClass;
  readonly seq: number;
  readonly grant: () => void;
  readonly refuse: (e: Error) => void;
}

export interface ArbiterEvents {
  /** Every grant, in order (for logs, metrics and tests that assert order). */
  readonly onGrant?: (holder: string, priority: PriorityClass) => void;
}

export class LineArbiter {
  private readonly waiters: Waiter[] = [];
  private holders = 0;
  private seq = 0;
  private closed = false;

  constructor(
    readonly line: string,
    readonly capacity: number,
    private readonly events: ArbiterEvents = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new DcuError(ErrorCode.Config, `line ${line}: capacity ${capacity} must be a positive integer`);
  }

  /** Number of queued waiters (health). */
  get queued(): number {
    return this.waiters.length;
  }

  get busy(): number {
    return this.holders;
  }

  /** Waits for the line. An aborted signal removes the waiter (cancellation). */
  acquire(holder: string, priority: PriorityClass, signal?: AbortSignal): Promise<Lease> {
    return this.enqueue(holder, priority, signal).then(() => this.lease(holder, priority));
  }

  /** Refuses every waiter (shutdown); holders finish their request and release. */
  close(reason = 'the line is closing'): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.refuse(new DcuError(ErrorCode.TransportClosed, `line ${this.line}: ${reason}`));
  }

  private enqueue(holder: string, priority: PriorityClass, signal?: AbortSignal, ahead = false): Promise<void> {
    if (this.closed) return Promise.reject(new DcuError(ErrorCode.TransportClosed, `line ${this.line} is closed`));
    if (signal?.aborted === true) return Promise.reject(aborted(this.line, holder));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(aborted(this.line, holder));
        }
      };
      const waiter: Waiter = {
        holder,
        priority,
        seq: ahead ? -++this.seq : ++this.seq,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        refuse: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.waiters.sort((a, b) => PRIORITY[b.priority] - PRIORITY[a.priority] || a.seq - b.seq);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.holders < this.capacity && this.waiters.length > 0) {
      const next = this.waiters.shift();
      if (next === undefined) break;
      this.holders++;
      this.events.onGrant?.(next.holder, next.priority);
      next.grant();
    }
  }

  private moreUrgentThan(priority: PriorityClass): boolean {
    const first = this.waiters[0];
    return first !== undefined && PRIORITY[first.priority] > PRIORITY[priority];
  }

  private lease(holder: string, priority: PriorityClass): Lease {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.holders--;
      this.dispatch();
    };
    const moreUrgent = (): boolean => !released && this.moreUrgentThan(priority);
    return {
      line: this.line,
      holder,
      priority,
      get preempted() {
        return moreUrgent();
      },
      yield: async () => {
        if (!moreUrgent()) return;
        // Give the line away and queue again ahead of equals: this job was already served.
        this.holders--;
        await this.enqueue(holder, priority, undefined, true);
      },
      release,
    };
  }
}

function aborted(line: string, holder: string): DcuError {
  return new DcuError(ErrorCode.JobCancelled, `line ${line}: ${holder} was cancelled while waiting for the line`, { context: { line, holder } });
}
