import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Authenticator, LoginLimiter, authorize } from '../../../daemon/api/auth';
import { FakeClock } from '../../../protocol/common/clock';
import { openStore } from '../../../storage/db';
import { UserStore } from '../../../storage/users';
import { expectDcuError } from '../../helpers/dcu-error';

describe('API authentication', () => {
  it('locks a source out after 5 failures within a minute, until the window has passed', () => {
    const clock = new FakeClock();
    const limiter = new LoginLimiter(clock);
    for (let i = 0; i < 5; i++) {
      limiter.check('10.0.0.9');
      limiter.fail('10.0.0.9');
      clock.advance(1000);
    }
    const e = expectDcuError(() => limiter.check('10.0.0.9'), 814);
    expect(e.context['retryAfterS']).toBe(55);
    limiter.check('10.0.0.10'); // another source is not affected
    clock.advance(54_000);
    expectDcuError(() => limiter.check('10.0.0.9'), 814);
    clock.advance(1000); // the first failure is a minute old now
    limiter.check('10.0.0.9');
  });

  it('counts per user a token names across sources, and a valid token clears only its own failures', () => {
    const clock = new FakeClock();
    const limiter = new LoginLimiter(clock);
    // Guesses at boss from 10 connections: none reaches 5, the user reaches 10.
    for (let i = 0; i < 10; i++) {
      limiter.check(`c${i}`, 'boss');
      limiter.fail(`c${i}`, 'boss');
    }
    expect(expectDcuError(() => limiter.check('c99', 'boss'), 814).message).toMatch(/10 failed logins with tokens naming user boss/);
    limiter.check('c99', 'tech'); // another user, another source: not affected
    limiter.succeed('c3', 'tech'); // a valid token of another user from a guesser's source clears nothing
    expectDcuError(() => limiter.check('c99', 'boss'), 814);
    // A source's own mistypes (its user, malformed tokens) are cleared by its valid token; other users' stay.
    limiter.fail('s', 'tech');
    limiter.fail('s', undefined);
    limiter.fail('s', 'boss');
    limiter.fail('s', 'tech');
    limiter.succeed('s', 'tech');
    for (let i = 0; i < 3; i++) limiter.fail('s', 'ops');
    limiter.check('s', 'ops'); // 1 (boss) + 3 (ops) left: under 5
    limiter.fail('s', 'ops');
    expect(expectDcuError(() => limiter.check('s', 'ops'), 814).message).toMatch(/5 failed logins from s/);
    clock.advance(60_000);
    limiter.check('s', 'boss');
  });

  it('verifies tokens, caches them a minute, forgets removed users after that (or at once via forget)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcu-auth-'));
    const db = openStore(join(dir, 'dcu.sqlite'));
    try {
      const clock = new FakeClock();
      const users = new UserStore(db);
      const token = users.add('tech', 'viewer', 'test', clock.now());
      const auth = new Authenticator(users, clock);
      expectDcuError(() => auth.authenticate(undefined, 's'), 812);
      expectDcuError(() => auth.authenticate(`Basic ${token}`, 's'), 812);
      // A token in two pieces is not "no token": the answer says what is wrong with it.
      expect(() => auth.authenticate(`Bearer ${token.slice(0, 6)} ${token.slice(6)}`, 's')).toThrow(/the token has a space inside/);
      expect(auth.authenticate(`Bearer ${token}`, 's').name).toBe('tech');
      users.remove('tech'); // e.g. by `dcu users remove` on the box, behind the daemon's back
      expect(auth.authenticate(`Bearer ${token}`, 's').name).toBe('tech');
      clock.advance(60_000);
      expectDcuError(() => auth.authenticate(`Bearer ${token}`, 's'), 812);
      const again = users.add('tech', 'admin', 'test', clock.now());
      expect(auth.authenticate(`Bearer ${again}`, 's').role).toBe('admin');
      users.remove('tech');
      auth.forget();
      expectDcuError(() => auth.authenticate(`Bearer ${again}`, 's'), 812);
      expectDcuError(() => authorize({ name: 'v', role: 'viewer', createdAt: 0, createdBy: 'x' }, 'operator', 'POST /api/v1/plan'), 813);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
