/**
 * The embedded Node-RED editor (/flows) on a whole system, as `npm start` runs it (test/harness/system.ts):
 * a ParkOps admin session opens it without a second login; non-admin sessions and tokens get nothing
 * (a 403 page for a signed-in browser, never a redirect loop); signing out of ParkOps or a demotion
 * shuts it at once; an admin API token may use the admin API; the sign-ins are in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, USER_ROLES, type Role } from '@parkops/contract/api.ts';
import { ADMIN_PASSWORD, startParkOps, type ParkOpsProcess } from '../harness/system.ts';

const EDITOR = '/flows';
let sys: ParkOpsProcess;
let adminCookie: string;
const cookies = {} as Record<Role, string>;
const apiTokens = {} as Record<Role, string>;
const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

async function api(method: string, path: string, body?: unknown, cookie = adminCookie) {
  const res = await fetch(sys.baseUrl + path, {
    method,
    headers: { cookie, origin: sys.baseUrl, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, string> | null };
}

async function parkopsLogin(username: string, password: string): Promise<string> {
  const res = await fetch(`${sys.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: sys.baseUrl }, body: JSON.stringify({ username, password }) });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

/** What the editor page does when it has no token: /flows/auth/strategy, which answers with a redirect carrying one. */
async function editorToken(cookie: string): Promise<{ status: number; location: string; token?: string }> {
  const res = await fetch(`${sys.baseUrl}${EDITOR}/auth/strategy`, { headers: { ...BROWSER, cookie }, redirect: 'manual' });
  const location = res.headers.get('location') ?? '';
  const token = /[?&]access_token=([^&]+)/.exec(location)?.[1];
  return { status: res.status, location, ...(token ? { token: decodeURIComponent(token) } : {}) };
}

const shut = (status: number) => status === 401 || status === 403 || status === 303;

beforeAll(async () => {
  sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'true' } });
  adminCookie = await sys.adminCookie();
  cookies.admin = adminCookie;
  for (const role of ROLES) {
    // feed is a token role only (warning feeds): there are no feed people to log in.
    if (role !== 'admin' && (USER_ROLES as readonly Role[]).includes(role)) {
      expect((await api('POST', '/api/users', { username: `ed-${role}`, password: `ed-${role}-password`, role })).status).toBe(201);
      cookies[role] = await parkopsLogin(`ed-${role}`, `ed-${role}-password`);
    }
    const t = await api('POST', '/api/tokens', { name: `ed-${role}-token`, role });
    expect(t.status).toBe(201);
    apiTokens[role] = t.body!.token!;
  }
});

afterAll(async () => {
  await sys?.stop();
});

