/**
 * Access enforcement: walks EVERY /api route of the running server with no credentials, a bad token,
 * a malformed Authorization header, and each role (session cookie and bearer token), and checks
 * 401 / 403 / allowed exactly as docs/api.md, HTTP API says.
 *
 * The routes are listed from the running server's express router, so a route added without an entry
 * in ACCESS below fails this test: every new route needs an explicit access decision.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../ingest/src/config.ts';
import { ROLES, USER_ROLES, type Role } from '@parkops/contract/api.ts';
import { Controller } from '../../ingest/src/controller.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { buildCap } from '../../ingest/src/warnings/testing.ts';
import { listRoutes } from '../harness/express-routes.ts';
import { freePort } from '../harness/ports.ts';

/** A role and the ones above it on the ladder, none, or exactly the roles listed (routes off the ladder). */
type Access = Role | 'none' | readonly Role[];

/** Contract section 3, then extensions. Keys are `METHOD path` as mounted. */
const CONTRACT: Record<string, Access> = {
  'GET /api/health': 'none',
  'GET /api/parking': 'viewer',
  'GET /api/parking/sessions': 'viewer',
  'GET /api/flood': 'viewer',
  'GET /api/venues': 'viewer',
  'GET /api/alerts': 'viewer',
  'POST /api/alerts/:id/ack': 'responder',
  'POST /api/flood/:room/ack': 'responder',
  'GET /api/usage': 'manager',
  'GET /api/stream': 'viewer',
  'POST /api/users': 'admin',
  'POST /api/tokens': 'admin',
  // Section 8: the feed token role (or an admin) posts warnings; feed may do nothing else.
  'POST /api/warnings': ['feed', 'admin'],
  'GET /api/warnings': 'viewer',
  'GET /api/devices': 'viewer',
  'PUT /api/devices/:deviceId/binding': 'admin',
  'DELETE /api/devices/:deviceId/binding': 'admin',
  'GET /api/devices/unbound': 'admin',
};
const EXTENSIONS: Record<string, Access> = {
  // The API's description: public like /api/health (no data in it).
  'GET /api/openapi.json': 'none',
  'POST /api/auth/login': 'none',
  'POST /api/auth/logout': 'none',
  'GET /api/auth/me': 'viewer',
  'POST /api/auth/password': 'viewer',
  // A wall screen's link, posted by its page: the link itself is the credential.
  'POST /api/auth/kiosk': 'none',
  'GET /api/flood/:roomId/history': 'viewer',
  'GET /api/flood/:roomId/readiness': 'viewer',
  'POST /api/flood/:roomId/checklist/:itemId': 'responder',
  'GET /api/incidents': 'viewer',
  'GET /api/incidents/:id': 'viewer',
  'GET /api/notifications': 'viewer',
  'GET /api/notifications/stats': 'viewer',
  'GET /api/notifications/channels': 'viewer',
  'GET /api/reports/parking': 'manager',
  'GET /api/reports/venues': 'manager',
  'GET /api/reports/flood': 'manager',
  'GET /api/reports/heatmap': 'manager',
  'GET /api/reports/calendar': 'manager',
  'GET /api/reports/monthly.pdf': 'manager',
  'GET /api/users': 'admin',
  'PATCH /api/users/:username': 'admin',
  'DELETE /api/users/:username': 'admin',
  'POST /api/users/:username/unlock': 'admin',
  'DELETE /api/users/:username/sessions': 'admin',
  'GET /api/kiosks': 'admin',
  'POST /api/kiosks': 'admin',
  'DELETE /api/kiosks/:name': 'admin',
  'GET /api/tokens': 'admin',
  'DELETE /api/tokens/:name': 'admin',
  'GET /api/audit': 'admin',
  'GET /api/devices/codecs': 'admin',
  'POST /api/devices/bindings.csv': 'admin',
  'GET /api/push/key': 'viewer',
  'GET /api/push/subscriptions': 'responder',
  'POST /api/push/subscriptions': 'responder',
  // Anyone may remove their own subscription (a responder demoted to viewer, too).
  'DELETE /api/push/subscriptions': 'viewer',
  'POST /api/push/test': 'responder',
  'GET /api/admin/storage': 'admin',
  'POST /api/admin/backup': 'admin',
  'GET /api/admin/backups/:name': 'admin',
};
const ACCESS: Record<string, Access> = { ...CONTRACT, ...EXTENSIONS };

