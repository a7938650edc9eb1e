import type { DeviationConvention } from '../axdr/datetime';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';
import type { Obis } from '../cosem/obis';
import type { InvocationCounterStore, RandomSource, ReplayGuard, SecurityPolicy } from '../security';

export type Framing = 'hdlc' | 'wrapper';

/** Server (meter) address: logical device (upper HDLC address / wrapper wPort) and physical address. */
export interface ServerAddress {
  logical: number;
  /** HDLC lower (physical) address: selects the meter on a multi-drop line. */
  physical?: number;
  /** HDLC address size in bytes; derived when absent (1 without physical, else 2, or 4 when large). */
  size?: 1 | 2 | 4;
}

export type Authentication =
  | { mechanism: 'none' }
  | { mechanism: 'low'; password: Uint8Array }
  | { mechanism: 'high-gmac' }
  /**
   * HLS-SHA256 (mechanism 6): proves `secret` (never logged). With `security` the AARQ is
   * ciphered per its policy and its system title is ours; without, the context stays plain LN
   * and `systemTitle` (8 bytes, the calling AP title) is required.
   */
  | { mechanism: 'high-sha256'; secret: Uint8Array; systemTitle?: Uint8Array };

/**
 * Security suite 0 (AES-GCM-128) for one client: what protects the xDLMS APDUs and the keys
 * for HLS-GMAC. Keys never reach a logger or an error message.
 */
export interface ClientSecurity {
  /** Protection of every xDLMS APDU after the AARQ: 'none' keeps the plain LN context. */
  policy: SecurityPolicy;
  /** Our (client) system title, 8 bytes: the calling AP title and the IV prefix. */
  systemTitle: Uint8Array;
  /** Global unicast encryption key (GUEK), 16 bytes. */
  blockKey: Uint8Array;
  /** Authentication key (AK), 16 bytes. */
  authKey: Uint8Array;
  /** Generate a random dedicated key per association (sent in the ciphered InitiateRequest) and use ded- APDUs. */
  dedicatedKey?: boolean;
  /** Where invocation counters are reserved before sending (durable: never reused after a crash). */
  counterStore: InvocationCounterStore;
  /** Counter key id in the store: one per meter and key, e.g. `meter-42/guek`. */
  counterKeyId: string;
  /**
   * When to read the meter's invocation counter object with the public client and continue above it:
   * 'auto' (default) when the store has no counter for counterKeyId yet, or after the meter refused the
   * AARQ (deciphering error) or answered invocation-counter-error; 'always' before every association;
   * 'never'.
   */
  counterSync?: 'auto' | 'always' | 'never';
  /** Invocation counter object (class 1, attribute 2), default 0.0.43.1.0.255. */
  counterObis?: Obis;
  /** Public client address used to read it, default 16. */
  publicClientAddress?: number;
  /** Replay guard for the meter's counters; share one across associations to span them (default: per client). */
  replayGuard?: ReplayGuard;
  /** Random source for the challenge and the dedicated key (tests pass a deterministic one). */
  random?: RandomSource;
}

export interface HdlcOptions {
  /** What we propose in SNRM; the UA decides. */
  maxInfoTx: number;
  maxInfoRx: number;
  windowTx: number;
  windowRx: number;
  /** Close the link when idle this long (meters drop it themselves, typically after 120 s). */
  inactivityTimeoutMs: number;
  /** Max silence between two bytes of one frame before the partial frame is dropped. */
  interFrameTimeoutMs: number;
}

/** General block transfer, used when the meter grants 'general-block-transfer'. */
export interface GbtOptions {
  /** Use GBT when granted (default true); false keeps the service-specific block transfer. */
  enabled?: boolean;
  /**
   * Our receive window (1..63, default 16): blocks the meter may stream before we
   * acknowledge. What we send in a row follows the meter's window, learned from its GBT APDUs.
   * On a link that cannot stream (HDLC here) both are 1.
   */
  window?: number;
}

