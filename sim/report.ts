/**
 * What dcu-sim knows at start: where each line and meter can be reached and how to log in,
 * as data (`--json` prints it as is; sim/cli/fleet-text.ts renders it for a person).
 */
import { toHex } from '../protocol/common/hex';
import type { RunningFleet } from './fleet';
import { SIM_KEYS, simSystemTitle, type ClientCredential } from './types';

/**
 * A client as configured, plus what a technician needs to log in with HLS: the `dcu probe
 * --auth` mechanism, the ciphering policy and the keys in effect (the simulator's published
 * test keys unless configured; an HLS-SHA256 secret is never shown).
 */
export type ClientReport = ClientCredential & {
  readonly mechanism?: 'high-gmac' | 'high-sha256';
  readonly meterSystemTitle?: string;
};

export interface FleetReport {
  readonly meterModel: string;
  readonly ptyDir: string | null;
  readonly lines: RunningFleet['lines'];
  readonly clients: readonly ClientReport[];
  readonly meters: readonly (RunningFleet['endpoints'][number] & { readonly systemTitle: string })[];
}

function clientReport(c: ClientCredential): ClientReport {
  if (c.auth === 'high') {
    return { ...c, mechanism: 'high-gmac', policy: c.policy ?? 'auth-enc', blockKey: c.blockKey ?? SIM_KEYS.blockKey, authKey: c.authKey ?? SIM_KEYS.authKey, meterSystemTitle: '444355 + the meter index in 5 bytes (meters[].systemTitle)' };
  }
  if (c.auth === 'high-sha256') {
    const rest: ClientCredential = { ...c };
    delete (rest as { secret?: string }).secret;
    return { ...rest, mechanism: 'high-sha256', policy: c.policy ?? 'none', meterSystemTitle: '444355 + the meter index in 5 bytes (meters[].systemTitle)' };
  }
  return c;
}

export function fleetReport(fleet: RunningFleet, meterModel: string): FleetReport {
  return {
    meterModel,
    ptyDir: fleet.ptyDir ?? null,
    lines: fleet.lines,
    clients: fleet.clients.map(clientReport),
    meters: fleet.endpoints.map((m) => ({ ...m, systemTitle: toHex(simSystemTitle(m.index)) })),
  };
}
