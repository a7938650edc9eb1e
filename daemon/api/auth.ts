/**
 * Who is asking: a bearer token checked against the users table (scrypt, cached a minute by
 * the token's SHA-256 so a busy client does not pay scrypt per request), a role that must
 * reach the route's, and failed attempts limited per source address.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { ROLES, type Role, type UserRecord, type UserStore } from '../../storage/users';

export const rank = (r: Role): number => ROLES.indexOf(r);

/** Failed logins: after `max` failures within `windowMs` from one source, refused until the window has passed. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly clock: Clock,
    private readonly max = 5,
    private readonly windowMs = 60_000,
  ) {}

  private recent(source: string): number[] {
    const now = this.clock.now();
    const list = (this.failures.get(source) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.failures.delete(source);
    else this.failures.set(source, list);
    return list;
  }

  /** Throws when this source has failed too often lately. */
  check(source: string): void {
    const list = this.recent(source);
    if (list.length >= this.max) {
      const wait = Math.ceil((this.windowMs - (this.clock.now() - (list[0] ?? 0))) / 1000);
      throw new DcuError(ErrorCode.TooManyAttempts, `${list.length} failed logins from ${source} in the last ${this.windowMs / 1000} s; try again in ${wait} s with a valid token`, { context: { retryAfterS: wait } });
    }
  }

  fail(source: string): void {
    if (this.failures.size > 10_000) this.failures.clear(); // a flood of sources: forget rather than grow
    this.failures.set(source, [...this.recent(source), this.clock.now()]);
  }

  succeed(source: string): void {
    this.failures.delete(source);
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
    this.limiter.check(source);
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
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
      this.limiter.succeed(source);
      return hit.user;
    }
    const user = this.users.verify(token);
    if (user === undefined) {
      this.limiter.fail(source);
      throw new DcuError(ErrorCode.Unauthenticated, 'the token is not valid (unknown user, removed, or mistyped): ask an admin for a new one (dcu users add)');
    }
    this.limiter.succeed(source);
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