const site = loadSite();
const PARAMS: Record<string, string> = { roomId: site.rooms[0]!.id, room: site.rooms[0]!.id, itemId: 'sandbags', id: 'walk-no-such-id', username: 'walk-no-such-user', name: 'walk-no-such-token' };

/** Requests that must succeed (2xx) for an allowed role; the other routes must merely not answer 401/403/5xx. */
let unique = 0;
const HAPPY: Record<string, () => { query?: string; body?: unknown; type?: string }> = {
  'POST /api/warnings': () => ({ body: buildCap({ identifier: `WALK-${++unique}` }), type: 'application/cap+xml' }),
  'GET /api/warnings': () => ({ query: '?state=all' }),
  'GET /api/parking': () => ({}),
  'GET /api/parking/sessions': () => ({}),
  'GET /api/flood': () => ({}),
  'GET /api/flood/:roomId/readiness': () => ({}),
  'POST /api/flood/:roomId/checklist/:itemId': () => ({ body: { done: true, note: 'walked' } }),
  'GET /api/venues': () => ({}),
  'GET /api/alerts': () => ({ query: '?state=all' }),
  'GET /api/usage': () => ({ query: '?subject=parking&every=1h' }),
  'GET /api/reports/calendar': () => ({}),
  'GET /api/stream': () => ({}),
  'GET /api/auth/me': () => ({}),
  'GET /api/users': () => ({}),
  'POST /api/users': () => ({ body: { username: `walk-user-${++unique}`, password: 'walk-password-1', role: 'viewer' } }),
  'GET /api/tokens': () => ({}),
  'POST /api/tokens': () => ({ body: { name: `walk-token-${++unique}`, role: 'viewer' } }),
  'GET /api/audit': () => ({}),
  'GET /api/kiosks': () => ({}),
  'POST /api/kiosks': () => ({ body: { name: `walk-kiosk-${++unique}`, start: '/' } }),
  'GET /api/devices': () => ({}),
  'GET /api/devices/unbound': () => ({}),
  'GET /api/devices/codecs': () => ({}),
  'GET /api/push/key': () => ({}),
  'GET /api/push/subscriptions': () => ({}),
  'POST /api/flood/:room/ack': () => ({ body: { note: 'walk' } }),
  'GET /api/notifications/channels': () => ({}),
  'GET /api/admin/storage': () => ({}),
  'POST /api/admin/backup': () => ({ body: {} }),
};

const ADMIN_PASSWORD = 'walk-admin-password';
let dataDir: string;
let controller: Controller;
let base: string;
let mounted: string[];
const cookies = {} as Record<Role, string>;
const tokens = {} as Record<Role, string>;

function fill(route: string): string {
  return route.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(PARAMS[name] ?? `walk-${name}`));
}

async function request(method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown; type?: string | undefined } = {}): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    headers['content-type'] = opts.type ?? 'application/json';
    body = opts.type === undefined ? JSON.stringify(opts.body ?? {}) : String(opts.body);
  }
  const res = await fetch(base + path, { method, headers, body });
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    // The live stream never ends: the status line and headers are the answer.
    await res.body?.cancel();
    return { status: res.status, body: '' };
  }
  return { status: res.status, body: await res.text() };
}

async function login(username: string, password: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base, ...headers }, body: JSON.stringify({ username, password }) });
  return { status: res.status, setCookie: res.headers.get('set-cookie') ?? '', retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'parkops-access-routes-'));
  const config = loadConfig(
    {
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      MQTT_PORT: String(await freePort()),
      MQTT_BIND: '127.0.0.1',
      PARKOPS_DATA_DIR: dataDir,
      PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      PARKOPS_TRUST_PROXY: 'true',
      PARKOPS_SIMULATE: 'false',
      // The editor adds no /api route; its access is walked by access-nodered.test.ts on a whole system.
      PARKOPS_NODE_RED: 'false',
      LOG_LEVEL: 'error',
    },
    { dotenv: false },
  );
  controller = new Controller(config, site, createLogger('error'));
  await controller.start();
  base = `http://127.0.0.1:${config.PORT}`;
  mounted = listRoutes(controller.http.app).filter((r) => r.split(' ')[1]!.startsWith('/api/'));

  const admin = await login('admin', ADMIN_PASSWORD);
  expect(admin.status).toBe(200);
  cookies.admin = admin.setCookie.split(';')[0]!;
  const asAdmin = { cookie: cookies.admin, origin: base };
  for (const role of ROLES) {
    // feed is a token role only: people cannot have it.
    if (role !== 'admin' && (USER_ROLES as readonly Role[]).includes(role)) {
      const created = await request('POST', '/api/users', { headers: asAdmin, body: { username: `walk-${role}`, password: `walk-${role}-password`, role } });
      expect(created.status).toBe(201);
      const session = await login(`walk-${role}`, `walk-${role}-password`);
      cookies[role] = session.setCookie.split(';')[0]!;
    }
    const token = await request('POST', '/api/tokens', { headers: asAdmin, body: { name: `walk-${role}-token`, role } });
    expect(token.status).toBe(201);
    tokens[role] = (JSON.parse(token.body) as { token: string }).token;
  }
});

