import type { Clock } from '../common/clock';
import { type Conformance, conformance } from '../apdu/conformance';
import type { RandomSource } from '../security/hls';
import type { ServerSession } from './contract';
import { MAX_INCOMING_BYTES } from './blocks';
import type { ClientAssociationConfig, ObjectModel } from './object';

/**
 * Configuration of a DlmsServer (the meter's application layer): the object model, who may
 * associate and how, the meter's limits, its clock and fault hooks for the simulator.
 */
export interface DlmsServerLimits {
  /** Largest request APDU accepted, advertised in the InitiateResponse (default 1024). */
  readonly maxReceivePduSize?: number;
  /**
   * Largest response APDU the meter builds, whatever the client accepts (default: the same as
   * maxReceivePduSize, as most meters do: one buffer both ways).
   */
  readonly maxSendPduSize?: number;
  /** Conformance offered; the AARE grants the intersection with the proposal (default DEFAULT_SERVER_CONFORMANCE). */
  readonly conformance?: Conformance;
  /**
   * Receive window advertised in general-block-transfer APDUs (1..63, default 7): how many
   * GBT blocks a client may stream to us before waiting for our acknowledgement. GBT itself
   * is offered when the conformance includes 'general-block-transfer'.
   */
  readonly gbtWindow?: number;
  /**
   * Largest request reassembled from SET/ACTION blocks or GBT blocks (default 1 MiB): a client
   * that never sends the last block gets long-set/long-action aborted, not our memory.
   */
  readonly maxReassembledBytes?: number;
}

export interface DlmsServerFaults {
  /** Answer every AARQ with rejected-permanent (no-reason-given): a meter refusing clients. */
  readonly rejectAssociations?: boolean;
}

export interface DlmsServerOptions {
  readonly model: ObjectModel;
  readonly clients: readonly ClientAssociationConfig[];
  /** Meter time (RequestContext.now). */
  readonly clock: Clock;
  readonly limits?: DlmsServerLimits;
  /** Live fault switches; read on every request, so the simulator can flip them at run time. */
  readonly faults?: DlmsServerFaults;
  /** Random source for HLS challenges (StoC); default node:crypto. */
  readonly random?: RandomSource;
  /** Called when handling failed unexpectedly (a bug, or a model returning unencodable Data). */
  readonly onInternalError?: (error: unknown, session: ServerSession) => void;
}

/** What a typical meter offers on an LN association (no general block transfer, no ciphering). */
export const DEFAULT_SERVER_CONFORMANCE: Conformance = conformance(
  'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write',
  'block-transfer-with-action',
  'multiple-references',
  'get',
  'set',
  'selective-access',
  'action',
);

export const DEFAULT_MAX_PDU_SIZE = 1024;
/** Smaller client max receive PDU sizes are refused (pdu-size-too-short): no block would fit. */
export const MIN_CLIENT_PDU_SIZE = 16;
/** InitiateRequest proposes at least this DLMS version. */
export const DLMS_VERSION = 6;

/** GBT receive window when the limits do not say. */
export const DEFAULT_GBT_WINDOW = 7;

export interface ResolvedLimits {
  readonly gbtWindow: number;
  readonly maxReceivePduSize: number;
  readonly maxSendPduSize: number;
  readonly conformance: Conformance;
  readonly maxReassembledBytes: number;
}

export function resolveLimits(l: DlmsServerLimits | undefined): ResolvedLimits {
  const maxReceivePduSize = l?.maxReceivePduSize ?? DEFAULT_MAX_PDU_SIZE;
  return {
    gbtWindow: Math.max(1, Math.min(63, Math.floor(l?.gbtWindow ?? DEFAULT_GBT_WINDOW))),
    maxReceivePduSize,
    maxSendPduSize: l?.maxSendPduSize ?? maxReceivePduSize,
    conformance: l?.conformance ?? DEFAULT_SERVER_CONFORMANCE,
    maxReassembledBytes: l?.maxReassembledBytes ?? MAX_INCOMING_BYTES,
  };
}
