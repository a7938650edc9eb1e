/**
 * Overall deadlines for one request or one association. A meter that keeps talking without
 * getting anywhere (garbage, repeats, empty blocks) must not hold the line for ever: the
 * silence watchdog alone restarts on every answer, a deadline does not.
 *
 * The default deadline grows with progress, not with bytes: it starts with one exchange's
 * worth of time and every block that moves the transfer on (new data, in sequence) earns the
 * time its bytes take on the link, twice (there and back, turnarounds), plus one response
 * timeout. Link-level progress (HDLC segments, wrapper bytes of a frame on its way) earns the
 * bytes' time too, but at most one maximal APDU's worth between two blocks, so a meter that
 * streams valid frames nobody asked for gains nothing. A configured deadline is fixed.
 */
import type { Clock } from '../common/clock';
import { DcuError, ErrorCode } from '../common/errors';
import type { ByteTransport } from '../transport/types';
import { isSerialTransport } from '../transport/types';
import { maxApduSize, type ClientOptions } from './options';

/** Link speed the default deadlines assume when the transport does not tell (GPRS-slow). */
export const DEFAULT_DEADLINE_BAUD = 9600;
/** The default request deadline never grows beyond this, however much progress there is. */
export const DEFAULT_REQUEST_CEILING_MS = 3_600_000;

export interface DeadlinePlan {
  /** Time allowed before any progress. */
  readonly baseMs: number;
  /** Added per block that moved the transfer on (besides its bytes' time). */
  readonly perBlockMs: number;
  /** Time one byte takes on the link (earned twice per byte of progress). */
  readonly msPerByte: number;
  /** Most time earned from link-level progress between two blocks. */
  readonly linkCreditMs: number;
  /** Hard ceiling from the start. */
  readonly ceilingMs: number;
  /** true: baseMs is all there is (a configured deadline). */
  readonly fixed: boolean;
}

/** Milliseconds one byte takes at `baud` (10 bits per byte: start, 8 data, stop). */
export function msPerByte(baud: number): number {
  return 10_000 / Math.max(1, baud);
}

/** The link speed of a transport (a serial port's baud rate), else the configured or default one. */
export function linkBaud(transport: ByteTransport, configured: number | undefined): number {
  if (configured !== undefined) return configured;
  return isSerialTransport(transport) ? transport.settings.baudRate : DEFAULT_DEADLINE_BAUD;
}

export class Deadline {
  private readonly start: number;
  private end: number;
  private linkEarned = 0;
  private blocks = 0;

  constructor(
    private readonly clock: Clock,
    private readonly what: string,
    private readonly plan: DeadlinePlan,
  ) {
    this.start = clock.now();
    this.end = this.start + Math.min(plan.baseMs, plan.ceilingMs);
  }

  /** A block moved the transfer on (new data in sequence, or our block acknowledged). */
  progress(bytes: number): void {
    this.blocks++;
    this.linkEarned = 0;
    if (this.plan.fixed) return;
    this.extend(this.plan.perBlockMs + 2 * bytes * this.plan.msPerByte);
  }

  /** The link moved on by `bytes` (segments of an APDU on its way). */
  linkProgress(bytes: number): void {
    if (this.plan.fixed) return;
    const earn = Math.min(2 * bytes * this.plan.msPerByte, this.plan.linkCreditMs - this.linkEarned);
    if (earn <= 0) return;
    this.linkEarned += earn;
    this.extend(earn);
  }

  private extend(ms: number): void {
    this.end = Math.min(this.start + this.plan.ceilingMs, this.end + ms);
  }

  remainingMs(): number {
    return Math.max(0, this.end - this.clock.now());
  }

  get expired(): boolean {
    return this.clock.now() >= this.end;
  }

  error(): DcuError {
    const ms = this.end - this.start;
    return new DcuError(
      ErrorCode.DeadlineExceeded,
      `${this.what} did not complete within its deadline of ${Math.round(ms)} ms (${this.blocks} blocks of progress): the meter talks without getting anywhere, or the link is slower than assumed (set limits.requestDeadlineMs / associationDeadlineMs or limits.baud)`,
      { context: { deadlineMs: ms, blocks: this.blocks } },
    );
  }
}

/** A deadline of `ms`, whatever progress there is (configured deadlines, the release). */
export function fixedPlan(ms: number): DeadlinePlan {
  return { baseMs: ms, perBlockMs: 0, msPerByte: 0, linkCreditMs: 0, ceilingMs: ms, fixed: true };
}

/**
 * What a request (or a connect attempt) may take: limits.requestDeadlineMs /
 * associationDeadlineMs when configured, else two exchanges' time (three to associate) plus
 * what progress earns. `exchangeMs` is one exchange's silence watchdog, so plain silence ends
 * first, as a Timeout that says so.
 */
export function planDeadline(kind: 'request' | 'association', options: Pick<ClientOptions, 'limits' | 'maxPduSize' | 'responseTimeoutMs'>, transport: ByteTransport, exchangeMs: number): DeadlinePlan {
  const limits = options.limits;
  const fixed = kind === 'request' ? limits?.requestDeadlineMs : limits?.associationDeadlineMs;
  if (fixed !== undefined) return fixedPlan(fixed);
  const perByte = msPerByte(linkBaud(transport, limits?.baud));
  const linkCreditMs = 2 * maxApduSize(options) * perByte;
  const baseMs = (kind === 'request' ? 2 : 3) * exchangeMs;
  const ceilingMs = kind === 'request' ? Math.max(DEFAULT_REQUEST_CEILING_MS, baseMs) : baseMs + 2 * linkCreditMs;
  return { baseMs, perBlockMs: options.responseTimeoutMs, msPerByte: perByte, linkCreditMs, ceilingMs, fixed: false };
}
