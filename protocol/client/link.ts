import type { DcuError } from '../common/errors';

/** What the client needs from a framing layer (HDLC or wrapper), sans-IO. */
export type LinkEvent =
  | { type: 'connected' }
  | { type: 'apdu'; apdu: Uint8Array }
  | { type: 'disconnected' }
  | { type: 'error'; error: DcuError; fatal: boolean };

export interface ClientLink {
  /** Starts the link (HDLC: SNRM; wrapper: nothing to do, emits 'connected'). */
  connect(): void;
  /** Ends the link (HDLC: DISC; wrapper: emits 'disconnected'). */
  disconnect(): void;
  sendApdu(apdu: Uint8Array): void;
  /**
   * Several APDUs may go out without an answer in between and several may come back to one
   * (GBT streaming): true for the wrapper and for HDLC (several I-frames per transmission,
   * P/F on the last).
   */
  readonly canStream: boolean;
  receive(chunk: Uint8Array): void;
  takeOutput(): Uint8Array | undefined;
  takeEvent(): LinkEvent | undefined;
  /** For messages and logs: which framing and addresses. */
  readonly description: string;
}
