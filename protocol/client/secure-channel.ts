/**
 * The client's half of security suite 0 for one association: ciphers outgoing xDLMS APDUs
 * with the service-specific glo- (or ded-) tag, deciphers and replay-checks incoming ones.
 *
 * Counters: every value is reserved from the InvocationCounterStore BEFORE the bytes leave
 * (the store persists ahead of use), so a crash between reserve and send only skips values.
 * The meter's counters go through a ReplayGuard after the frame authenticated.
 */
import { DcuError, ErrorCode } from '../common/errors';
import {
  type CipherKeyKind,
  ReplayGuard,
  cipherApdu,
  cryptoRandom,
  decipherApdu,
  describeCipheredTag,
  hlsGmacResponse,
  type Deciphered,
  type RandomSource,
  type SecurityPolicy,
} from '../security';
import type { ClientSecurity } from './options';

/** Bytes a service-specific ciphered APDU adds at most: tag, length (3), SC, IC, GCM tag. */
export const CIPHER_OVERHEAD = 1 + 3 + 5 + 12;

export class SecureChannel {
  /** Meter system title, known from the AARE (responding AP title). */
  serverSystemTitle: Uint8Array | undefined;
  /** Dedicated key of this association, when asked for. */
  readonly dedicatedKey: Uint8Array | undefined;
  private readonly guard: ReplayGuard;
  readonly random: RandomSource;

  constructor(readonly security: ClientSecurity) {
    this.random = security.random ?? cryptoRandom;
    this.guard = security.replayGuard ?? new ReplayGuard();
    if (security.dedicatedKey === true) {
      if (security.policy !== 'enc' && security.policy !== 'auth-enc') {
        throw new DcuError(ErrorCode.SecurityUnsupported, `a dedicated key travels encrypted: it needs security policy enc or auth-enc, not ${security.policy}`);
      }
      this.dedicatedKey = this.random(16);
    }
  }

  get policy(): SecurityPolicy {
    return this.security.policy;
  }

  /** True when xDLMS APDUs travel ciphered (context ln-ciphering). */
  get ciphered(): boolean {
    return this.security.policy !== 'none';
  }

  /** Key kind of service APDUs after the association. */
  get serviceKeyKind(): CipherKeyKind {
    return this.dedicatedKey === undefined ? 'global' : 'dedicated';
  }

  private get replayKey(): string {
    return `${this.security.counterKeyId}/meter`;
  }

  /** Reserve one invocation counter value (durable before it is used). */
  reserveCounter(): Promise<number> {
    return this.security.counterStore.reserve(this.security.counterKeyId, 1);
  }

  /** Cipher one plain xDLMS APDU with a freshly reserved counter. */
  async protect(plain: Uint8Array, keyKind: CipherKeyKind = this.serviceKeyKind): Promise<Uint8Array> {
    const invocationCounter = await this.reserveCounter();
    return cipherApdu(plain, {
      policy: this.security.policy,
      systemTitle: this.security.systemTitle,
      invocationCounter,
      blockKey: this.security.blockKey,
      authKey: this.security.authKey,
      keyKind,
      ...(this.dedicatedKey === undefined ? {} : { dedicatedKey: this.dedicatedKey }),
    });
  }

  /**
   * Decipher a ciphered APDU from the meter: authenticate, check it is protected at least as
   * the policy says, then accept its counter (SecurityReplay when it does not increase).
   */
  unprotect(bytes: Uint8Array): Deciphered {
    const peer = this.serverSystemTitle;
    if (peer === undefined) {
      throw new DcuError(ErrorCode.SecurityUnsupported, 'ciphered APDU before the meter told its system title (no responding AP title in the AARE)');
    }
    const tag = bytes[0] ?? 0;
    const kind = describeCipheredTag(tag);
    if (kind?.keyKind === 'dedicated' && this.dedicatedKey === undefined) {
      throw new DcuError(ErrorCode.SecurityUnsupported, `the meter answered with ded- tag 0x${tag.toString(16)} but no dedicated key was sent`);
    }
    const out = decipherApdu(bytes, {
      blockKey: this.security.blockKey,
      authKey: this.security.authKey,
      peerSystemTitle: peer,
      ...(this.dedicatedKey === undefined ? {} : { dedicatedKey: this.dedicatedKey }),
    });
    const sc = out.securityControl;
    const needAuth = this.policy === 'auth' || this.policy === 'auth-enc';
    const needEnc = this.policy === 'enc' || this.policy === 'auth-enc';
    if ((needAuth && !sc.authenticated) || (needEnc && !sc.encrypted)) {
      throw new DcuError(ErrorCode.SecurityUnsupported, `the meter answered with weaker protection than policy ${this.policy} (invocation counter ${out.invocationCounter})`, {
        context: { invocationCounter: out.invocationCounter },
      });
    }
    this.guard.accept(this.replayKey, out.invocationCounter);
    return out;
  }

  /** f(StoC) for Association LN method 1, with its own reserved counter. */
  async hlsReply(stoc: Uint8Array): Promise<Uint8Array> {
    const invocationCounter = await this.reserveCounter();
    return hlsGmacResponse({
      challenge: stoc,
      systemTitle: this.security.systemTitle,
      invocationCounter,
      blockKey: this.security.blockKey,
      authKey: this.security.authKey,
    });
  }
}
