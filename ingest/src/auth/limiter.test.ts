import { describe, expect, it } from 'vitest';
import { LoginLimiter } from './limiter.ts';

const MIN = 60_000;
const clock = () => {
  const c = { t: 0, now: () => c.t };
  return c;
};

describe('LoginLimiter', () => {
  it('locks a username+address after 5 failures in 15 minutes, for 15 minutes', () => {
    const c = clock();
    const l = new LoginLimiter(c);
    for (let i = 0; i < 4; i++) expect(l.fail('admin', '10.0.0.1')).toBeNull();
    expect(l.check('admin', '10.0.0.1')).toEqual({ allowed: true });
    expect(l.fail('admin', '10.0.0.1')).toEqual({ lockedForMs: 15 * MIN, scope: 'user' });
    expect(l.check('admin', '10.0.0.1')).toEqual({ allowed: false, retryAfterMs: 15 * MIN });
    expect(l.check('admin', '10.0.0.2')).toEqual({ allowed: true });
    expect(l.check('other', '10.0.0.1')).toEqual({ allowed: true });
    c.t += 15 * MIN;
    expect(l.check('admin', '10.0.0.1')).toEqual({ allowed: true });
  });

  it('forgets failures older than the window', () => {
    const c = clock();
    const l = new LoginLimiter(c);
    for (let i = 0; i < 4; i++) l.fail('admin', 'ip');
    c.t += 15 * MIN;
    expect(l.fail('admin', 'ip')).toBeNull();
  });

  it('doubles the lock for each further lock-out, up to a day, and a success resets it', () => {
    const c = clock();
    const l = new LoginLimiter(c);
    const lockOut = () => {
      let r = null;
      for (let i = 0; i < 5; i++) r = l.fail('admin', 'ip');
      return r?.lockedForMs;
    };
    const locks: (number | undefined)[] = [];
    for (let n = 0; n < 9; n++) {
      locks.push(lockOut());
      c.t += 24 * 60 * MIN;
    }
    expect(locks.map((ms) => ms! / MIN)).toEqual([15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
    l.succeed('admin', 'ip');
    expect(lockOut()).toBe(15 * MIN);
  });

  it('locks an address that fails across many usernames', () => {
    const c = clock();
    const l = new LoginLimiter(c);
    let last = null;
    for (let i = 0; i < 50; i++) last = l.fail(`user-${i}`, '192.0.2.9');
    expect(last).toEqual({ lockedForMs: 15 * MIN, scope: 'address' });
    expect(l.check('user-new', '192.0.2.9').allowed).toBe(false);
    expect(l.check('user-new', '192.0.2.10').allowed).toBe(true);
  });

  it('says until when a user is locked out, and an unlock lifts the user\'s locks and the addresses that locked them', () => {
    const c = clock();
    const l = new LoginLimiter(c);
    expect(l.lockedUntil('li.wei')).toBeNull();
    for (let i = 0; i < 5; i++) l.fail('li.wei', '192.0.2.1');
    expect(l.lockedUntil('li.wei')).toBe(c.t + 15 * MIN);
    // The same address also locked as a whole: an unlock must lift that too, or li.wei stays out.
    for (let i = 0; i < 50; i++) l.fail(`spray-${i}`, '192.0.2.1');
    expect(l.check('li.wei', '192.0.2.1').allowed).toBe(false);
    expect(l.unlock('li.wei')).toEqual(['192.0.2.1']);
    expect(l.check('li.wei', '192.0.2.1').allowed).toBe(true);
    expect(l.lockedUntil('li.wei')).toBeNull();
    // Another user's lock stays.
    for (let i = 0; i < 5; i++) l.fail('zhang', '192.0.2.2');
    expect(l.unlock('li.wei')).toEqual([]);
    expect(l.check('zhang', '192.0.2.2').allowed).toBe(false);
  });
});
