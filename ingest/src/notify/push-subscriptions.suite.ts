/**
 * The behaviour every PushSubscriptionRepository keeps (SQLite now, PostgreSQL later): call it inside a
 * `describe` with a factory that gives a fresh, empty repository, a way to reopen it (a restart), and
 * a cleanup.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import type { PushSubscriptionRepository } from './push-subscriptions.ts';

export interface PushRepoFixture {
  repo: PushSubscriptionRepository;
  /** The same storage opened again, as after a restart. */
  reopen(): Promise<PushSubscriptionRepository>;
  close(): Promise<void>;
}

function keys(): { p256dh: string; auth: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

export function pushSubscriptionSuite(make: () => Promise<PushRepoFixture>): void {
  let f: PushRepoFixture | undefined;
  const fresh = async (): Promise<PushRepoFixture> => (f = await make());
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('stores per user, moves an endpoint to whoever signed in on that browser last, removes only the owner\'s', async () => {
    const { repo } = await fresh();
    const sub = { endpoint: 'https://fcm.googleapis.com/fcm/send/1', expirationTime: null, keys: keys() };
    expect((await repo.save('li.na', sub, 'KEY', 'Android Chrome', '2026-07-14T00:00:00.000Z')).created).toBe(true);
    const moved = await repo.save('zhang.wei', { ...sub, keys: keys() }, 'KEY', 'Android Chrome', '2026-07-14T01:00:00.000Z');
    expect(moved.created).toBe(false);
    expect(moved.subscription).toMatchObject({ username: 'zhang.wei', createdAt: '2026-07-14T00:00:00.000Z', userAgent: 'Android Chrome', lastSentAt: null });
    expect(await repo.forUser('li.na')).toEqual([]);
    expect(await repo.remove(sub.endpoint, 'li.na')).toBe(false);
    await repo.markSent(sub.endpoint, '2026-07-14T02:00:00.000Z');
    expect((await repo.byEndpoint(sub.endpoint))?.lastSentAt).toBe('2026-07-14T02:00:00.000Z');
    expect(await repo.remove(sub.endpoint, 'zhang.wei')).toBe(true);
    expect(await repo.all()).toEqual([]);
    expect(await repo.byEndpoint(sub.endpoint)).toBeUndefined();
  });

  it('lists in the order stored, per user and all, and removes by endpoint alone', async () => {
    const { repo } = await fresh();
    for (const [user, n] of [['a', 1], ['b', 2], ['a', 3]] as const) await repo.save(user, { endpoint: `https://fcm.googleapis.com/fcm/send/${n}`, expirationTime: null, keys: keys() }, 'KEY', null, `2026-07-14T0${n}:00:00.000Z`);
    expect((await repo.forUser('a')).map((s) => s.endpoint)).toEqual(['https://fcm.googleapis.com/fcm/send/1', 'https://fcm.googleapis.com/fcm/send/3']);
    expect((await repo.all()).map((s) => s.username)).toEqual(['a', 'b', 'a']);
    expect(await repo.remove('https://fcm.googleapis.com/fcm/send/2')).toBe(true);
    expect(await repo.remove('https://fcm.googleapis.com/fcm/send/2')).toBe(false);
    expect(await repo.all()).toHaveLength(2);
  });

  it('keeps subscriptions, their keys and expiry across a restart', async () => {
    const fx = await fresh();
    const k = keys();
    await fx.repo.save('li.na', { endpoint: 'https://web.push.apple.com/2', expirationTime: 1_900_000_000_000, keys: k }, 'KEY', null, '2026-07-14T00:00:00.000Z');
    const again = await fx.reopen();
    expect(await again.all()).toEqual([expect.objectContaining({ username: 'li.na', expirationTime: 1_900_000_000_000, serverKey: 'KEY', keys: k })]);
  });
}
