/**
 * What the simulator plumbing (lines, TCP listeners, fleet) needs from one simulated meter.
 * The real meter (sim/meter) satisfies this; tests use a fake. Swapping the factory
 * is one line in meter-factory.ts.
 */
import type { Clock } from '../protocol/common/clock';
import type { ApduHandler } from '../protocol/server/contract';

export interface SimMeterLike {
  readonly serial: string;
  readonly physicalAddress: number;
  readonly logicalDevice: number;
  readonly handler: ApduHandler;
  /** Power cut: the meter forgets its associations and link state and restarts. */
  powerCut(): void;
  /** What the meter would push (alarm raised, power down); absent on meters that never push. */
  onPush?(listener: (e: { readonly kind: 'alarm' | 'power-down'; readonly register: number }) => void): () => void;
  /** JSON-serialisable state, saved to the state directory. */
  snapshot(): unknown;
  restore(state: unknown): void;
}

/** 'high' is HLS-GMAC (mechanism 5); 'high-sha256' is HLS-SHA256 (mechanism 6). */
export type AuthMechanism = 'none' | 'low' | 'high' | 'high-sha256';

/** One client address the meter accepts and how it authenticates. */
export interface ClientCredential {
  readonly client: number;
  readonly auth: AuthMechanism;
  /** LLS password (auth 'low'); never logged. */
  readonly password?: string;
  /** HLS-SHA256 secret (auth 'high-sha256'): text, or hex:HEX; never logged. */
  readonly secret?: string;
  /**
   * Ciphering policy: HLS-GMAC (auth 'high') default 'auth-enc'; HLS-SHA256 default 'none'
   * (plain LN context; any other policy ciphers with the keys below).
   */
  readonly policy?: 'none' | 'auth' | 'enc' | 'auth-enc';
  /** Suite 0 keys as 32 hex digits; defaults are the simulator's published test keys (SIM_KEYS). */
  readonly blockKey?: string;
  readonly authKey?: string;
  /** Master key (KEK) for global_key_transfer (key rotation). */
  readonly masterKey?: string;
}

/** Test keys of simulated meters (the DLMS Green Book example keys); never use them in the field. */
export const SIM_KEYS = {
  blockKey: '000102030405060708090A0B0C0D0E0F',
  authKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF',
  masterKey: '101112131415161718191A1B1C1D1E1F',
} as const;

/** A simulated meter's system title: "DCU" and its fleet index in 5 bytes. */
export function simSystemTitle(index: number): Uint8Array {
  const t = Uint8Array.of(0x44, 0x43, 0x55, 0, 0, 0, 0, 0);
  let v = index;
  for (let i = 7; i >= 3; i--) {
    t[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  return t;
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

/** A lone meter (index 0, SIM000000 at HDLC physical 16, logical device 1), for benches and tests. */
export function loneMeterSpec(credentials: readonly ClientCredential[], seed = 1): SimMeterSpec {
  return { index: 0, serial: 'SIM000000', physicalAddress: 16, logicalDevice: 1, credentials, rejectAssociations: false, seed };
}

export interface SimMeterDeps {
  /** Meter time (may run accelerated with --speed). */
  readonly clock: Clock;
}

/** Model settings the fleet passes to every meter it creates. */
export interface SimMeterModelOptions {
  readonly capturePeriodS?: number;
  readonly profileDepthDays?: number;
  /** Active firmware identifier (default the model's). */
  readonly firmwareId?: string;
}

export type SimMeterFactory = (spec: SimMeterSpec, deps: SimMeterDeps, options?: SimMeterModelOptions) => SimMeterLike;
