/**
 * The meter's security suite 0 state: one SecuritySetupState per security setup instance
 * (keys, pending keys from key transfer, the meter's own invocation counter, the replay
 * check of the clients' counters) and one SecureSession per association that uses the setup
 * (ciphered, or HLS-GMAC/HLS-SHA256 with a setup; the HLS steps themselves are in hls.ts).
 * Pure apart from the injected random source; keys never go into errors or results.
 */
import type { ExceptionResponse } from '../apdu/errors';
import { ActionResult } from '../apdu/results';
import type { Data } from '../axdr/data';
import { isDcuError } from '../common/errors';
import {
  type CipherKeyKind,
  MAX_INVOCATION_COUNTER,
  ReplayGuard,
  SUITE0_KEY_LENGTH,
  cipherApdu,
  decipherApdu,
  describeCipheredTag,
  unwrapKey,
  type SecurityPolicy,
} from '../security';
import type { ServerSecuritySetup } from './object';

const CLIENT_COUNTERS = 'client';

type KeyName = 'blockKey' | 'authKey' | 'masterKey' | 'broadcastKey';
/** key_id of global_key_transfer → which key. */
const KEY_IDS: readonly KeyName[] = ['blockKey', 'broadcastKey', 'authKey', 'masterKey'];

export class SecuritySetupState {
  readonly instance: number;
  readonly policy: SecurityPolicy;
  readonly systemTitle: Uint8Array;
  readonly clientSystemTitle: Uint8Array | undefined;
  private keys: Partial<Record<KeyName, Uint8Array>>;
  private pending: Partial<Record<KeyName, Uint8Array>> = {};
  private ownCounter: number;
  private readonly guard = new ReplayGuard();
  /** Calling AP title of the last association (security setup attribute 4). */
  lastClientSystemTitle: Uint8Array | undefined;

  constructor(setup: ServerSecuritySetup) {
    this.instance = setup.instance ?? 0;
    this.policy = setup.policy;
    this.systemTitle = setup.systemTitle;
    this.clientSystemTitle = setup.clientSystemTitle;
    this.keys = { blockKey: setup.blockKey, authKey: setup.authKey, ...(setup.masterKey === undefined ? {} : { masterKey: setup.masterKey }) };
    this.ownCounter = setup.invocationCounter ?? 1;
  }

  get blockKey(): Uint8Array {
    return this.keys.blockKey ?? new Uint8Array(0);
  }

  get authKey(): Uint8Array {
    return this.keys.authKey ?? new Uint8Array(0);
  }

  /** Keys transferred since the last association take effect now (start of an association). */
  applyPendingKeys(): void {
    this.keys = { ...this.keys, ...this.pending };
    this.pending = {};
  }

  /** The meter's next own invocation counter (undefined when exhausted). */
  nextCounter(): number | undefined {
    if (this.ownCounter > MAX_INVOCATION_COUNTER) return undefined;
    return this.ownCounter++;
  }

  /** Highest client counter accepted so far (0 before any): what 0.0.43.1.x.255 shows. */
  get lastClientCounter(): number {
    return this.guard.lastAccepted(CLIENT_COUNTERS) ?? 0;
  }

