/**
 * The behaviour suite every AuthRepository passes (one suite per interface): auth-repository-sqlite.test.ts
 * runs it on a real SQLite file; a PostgreSQL implementation runs the same suite with its own factory.
 * It checks what the service relies on: atomic "never the last admin", sessions that end with their
 * owner, absolute and idle limits, wall-screen links that take their sessions with them, hashed lookups,
 * and the audit filters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthRepository } from '../../ingest/src/auth/repository.ts';

export interface AuthRepositoryUnderTest {
  repo: AuthRepository;
  close(): Promise<void>;
  /** Closes and opens the same storage again (data must survive). */
  reopen(): Promise<AuthRepositoryUnderTest>;
}

const AT = '2026-11-25T08:00:00.000Z';
const T0 = Date.parse(AT);
const H = 3_600_000;
const idle = (now: number) => ({ before: now - 30 * 24 * H, adminBefore: now - 12 * H });

export function authRepositorySuite(name: string, open: () => Promise<AuthRepositoryUnderTest>): void {
  describe(`AuthRepository: ${name}`, () => {
    const opened: AuthRepositoryUnderTest[] = [];
    afterEach(async () => {
      for (const o of opened.splice(0)) await o.close();
    });
    const fresh = async () => {
      const o = await open();
      opened.push(o);
      await o.repo.init();
      return o;
    };
    const user = (repo: AuthRepository, username: string, role: 'viewer' | 'responder' | 'manager' | 'admin' = 'viewer') =>
      repo.insertUser({ username, role, passwordHash: `$scrypt$hash-of-${username}`, mustChangePassword: false, at: AT });

    it('stores users once per name, survives a reopen, and lists them by name', async () => {
      const o = await fresh();
      expect(await user(o.repo, 'zhang', 'manager')).toBe(true);
      expect(await user(o.repo, 'zhang', 'admin')).toBe(false);
      expect(await o.repo.insertUser({ username: 'admin', role: 'admin', passwordHash: 'h', mustChangePassword: true, at: AT })).toBe(true);
      expect(await o.repo.countUsers()).toBe(2);
      const again = await o.reopen();
      opened.splice(opened.indexOf(o), 1, again);
      expect(await again.repo.findUser('zhang')).toEqual({ username: 'zhang', role: 'manager', passwordHash: '$scrypt$hash-of-zhang', createdAt: AT, updatedAt: AT, disabledAt: null, mustChangePassword: false });
      expect(await again.repo.listUsers()).toEqual([
        { username: 'admin', role: 'admin', createdAt: AT, updatedAt: AT, mustChangePassword: true },
        { username: 'zhang', role: 'manager', createdAt: AT, updatedAt: AT },
      ]);
      expect(await again.repo.findUser('nobody')).toBeUndefined();
    });

    it('never removes the last enabled admin, atomically', async () => {
      const { repo } = await fresh();
      await user(repo, 'admin', 'admin');
      await user(repo, 'li', 'responder');
      const later = '2026-11-25T09:00:00.000Z';
      expect(await repo.updateUser('admin', { role: 'viewer' }, later)).toBe('last_admin');
      expect(await repo.updateUser('admin', { disabledAt: later }, later)).toBe('last_admin');
      expect(await repo.deleteUser('admin')).toBe('last_admin');
      expect((await repo.findUser('admin'))?.role).toBe('admin');
      expect(await repo.updateUser('nobody', { role: 'viewer' }, later)).toBe('not_found');
      expect(await repo.deleteUser('nobody')).toBe('not_found');
      // Other changes to the last admin are fine.
      expect(await repo.updateUser('admin', { passwordHash: 'new', mustChangePassword: true }, later)).toBe('ok');
      expect(await repo.findUser('admin')).toMatchObject({ passwordHash: 'new', mustChangePassword: true, updatedAt: later });
      expect(await repo.updateUser('li', { role: 'admin' }, later)).toBe('ok');
      expect(await repo.updateUser('li', { disabledAt: later }, later)).toBe('ok');
      // A disabled admin does not count.
      expect(await repo.deleteUser('admin')).toBe('last_admin');
      expect(await repo.updateUser('li', { disabledAt: null }, later)).toBe('ok');
      expect(await repo.deleteUser('admin')).toBe('ok');
      expect(await repo.countUsers()).toBe(1);
    });

    it('finds a session with its owner as they are now, until its absolute end; sessions end with their user', async () => {
      const { repo } = await fresh();
      await user(repo, 'li', 'responder');
      await repo.insertSession({ idHash: 'h1', owner: { username: 'li' }, createdAt: T0, expiresAt: T0 + 10 * H, ip: '10.0.0.1' });
      await repo.insertSession({ idHash: 'h2', owner: { username: 'li' }, createdAt: T0, expiresAt: T0 + 10 * H, ip: '10.0.0.2' });
      expect(await repo.findSession('h1', T0 + H)).toEqual({ idHash: 'h1', username: 'li', role: 'responder', kiosk: null, disabled: false, mustChangePassword: false, createdAt: T0, lastSeenAt: T0, expiresAt: T0 + 10 * H });
      expect(await repo.findSession('h1', T0 + 10 * H)).toBeUndefined();
      await repo.updateUser('li', { role: 'viewer', disabledAt: AT }, AT);
      expect(await repo.findSession('h1', T0 + H)).toMatchObject({ role: 'viewer', disabled: true });
      await repo.touchSession('h1', T0 + 2 * H);
      // Last use never moves back.
      await repo.touchSession('h1', T0 + H);
      expect((await repo.findSession('h1', T0 + 3 * H))?.lastSeenAt).toBe(T0 + 2 * H);
      expect(await repo.deleteSessionsOf('li', 'h1')).toBe(1);
      expect(await repo.findSession('h2', T0 + H)).toBeUndefined();
      await repo.updateUser('li', { disabledAt: null }, AT);
      await repo.deleteUser('li');
      expect(await repo.findSession('h1', T0 + H)).toBeUndefined();
    });

    it('removes and leaves out of the counts sessions past their limits (an admin idles out sooner; a wall screen never)', async () => {
      const { repo } = await fresh();
      await user(repo, 'admin', 'admin');
      await user(repo, 'li', 'responder');
      await repo.insertKiosk({ name: 'wall', start: '/flood', tokenHash: 'k1', createdBy: 'admin', at: AT });
      const far = T0 + 100 * 24 * H;
      await repo.insertSession({ idHash: 'admin-1', owner: { username: 'admin' }, createdAt: T0, expiresAt: far, ip: 'a' });
      await repo.insertSession({ idHash: 'li-1', owner: { username: 'li' }, createdAt: T0, expiresAt: far, ip: 'b' });
      await repo.insertSession({ idHash: 'li-old', owner: { username: 'li' }, createdAt: T0, expiresAt: T0 + H, ip: 'c' });
      await repo.insertSession({ idHash: 'wall-1', owner: { kiosk: 'wall' }, createdAt: T0, expiresAt: far, ip: 'd' });
      const now = T0 + 13 * H;
      expect(Object.fromEntries(await repo.sessionCounts(now, idle(now)))).toEqual({ li: 1 });
      expect(await repo.deleteExpiredSessions(now, idle(now))).toBe(2);
      expect(await repo.findSession('li-1', now)).toBeDefined();
      expect(await repo.findSession('admin-1', now)).toBeUndefined();
      expect(await repo.findSession('wall-1', now + 60 * 24 * H)).toMatchObject({ username: 'kiosk:wall', role: 'viewer', kiosk: 'wall' });
      expect(await repo.listKiosks(now)).toEqual([{ name: 'wall', start: '/flood', createdBy: 'admin', createdAt: AT, lastUsedAt: null, sessions: 1 }]);
    });

    it('keeps tokens and wall-screen links by hash; deleting a link signs its screens out', async () => {
      const { repo } = await fresh();
      expect(await repo.insertToken({ name: 'bms', role: 'manager', tokenHash: 't1', createdBy: 'admin', at: AT })).toBe(true);
      expect(await repo.insertToken({ name: 'bms', role: 'viewer', tokenHash: 't2', createdBy: 'admin', at: AT })).toBe(false);
      expect(await repo.insertToken({ name: 'cma', role: 'feed', tokenHash: 't3', createdBy: 'admin', at: AT })).toBe(true);
      expect(await repo.findToken('t1')).toEqual({ name: 'bms', role: 'manager', createdBy: 'admin', createdAt: AT, lastUsedAt: null });
      expect(await repo.findToken('t2')).toBeUndefined();
      await repo.touchToken('bms', '2026-11-25T09:00:00.000Z');
      expect((await repo.listTokens()).map((t) => [t.name, t.lastUsedAt])).toEqual([
        ['bms', '2026-11-25T09:00:00.000Z'],
        ['cma', null],
      ]);
      expect(await repo.deleteToken('bms')).toBe(true);
      expect(await repo.deleteToken('bms')).toBe(false);

      expect(await repo.insertKiosk({ name: 'lobby', start: '/', tokenHash: 'k1', createdBy: 'admin', at: AT })).toBe(true);
      expect(await repo.insertKiosk({ name: 'lobby', start: '/flood', tokenHash: 'k2', createdBy: 'admin', at: AT })).toBe(false);
      expect(await repo.findKiosk('k1')).toEqual({ name: 'lobby', start: '/', createdBy: 'admin', createdAt: AT, lastUsedAt: null });
      await repo.touchKiosk('lobby', '2026-11-25T10:00:00.000Z');
      await repo.insertSession({ idHash: 's1', owner: { kiosk: 'lobby' }, createdAt: T0, expiresAt: T0 + 400 * 24 * H, ip: 'x' });
      expect((await repo.findKiosk('k1'))?.lastUsedAt).toBe('2026-11-25T10:00:00.000Z');
      expect(await repo.deleteKiosk('lobby')).toBe(true);
      expect(await repo.findSession('s1', T0)).toBeUndefined();
      expect(await repo.deleteKiosk('lobby')).toBe(false);
    });

    it('appends audit entries in order and filters them by who, what, target, time and page', async () => {
      const { repo } = await fresh();
      const entries = [
        { at: '2026-11-25T08:00:00.000Z', actor: 'admin', action: 'login', ip: '10.0.0.1', detail: { via: 'api' } },
        { at: '2026-11-25T08:01:00.000Z', actor: 'ghost', action: 'login.failed', detail: { reason: 'unknown user' } },
        { at: '2026-11-25T08:02:00.000Z', actor: 'admin', action: 'user.created', target: 'li' },
        { at: '2026-11-25T08:03:00.000Z', actor: 'admin', action: 'loginx' },
        { at: '2026-11-25T08:04:00.000Z', actor: 'li', action: 'alert.acknowledged', target: 'a-1' },
      ];
      for (const e of entries) await repo.appendAudit(e);
      const all = await repo.listAudit({ limit: 10 });
      expect(all.map((e) => e.action)).toEqual(['alert.acknowledged', 'loginx', 'user.created', 'login.failed', 'login']);
      expect(all[4]).toEqual({ id: expect.any(Number), at: entries[0]!.at, actor: 'admin', action: 'login', target: null, ip: '10.0.0.1', detail: { via: 'api' } });
      const actions = async (f: Parameters<AuthRepository['listAudit']>[0]) => (await repo.listAudit(f)).map((e) => e.action);
      expect(await actions({ limit: 10, action: 'login' })).toEqual(['login.failed', 'login']);
      expect(await actions({ limit: 10, action: 'login.failed' })).toEqual(['login.failed']);
      expect(await actions({ limit: 10, actor: 'admin', target: 'li' })).toEqual(['user.created']);
      expect(await actions({ limit: 10, from: '2026-11-25T08:01:00.000Z', to: '2026-11-25T08:03:00.000Z' })).toEqual(['loginx', 'user.created', 'login.failed']);
      expect(await actions({ limit: 2 })).toEqual(['alert.acknowledged', 'loginx']);
      expect(await actions({ limit: 10, before: all[1]!.id })).toEqual(['user.created', 'login.failed', 'login']);
      expect(await actions({ limit: 10, action: '_ogin' })).toEqual([]);
    });
  });
}
