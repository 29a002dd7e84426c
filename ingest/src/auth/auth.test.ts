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
import { AuthService, SESSION_COOKIE } from './index.ts';

const ADMIN_PASSWORD = 'correct-horse-battery';

interface Harness {
  auth: AuthService;
  base: string;
  db: Db;
  clock: { t: number; now(): number };
  printed: string[];
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
  const printed: string[] = [];
  const auth = new AuthService({ db, config, log: createLogger('silent'), clock, announce: (t) => printed.push(t), ...(scryptParams ? { scryptParams } : {}) });
  await auth.start();
  const app = express();
  app.use('/api', auth.authenticate(), auth.csrf());
  app.use('/api', auth.router());
  app.get('/api/parking', auth.requireRole('viewer'), (req, res) => void res.json({ who: req.user }));
  app.post('/api/alerts/:id/ack', auth.requireRole('responder'), express.json(), (req, res) => void res.json({ ackedBy: req.user!.username }));
  app.get('/api/usage', auth.requireRole('manager'), (_req, res) => void res.json({ ok: true }));
  app.use('/flows', auth.editorGate(), (_req, res) => void res.type('html').send('<title>Node-RED</title>'));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const h: Harness = {
    auth,
    base,
    db,
    clock,
    printed,
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
    expect(body).toMatchObject({ username: 'admin', role: 'admin' });
    expect(h.printed).toEqual([]);
  });

  it('gets a generated password, printed once, when the setting is unset and there are no users', async () => {
    const h = await start({});
    expect(h.printed).toHaveLength(1);
    const password = /password: (\S+)/.exec(h.printed[0]!)![1]!;
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect((await login(h, 'admin', password)).res.status).toBe(200);
    await stop(h);
    const again = await start({});
    expect(again.printed).toEqual([]);
    expect((await login(again, 'admin', password)).res.status).toBe(200);
  });

  it('is not brought back by the setting once deleted', async () => {
    const h = await start();
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    await call(h, 'POST', '/api/users', { cookie, body: { username: 'ops-admin', password: 'ops-admin-pass', role: 'admin' } });
    expect((await call(h, 'DELETE', '/api/users/admin', { cookie })).status).toBe(204);
    await stop(h);
    const again = await start();
    expect((await login(again, 'admin', ADMIN_PASSWORD)).res.status).toBe(401);
    expect(again.auth.repo.listUsers().map((u) => u.username)).toEqual(['ops-admin']);
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
    expect(setCookie).toContain(`Max-Age=${12 * 3600}`);
    expect(setCookie).toMatch(/Expires=Wed, 25 Nov 2026 20:00:00 GMT/);
    expect(setCookie).not.toContain('Secure');
    expect(body.expiresAt).toBe('2026-11-25T20:00:00.000Z');
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

  it('survive a restart, end at their expiry, and end at logout', async () => {
    const h = await start({ PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD, PARKOPS_SESSION_HOURS: '2' });
    const { cookie } = await login(h, 'admin', ADMIN_PASSWORD);
    const t0 = h.clock.t;
    await stop(h);
    const h2 = await start({ PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD, PARKOPS_SESSION_HOURS: '2' }, t0 + 60_000);
    expect((await call(h2, 'GET', '/api/auth/me', { cookie })).status).toBe(200);
    h2.clock.t = t0 + 2 * 3_600_000 + 1;
    expect((await call(h2, 'GET', '/api/auth/me', { cookie })).status).toBe(401);

    const second = await login(h2, 'admin', ADMIN_PASSWORD);
    expect((await call(h2, 'GET', '/api/parking', { cookie: second.cookie })).status).toBe(200);
    const out = await call(h2, 'POST', '/api/auth/logout', { cookie: second.cookie });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await call(h2, 'GET', '/api/parking', { cookie: second.cookie })).status).toBe(401);
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
      expect(await res.json()).toEqual({ error: expect.stringContaining('authentication required') });
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
    expect(await ack.json()).toEqual({ error: 'this needs the responder role; you are viewer' });
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
    expect(await taken.json()).toEqual({ error: 'user li.wei already exists' });

    const bad = await call(h, 'POST', '/api/users', { cookie, body: { username: 'Li Wei', password: 'short', role: 'boss', extra: 1 } });
    expect(bad.status).toBe(400);
    const { error } = (await bad.json()) as { error: string };
    expect(error).toContain('username: must be 1-64 characters');
    expect(error).toContain('password: must be at least 10 characters');
    expect(error).toContain('role: must be one of viewer, responder, manager, admin');
    expect(error).toContain('unknown field "extra"');

    const missing = await call(h, 'POST', '/api/users', { cookie, body: { username: 7 } });
    expect(await missing.json()).toEqual({ error: 'username: must be a string; password: is required; role: is required' });
    const notObject = await call(h, 'POST', '/api/users', { cookie, body: '[1,2]' });
    expect(await notObject.json()).toEqual({ error: 'request body must be a JSON object' });

    const badParam = await call(h, 'DELETE', '/api/users/%E0%A4%A', { cookie });
    expect([badParam.status, await badParam.json()]).toEqual([400, { error: 'the URL is not valid percent-encoding' }]);

    const notJson = await call(h, 'POST', '/api/users', { cookie, body: '{"username":' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: 'the request body is not valid JSON' });
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
    expect(await cross.json()).toEqual({ error: 'refused: cross-site request from https://evil.example' });
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
    expect(locked.body).toEqual({ error: 'too many failed logins: try again in 15 minutes' });
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

  it('apply to Node-RED logins through verifyPassword too', async () => {
    const h = await start();
    expect(await h.auth.verifyPassword('admin', ADMIN_PASSWORD)).toEqual({ username: 'admin', role: 'admin' });
    await h.auth.createUser('admin', '127.0.0.1', { username: 'staff', password: 'staff-password', role: 'manager' });
    // Right password, but the editor is for admins: the caller gets the role to refuse it, and the audit log says so.
    expect(await h.auth.verifyPassword('staff', 'staff-password')).toEqual({ username: 'staff', role: 'manager' });
    expect(h.auth.repo.listAudit({ limit: 1 })[0]).toMatchObject({ actor: 'staff', action: 'login.refused', ip: 'node-red', detail: { via: 'node-red', role: 'manager' } });
    for (let i = 0; i < 5; i++) expect(await h.auth.verifyPassword('admin', 'not-the-password')).toBeNull();
    expect(await h.auth.verifyPassword('admin', ADMIN_PASSWORD)).toBeNull();
    expect(await h.auth.verifyPassword('nobody', 'whatever-pass')).toBeNull();
    expect(await h.auth.userRole('admin')).toBe('admin');
    expect(await h.auth.userRole('nobody')).toBeNull();
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
    const filtered = (await (await call(h, 'GET', '/api/audit?action=login', { cookie })).json()) as { action: string }[];
    expect(new Set(filtered.map((e) => e.action))).toEqual(new Set(['login']));
    expect((await call(h, 'GET', '/api/audit?limit=0', { cookie })).status).toBe(400);
  });
});

describe('Node-RED editor gate', () => {
  it('serves the editor page to an admin session only: browsers are sent to the login, others get 401', async () => {
    const h = await start();
    const admin = await login(h, 'admin', ADMIN_PASSWORD);
    await call(h, 'POST', '/api/users', { cookie: admin.cookie, body: { username: 'mgr', password: 'manager-pass', role: 'manager' } });
    const manager = await login(h, 'mgr', 'manager-pass');
    const get = (path: string, headers: Record<string, string>) => fetch(h.base + path, { headers, redirect: 'manual' });
    const browser = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

    expect((await get('/flows/', { ...browser, cookie: admin.cookie })).status).toBe(200);
    const anon = await get('/flows/', browser);
    expect(anon.status).toBe(302);
    expect(anon.headers.get('location')).toBe('/login?next=%2Fflows%2F');
    expect((await get('/flows', { ...browser, cookie: manager.cookie })).status).toBe(302);
    const api = await get('/flows/', { cookie: manager.cookie });
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({ error: 'the Node-RED editor needs an admin login' });
    // Node-RED's own login and admin API are not the gate's business.
    expect((await get('/flows/auth/login', {})).status).toBe(200);
  });
});
