/**
 * The security control byte (IEC 62056-5-3 / Green Book "security header"):
 * bits 0-3 security suite id, 0x10 authentication, 0x20 encryption, 0x40 broadcast key,
 * 0x80 compression. Every byte decodes; whether a combination is usable is decided by
 * the GCM layer (unsupported suite, compression) — decoding itself never fails.
 */

export const SC_SUITE_MASK = 0x0f;
export const SC_AUTHENTICATED = 0x10;
export const SC_ENCRYPTED = 0x20;
export const SC_BROADCAST_KEY = 0x40;
export const SC_COMPRESSED = 0x80;

/** What a message carries: nothing, a tag over clear text, ciphertext only, or both. */
export type SecurityPolicy = 'none' | 'auth' | 'enc' | 'auth-enc';

export const SECURITY_POLICIES: readonly SecurityPolicy[] = ['none', 'auth', 'enc', 'auth-enc'];

export interface SecurityControl {
  /** Security suite id 0..15 (0 = AES-GCM-128). */
  readonly suite: number;
  readonly authenticated: boolean;
  readonly encrypted: boolean;
  /** Protected with the broadcast (group) key instead of the unicast key. */
  readonly broadcastKey: boolean;
  readonly compressed: boolean;
}

export function decodeSecurityControl(byte: number): SecurityControl {
  return {
    suite: byte & SC_SUITE_MASK,
    authenticated: (byte & SC_AUTHENTICATED) !== 0,
    encrypted: (byte & SC_ENCRYPTED) !== 0,
    broadcastKey: (byte & SC_BROADCAST_KEY) !== 0,
    compressed: (byte & SC_COMPRESSED) !== 0,
  };
}

export function encodeSecurityControl(sc: SecurityControl): number {
  if (!Number.isInteger(sc.suite) || sc.suite < 0 || sc.suite > SC_SUITE_MASK) {
    throw new RangeError(`security suite ${sc.suite} is not 0..15`);
  }
  return (
    sc.suite |
    (sc.authenticated ? SC_AUTHENTICATED : 0) |
    (sc.encrypted ? SC_ENCRYPTED : 0) |
    (sc.broadcastKey ? SC_BROADCAST_KEY : 0) |
    (sc.compressed ? SC_COMPRESSED : 0)
  );
}

export function policyOf(sc: SecurityControl): SecurityPolicy {
  if (sc.authenticated && sc.encrypted) return 'auth-enc';
  if (sc.authenticated) return 'auth';
  if (sc.encrypted) return 'enc';
  return 'none';
}

export interface SecurityControlOptions {
  readonly suite?: number;
  readonly broadcastKey?: boolean;
}

/** The security control value for a policy (suite 0, unicast key unless told otherwise). */
export function securityControlFor(policy: SecurityPolicy, options: SecurityControlOptions = {}): SecurityControl {
  return {
    suite: options.suite ?? 0,
    authenticated: policy === 'auth' || policy === 'auth-enc',
    encrypted: policy === 'enc' || policy === 'auth-enc',
    broadcastKey: options.broadcastKey ?? false,
    compressed: false,
  };
}
