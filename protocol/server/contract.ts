/**
 * The seam between the meter's application layer (DlmsServer: association, GET/SET/ACTION
 * over a COSEM object model) and whatever carries its APDUs (HDLC secondary station on a
 * serial line, wrapper over TCP/UDP, the simulator's link emulation).
 */

/** One client's connection to one logical device (one HDLC link or one TCP connection). */
export interface ServerSession {
  /** Unique per connection, for logs and per-session state. */
  readonly id: string;
  /** Client SAP (16 public, 17 reading, 1 management …) the frames came from. */
  readonly clientAddress: number;
}

export interface ApduHandler {
  /**
   * Handles one complete request APDU and returns the complete response APDU (the framing
   * layer segments it), or undefined when nothing is to be sent back (unconfirmed service).
   * Never throws for bad input: malformed requests are answered as the standard says
   * (confirmed-service-error / exception-response).
   */
  handle(apdu: Uint8Array, session: ServerSession): Uint8Array | undefined;
  /**
   * Optional, for framings that can send several APDUs in answer to one (wrapper, HDLC): the
   * answers in order, e.g. a general-block-transfer stream up to the client's window. A
   * handler without it, or a framing that calls handle(), gets one APDU at a time (a GBT
   * stream then goes one block per acknowledgement).
   */
  handleBurst?(apdu: Uint8Array, session: ServerSession): readonly Uint8Array[];
  /** The link went down (DISC, connection closed, power cut): forget that session's association. */
  release(session: ServerSession): void;
}