describe('the Node-RED editor', () => {
  it('is shut for every ParkOps credential below admin, and for none at all', async () => {
    const wrong: string[] = [];
    const visitors: Record<string, Record<string, string>> = { anonymous: {} };
    for (const role of ROLES.filter((r) => r !== 'admin')) {
      if (cookies[role]) visitors[`${role} session`] = { cookie: cookies[role] };
      visitors[`${role} API token`] = { authorization: `Bearer ${apiTokens[role]}` };
    }
    for (const [who, headers] of Object.entries(visitors)) {
      for (const path of [`${EDITOR}/`, `${EDITOR}/flows`, `${EDITOR}/nodes`, `${EDITOR}/settings/user`, `${EDITOR}/auth/strategy`, `${EDITOR}/red/red.min.js`]) {
        const res = await fetch(sys.baseUrl + path, { headers, redirect: 'manual' });
        if (!shut(res.status)) wrong.push(`GET ${path} as ${who}: ${res.status}`);
      }
      const deploy = await fetch(`${sys.baseUrl}${EDITOR}/flows`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', origin: sys.baseUrl }, body: '[]', redirect: 'manual' });
      if (!shut(deploy.status)) wrong.push(`POST ${EDITOR}/flows (deploy) as ${who}: ${deploy.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it('sends a browser without a session to sign in, and shows a signed-in non-admin a 403 page, never a redirect', async () => {
    const anon = await fetch(`${sys.baseUrl}${EDITOR}/`, { headers: BROWSER, redirect: 'manual' });
    expect([anon.status, anon.headers.get('location')]).toEqual([303, '/login?next=%2Fflows%2F']);
    for (const role of USER_ROLES.filter((r) => r !== 'admin')) {
      for (const path of [EDITOR, `${EDITOR}/`]) {
        const res = await fetch(sys.baseUrl + path, { headers: { ...BROWSER, cookie: cookies[role] }, redirect: 'manual' });
        expect(res.status, `${path} as ${role}`).toBe(403);
        expect(await res.text()).toContain('The Node-RED editor is for administrators');
      }
    }
  });

  it('opens for an admin session without a second login: the editor gets its token from the session', async () => {
    const page = await fetch(`${sys.baseUrl}${EDITOR}/`, { headers: { ...BROWSER, cookie: adminCookie }, redirect: 'manual' });
    expect(page.status).toBe(200);
    const { status, location, token } = await editorToken(adminCookie);
    expect([status, location.split('?')[0]]).toEqual([302, EDITOR]);
    const auth = { authorization: `Bearer ${token}`, cookie: adminCookie };
    const flows = await fetch(`${sys.baseUrl}${EDITOR}/flows`, { headers: auth });
    expect(flows.status).toBe(200);
    const current = (await flows.json()) as unknown[];
    const deploy = await fetch(`${sys.baseUrl}${EDITOR}/flows`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'node-red-deployment-type': 'full' }, body: JSON.stringify(current) });
    expect([200, 204]).toContain(deploy.status);
  });

  it('lets an admin API token use the admin API (scripts, node-red-admin)', async () => {
    expect((await fetch(`${sys.baseUrl}${EDITOR}/flows`, { headers: { authorization: `Bearer ${apiTokens.admin}` } })).status).toBe(200);
  });

  it('shuts the editor when the admin signs out of ParkOps, or is demoted', async () => {
    expect((await api('POST', '/api/users', { username: 'ed-second-admin', password: 'ed-second-admin-pw', role: 'admin' })).status).toBe(201);
    const cookie = await parkopsLogin('ed-second-admin', 'ed-second-admin-pw');
    const { token } = await editorToken(cookie);
    const read = (c: string) => fetch(`${sys.baseUrl}${EDITOR}/flows`, { headers: { authorization: `Bearer ${token}`, cookie: c }, redirect: 'manual' });
    expect((await read(cookie)).status).toBe(200);
    expect((await api('PATCH', '/api/users/ed-second-admin', { role: 'manager' })).status).toBe(200);
    expect(shut((await read(cookie)).status)).toBe(true);
    // Even the editor token alone, with a session of another admin, is no longer honoured by Node-RED.
    expect((await read(adminCookie)).status).toBe(401);

    const again = await parkopsLogin('admin', ADMIN_PASSWORD);
    const second = await editorToken(again);
    expect((await fetch(`${sys.baseUrl}${EDITOR}/flows`, { headers: { authorization: `Bearer ${second.token}`, cookie: again } })).status).toBe(200);
    await fetch(`${sys.baseUrl}/api/auth/logout`, { method: 'POST', headers: { cookie: again, origin: sys.baseUrl } });
    expect((await fetch(`${sys.baseUrl}${EDITOR}/flows`, { headers: { authorization: `Bearer ${second.token}`, cookie: again } })).status).toBe(401);
  });

  it('records editor sign-ins in the ParkOps audit log', async () => {
    const res = await fetch(`${sys.baseUrl}/api/audit?action=editor`, { headers: { cookie: adminCookie } });
    const entries = (await res.json()) as { actor: string; action: string; ip: string }[];
    expect(entries.some((e) => e.actor === 'admin' && e.action === 'editor.signin' && e.ip === '127.0.0.1')).toBe(true);
    expect(entries.some((e) => e.actor.startsWith('ed-viewer'))).toBe(false);
  });
});
