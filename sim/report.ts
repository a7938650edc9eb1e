/**
 * What dcu-sim knows at start: where each line and meter can be reached and how to log in,
 * as data (`--json` prints it as is; sim/cli/fleet-text.ts renders it for a person).
 */
import type { RunningFleet } from './fleet';

export interface FleetReport {
  readonly meterModel: string;
  readonly ptyDir: string | null;
  readonly lines: RunningFleet['lines'];
  readonly clients: RunningFleet['clients'];
  readonly meters: RunningFleet['endpoints'];
}

export function fleetReport(fleet: RunningFleet, meterModel: string): FleetReport {
  return { meterModel, ptyDir: fleet.ptyDir ?? null, lines: fleet.lines, clients: fleet.clients, meters: fleet.endpoints };
}
