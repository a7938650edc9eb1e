/**
 * A stand-in meter for plumbing tests and for running dcu-sim before the real meter model is
 * wired: it answers every APDU with `prefix ‖ apdu` (default: the APDU itself) and counts
 * what happens to it. Not a DLMS server.
 */
import type { ServerSession } from '../protocol/server/contract';
import type { SimMeterLike, SimMeterSpec } from './types';

export interface EchoMeterState {
  requests: number;
  powerCuts: number;
  releases: number;
}

export interface EchoMeter extends SimMeterLike {
  readonly state: EchoMeterState;
  readonly sessions: ServerSession[];
  readonly spec: SimMeterSpec;
}

export function createEchoMeter(spec: SimMeterSpec, prefix: Uint8Array = new Uint8Array(0)): EchoMeter {
  const state: EchoMeterState = { requests: 0, powerCuts: 0, releases: 0 };
  const sessions: ServerSession[] = [];
  return {
    spec,
    serial: spec.serial,
    physicalAddress: spec.physicalAddress,
    logicalDevice: spec.logicalDevice,
    state,
    sessions,
    handler: {
      handle(apdu, session) {
        state.requests++;
        if (!sessions.includes(session)) sessions.push(session);
        const out = new Uint8Array(prefix.length + apdu.length);
        out.set(prefix, 0);
        out.set(apdu, prefix.length);
        return out;
      },
      release() {
        state.releases++;
      },
    },
    powerCut() {
      state.powerCuts++;
    },
    snapshot() {
      return { ...state };
    },
    restore(saved: unknown) {
      if (typeof saved !== 'object' || saved === null) return;
      const s = saved as Partial<Record<keyof EchoMeterState, unknown>>;
      if (typeof s.requests === 'number') state.requests = s.requests;
      if (typeof s.powerCuts === 'number') state.powerCuts = s.powerCuts;
      if (typeof s.releases === 'number') state.releases = s.releases;
    },
  };
}
