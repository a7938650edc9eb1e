/**
 * Knobs of one simulated meter. Everything has a default; the fleet passes only what its
 * configuration changes.
 */
import type { DeviationConvention } from '../../protocol/axdr/datetime';

export interface ImageTransferOptions {
  /** image_block_size (attribute 2), bytes. */
  readonly blockSize: number;
  /** Largest image image_transfer_initiate accepts, bytes. */
  readonly maxImageSize: number;
  /** Meter time the verification takes; meanwhile verify answers temporary-failure. */
  readonly verifyDelayMs: number;
  /** Meter time the activation takes; meanwhile activate answers temporary-failure. */
  readonly activationDelayMs: number;
  /** Fault injection: verification fails even for a complete image. */
  readonly failVerification: boolean;
  /** Fault injection: activation fails (the active firmware stays). */
  readonly failActivation: boolean;
  /**
   * Images meant for this meter: initiate refuses (other-reason) an image_identifier that does
   * not start with this prefix, as meters refuse another model's image. Default: any.
   */
  readonly acceptIdentifierPrefix?: string;
  /** Fault injection: the new firmware starts its energy registers from 0 (they go backwards across the update). */
  readonly activationResetsRegisters?: boolean;
  /** Fault injection: the activation leaves no firmware-activated event in the standard event log. */
  readonly activationWithoutEvent?: boolean;
}

export interface SimMeterOptions {
  /** Load profile 1.0.99.1.0.255 depth in days of 15-minute entries (default 60 = 5760 entries). */
  readonly profileDepthDays: number;
  /** Load profile capture period, seconds (default 900). */
  readonly capturePeriodS: number;
  /** Daily values profile depth, days (default 100). */
  readonly dailyDepthDays: number;
  /** Monthly billing profile depth, months (default 24). */
  readonly monthlyDepthMonths: number;
  /** Event logs keep this many entries, oldest dropped first (default 100). */
  readonly eventLogDepth: number;
  /** Send null-data in the clock cell of regular profile rows after the first (default true). */
  readonly nullRegularClocks: boolean;
  /** Clock drift, parts per million (positive: the meter runs fast). Default 0. */
  readonly clockDriftPpm: number;
  /** Meter clock − true time at creation, ms (default 0). */
  readonly initialClockOffsetMs: number;
  /** Blue-Book deviation in minutes (UTC = local + deviation; CET = −60). Default 0 (UTC). */
  readonly deviation: number;
  /** How the meter signs the deviation on the wire (default 'blue-book'). */
  readonly deviationConvention: DeviationConvention;
  /** Active firmware identifier before any upgrade. */
  readonly firmwareId: string;
  readonly imageTransfer: ImageTransferOptions;
  /** Disconnect control_mode (0..6) at creation (default 2: remote reconnect closes the breaker). */
  readonly disconnectControlMode: number;
  /** Largest request / response APDU (default 1024). */
  readonly maxPduSize: number;
  /**
   * Largest answer APDU, when the meter's send buffer differs from its receive buffer
   * (default: maxPduSize, one buffer both ways as most meters). Answers are also capped by
   * the client's max receive PDU; longer ones go out with block transfer.
   */
  readonly maxSendPduSize?: number;
  /**
   * Offer general block transfer (conformance 'general-block-transfer', default true): long
   * requests arrive and long answers leave as GBT streams within the client's window.
   */
  readonly generalBlockTransfer: boolean;
  /** GBT receive window the meter advertises (1..63, default 7). */
  readonly gbtWindow: number;
}

export type SimMeterOptionsInput = Partial<Omit<SimMeterOptions, 'imageTransfer'>> & { readonly imageTransfer?: Partial<ImageTransferOptions> };

export const DEFAULT_IMAGE_TRANSFER: ImageTransferOptions = {
  blockSize: 512,
  maxImageSize: 1024 * 1024,
  verifyDelayMs: 0,
  activationDelayMs: 0,
  failVerification: false,
  failActivation: false,
};

export const DEFAULT_SIM_METER_OPTIONS: SimMeterOptions = {
  profileDepthDays: 60,
  capturePeriodS: 900,
  dailyDepthDays: 100,
  monthlyDepthMonths: 24,
  eventLogDepth: 100,
  nullRegularClocks: true,
  clockDriftPpm: 0,
  initialClockOffsetMs: 0,
  deviation: 0,
  deviationConvention: 'blue-book',
  firmwareId: 'SIM-FW-1.0.0',
  imageTransfer: DEFAULT_IMAGE_TRANSFER,
  disconnectControlMode: 2,
  maxPduSize: 1024,
  generalBlockTransfer: true,
  gbtWindow: 7,
};

export function resolveSimMeterOptions(input: SimMeterOptionsInput = {}): SimMeterOptions {
  return { ...DEFAULT_SIM_METER_OPTIONS, ...input, imageTransfer: { ...DEFAULT_IMAGE_TRANSFER, ...input.imageTransfer } };
}

/** Entries of the load profile for these options. */
export function loadProfileDepth(o: Pick<SimMeterOptions, 'profileDepthDays' | 'capturePeriodS'>): number {
  return Math.max(1, Math.floor((o.profileDepthDays * 86_400) / o.capturePeriodS));
}
