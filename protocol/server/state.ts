import type { AccessSelection, AttributeDescriptor, MethodDescriptor } from '../apdu/descriptors';
import type { Conformance } from '../apdu/conformance';
import type { InvokeIdAndPriority } from '../apdu/invoke';
import type { ClientAssociationConfig } from './object';
import type { ServerSession } from './contract';
import type { GbtState } from './gbt';

/** An established application association (one per session). */
export interface Association {
  readonly session: ServerSession;
  readonly client: ClientAssociationConfig;
  readonly conformance: Conformance;
  /** What the client said it can receive (0 in the AARQ = no limit = 65535). */
  readonly clientMaxReceivePduSize: number;
  /** Largest response APDU: min(client max receive, meter max send). */
  readonly maxSendPduSize: number;
  /** Authentication mechanism of the association (Association LN attribute 6). */
  readonly mechanism: 'none' | 'lls' | 'hls-gmac' | 'hls-sha256';
}

/** A response being sent in blocks (GET with-datablock, ACTION with-pblock). */
export interface OutgoingBlocks {
  readonly invoke: InvokeIdAndPriority;
  readonly raw: Uint8Array;
  /** Bytes already sent. */
  offset: number;
  /** Number of the last block sent (1-based). */
  lastBlock: number;
}

/** A request arriving in blocks (SET with-datablock, ACTION with-pblock). */
export type IncomingTarget =
  | { readonly kind: 'set'; readonly attribute: AttributeDescriptor; readonly access?: AccessSelection }
  | { readonly kind: 'set-list'; readonly attributes: readonly { readonly attribute: AttributeDescriptor; readonly access?: AccessSelection }[] }
  | { readonly kind: 'action'; readonly method: MethodDescriptor };

export interface IncomingBlocks {
  readonly target: IncomingTarget;
  readonly chunks: Uint8Array[];
  size: number;
  /** Number of the last block received. */
  lastBlock: number;
}

export interface SessionState {
  association?: Association;
  longGet?: OutgoingBlocks;
  longSet?: IncomingBlocks;
  longActionIn?: IncomingBlocks;
  longActionOut?: OutgoingBlocks;
  /** General block transfer in progress (request being reassembled, response streaming). */
  gbt?: GbtState;
}
