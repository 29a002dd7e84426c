/**
 * Issue 3, item 5: the embedded Node-RED editor (/flows) is reachable only by ParkOps admins. The
 * system runs as `npm start` runs it (test/harness/system.ts). Node-RED's own login (adminAuth) asks
 * ParkOps; non-admin accounts, ParkOps sessions and ParkOps API tokens get nothing from its admin API,
 * and an admin who is demoted loses the editor at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, USER_ROLES, type Role } from '../../ingest/src/contract/api.ts';
import { ADMIN_PASSWORD, startParkOps, type ParkOpsProcess } from '../harness/system.ts';

const EDITOR = '/flows';
let sys: ParkOpsProcess;
let adminCookie: string;
const cookies = {} as Record<Role, string>;
const apiTokens = {} as Record<Role, string>;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(sys.baseUrl + path, {
    method,
    headers: { cookie: adminCookie, origin: sys.baseUrl, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, string> | null };
}

async function parkopsLogin(username: string, password: string): Promise<string> {
  const res = await fetch(`${sys.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: sys.baseUrl }, body: JSON.stringify({ username, password }) });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

/** Node-RED's editor login (adminAuth type credentials): an OAuth2 password grant. */
async function editorLogin(username: string, password: string): Promise<{ status: number; token?: string }> {
  const res = await fetch(`${sys.baseUrl}${EDITOR}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username, password }).toString(),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string };
  return { status: res.status, ...(body.access_token ? { token: body.access_token } : {}) };
}

const shut = (status: number) => status === 401 || (status >= 300 && status < 400);

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
  it('is shut (401 or a redirect to login) for anyone without an editor login, whatever ParkOps credentials they hold', async () => {
    const wrong: string[] = [];
    const visitors: Record<string, Record<string, string>> = { anonymous: {} };
    for (const role of ROLES) {
      if (cookies[role]) visitors[`${role} session`] = { cookie: cookies[role] };
      visitors[`${role} API token`] = { authorization: `Bearer ${apiTokens[role]}` };
    }
    for (const [who, headers] of Object.entries(visitors)) {
      for (const path of [`${EDITOR}/flows`, `${EDITOR}/nodes`, `${EDITOR}/settings/user`]) {
        const res = await fetch(sys.baseUrl + path, { headers, redirect: 'manual' });
        if (!shut(res.status)) wrong.push(`GET ${path} as ${who}: ${res.status}`);
      }
      const deploy = await fetch(`${sys.baseUrl}${EDITOR}/flows`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', origin: sys.baseUrl }, body: '[]', redirect: 'manual' });
      if (!shut(deploy.status)) wrong.push(`POST ${EDITOR}/flows (deploy) as ${who}: ${deploy.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it('serves the editor page itself only to admins: 401 or a redirect for everyone else', async () => {
    const wrong: string[] = [];
    const visitors: Record<string, Record<string, string>> = { anonymous: {} };
    for (const role of USER_ROLES.filter((r) => r !== 'admin')) visitors[`${role} session`] = { cookie: cookies[role] };
    for (const [who, headers] of Object.entries(visitors)) {
      for (const path of [EDITOR, `${EDITOR}/`]) {
        const res = await fetch(sys.baseUrl + path, { headers, redirect: 'manual' });
        if (!shut(res.status)) wrong.push(`GET ${path} as ${who}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('refuses editor logins from every role below admin and from wrong passwords', async () => {
    for (const role of USER_ROLES.filter((r) => r !== 'admin')) {
      const res = await editorLogin(`ed-${role}`, `ed-${role}-password`);
      expect(res.token, `${role} got an editor token`).toBeUndefined();
      expect([401, 403]).toContain(res.status);
    }
    expect((await editorLogin('admin', 'not-the-admin-password')).token).toBeUndefined();
  });

  it('lets an admin log in and read and deploy flows', async () => {
    const { status, token } = await editorLogin('admin', ADMIN_PASSWORD);
    expect(status).toBe(200);
    const flows = await fetch(`${sys.baseUrl}${EDITOR}/flows`, { headers: { authorization: `Bearer ${token}` } });
    expect(flows.status).toBe(200);
    expect(Array.isArray(await flows.json())).toBe(true);
  });

  it('shuts the editor for an admin the moment they are demoted', async () => {
    expect((await api('POST', '/api/users', { username: 'ed-second-admin', password: 'ed-second-admin-pw', role: 'admin' })).status).toBe(201);
    const { token } = await editorLogin('ed-second-admin', 'ed-second-admin-pw');
    expect(token).toBeDefined();
    const read = () => fetch(`${sys.baseUrl}${EDITOR}/flows`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
    expect((await read()).status).toBe(200);
    expect((await api('PATCH', '/api/users/ed-second-admin', { role: 'manager' })).status).toBe(200);
    expect(shut((await read()).status)).toBe(true);
  });

  it('records editor logins in the ParkOps audit log', async () => {
    const res = await fetch(`${sys.baseUrl}/api/audit?limit=200`, { headers: { cookie: adminCookie } });
    const entries = (await res.json()) as { actor: string; action: string; detail: { via?: string } | null }[];
    expect(entries.some((e) => e.actor === 'admin' && e.action === 'login' && e.detail?.via === 'node-red')).toBe(true);
    expect(entries.some((e) => e.actor === 'ed-viewer' && e.action === 'login.refused' && e.detail?.via === 'node-red')).toBe(true);
    expect(entries.some((e) => e.actor === 'ed-viewer' && e.action === 'login' && e.detail?.via === 'node-red')).toBe(false);
  });
});
