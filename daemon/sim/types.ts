/**
 * What the simulator plumbing (lines, TCP listeners, fleet) needs from one simulated meter.
 * The real meter (daemon/sim/meter) satisfies this; tests use a fake. Swapping the factory
 * is one line in meter-factory.ts.
 */
import type { Clock } from '../../protocol/common/clock';
import type { ApduHandler } from '../../protocol/server/contract';

export interface SimMeterLike {
  readonly serial: string;
  readonly physicalAddress: number;
  readonly logicalDevice: number;
  readonly handler: ApduHandler;
  /** Power cut: the meter forgets its associations and link state and restarts. */
  powerCut(): void;
  /** JSON-serialisable state, saved to the state directory. */
  snapshot(): unknown;
  restore(state: unknown): void;
}

export type AuthMechanism = 'none' | 'low' | 'high';

/** One client address the meter accepts and how it authenticates. */
export interface ClientCredential {
  readonly client: number;
  readonly auth: AuthMechanism;
  /** LLS password (auth 'low'); never logged. */
  readonly password?: string;
}

/** Everything the fleet decides about one meter before it is created. */
export interface SimMeterSpec {
  /** 0-based position in the fleet. */
  readonly index: number;
  readonly serial: string;
  readonly physicalAddress: number;
  readonly logicalDevice: number;
  readonly credentials: readonly ClientCredential[];
  /** Fault flag: the meter refuses every association (AARE rejected). */
  readonly rejectAssociations: boolean;
  /** Seed for the meter's own pseudo-random values (derived from the fleet seed). */
  readonly seed: number;
}

export interface SimMeterDeps {
  /** Meter time (may run accelerated with --speed). */
  readonly clock: Clock;
}

export type SimMeterFactory = (spec: SimMeterSpec, deps: SimMeterDeps) => SimMeterLike;
