/**
 * Who is asking: a bearer token checked against the users table (scrypt, cached a minute by
 * the token's SHA-256 so a busy client does not pay scrypt per request), a role that must
 * reach the route's, and failed attempts limited per source and per user the token names.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { parseToken, ROLES, type Role, type UserRecord, type UserStore } from '../../storage/users';

export const rank = (r: Role): number => ROLES.indexOf(r);

/** Failures kept at most (a flood forgets its oldest rather than grow). */
const MAX_KEPT = 10_000;

/**
 * Failed logins, counted per source (an address; a connection on the Unix socket) and per
 * presented credential (the user a well-formed token names, whoever sends it). Within
 * `windowMs`, a source with `maxPerSource` failures, or a user named by `maxPerUser` failed
 * tokens, is refused until the window has passed. A valid token clears only its own
 * failures — those of its user from its source (and that source's malformed tokens) — never
 * another guesser's: valid requests mixed into guesses do not reset them.
 */
export class LoginLimiter {
  private failures: { at: number; source: string; user: string | undefined }[] = [];
  constructor(
    private readonly clock: Clock,
    private readonly maxPerSource = 5,
    private readonly windowMs = 60_000,
    private readonly maxPerUser = 10,
  ) {}

  private recent(): { at: number; source: string; user: string | undefined }[] {
    const now = this.clock.now();
    if (this.failures.some((f) => now - f.at >= this.windowMs)) this.failures = this.failures.filter((f) => now - f.at < this.windowMs);
    return this.failures;
  }

  private refuse(list: readonly { at: number }[], who: string): never {
    const first = Math.min(...list.map((f) => f.at));
    const wait = Math.max(1, Math.ceil((this.windowMs - (this.clock.now() - first)) / 1000));
    throw new DcuError(ErrorCode.TooManyAttempts, `${list.length} failed logins ${who} in the last ${this.windowMs / 1000} s; try again in ${wait} s with a valid token`, { context: { retryAfterS: wait } });
  }

  /** Throws when this source, or the user the token names, has failed too often lately. */
  check(source: string, user?: string): void {
    const list = this.recent();
    const bySource = list.filter((f) => f.source === source);
    if (bySource.length >= this.maxPerSource) this.refuse(bySource, `from ${source}`);
    if (user === undefined) return;
    const byUser = list.filter((f) => f.user === user);
    if (byUser.length >= this.maxPerUser) this.refuse(byUser, `with tokens naming user ${user} (from any source)`);
  }

  fail(source: string, user?: string): void {
    const list = this.recent();
    list.push({ at: this.clock.now(), source, user });
    if (list.length > MAX_KEPT) list.splice(0, list.length - MAX_KEPT);
  }

  /** A valid token of `user` from `source`: that source's own failures for this user (and its malformed tokens) are forgotten. */
  succeed(source: string, user: string): void {
    this.failures = this.recent().filter((f) => !(f.source === source && (f.user === user || f.user === undefined)));
  }
}

export class Authenticator {
  private readonly cache = new Map<string, { user: UserRecord; at: number }>();
  readonly limiter: LoginLimiter;

  constructor(
    private readonly users: UserStore,
    private readonly clock: Clock,
    private readonly cacheMs = 60_000,
  ) {
    this.limiter = new LoginLimiter(clock);
  }

  /** Users changed (removed, re-issued): forget every cached token. */
  forget(): void {
    this.cache.clear();
  }

  /** The user behind an `Authorization` header, or a typed 401/429 error. */
  authenticate(header: string | undefined, source: string): UserRecord {
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    const named = m === null ? undefined : parseToken(m[1] as string)?.name;
    this.limiter.check(source, named);
    if (m === null && header !== undefined && /^Bearer\s+\S/i.test(header)) {
      throw new DcuError(ErrorCode.Unauthenticated, 'the token has a space inside: a token is one word (dcu_NAME_…); send it whole after "Bearer "');
    }
    if (m === null) {
      throw new DcuError(ErrorCode.Unauthenticated, 'no token: send "Authorization: Bearer <token>" (dcu --token-file FILE or DCU_TOKEN); an admin makes tokens with dcu users add');
    }
    const token = m[1] as string;
    const key = createHash('sha256').update(token).digest('base64');
    const now = this.clock.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && now - hit.at < this.cacheMs) {
      this.limiter.succeed(source, hit.user.name);
      return hit.user;
    }
    const user = this.users.verify(token);
    if (user === undefined) {
      this.limiter.fail(source, named);
      throw new DcuError(ErrorCode.Unauthenticated, 'the token is not valid (unknown user, removed, or mistyped): ask an admin for a new one (dcu users add)');
    }
    this.limiter.succeed(source, user.name);
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(key, { user, at: now });
    return user;
  }
}

export function authorize(user: UserRecord, needed: Role, action: string): void {
  if (rank(user.role) < rank(needed)) {
    throw new DcuError(ErrorCode.Forbidden, `${action} needs the ${needed} role; ${user.name} is ${user.role} (an admin can change it: dcu users remove + add)`);
  }
}
