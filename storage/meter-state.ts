/**
 * A meter's life in the registry as a pure state machine: `registered` (known) → `linked`
 * (answers at the link layer) → `commissioned` (association works; identity, firmware and
 * metadata read and cached), and, across those, `reachable` / `unreachable` with last-seen.
 * Inputs are what a job observed; outputs are the new state and effects (alarms, events,
 * re-commissioning) that the caller stores in the same transaction. No I/O, no clock of its
 * own: `now` comes with every input.
 */

export type Stage = 'registered' | 'linked' | 'commissioned';
export type Reachability = 'unknown' | 'reachable' | 'unreachable';

export interface MeterIdentity {
  /** Serial number read from the meter (0.0.96.1.0.255), when it has one. */
  readonly serialNumber?: string;
  /** Logical device name (0.0.42.0.0.255). */
  readonly logicalName?: string;
  /** Active firmware identifier (1.0.0.2.0.255). */
  readonly firmwareId?: string;
}

export interface MeterState {
  readonly serial: string;
  readonly stage: Stage;
  readonly reachability: Reachability;
  /** Last time the meter answered at all (epoch ms). */
  readonly lastSeen: number | null;
  /** Since when it has not answered (first failure after the last answer). */
  readonly silentSince: number | null;
  /** The unreachable event was raised for the current silence (raised once). */
  readonly unreachableReported: boolean;
  readonly identity: MeterIdentity;
  readonly lastError: string | null;
}

export type MeterInput =
  | { readonly kind: 'link-ok'; readonly now: number }
  | { readonly kind: 'link-failed'; readonly now: number; readonly reason: string }
  | { readonly kind: 'association-ok'; readonly now: number; readonly identity: MeterIdentity }
  | { readonly kind: 'association-failed'; readonly now: number; readonly reason: string }
  /** A session failed in a way that says nothing about the link (a request refused or malformed, the line busy): only the last error is kept. */
  | { readonly kind: 'failed'; readonly now: number; readonly reason: string }
  | { readonly kind: 'tick'; readonly now: number };

export type MeterEffect =
  | { readonly kind: 'alarm'; readonly code: 'serial-mismatch'; readonly detail: string }
  | { readonly kind: 'event'; readonly code: 'unreachable'; readonly detail: string }
  | { readonly kind: 'event'; readonly code: 'reachable-again'; readonly detail: string }
  | { readonly kind: 'event'; readonly code: 'commissioned'; readonly detail: string }
  | { readonly kind: 'event'; readonly code: 'firmware-changed'; readonly detail: string }
  | { readonly kind: 'recommission'; readonly detail: string };

export interface RegistryPolicy {
  /** A meter silent this long is reported unreachable (default 72 h). */
  readonly unreachableAfterMs: number;
}

export interface Transition {
  readonly state: MeterState;
  readonly effects: readonly MeterEffect[];
}

export function registeredMeter(serial: string): MeterState {
  return { serial, stage: 'registered', reachability: 'unknown', lastSeen: null, silentSince: null, unreachableReported: false, identity: {}, lastError: null };
}

function answered(s: MeterState, now: number, effects: MeterEffect[]): MeterState {
  if (s.reachability === 'unreachable' && s.unreachableReported) {
    effects.push({ kind: 'event', code: 'reachable-again', detail: `${s.serial} answers again after ${Math.round((now - (s.silentSince ?? now)) / 60_000)} min` });
  }
  return { ...s, reachability: 'reachable', lastSeen: now, silentSince: null, unreachableReported: false, lastError: null };
}

function silent(s: MeterState, now: number, reason: string): MeterState {
  return { ...s, silentSince: s.silentSince ?? now, lastError: reason };
}

/** The serial number a meter reports, compared without padding and case. */
export function sameSerial(registered: string, reported: string): boolean {
  const norm = (x: string): string => x.trim().replace(/^0+/, '').toUpperCase();
  return norm(registered) === norm(reported) || reported.trim().toUpperCase().endsWith(registered.trim().toUpperCase());
}

/** The registry's last error while another meter answers at the address. */
export function mismatchText(reported: string): string {
  return `serial number mismatch: ${reported}`;
}

/** Applies one observation. */
export function nextMeterState(s: MeterState, input: MeterInput, policy: RegistryPolicy): Transition {
  const effects: MeterEffect[] = [];
  switch (input.kind) {
    case 'link-ok': {
      const next = answered(s, input.now, effects);
      return { state: next.stage === 'registered' ? { ...next, stage: 'linked' } : next, effects };
    }
    case 'association-ok': {
      const reported = input.identity.serialNumber;
      if (reported !== undefined && !sameSerial(s.serial, reported)) {
        // Another meter answers at this address: never overwrite the registered identity.
        // One alarm per mismatch: later associations that find the same meter repeat nothing.
        const lastError = mismatchText(reported);
        if (s.lastError !== lastError) {
          effects.push({ kind: 'alarm', code: 'serial-mismatch', detail: `the meter at ${s.serial}'s address reports serial number ${reported}; its collection is blocked until the registry is updated` });
        }
        const next = answered(s, input.now, effects);
        return { state: { ...next, stage: s.stage === 'commissioned' ? 'linked' : next.stage === 'registered' ? 'linked' : next.stage, lastError }, effects };
      }
      const next = answered(s, input.now, effects);
      const before = s.identity.firmwareId;
      const after = input.identity.firmwareId;
      const identity: MeterIdentity = { ...s.identity, ...input.identity };
      if (s.stage === 'commissioned' && before !== undefined && after !== undefined && before !== after) {
        effects.push({ kind: 'event', code: 'firmware-changed', detail: `firmware ${before} → ${after}` });
        effects.push({ kind: 'recommission', detail: 'firmware identifier changed: object list and capture objects are read again' });
        return { state: { ...next, stage: 'linked', identity }, effects };
      }
      if (s.stage !== 'commissioned') effects.push({ kind: 'event', code: 'commissioned', detail: `${s.serial} commissioned${after === undefined ? '' : ` (firmware ${after})`}` });
      return { state: { ...next, stage: 'commissioned', identity }, effects };
    }
    case 'association-failed': {
      // The meter answered at the link layer (or we would have seen link-failed): it is seen.
      const next = answered(s, input.now, effects);
      return { state: { ...next, stage: s.stage === 'registered' ? 'linked' : s.stage, lastError: input.reason }, effects };
    }
    case 'link-failed':
      return tick(silent(s, input.now, input.reason), input.now, policy, effects);
    case 'failed':
      return { state: s.lastError === input.reason ? s : { ...s, lastError: input.reason }, effects };
    case 'tick':
      return tick(s, input.now, policy, effects);
  }
}

function tick(s: MeterState, now: number, policy: RegistryPolicy, effects: MeterEffect[]): Transition {
  if (s.silentSince === null) return { state: s, effects };
  // Silent since the last answer (or since the first failure when it never answered).
  const since = s.lastSeen ?? s.silentSince;
  if (now - since < policy.unreachableAfterMs || s.unreachableReported) {
    return { state: s, effects };
  }
  effects.push({ kind: 'event', code: 'unreachable', detail: `${s.serial} has not answered for ${Math.round((now - since) / 3_600_000)} h (last error: ${s.lastError ?? 'none'})` });
  return { state: { ...s, reachability: 'unreachable', unreachableReported: true }, effects };
}
