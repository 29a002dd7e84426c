/**
 * Failed-login limiter, per username and client address. After `maxFailures` failures within
 * `windowMs`, further attempts for that pair are refused without checking the password until
 * `lockMs` has passed; each further lock-out doubles the lock, up to `maxLockMs`. A success clears
 * the pair. Keyed by username AND address so that one attacker cannot lock a user out from
 * everywhere; a second, looser per-address budget slows one address spraying many usernames.
 *
 * In memory on purpose: a restart forgets the counters, which costs an attacker a restart they do
 * not control; keeping them in SQLite would add a write per failed attempt.
 */
import type { Clock } from '../module.ts';

export interface LimiterOptions {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
  maxLockMs: number;
  /** failures from one address, over all usernames, before it is locked */
  maxFailuresPerAddress: number;
}

export const DEFAULT_LIMITS: LimiterOptions = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  maxLockMs: 24 * 60 * 60_000,
  maxFailuresPerAddress: 50,
};

interface Entry {
  failures: number[];
  lockedUntil: number;
  locks: number;
}

export type LimiterVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();
  constructor(
    private readonly clock: Clock,
    private readonly opts: LimiterOptions = DEFAULT_LIMITS,
  ) {}

  check(username: string, address: string): LimiterVerdict {
    const now = this.clock.now();
    let worst = 0;
    for (const key of [this.pairKey(username, address), this.addressKey(address)]) {
      const e = this.entries.get(key);
      if (e && e.lockedUntil > now) worst = Math.max(worst, e.lockedUntil - now);
    }
    return worst > 0 ? { allowed: false, retryAfterMs: worst } : { allowed: true };
  }

  /** Records a failure; returns the lock length when this failure started a lock-out. */
  fail(username: string, address: string): { lockedForMs: number; scope: 'user' | 'address' } | null {
    this.prune();
    const pair = this.record(this.pairKey(username, address), this.opts.maxFailures);
    const addr = this.record(this.addressKey(address), this.opts.maxFailuresPerAddress);
    if (pair !== null) return { lockedForMs: pair, scope: 'user' };
    if (addr !== null) return { lockedForMs: addr, scope: 'address' };
    return null;
  }

  succeed(username: string, address: string): void {
    this.entries.delete(this.pairKey(username, address));
  }

  /** Until when failed logins keep this user out, from at least one address (epoch ms), or null. */
  lockedUntil(username: string): number | null {
    const now = this.clock.now();
    let until: number | null = null;
    for (const [key, e] of this.entries) {
      if (e.lockedUntil <= now) continue;
      const pair = this.parsePair(key);
      const address = pair?.username === username ? pair.address : null;
      if (address === null) continue;
      const addressLock = this.entries.get(this.addressKey(address))?.lockedUntil ?? 0;
      until = Math.max(until ?? 0, e.lockedUntil, addressLock > now ? addressLock : 0);
    }
    return until;
  }

  /**
   * An admin lets a locked-out user try again: forgets the user's failures from every address, and the
   * lock of each address they were locked out from (else the per-address lock would still refuse them).
   * Returns the addresses that were locked.
   */
  unlock(username: string): string[] {
    const now = this.clock.now();
    const addresses: string[] = [];
    for (const [key, e] of [...this.entries]) {
      const pair = this.parsePair(key);
      if (pair?.username !== username) continue;
      if (e.lockedUntil > now) addresses.push(pair.address);
      this.entries.delete(key);
      const addr = this.entries.get(this.addressKey(pair.address));
      if (addr && addr.lockedUntil > now) {
        if (!addresses.includes(pair.address)) addresses.push(pair.address);
        this.entries.delete(this.addressKey(pair.address));
      }
    }
    return addresses;
  }

  private record(key: string, max: number): number | null {
    const now = this.clock.now();
    const e = this.entries.get(key) ?? { failures: [], lockedUntil: 0, locks: 0 };
    this.entries.set(key, e);
    e.failures = e.failures.filter((t) => now - t < this.opts.windowMs);
    e.failures.push(now);
    if (e.failures.length < max) return null;
    const lockMs = Math.min(this.opts.lockMs * 2 ** e.locks, this.opts.maxLockMs);
    e.locks += 1;
    e.lockedUntil = now + lockMs;
    e.failures = [];
    return lockMs;
  }

  /** Forgets entries with nothing recent, so a flood of random usernames cannot grow memory without bound. */
  private prune(): void {
    if (this.entries.size < 10_000) return;
    const now = this.clock.now();
    for (const [key, e] of this.entries) {
      if (e.lockedUntil <= now && e.failures.every((t) => now - t >= this.opts.windowMs)) this.entries.delete(key);
    }
  }

  private pairKey(username: string, address: string): string {
    return `u\u0000${username}\u0000${address}`;
  }
  private parsePair(key: string): { username: string; address: string } | null {
    const [kind, username, address] = key.split('\u0000');
    return kind === 'u' && username !== undefined && address !== undefined ? { username, address } : null;
  }
  private addressKey(address: string): string {
    return `a\u0000${address}`;
  }
}
