import type { DcuError } from '../common/errors';
import type { Clock } from '../common/clock';
import type { ServerAddress } from './address';
import type { HdlcParameters } from './params';

/** Why the link ended up disconnected. */
export type DisconnectReason =
  /** disconnect() completed (UA or DM to our DISC, or DISC retries exhausted). */
  | 'local'
  /** The meter answered DM or FRMR. */
  | 'remote'
  /** Retries exhausted or the meter stayed busy. */
  | 'failed'
  /** Nothing sent or received for inactivityTimeoutMs. */
  | 'inactivity';

export type LinkEvent =
  | { readonly type: 'connected'; readonly params: HdlcParameters }
  /** A complete APDU from the meter, LLC stripped, segments reassembled. */
  | { readonly type: 'apdu'; readonly apdu: Uint8Array }
  /** A UI frame's information field (e.g. a pushed notification). */
  | { readonly type: 'ui'; readonly info: Uint8Array }
  /** Every transition to 'disconnected' emits exactly one of these (after any error). */
  | { readonly type: 'disconnected'; readonly reason: DisconnectReason }
  | { readonly type: 'error'; readonly error: DcuError };

export interface SendApduOptions {
  /**
   * false: more APDUs of the same transmission follow (all but the last block of a GBT
   * burst); this one waits for the next APDU that expects an answer, or poll(). Default true.
   */
  readonly expectAnswer?: boolean;
}

export type LinkState = 'disconnected' | 'connecting' | 'connected' | 'disconnecting';

export interface HdlcClientLinkOptions {
  /** Client address (public client 16, management 1, ...). */
  readonly client: number;
  readonly server: ServerAddress;
  /** What the SNRM asks for (client view). Defaults 2030/2030/7/7; the UA decides. */
  readonly maxInfoTx?: number;
  readonly maxInfoRx?: number;
  readonly windowTx?: number;
  readonly windowRx?: number;
  /**
   * Largest APDU (LLC header excluded) reassembled from the meter's segments (default 65535):
   * endless segments end the link with FramingTooLong instead of growing memory.
   */
  readonly maxApduSize?: number;
  /** Send the parameter field in the SNRM (default true; some old meters want it empty). */
  readonly snrmParameters?: boolean;
  /** Wait for a frame with the F bit after a poll (default 3000 ms). */
  readonly responseTimeoutMs?: number;
  /** Polls/retransmissions after a timeout or a reported loss (default 3). */
  readonly retries?: number;
  /** A partial frame older than this is dropped (default 500 ms; 0 disables). */
  readonly interFrameTimeoutMs?: number;
  /** Connected with no traffic this long → disconnected (default 120 000 ms; 0 disables). */
  readonly inactivityTimeoutMs?: number;
  /** Delay before polling a meter that answered RNR (default 500 ms). */
  readonly busyPollMs?: number;
  /** RNR answers tolerated in a row (default 20). */
  readonly maxBusyPolls?: number;
  readonly clock: Clock;
  /** Called whenever output or events become available, including from timers. */
  readonly notify?: () => void;
  /** Called with the frames just sent again (see LinkStats.retried): a line's metrics count them. */
  readonly onRetried?: (frames: number) => void;
}

export interface LinkStats {
  framesIn: number;
  framesOut: number;
  /** Frames not addressed to this link (other meters on the line, other clients). */
  ignored: number;
  garbageBytes: number;
  badFrames: number;
  retransmissions: number;
  timeouts: number;
  /**
   * Frames sent again because no answer came in time or the meter reported a loss: repeated
   * SNRM/DISC, RR polls after a timeout or a lost frame, retransmitted I-frames.
   */
  retried: number;
}
