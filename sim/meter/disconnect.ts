/**
 * Disconnect control (IC 70) transitions for the remote methods, per control_mode:
 *   remote_disconnect: connected (b) or ready_for_reconnection (c) → disconnected;
 *   remote_reconnect:  disconnected → connected (a) in modes 2 and 4,
 *                      disconnected → ready_for_reconnection (d) in modes 1, 3, 5, 6
 *                      (the customer then closes the breaker by hand: no button here);
 *   mode 0: always connected, both methods refused.
 */
export const ControlState = { disconnected: 0, connected: 1, readyForReconnection: 2 } as const;
export type ControlState = (typeof ControlState)[keyof typeof ControlState];

export interface DisconnectState {
  readonly controlState: ControlState;
  readonly controlMode: number;
}

export type DisconnectOutcome = { readonly ok: true; readonly state: DisconnectState } | { readonly ok: false; readonly reason: 'mode-0' };

export function outputState(s: DisconnectState): boolean {
  return s.controlState === ControlState.connected;
}

export function remoteDisconnect(s: DisconnectState): DisconnectOutcome {
  if (s.controlMode === 0) return { ok: false, reason: 'mode-0' };
  return { ok: true, state: { ...s, controlState: ControlState.disconnected } };
}

export function remoteReconnect(s: DisconnectState): DisconnectOutcome {
  if (s.controlMode === 0) return { ok: false, reason: 'mode-0' };
  if (s.controlState === ControlState.connected) return { ok: true, state: s };
  const direct = s.controlMode === 2 || s.controlMode === 4;
  return { ok: true, state: { ...s, controlState: direct ? ControlState.connected : ControlState.readyForReconnection } };
}

export function isControlState(v: number): v is ControlState {
  return v === 0 || v === 1 || v === 2;
}