export const DEFAULT_GBT_WINDOW = 16;

/**
 * What one meter may cost: memory per answer and time per request and per association. A bad
 * meter on a line of hundreds ends with a typed DcuError instead of holding the line or the heap.
 */
export interface ClientLimits {
  /**
   * Largest single APDU accepted from the meter (HDLC segments reassembled, wrapper length):
   * default maxPduSize + 64 (room for ciphering), at least 2048. Over it: FramingTooLong.
   */
  maxApduSize?: number;
  /** Largest answer reassembled from blocks (GET/ACTION blocks, GBT): default 16 MiB. Over it: DecodeBadLength. */
  maxReassembledBytes?: number;
  /**
   * Overall deadline of one request, all blocks, retries and answers included. Default: two
   * exchanges' time (responseTimeoutMs × (retries + 1) + 500 each), plus for every block that moves the transfer on its bytes' time twice at
   * the link speed and one response timeout; never over an hour. Past it: DeadlineExceeded.
   */
  requestDeadlineMs?: number;
  /** Overall deadline of connect() (link set-up, AARQ/AARE, HLS pass 3/4): default three exchanges' time plus an AARE's bytes. */
  associationDeadlineMs?: number;
  /** Link speed (bit/s) the default deadlines assume: the serial port's baud rate, else 9600. */
  baud?: number;
}

export const DEFAULT_MAX_REASSEMBLED_BYTES = 16 * 1024 * 1024;

export interface ClientOptions {
  framing: Framing;
  /** Client SAP: 16 public, 17 reading (LLS), 1 management (HLS) by convention. */
  clientAddress: number;
  serverAddress: ServerAddress;
  authentication: Authentication;
  /** Ciphering and HLS keys; required for 'high-gmac' and for any policy but 'none'; optional for 'high-sha256'. */
  security?: ClientSecurity;
  /** Time to wait for the meter's answer to one frame before retransmitting. */
  responseTimeoutMs: number;
  /** Retransmissions per frame before giving up (HDLC); whole-request retries for the wrapper. */
  retries: number;
  /**
   * Told of every retry on the link: HDLC frames sent again after a timeout or a reported loss
   * (SNRM/DISC repeats, RR polls, retransmitted I-frames), GBT acknowledgements sent again after
   * a silence. The daemon counts them per line (/metrics).
   */
  onRetry?: (frames: number) => void;
  /** Client max receive PDU size proposed in the AARQ. */
  maxPduSize: number;
  hdlc: HdlcOptions;
  /** General block transfer (default: on when the meter grants it, window 16). */
  gbt?: GbtOptions;
  /** Memory and time bounds (see ClientLimits; every field has a default). */
  limits?: ClientLimits;
  /** How this meter signs the clock deviation. */
  deviationConvention: DeviationConvention;
  clock: Clock;
  logger: Logger;
}

export const DEFAULT_HDLC: HdlcOptions = {
  maxInfoTx: 2030,
  maxInfoRx: 2030,
  windowTx: 7,
  windowRx: 7,
  inactivityTimeoutMs: 120_000,
  interFrameTimeoutMs: 1_000,
};

export const DEFAULT_CLIENT_OPTIONS: Omit<ClientOptions, 'clock' | 'logger' | 'framing'> = {
  clientAddress: 16,
  serverAddress: { logical: 1 },
  authentication: { mechanism: 'none' },
  responseTimeoutMs: 5_000,
  retries: 3,
  maxPduSize: 0xffff,
  hdlc: DEFAULT_HDLC,
  deviationConvention: 'blue-book',
};

/** Largest single APDU accepted from the meter: limits.maxApduSize, else derived from our max receive PDU. */
export function maxApduSize(options: Pick<ClientOptions, 'maxPduSize' | 'limits'>): number {
  return options.limits?.maxApduSize ?? Math.max(2048, options.maxPduSize + 64);
}