  /** Accepts a client counter that strictly increases; false for a replay. */
  acceptClientCounter(ic: number): boolean {
    try {
      this.guard.accept(CLIENT_COUNTERS, ic);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * global_key_transfer (method 2): array of {key_id, key_wrapped} unwrapped with the master
   * key (RFC 3394). All keys or none; they take effect for the next association.
   */
  transferKeys(parameters: Data | undefined): ActionResult {
    const kek = this.keys.masterKey;
    if (kek === undefined || parameters?.type !== 'array') return kek === undefined ? ActionResult.readWriteDenied : ActionResult.typeUnmatched;
    const next: Partial<Record<KeyName, Uint8Array>> = {};
    for (const item of parameters.items) {
      if (item.type !== 'structure') return ActionResult.typeUnmatched;
      const [id, wrapped] = item.items;
      if (id?.type !== 'enum' || wrapped?.type !== 'octet-string') return ActionResult.typeUnmatched;
      const name = KEY_IDS[id.value];
      if (name === undefined) return ActionResult.otherReason;
      try {
        const key = unwrapKey(kek, wrapped.value);
        if (key.length !== SUITE0_KEY_LENGTH) return ActionResult.otherReason;
        next[name] = key;
      } catch {
        return ActionResult.otherReason;
      }
    }
    this.pending = { ...this.pending, ...next };
    return ActionResult.success;
  }
}

/** Security of one association. */
export interface SecureSession {
  readonly setup: SecuritySetupState;
  /** Keys as they were when the association started. */
  readonly blockKey: Uint8Array;
  readonly authKey: Uint8Array;
  /** Context ln-ciphering: service APDUs must arrive ciphered, answers go ciphered. */
  readonly ciphered: boolean;
  readonly clientSystemTitle: Uint8Array;
  readonly dedicatedKey?: Uint8Array;
}

export type DecipheredRequest =
  | { readonly ok: true; readonly plain: Uint8Array; readonly keyKind: CipherKeyKind }
  | { readonly ok: false; readonly answer: ExceptionResponse };

const decipheringError: ExceptionResponse = { type: 'exception-response', stateError: 'service-not-allowed', serviceError: { kind: 'deciphering-error' } };

function covers(policy: SecurityPolicy, sc: { authenticated: boolean; encrypted: boolean }): boolean {
  const needAuth = policy === 'auth' || policy === 'auth-enc';
  const needEnc = policy === 'enc' || policy === 'auth-enc';
  return (!needAuth || sc.authenticated) && (!needEnc || sc.encrypted);
}

/** Decipher a ciphered request; replays answer invocation-counter-error with the last accepted counter. */
export function decipherRequest(bytes: Uint8Array, s: SecureSession): DecipheredRequest {
  const kind = describeCipheredTag(bytes[0] ?? 0);
  if (kind === undefined || kind.general || (kind.keyKind === 'dedicated' && s.dedicatedKey === undefined)) return { ok: false, answer: decipheringError };
  try {
    const out = decipherApdu(bytes, {
      blockKey: s.blockKey,
      authKey: s.authKey,
      peerSystemTitle: s.clientSystemTitle,
      ...(s.dedicatedKey === undefined ? {} : { dedicatedKey: s.dedicatedKey }),
    });
    if (!covers(s.setup.policy, out.securityControl)) return { ok: false, answer: decipheringError };
    if (!s.setup.acceptClientCounter(out.invocationCounter)) {
      return {
        ok: false,
        answer: { type: 'exception-response', stateError: 'service-not-allowed', serviceError: { kind: 'invocation-counter-error', invocationCounter: s.setup.lastClientCounter } },
      };
    }
    return { ok: true, plain: out.apdu, keyKind: kind.keyKind };
  } catch (e) {
    if (isDcuError(e)) return { ok: false, answer: decipheringError };
    throw e;
  }
}

/** Cipher a plain answer with the meter's next counter (undefined when the counter is exhausted). */
export function cipherResponse(plain: Uint8Array, s: SecureSession, keyKind: CipherKeyKind): Uint8Array | undefined {
  const invocationCounter = s.setup.nextCounter();
  if (invocationCounter === undefined) return undefined;
  return cipherApdu(plain, {
    policy: s.setup.policy,
    systemTitle: s.setup.systemTitle,
    invocationCounter,
    blockKey: s.blockKey,
    authKey: s.authKey,
    keyKind,
    ...(s.dedicatedKey === undefined ? {} : { dedicatedKey: s.dedicatedKey }),
  });
}

/** security_policy enum of Security setup version 0. */
export function policyNumber(p: SecurityPolicy): number {
  return p === 'none' ? 0 : p === 'auth' ? 1 : p === 'enc' ? 2 : 3;
}
