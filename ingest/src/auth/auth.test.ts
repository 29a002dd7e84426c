import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { openDatabase, type Db } from '../store/db.ts';
import { AuthMiddleware, AuthService, authRouter, EditorGate, SESSION_COOKIE, SqliteAuthRepository } from './index.ts';

const ADMIN_PASSWORD = 'correct-horse-battery';

interface Harness {
  auth: AuthService;
  base: string;
  db: Db;
  clock: { t: number; now(): number };
  close(): Promise<void>;
}

let dir: string;
const open: Harness[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parkops-auth-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
  rmSync(dir, { recursive: true, force: true });
});

// Cheap scrypt keeps this file fast; one test below checks that production hashes use the real cost.
const FAST = { ln: 10, r: 8, p: 1 };

async function start(env: Record<string, string> = { PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD }, clockStart = Date.parse('2026-11-25T08:00:00Z'), scryptParams: typeof FAST | null = FAST): Promise<Harness> {
  const config = loadConfig({ PARKOPS_DATA_DIR: dir, ...env }, { dotenv: false });
  const db = openDatabase(dir);
  const clock = { t: clockStart, now: () => clock.t };
  const auth = new AuthService({ repo: new SqliteAuthRepository(db), config, log: createLogger('silent'), clock, ...(scryptParams ? { scryptParams } : {}) });
  await auth.start();
  const guard = new AuthMiddleware(auth);
  const app = express();
  app.use('/api', guard.authenticate(), guard.csrf());
  app.use('/api', authRouter(auth, guard));
  app.get('/api/parking', guard.requireRole('viewer'), (req, res) => void res.json({ who: req.user }));
  app.post('/api/alerts/:id/ack', guard.requireRole('responder'), express.json(), (req, res) => void res.json({ ackedBy: req.user!.username }));
  app.get('/api/usage', guard.requireRole('manager'), (_req, res) => void res.json({ ok: true }));
  app.use('/flows', new EditorGate(auth, { editorRoot: '/flows' }).handler(), (_req, res) => void res.type('html').send('<title>Node-RED</title>'));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const h: Harness = {
    auth,
    base,
    db,
    clock,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await auth.stop();
      db.close();
    },
  };
  open.push(h);
  return h;
}

async function stop(h: Harness) {
  open.splice(open.indexOf(h), 1);
  await h.close();
}

function call(h: Harness, method: string, path: string, opts: { body?: unknown; cookie?: string; token?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  // Same-origin browser requests carry Origin on POST/PATCH/DELETE.
  if (opts.cookie && method !== 'GET' && !('origin' in headers)) headers.origin = h.base;
  return fetch(h.base + path, { method, headers, body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) });
}

async function login(h: Harness, username: string, password: string, headers: Record<string, string> = {}) {
  const res = await call(h, 'POST', '/api/auth/login', { body: { username, password }, headers });
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  return { res, setCookie, cookie, body: (await res.json()) as Record<string, unknown> };
}

describe('first admin', () => {
  it('is created from PARKOPS_ADMIN_PASSWORD with a full-cost scrypt hash, and can log in', async () => {
    const h = await start(undefined, undefined, null);
    const row = h.db.prepare("SELECT password_hash FROM auth_users WHERE username = 'admin'").get() as { password_hash: string };
    expect(row.password_hash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(row.password_hash).not.toContain(ADMIN_PASSWORD);
    const { res, body } = await login(h, 'admin', ADMIN_PASSWORD);
    expect(res.status).toBe(200);
    expect(body).toEqual({ username: 'admin', role: 'admin', expiresAt: expect.any(String) });
    expect(h.auth.takeGeneratedPassword()).toBeUndefined();
  });

  it('gets a generated password, handed out once, that must be changed at the first sign-in', async () => {
    const h = await start({});
    const generated = h.auth.takeGeneratedPassword();
    expect(h.auth.takeGeneratedPassword()).toBeUndefined();
    const password = generated!.password;
    expect(generated!.username).toBe('admin');
    expect(password.length).toBeGreaterThanOrEqual(20);
    const first = await login(h, 'admin', password);
    expect(first.body).toMatchObject({ username: 'admin', mustChangePassword: true });
    expect(await (await call(h, 'GET', '/api/auth/me', { cookie: first.cookie })).json()).toEqual({ username: 'admin', role: 'admin', via: 'session', mustChangePassword: true });
    expect((await call(h, 'POST', '/api/auth/password', { cookie: first.cookie, body: { currentPassword: password, newPassword: 'my-own-password-1' } })).status).toBe(204);
    expect(await (await call(h, 'GET', '/api/auth/me', { cookie: first.cookie })).json()).toEqual({ username: 'admin', role: 'admin', via: 'session' });
    await stop(h);
    const again = await start({});
    expect(again.auth.takeGeneratedPassword()).toBeUndefined();
    expect((await login(again, 'admin', 'my-own-password-1')).res.status).toBe(200);
  });

  it('is not brought back by the setting once deleted', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    await call(h, 'POST', '/api/users', { cookie, body: { username: 'ops-admin', password: 'ops-admin-pass', role: 'admin' } });
    expect((await call(h, 'DELETE', '/api/users/admin', { cookie })).status).toBe(204);
    await stop(h);
    const again = await start();
    expect((await login(again, 'admin', ADMIN_PASSWORD)).res.status).toBe(401);
    expect((await again.auth.listUsers()).map((u) => u.username)).toEqual(['ops-admin']);
  });

  it('is not overwritten by the setting once it exists', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    expect((await call(h, 'PATCH', '/api/users/admin', { cookie, body: { password: 'a-new-password-1' } })).status).toBe(200);
    await stop(h);
    const again = await start();
    expect((await login(again, 'admin', ADMIN_PASSWORD)).res.status).toBe(401);
    expect((await login(again, 'admin', 'a-new-password-1')).res.status).toBe(200);
  });
});

