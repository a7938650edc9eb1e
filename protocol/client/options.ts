import type { DeviationConvention } from '../axdr/datetime';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';

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
  | { mechanism: 'high-gmac' };

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

export interface ClientOptions {
  framing: Framing;
  /** Client SAP: 16 public, 17 reading (LLS), 1 management (HLS) by convention. */
  clientAddress: number;
  serverAddress: ServerAddress;
  authentication: Authentication;
  /** Time to wait for the meter's answer to one frame before retransmitting. */
  responseTimeoutMs: number;
  /** Retransmissions per frame before giving up (HDLC); whole-request retries for the wrapper. */
  retries: number;
  /** Client max receive PDU size proposed in the AARQ. */
  maxPduSize: number;
  hdlc: HdlcOptions;
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