afterAll(async () => {
  await controller?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('every /api route', () => {
  it('has an access decision in the table, and every contract route is mounted', () => {
    expect(mounted.filter((r) => !(r in ACCESS)), 'routes without an entry in ACCESS').toEqual([]);
    expect(Object.keys(CONTRACT).filter((r) => !mounted.includes(r)), 'contract routes not mounted').toEqual([]);
    expect(mounted.length).toBeGreaterThanOrEqual(Object.keys(CONTRACT).length + 10);
  });

  it('answers 401 {error} without credentials, with a bad token and with a malformed Authorization header', async () => {
    const wrong: string[] = [];
    const anonymous: Record<string, Record<string, string>> = {
      none: {},
      'bad token': { authorization: 'Bearer pko_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      'revoked-looking token': { authorization: `Bearer ${tokens.admin}x` },
      'basic auth': { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
      'forged cookie': { cookie: 'parkops_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', origin: base },
    };
    for (const route of mounted) {
      const [method, path] = route.split(' ') as [string, string];
      for (const [label, headers] of Object.entries(anonymous)) {
        const res = await request(method, fill(path), { headers });
        if (ACCESS[route] === 'none') {
          if (res.status === 401 || res.status === 403 || res.status >= 500) wrong.push(`${route} (${label}): ${res.status}, expected it open`);
        } else if (res.status !== 401 || !/"error":"/.test(res.body)) {
          wrong.push(`${route} (${label}): ${res.status} ${res.body.slice(0, 80)}, expected 401 {error}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each(ROLES)('answers 403 below the route role and lets %s through at or above it (cookie and token)', async (role) => {
    const wrong: string[] = [];
    for (const route of mounted) {
      const need = ACCESS[route]!;
      if (need === 'none') continue;
      const [method, path] = route.split(' ') as [string, string];
      const vias: Array<readonly [string, Record<string, string>]> = [['token', { authorization: `Bearer ${tokens[role]}` }]];
      if (cookies[role]) vias.push(['cookie', { cookie: cookies[role], origin: base }]);
      for (const [via, headers] of vias) {
        const happy = HAPPY[route]?.();
        const res = await request(method, fill(path) + (happy?.query ?? ''), { headers, body: happy?.body, type: happy?.type });
        const allowed = typeof need === 'string' ? ROLES.indexOf(role) >= ROLES.indexOf(need) : need.includes(role);
        if (!allowed) {
          if (res.status !== 403 || !/"error":"/.test(res.body)) wrong.push(`${route} as ${role} (${via}): ${res.status}, expected 403 {error}`);
        } else if (happy) {
          if (res.status < 200 || res.status > 299) wrong.push(`${route} as ${role} (${via}): ${res.status} ${res.body.slice(0, 120)}, expected 2xx`);
        } else if (res.status === 401 || res.status === 403 || res.status >= 500) {
          wrong.push(`${route} as ${role} (${via}): ${res.status} ${res.body.slice(0, 120)}, expected it allowed`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('refuses every cookie-authenticated state change without a same-origin Origin (CSRF); tokens need none', async () => {
    const wrong: string[] = [];
    for (const route of mounted) {
      const [method, path] = route.split(' ') as [string, string];
      if (method === 'GET' || ACCESS[route] === 'none') continue;
      for (const origin of [undefined, 'https://evil.example']) {
        const happy = HAPPY[route]?.();
        const res = await request(method, fill(path), { headers: { cookie: cookies.admin, ...(origin ? { origin } : {}) }, body: happy?.body, type: happy?.type });
        if (res.status !== 403 || !/refused/.test(res.body)) wrong.push(`${route} with Origin ${origin ?? '(none)'}: ${res.status}, expected 403`);
      }
      const happy = HAPPY[route]?.();
      const viaToken = await request(method, fill(path), { headers: { authorization: `Bearer ${tokens.admin}` }, body: happy?.body, type: happy?.type });
      if (viaToken.status === 401 || viaToken.status === 403) wrong.push(`${route} with a token and no Origin: ${viaToken.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it('lets a wall screen (kiosk link) read every viewer route and change nothing', async () => {
    const link = JSON.parse((await request('POST', '/api/kiosks', { headers: { cookie: cookies.admin, origin: base }, body: { name: 'walk-wall', start: '/flood' } })).body) as { token: string };
    const signIn = await fetch(`${base}/api/auth/kiosk`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ token: link.token }) });
    expect(signIn.status).toBe(200);
    const wall = { cookie: signIn.headers.get('set-cookie')!.split(';')[0]!, origin: base };
    const wrong: string[] = [];
    for (const route of mounted) {
      const need = ACCESS[route]!;
      // Signing in or out is not a change to ParkOps (and signing out would end this walk).
      if (need === 'none' && route !== 'GET /api/health') continue;
      const [method, path] = route.split(' ') as [string, string];
      const happy = HAPPY[route]?.();
      const res = await request(method, fill(path) + (happy?.query ?? ''), { headers: wall, body: happy?.body, type: happy?.type });
      if (method === 'GET') {
        const viewerMay = need === 'none' || (typeof need === 'string' ? ROLES.indexOf(need) <= ROLES.indexOf('viewer') : need.includes('viewer'));
        if (viewerMay && (res.status === 401 || res.status === 403)) wrong.push(`${route}: ${res.status}, a wall screen may look`);
        if (!viewerMay && res.status !== 403) wrong.push(`${route}: ${res.status}, expected 403`);
      } else if (res.status !== 403) {
        wrong.push(`${route}: ${res.status} ${res.body.slice(0, 80)}, expected 403 (view only)`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps /api/health and /metrics open', async () => {
    expect([200, 503]).toContain((await request('GET', '/api/health')).status);
    expect((await request('GET', '/metrics')).status).toBe(200);
  });
});

describe('login', () => {
  it('sets an HttpOnly, SameSite=Lax session cookie with an expiry; Secure when the proxy says HTTPS', async () => {
    const plain = await login('walk-viewer', 'walk-viewer-password');
    const flags = plain.setCookie.split(';').map((s) => s.trim());
    expect(flags[0]).toMatch(/^parkops_session=[A-Za-z0-9_-]{43}$/);
    expect(flags).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/', `Max-Age=${90 * 86400}`]));
    expect(flags.some((f) => /^Expires=/.test(f))).toBe(true);
    expect(flags).not.toContain('Secure');
    const behindTls = await login('walk-viewer', 'walk-viewer-password', { 'x-forwarded-proto': 'https' });
    expect(behindTls.setCookie.split(';').map((s) => s.trim())).toContain('Secure');
  });

  it('locks a username+address out after repeated failures, says when to retry, and audits it', async () => {
    const from = { 'x-forwarded-for': '203.0.113.50' };
    for (let i = 0; i < 5; i++) expect((await login('walk-responder', `wrong-password-${i}`, from)).status).toBe(401);
    const locked = await login('walk-responder', 'walk-responder-password', from);
    expect(locked.status).toBe(429);
    expect(Number(locked.retryAfter)).toBeGreaterThan(0);
    expect(locked.body.error).toMatch(/too many failed logins/);
    expect(locked.setCookie).toBe('');
    // The same account from elsewhere still logs in.
    expect((await login('walk-responder', 'walk-responder-password', { 'x-forwarded-for': '203.0.113.51' })).status).toBe(200);

    const audit = JSON.parse((await request('GET', '/api/audit?actor=walk-responder&limit=50', { headers: { cookie: cookies.admin } })).body) as { action: string; ip: string }[];
    expect(audit.filter((e) => e.action === 'login.failed' && e.ip === '203.0.113.50')).toHaveLength(5);
    expect(audit.some((e) => e.action === 'login.locked' && e.ip === '203.0.113.50')).toBe(true);
  });

  it('answers a wrong password and an unknown user alike', async () => {
    const a = await login('walk-manager', 'not-the-password');
    const b = await login('walk-nobody-at-all', 'not-the-password');
    expect([a.status, a.body]).toEqual([401, { error: 'wrong username or password', code: 'auth.invalid' }]);
    expect([b.status, b.body]).toEqual([401, { error: 'wrong username or password', code: 'auth.invalid' }]);
  });
});