describe('sessions', () => {
  it('sets an HttpOnly SameSite=Lax cookie that expires, without Secure over plain HTTP', async () => {
    const h = await start();
    const { setCookie, body } = await login(h, 'admin', ADMIN_PASSWORD);
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43};`));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('Path=/');
    // The cookie lives as long as the absolute limit (90 days); the idle limit is the server's.
    expect(setCookie).toContain(`Max-Age=${90 * 86400}`);
    expect(setCookie).toMatch(/Expires=Tue, 23 Feb 2027 08:00:00 GMT/);
    expect(setCookie).not.toContain('Secure');
    expect(body.expiresAt).toBe('2027-02-23T08:00:00.000Z');
  });

  it.each([
    ['always', false, {}, true],
    ['never', true, { 'x-forwarded-proto': 'https' }, false],
    ['auto', true, { 'x-forwarded-proto': 'https' }, true],
    ['auto', false, { 'x-forwarded-proto': 'https' }, false],
    ['auto', true, { 'x-forwarded-proto': 'http' }, false],
  ] as const)('PARKOPS_SECURE_COOKIES=%s, trusted proxy %s, %o -> Secure %s', async (mode, trust, headers, secure) => {
    const h = await start({ PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD, PARKOPS_SECURE_COOKIES: mode, PARKOPS_TRUST_PROXY: String(trust) });
    const { setCookie } = await login(h, 'admin', ADMIN_PASSWORD, headers);
    expect(/;\s*Secure(;|$)/.test(setCookie)).toBe(secure);
  });

  it('survive a restart, slide with use up to the absolute limit, end when unused, and end at logout', async () => {
    const env = { PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD, PARKOPS_SESSION_IDLE_DAYS: '1', PARKOPS_SESSION_MAX_DAYS: '3' };
    const h = await start(env);
    const admin = await login(h, 'admin', ADMIN_PASSWORD);
    await call(h, 'POST', '/api/users', { cookie: admin.cookie, body: { username: 'li.wei', password: 'responder-pass', role: 'responder' } });
    const { cookie } = await login(h, 'li.wei', 'responder-pass');
    const t0 = h.clock.t;
    await stop(h);
    const h2 = await start(env, t0 + 60_000);
    expect((await call(h2, 'GET', '/api/auth/me', { cookie })).status).toBe(200);
    // Used every 20 hours, it lives on past a day...
    for (let hours = 20; hours < 72; hours += 20) {
      h2.clock.t = t0 + hours * 3_600_000;
      expect((await call(h2, 'GET', '/api/auth/me', { cookie })).status, `after ${hours} h`).toBe(200);
    }
    // ...but not past the absolute limit of 3 days.
    h2.clock.t = t0 + 72 * 3_600_000 + 1;
    expect((await call(h2, 'GET', '/api/auth/me', { cookie })).status).toBe(401);

    const second = await login(h2, 'li.wei', 'responder-pass');
    h2.clock.t += 23 * 3_600_000;
    expect((await call(h2, 'GET', '/api/parking', { cookie: second.cookie })).status).toBe(200);
    // Unused for a day: over.
    h2.clock.t += 24 * 3_600_000 + 1;
    expect((await call(h2, 'GET', '/api/parking', { cookie: second.cookie })).status).toBe(401);

    const third = await login(h2, 'li.wei', 'responder-pass');
    const out = await call(h2, 'POST', '/api/auth/logout', { cookie: third.cookie });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await call(h2, 'GET', '/api/parking', { cookie: third.cookie })).status).toBe(401);
  });

  it('end sooner for admins when unused (PARKOPS_ADMIN_SESSION_IDLE_HOURS)', async () => {
    const h = await start({ PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD, PARKOPS_ADMIN_SESSION_IDLE_HOURS: '2' });
    const admin = await login(h, 'admin', ADMIN_PASSWORD);
    await call(h, 'POST', '/api/users', { cookie: admin.cookie, body: { username: 'vera', password: 'viewer-pass-1', role: 'viewer' } });
    const viewer = await login(h, 'vera', 'viewer-pass-1');
    h.clock.t += 2 * 3_600_000 + 1;
    expect((await call(h, 'GET', '/api/auth/me', { cookie: admin.cookie })).status).toBe(401);
    expect((await call(h, 'GET', '/api/auth/me', { cookie: viewer.cookie })).status).toBe(200);
  });

  it('stores only a hash of the session id', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    const sid = cookie.split('=')[1]!;
    const rows = h.db.prepare('SELECT id_hash FROM auth_sessions').all() as { id_hash: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id_hash).not.toContain(sid);
    expect(rows[0]!.id_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('treats a forged or malformed cookie as no credentials (401, not 500)', async () => {
    const h = await start();
    for (const cookie of [`${SESSION_COOKIE}=forged`, `${SESSION_COOKIE}=%E0%A4%A`, `${SESSION_COOKIE}=`, 'other=1']) {
      const res = await call(h, 'GET', '/api/parking', { cookie });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: expect.stringContaining('authentication required'), code: 'auth.required' });
    }
  });
});

describe('roles, users and tokens', () => {
  it('answers 401 without credentials and 403 for a role too low', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    expect((await call(h, 'POST', '/api/users', { cookie, body: { username: 'ops.viewer', password: 'viewer-pass-1', role: 'viewer' } })).status).toBe(201);
    const viewer = await login(h, 'ops.viewer', 'viewer-pass-1');
    expect((await call(h, 'GET', '/api/parking')).status).toBe(401);
    expect((await call(h, 'GET', '/api/parking', { cookie: viewer.cookie })).status).toBe(200);
    const ack = await call(h, 'POST', '/api/alerts/a1/ack', { cookie: viewer.cookie, body: {} });
    expect(ack.status).toBe(403);
    expect(await ack.json()).toEqual({ error: 'this needs the responder role; you are viewer', code: 'auth.role', params: { need: 'responder', have: 'viewer' } });
    expect((await call(h, 'GET', '/api/users', { cookie: viewer.cookie })).status).toBe(403);
  });

  it('creates users without echoing the password, refuses a taken name, and validates input', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    const created = await call(h, 'POST', '/api/users', { cookie, body: { username: 'li.wei', password: 'responder-1', role: 'responder' } });
    expect(created.status).toBe(201);
    const user = (await created.json()) as Record<string, unknown>;
    expect(user).toEqual({ username: 'li.wei', role: 'responder', createdAt: expect.any(String), updatedAt: expect.any(String) });
    expect(JSON.stringify(user)).not.toContain('responder-1');
    const taken = await call(h, 'POST', '/api/users', { cookie, body: { username: 'li.wei', password: 'another-pass', role: 'viewer' } });
    expect(taken.status).toBe(409);
    expect(await taken.json()).toEqual({ error: 'user li.wei already exists', code: 'auth.user_exists', params: { username: 'li.wei' } });

    const bad = await call(h, 'POST', '/api/users', { cookie, body: { username: 'Li Wei', password: 'short', role: 'boss', extra: 1 } });
    expect(bad.status).toBe(400);
    const { error } = (await bad.json()) as { error: string };
    expect(error).toContain('username: must be 1-64 characters');
    expect(error).toContain('password: must be at least 10 characters');
    expect(error).toContain('role: must be one of viewer, responder, manager, admin');
    expect(error).toContain('unknown field "extra"');

    const missing = await call(h, 'POST', '/api/users', { cookie, body: { username: 7 } });
    expect(await missing.json()).toEqual({ error: 'username: must be a string; password: is required; role: is required', code: 'request.invalid' });
    const notObject = await call(h, 'POST', '/api/users', { cookie, body: '[1,2]' });
    expect(await notObject.json()).toEqual({ error: 'request body must be a JSON object', code: 'request.invalid' });

    const badParam = await call(h, 'DELETE', '/api/users/%E0%A4%A', { cookie });
    expect([badParam.status, await badParam.json()]).toEqual([400, { error: 'the URL is not valid percent-encoding', code: 'request.bad_url' }]);

    const notJson = await call(h, 'POST', '/api/users', { cookie, body: '{"username":' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: 'the request body is not valid JSON', code: 'request.not_json' });
  });

  it('applies a role change on the next request and ends sessions on a password reset', async () => {
    const h = await start();
    const admin = await login(h, 'admin', ADMIN_PASSWORD);
    await call(h, 'POST', '/api/users', { cookie: admin.cookie, body: { username: 'zhang', password: 'manager-pass', role: 'manager' } });
    const zhang = await login(h, 'zhang', 'manager-pass');
    expect((await call(h, 'GET', '/api/usage', { cookie: zhang.cookie })).status).toBe(200);
    const demoted = await call(h, 'PATCH', '/api/users/zhang', { cookie: admin.cookie, body: { role: 'viewer' } });
    expect(await demoted.json()).toMatchObject({ username: 'zhang', role: 'viewer' });
    expect((await call(h, 'GET', '/api/usage', { cookie: zhang.cookie })).status).toBe(403);
    await call(h, 'PATCH', '/api/users/zhang', { cookie: admin.cookie, body: { password: 'reset-pass-22' } });
    expect((await call(h, 'GET', '/api/parking', { cookie: zhang.cookie })).status).toBe(401);
    expect((await call(h, 'PATCH', '/api/users/zhang', { cookie: admin.cookie, body: {} })).status).toBe(400);
    expect((await call(h, 'PATCH', '/api/users/nobody', { cookie: admin.cookie, body: { role: 'viewer' } })).status).toBe(404);
  });

  it('never leaves the system without an admin', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    const demote = await call(h, 'PATCH', '/api/users/admin', { cookie, body: { role: 'manager' } });
    expect(demote.status).toBe(409);
    expect((await call(h, 'DELETE', '/api/users/admin', { cookie })).status).toBe(409);
    await call(h, 'POST', '/api/users', { cookie, body: { username: 'second', password: 'second-admin', role: 'admin' } });
    expect((await call(h, 'DELETE', '/api/users/admin', { cookie })).status).toBe(204);
    // The deleted admin's own session is gone with the account.
    expect((await call(h, 'GET', '/api/auth/me', { cookie })).status).toBe(401);
  });

  it('shows a token once, stores only its hash, and accepts it until deleted', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    const res = await call(h, 'POST', '/api/tokens', { cookie, body: { name: 'bms-integration', role: 'manager' } });
    expect(res.status).toBe(201);
    const { token, ...rest } = (await res.json()) as { token: string; name: string; role: string };
    expect(rest).toEqual({ name: 'bms-integration', role: 'manager' });
    expect(token).toMatch(/^pko_[A-Za-z0-9_-]{43}$/);
    const dump = JSON.stringify(h.db.prepare('SELECT * FROM auth_tokens').all());
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(token.slice(4));
    const listed = (await (await call(h, 'GET', '/api/tokens', { cookie })).json()) as object[];
    expect(JSON.stringify(listed)).not.toContain(token.slice(4));

    const me = await call(h, 'GET', '/api/auth/me', { token });
    expect(await me.json()).toEqual({ username: 'token:bms-integration', role: 'manager', via: 'token' });
    expect((await call(h, 'GET', '/api/usage', { token })).status).toBe(200);
    expect((await call(h, 'GET', '/api/users', { token })).status).toBe(403);
    // A token POST needs no Origin: browsers never attach it by themselves.
    expect((await call(h, 'POST', '/api/alerts/a1/ack', { token, body: {} })).status).toBe(200);
    expect((await call(h, 'GET', '/api/parking', { token: token + 'x' })).status).toBe(401);
    expect((await call(h, 'POST', '/api/tokens', { cookie, body: { name: 'bms-integration', role: 'viewer' } })).status).toBe(409);
    expect((await call(h, 'DELETE', '/api/tokens/bms-integration', { cookie })).status).toBe(204);
    expect((await call(h, 'GET', '/api/parking', { token })).status).toBe(401);
    expect((await call(h, 'DELETE', '/api/tokens/bms-integration', { cookie })).status).toBe(404);
  });

  it('does not fall back to the cookie when a bad bearer token is sent', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    expect((await call(h, 'GET', '/api/parking', { cookie, token: 'pko_nonsense' })).status).toBe(401);
    expect((await call(h, 'GET', '/api/parking', { cookie, headers: { authorization: 'Basic YWRtaW46eA==' } })).status).toBe(401);
  });

  it('lets a user change their own password with the current one, ending their other sessions', async () => {
    const h = await start();
    const first = await login(h, 'admin', ADMIN_PASSWORD);
    const second = await login(h, 'admin', ADMIN_PASSWORD);
    const wrong = await call(h, 'POST', '/api/auth/password', { cookie: first.cookie, body: { currentPassword: 'nope-nope-nope', newPassword: 'brand-new-pass' } });
    expect(wrong.status).toBe(403);
    const ok = await call(h, 'POST', '/api/auth/password', { cookie: first.cookie, body: { currentPassword: ADMIN_PASSWORD, newPassword: 'brand-new-pass' } });
    expect(ok.status).toBe(204);
    expect((await call(h, 'GET', '/api/auth/me', { cookie: first.cookie })).status).toBe(200);
    expect((await call(h, 'GET', '/api/auth/me', { cookie: second.cookie })).status).toBe(401);
    expect((await login(h, 'admin', 'brand-new-pass')).res.status).toBe(200);
  });
});

describe('cross-site requests', () => {
  it('refuses a cookie-authenticated state change without a same-origin Origin or Sec-Fetch-Site', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    const body = { name: 'x1', role: 'viewer' };
    const cross = await call(h, 'POST', '/api/tokens', { cookie, body, headers: { origin: 'https://evil.example' } });
    expect(cross.status).toBe(403);
    expect(await cross.json()).toEqual({ error: 'refused: cross-site request from https://evil.example', code: 'auth.cross_site' });
    expect((await call(h, 'POST', '/api/tokens', { cookie, body, headers: { origin: '' } })).status).toBe(403);
    const siteOnly = await call(h, 'POST', '/api/tokens', { cookie, body, headers: { 'sec-fetch-site': 'cross-site', origin: 'null' } });
    expect(siteOnly.status).toBe(403);
    expect((await call(h, 'POST', '/api/tokens', { cookie, body, headers: { 'sec-fetch-site': 'same-origin', origin: 'null' } })).status).toBe(201);
    expect((await call(h, 'POST', '/api/tokens', { cookie, body: { name: 'x2', role: 'viewer' } })).status).toBe(201);
    // Reads are not state changes.
    expect((await call(h, 'GET', '/api/tokens', { cookie, headers: { origin: 'https://evil.example' } })).status).toBe(200);
  });

  it('refuses a login posted from another site', async () => {
    const h = await start();
    const res = await login(h, 'admin', ADMIN_PASSWORD, { origin: 'https://evil.example' });
    expect(res.res.status).toBe(403);
    expect(res.setCookie).toBe('');
  });
});

describe('failed logins', () => {
  it('lock a username+address out after 5 failures, log and audit it, and lift the lock later', async () => {
    const h = await start({ PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD, PARKOPS_TRUST_PROXY: 'true' });
    const from = (ip: string) => ({ 'x-forwarded-for': `203.0.113.99, ${ip}` });
    for (let i = 0; i < 5; i++) expect((await login(h, 'admin', `wrong-${i}-password`, from('198.51.100.7'))).res.status).toBe(401);
    const locked = await login(h, 'admin', ADMIN_PASSWORD, from('198.51.100.7'));
    expect(locked.res.status).toBe(429);
    expect(locked.res.headers.get('retry-after')).toBe('900');
    expect(locked.body).toEqual({ error: 'too many failed logins: try again in 15 minutes', code: 'auth.locked', params: { retryAfterSec: 900 } });
    // Another address is not locked out of the same account.
    expect((await login(h, 'admin', ADMIN_PASSWORD, from('198.51.100.8'))).res.status).toBe(200);

    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD, from('198.51.100.8'));
    const audit = (await (await call(h, 'GET', '/api/audit?limit=20', { cookie, headers: from('198.51.100.8') })).json()) as { action: string; actor: string; ip: string }[];
    const actions = audit.map((a) => a.action);
    expect(actions.filter((a) => a === 'login.failed')).toHaveLength(5);
    expect(audit.find((a) => a.action === 'login.locked')).toMatchObject({ actor: 'admin', ip: '198.51.100.7' });

    h.clock.t += 15 * 60_000 + 1;
    expect((await login(h, 'admin', ADMIN_PASSWORD, from('198.51.100.7'))).res.status).toBe(200);
  });

});

describe('audit log', () => {
  it('records who, what, when and from where, newest first, and is admin-only', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    await login(h, 'ghost', 'not-a-user-pass');
    h.auth.audit({ actor: 'li.wei', action: 'alert.acknowledged', target: 'alert-42', ip: '10.0.0.5', detail: { note: 'pump restarted' } });
    const res = await call(h, 'GET', '/api/audit?limit=3', { cookie });
    const entries = (await res.json()) as Record<string, unknown>[];
    expect(entries.map((e) => e.action)).toEqual(['alert.acknowledged', 'login.failed', 'login']);
    expect(entries[0]).toEqual({ id: expect.any(Number), at: '2026-11-25T08:00:00.000Z', actor: 'li.wei', action: 'alert.acknowledged', target: 'alert-42', ip: '10.0.0.5', detail: { note: 'pump restarted' } });
    expect(entries[1]).toMatchObject({ actor: 'ghost', ip: '127.0.0.1', detail: { reason: 'unknown user', via: 'api' } });
    expect((await call(h, 'GET', '/api/audit?limit=0', { cookie })).status).toBe(400);
  });

  it('filters by who, what (an action or its family), target and time', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    await login(h, 'ghost', 'not-a-user-pass');
    h.clock.t += 3_600_000;
    await call(h, 'POST', '/api/users', { cookie, body: { username: 'li.wei', password: 'responder-pass', role: 'responder' } });
    await call(h, 'PATCH', '/api/users/li.wei', { cookie, body: { role: 'viewer' } });
    const get = async (q: string) => ((await (await call(h, 'GET', `/api/audit?${q}`, { cookie })).json()) as { action: string; actor: string; at: string }[]).map((e) => `${e.actor} ${e.action}`);
    expect(await get('action=login')).toEqual(['ghost login.failed', 'admin login']);
    expect(await get('action=login.failed')).toEqual(['ghost login.failed']);
    expect(await get('action=user')).toEqual(['admin user.role_changed', 'admin user.created', 'system user.created']);
    expect(await get('actor=ghost')).toEqual(['ghost login.failed']);
    expect(await get('target=li.wei')).toEqual(['admin user.role_changed', 'admin user.created']);
    expect(await get(`from=${encodeURIComponent('2026-11-25T16:30:00+08:00')}`)).toEqual(['admin user.role_changed', 'admin user.created']);
    expect(await get(`to=${encodeURIComponent('2026-11-25T08:30:00Z')}`)).toEqual(['ghost login.failed', 'admin login', 'system user.created']);
    const bad = await call(h, 'GET', '/api/audit?from=yesterday', { cookie });
    expect([bad.status, ((await bad.json()) as { error: string }).error]).toEqual([400, 'from: must be an ISO 8601 time']);
    // A LIKE wildcard in the filter matches itself only.
    expect(await get('action=%25')).toEqual([]);
  });
});

describe('admin actions', () => {
  async function withUser(role = 'responder') {
    const h = await start();
    const admin = await login(h, 'admin', ADMIN_PASSWORD);
    expect((await call(h, 'POST', '/api/users', { cookie: admin.cookie, body: { username: 'li.wei', password: 'responder-pass', role } })).status).toBe(201);
    return { h, admin: admin.cookie };
  }

  it('disables a user (sessions end, sign-in refused, no push role) and enables them again', async () => {
    const { h, admin } = await withUser();
    const user = await login(h, 'li.wei', 'responder-pass');
    expect(h.auth.roleOf('li.wei')).toBe('responder');
    const res = await call(h, 'PATCH', '/api/users/li.wei', { cookie: admin, body: { disabled: true } });
    expect(await res.json()).toMatchObject({ username: 'li.wei', disabledAt: '2026-11-25T08:00:00.000Z' });
    expect((await call(h, 'GET', '/api/auth/me', { cookie: user.cookie })).status).toBe(401);
    expect(h.auth.roleOf('li.wei')).toBeNull();
    const refused = await login(h, 'li.wei', 'responder-pass');
    expect([refused.res.status, refused.body.code]).toEqual([403, 'auth.disabled']);
    // A wrong password says only that: a disabled account is not revealed to someone guessing.
    expect((await login(h, 'li.wei', 'not-the-password')).body.code).toBe('auth.invalid');
    await call(h, 'PATCH', '/api/users/li.wei', { cookie: admin, body: { disabled: false } });
    expect((await login(h, 'li.wei', 'responder-pass')).res.status).toBe(200);
    const audit = (await (await call(h, 'GET', '/api/audit?target=li.wei', { cookie: admin })).json()) as { action: string; detail: unknown }[];
    expect(audit.map((a) => a.action)).toEqual(['user.enabled', 'user.disabled', 'user.created']);
    expect(audit[1]!.detail).toEqual({ sessionsEnded: 1 });
  });

  it('never disables, demotes or deletes the last enabled admin', async () => {
    const { h, admin } = await withUser('admin');
    expect((await call(h, 'PATCH', '/api/users/li.wei', { cookie: admin, body: { disabled: true } })).status).toBe(200);
    for (const [method, path, body] of [
      ['PATCH', '/api/users/admin', { disabled: true }],
      ['PATCH', '/api/users/admin', { role: 'viewer' }],
      ['DELETE', '/api/users/admin', undefined],
    ] as const) {
      const res = await call(h, method, path, { cookie: admin, body });
      expect([res.status, ((await res.json()) as { code: string }).code], `${method} ${JSON.stringify(body)}`).toEqual([409, 'auth.last_admin']);
    }
    // A disabled admin is no admin to fall back on; enabled again, the first one may go.
    await call(h, 'PATCH', '/api/users/li.wei', { cookie: admin, body: { disabled: false } });
    expect((await call(h, 'PATCH', '/api/users/admin', { cookie: admin, body: { disabled: true } })).status).toBe(200);
  });

  it('unlocks a user locked out by failed sign-ins, and lists the lock until then', async () => {
    const { h, admin } = await withUser();
    for (let i = 0; i < 5; i++) await login(h, 'li.wei', `wrong-${i}-password`);
    expect((await login(h, 'li.wei', 'responder-pass')).res.status).toBe(429);
    const users = (await (await call(h, 'GET', '/api/users', { cookie: admin })).json()) as { username: string; lockedUntil?: string; sessions: number }[];
    expect(users.find((u) => u.username === 'li.wei')).toMatchObject({ lockedUntil: '2026-11-25T08:15:00.000Z', sessions: 0 });
    expect(users.find((u) => u.username === 'admin')).toMatchObject({ sessions: 1 });
    expect(users.find((u) => u.username === 'admin')!.lockedUntil).toBeUndefined();
    expect((await call(h, 'POST', '/api/users/li.wei/unlock', { cookie: admin })).status).toBe(204);
    expect((await login(h, 'li.wei', 'responder-pass')).res.status).toBe(200);
    expect((await call(h, 'POST', '/api/users/nobody/unlock', { cookie: admin })).status).toBe(404);
    const audit = (await (await call(h, 'GET', '/api/audit?action=user.unlocked', { cookie: admin })).json()) as { detail: unknown }[];
    expect(audit[0]!.detail).toEqual({ addresses: ['127.0.0.1'] });
  });

  it('says how long a long lock-out lasts in hours and minutes', async () => {
    const { lockDuration } = await import('./routes.ts');
    expect([lockDuration(1), lockDuration(15 * 60_000), lockDuration(60 * 60_000), lockDuration(125 * 60_000 - 1)]).toEqual(['1 minute', '15 minutes', '1 hour', '2 hours 5 minutes']);
  });

  it('signs a user out everywhere (a lost phone)', async () => {
    const { h, admin } = await withUser();
    const phone = await login(h, 'li.wei', 'responder-pass');
    const desk = await login(h, 'li.wei', 'responder-pass');
    const res = await call(h, 'DELETE', '/api/users/li.wei/sessions', { cookie: admin });
    expect(await res.json()).toEqual({ sessionsEnded: 2 });
    for (const c of [phone.cookie, desk.cookie]) expect((await call(h, 'GET', '/api/auth/me', { cookie: c })).status).toBe(401);
  });

  it('can ask a new user to choose their own password at the first sign-in', async () => {
    const h = await start();
    const admin = await login(h, 'admin', ADMIN_PASSWORD);
    await call(h, 'POST', '/api/users', { cookie: admin.cookie, body: { username: 'zhang', password: 'given-password', role: 'manager', mustChangePassword: true } });
    const zhang = await login(h, 'zhang', 'given-password');
    expect(zhang.body.mustChangePassword).toBe(true);
    // The API still serves them: the dashboard is what asks (integrations and old clients keep working).
    expect((await call(h, 'GET', '/api/usage', { cookie: zhang.cookie })).status).toBe(200);
    await call(h, 'POST', '/api/auth/password', { cookie: zhang.cookie, body: { currentPassword: 'given-password', newPassword: 'zhangs-own-pw' } });
    expect((await login(h, 'zhang', 'zhangs-own-pw')).body.mustChangePassword).toBeUndefined();
  });
});

describe('the sign-in form without JavaScript', () => {
  const post = (h: Harness, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${h.base}/api/auth/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.base, ...headers }, body: new URLSearchParams(fields).toString() });

  it('signs in and goes back to the page asked for; a failure goes back to the form with a reason, never the password', async () => {
    const h = await start();
    const ok = await post(h, { username: 'admin', password: ADMIN_PASSWORD, next: '/flood?room=b1' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/flood?room=b1');
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
    expect((await call(h, 'GET', '/api/auth/me', { cookie })).status).toBe(200);

    const bad = await post(h, { username: 'admin', password: 'wrong-password', next: '/flood' });
    expect(bad.headers.get('location')).toBe('/login?error=auth.invalid&next=%2Fflood');
    expect(bad.headers.get('set-cookie')).toBeNull();
    // Another origin's `next` is dropped.
    expect((await post(h, { username: 'admin', password: ADMIN_PASSWORD, next: '//evil.example/x' })).headers.get('location')).toBe('/');
    expect((await post(h, { username: 'admin', password: '' })).headers.get('location')).toBe('/login?error=request.invalid');
    expect((await post(h, { username: 'admin', password: ADMIN_PASSWORD }, { origin: 'https://evil.example' })).headers.get('location')).toBe('/login?error=auth.cross_site');
    for (let i = 0; i < 5; i++) await post(h, { username: 'admin', password: `wrong-${i}-password` });
    const locked = await post(h, { username: 'admin', password: ADMIN_PASSWORD });
    expect(locked.headers.get('location')).toBe('/login?error=auth.locked&retry=900');
  });
});

describe('wall screens (kiosk links)', () => {
  async function kioskSignIn(h: Harness, token: string) {
    const res = await call(h, 'POST', '/api/auth/kiosk', { body: { token }, headers: { origin: h.base } });
    return { res, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, body: (await res.json()) as Record<string, unknown> };
  }

  it('signs a browser in once as a viewer that can only look, until the link is revoked', async () => {
    const h = await start();
    const admin = await login(h, 'admin', ADMIN_PASSWORD);
    const created = await call(h, 'POST', '/api/kiosks', { cookie: admin.cookie, body: { name: 'control-room', start: '/flood' } });
    expect(created.status).toBe(201);
    const link = (await created.json()) as { name: string; start: string; token: string; path: string };
    expect(link).toEqual({ name: 'control-room', start: '/flood', token: expect.stringMatching(/^pkk_[A-Za-z0-9_-]{43}$/), path: `/kiosk#${link.token}` });
    expect(JSON.stringify(h.db.prepare('SELECT * FROM auth_kiosks').all())).not.toContain(link.token.slice(4));

    const screen = await kioskSignIn(h, link.token);
    expect(screen.body).toMatchObject({ kiosk: 'control-room', start: '/flood' });
    expect(screen.res.headers.get('set-cookie')).toContain(`Max-Age=${400 * 86400}`);
    expect(await (await call(h, 'GET', '/api/auth/me', { cookie: screen.cookie })).json()).toEqual({ username: 'kiosk:control-room', role: 'viewer', via: 'session', kiosk: 'control-room' });
    expect((await call(h, 'GET', '/api/parking', { cookie: screen.cookie })).status).toBe(200);
    // Nothing but looking: no acknowledging, no admin, no password change, even with the right Origin.
    const ack = await call(h, 'POST', '/api/alerts/a1/ack', { cookie: screen.cookie, body: {} });
    expect([ack.status, ((await ack.json()) as { code: string }).code]).toEqual([403, 'auth.kiosk_view_only']);
    expect((await call(h, 'GET', '/api/users', { cookie: screen.cookie })).status).toBe(403);
    expect((await call(h, 'POST', '/api/auth/password', { cookie: screen.cookie, body: { currentPassword: 'x', newPassword: 'yyyyyyyyyyyy' } })).status).toBe(403);
    // Months later, unused, it still shows: a wall screen has no idle limit.
    h.clock.t += 200 * 86_400_000;
    expect((await call(h, 'GET', '/api/parking', { cookie: screen.cookie })).status).toBe(200);

    const admin2 = await login(h, 'admin', ADMIN_PASSWORD);
    const listed = (await (await call(h, 'GET', '/api/kiosks', { cookie: admin2.cookie })).json()) as object[];
    expect(listed).toEqual([{ name: 'control-room', start: '/flood', createdBy: 'admin', createdAt: '2026-11-25T08:00:00.000Z', lastUsedAt: '2026-11-25T08:00:00.000Z', sessions: 1 }]);
    expect((await call(h, 'DELETE', '/api/kiosks/control-room', { cookie: admin2.cookie })).status).toBe(204);
    expect((await call(h, 'GET', '/api/parking', { cookie: screen.cookie })).status).toBe(401);
    expect((await kioskSignIn(h, link.token)).body.code).toBe('auth.kiosk_invalid');

    const audit = (await (await call(h, 'GET', '/api/audit?action=kiosk', { cookie: admin2.cookie })).json()) as { actor: string; action: string }[];
    expect(audit.map((a) => `${a.actor} ${a.action}`)).toEqual(['(kiosk link) kiosk.signin_failed', 'admin kiosk.deleted', 'kiosk:control-room kiosk.signin', 'admin kiosk.created']);
  });

  it('refuses a link from another site, a made-up link, and many guesses', async () => {
    const h = await start();
    const cross = await call(h, 'POST', '/api/auth/kiosk', { body: { token: 'pkk_x' }, headers: { origin: 'https://evil.example' } });
    expect(cross.status).toBe(403);
    for (let i = 0; i < 5; i++) expect((await kioskSignIn(h, `pkk_guess-${i}`)).res.status).toBe(401);
    expect((await kioskSignIn(h, 'pkk_guess-6')).res.status).toBe(429);
  });
});

describe('Node-RED editor gate', () => {
  it('lets admin sessions and admin tokens through; sends browsers without a session to sign in; shows others a 403 page', async () => {
    const h = await start();
    const admin = await login(h, 'admin', ADMIN_PASSWORD);
    await call(h, 'POST', '/api/users', { cookie: admin.cookie, body: { username: 'mgr', password: 'manager-pass', role: 'manager' } });
    const manager = await login(h, 'mgr', 'manager-pass');
    const adminToken = ((await (await call(h, 'POST', '/api/tokens', { cookie: admin.cookie, body: { name: 'deploy', role: 'admin' } })).json()) as { token: string }).token;
    const viewerToken = ((await (await call(h, 'POST', '/api/tokens', { cookie: admin.cookie, body: { name: 'wall', role: 'viewer' } })).json()) as { token: string }).token;
    const get = (path: string, headers: Record<string, string>) => fetch(h.base + path, { headers, redirect: 'manual' });
    const browser = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

    expect((await get('/flows/', { ...browser, cookie: admin.cookie })).status).toBe(200);
    // The editor's own calls carry its Node-RED token and the cookie: the cookie decides here.
    expect((await get('/flows/flows', { cookie: admin.cookie, authorization: 'Bearer node-red-editor-token' })).status).toBe(200);
    expect((await get('/flows/flows', { authorization: `Bearer ${adminToken}` })).status).toBe(200);
    const anon = await get('/flows/', browser);
    expect(anon.status).toBe(303);
    expect(anon.headers.get('location')).toBe('/login?next=%2Fflows%2F');
    const page = await get('/flows/', { ...browser, cookie: manager.cookie, 'accept-language': 'zh-CN,zh;q=0.9' });
    expect(page.status).toBe(403);
    const html = await page.text();
    expect(html).toContain('Node-RED 编辑器仅供管理员使用');
    expect(html).toContain('mgr（经理）');
    const en = await get('/flows/', { ...browser, cookie: `${manager.cookie}; parkops_lang=en`, 'accept-language': 'zh-CN' });
    expect(await en.text()).toContain('You are signed in as mgr (manager)');
    const api = await get('/flows/flows', { cookie: manager.cookie });
    expect([api.status, await api.json()]).toEqual([403, { error: 'the Node-RED editor is for admins; you are manager', code: 'auth.role', params: { need: 'admin', have: 'manager' } }]);
    expect((await get('/flows/flows', { authorization: `Bearer ${viewerToken}` })).status).toBe(403);
    const none = await get('/flows/flows', {});
    expect([none.status, ((await none.json()) as { code: string }).code]).toEqual([401, 'auth.required']);
    // Signing out of ParkOps shuts the editor at once.
    await call(h, 'POST', '/api/auth/logout', { cookie: admin.cookie });
    expect((await get('/flows/flows', { cookie: admin.cookie, authorization: 'Bearer node-red-editor-token' })).status).toBe(401);
  });
});
