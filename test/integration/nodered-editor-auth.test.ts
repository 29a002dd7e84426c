/**
 * The Node-RED editor is reachable only by ParkOps admins, who sign in to it with their ParkOps session
 * (no second login); it keeps its files in the data folder with encrypted credentials, starts without
 * credential warnings, and cannot install code.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../ingest/src/bus.ts';
import { loadConfig } from '../../ingest/src/config.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { NodeRedModule } from '../../ingest/src/nodered/index.ts';
import { ADMIN_API_TOKEN, USERS, login, startStack, type Stack } from './nodered-harness.ts';

let stack: Stack;

/** Stands in for EditorGate.handler(): the editor page needs an admin session (here a plain cookie). */
const editorGate: express.RequestHandler = (req, res, next) => {
  if (req.method !== 'GET' || req.path !== '/' || req.headers.cookie === 'test-user=admin') return next();
  res.status(401).json({ error: 'the Node-RED editor needs an admin login' });
};

const warnings: string[] = [];
beforeAll(async () => {
  stack = await startStack({ LOG_LEVEL: 'warn' }, {}, { editorGate, log: recordWarnings(warnings) });
});
afterAll(async () => {
  await stack?.stop();
});

describe('the editor is for admins only', () => {
  it('answers 401 to the admin API without a token', async () => {
    for (const path of ['/flows/flows', '/flows/settings', '/flows/nodes', '/flows/context/global']) {
      const res = await fetch(`${stack.base}${path}`);
      expect(res.status, path).toBe(401);
    }
    const deploy = await fetch(`${stack.base}/flows/flows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
    expect(deploy.status).toBe(401);
  });

  it('runs the editor gate before Node-RED: the page is shut without an admin session', async () => {
    const shut = await fetch(`${stack.base}/flows/`);
    expect(shut.status).toBe(401);
    const open = await fetch(`${stack.base}/flows/`, { headers: { cookie: 'test-user=admin' } });
    expect(open.status).toBe(200);
    expect(await open.text()).toContain('<html');
  });

  it('offers the ParkOps sign-in, automatic, and no password form', async () => {
    const res = await fetch(`${stack.base}/flows/auth/login`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ type: 'strategy', autoLogin: true, loginRedirect: '/flows/auth/strategy' });
    const password = await fetch(`${stack.base}/flows/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'admin', password: 'anything-at-all' }).toString(),
    });
    expect(password.status).toBe(404);
  });

  it('gives no token to a visitor without a session, or to a ParkOps user who is not an admin', async () => {
    for (const user of ['nobody', 'vera', 'rui']) {
      const got = await login(stack.base, user);
      expect(got.token, user).toBeUndefined();
      expect(got.location, user).toMatch(/^\/flows\?session_message=/);
    }
  });

  it('lets a ParkOps admin API token use the admin API, and no other bearer', async () => {
    expect((await fetch(`${stack.base}/flows/flows`, { headers: { authorization: `Bearer ${ADMIN_API_TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${stack.base}/flows/flows`, { headers: { authorization: 'Bearer pko_not-that-one' } })).status).toBe(401);
  });

  it('rejects a made-up bearer token', async () => {
    const res = await fetch(`${stack.base}/flows/flows`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(res.status).toBe(401);
  });

  it('gives an admin a token from their session, which reads the flows, including the default flow written on first start', async () => {
    const { status, location, token } = await login(stack.base, 'admin');
    expect(status).toBe(302);
    expect(location).toMatch(/^\/flows\?access_token=/);
    expect(token).toEqual(expect.any(String));
    const res = await fetch(`${stack.base}/flows/flows`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const flows = (await res.json()) as { id: string; type: string; wires?: string[][] }[];
    const types = flows.map((n) => n.type);
    expect(types).toEqual(expect.arrayContaining(['tab', 'parkops-alert', 'function', 'parkops-notify']));
    const settings = await fetch(`${stack.base}/flows/settings`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await settings.json()) as { user?: { username: string } }).user?.username).toBe('admin');
  });

  it('stops honouring the token once the admin is demoted', async () => {
    const { token } = await login(stack.base, 'admin');
    const admin = USERS.admin;
    if (!admin) throw new Error('no admin fixture');
    admin.role = 'manager';
    try {
      const res = await fetch(`${stack.base}/flows/flows`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
    } finally {
      admin.role = 'admin';
    }
  });
});

/** A logger that keeps its lines (Node-RED's own warnings arrive through it). */
function recordWarnings(into: string[]) {
  return pino({ level: 'warn' }, { write: (line: string) => void into.push(line) });
}

describe('what the editor cannot do', () => {
  it('has no palette manager: installing a module is not possible', async () => {
    const { token } = await login(stack.base, 'admin');
    const res = await fetch(`${stack.base}/flows/nodes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ module: 'node-red-contrib-anything' }),
    });
    expect(res.status).toBe(404);
    const settings = (await (await fetch(`${stack.base}/flows/settings`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      externalModules?: { palette?: { allowInstall?: boolean } };
      telemetryEnabled?: boolean;
    };
    expect(settings.externalModules?.palette?.allowInstall).toBe(false);
    expect(settings.telemetryEnabled).not.toBe(true);
  });

  it('serves no http-in endpoints by default', async () => {
    const res = await fetch(`${stack.base}/flows-http/anything`);
    expect(res.status).toBe(404);
  });
});

describe('files in the data folder', () => {
  it('keeps flows there, with a 0600 secret, and encrypts node credentials', async () => {
    expect(statSync(join(stack.dir, 'node-red.secret')).mode & 0o777).toBe(0o600);
    expect(statSync(join(stack.dir, 'node-red', 'flows.json')).isFile()).toBe(true);

    const { token } = await login(stack.base, 'admin');
    const auth = { authorization: `Bearer ${token}` };
    const current = (await (await fetch(`${stack.base}/flows/flows`, { headers: auth })).json()) as unknown[];
    const secretUrl = 'http://127.0.0.1:9/cgi-bin/webhook/send?key=robot-key-do-not-leak';
    const res = await fetch(`${stack.base}/flows/flows`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
      body: JSON.stringify([
        ...current,
        { id: 'cred-tab', type: 'tab', label: 'cred' },
        { id: 'cred-notify', type: 'parkops-notify', z: 'cred-tab', name: 'robot', credentials: { url: secretUrl }, x: 100, y: 100, wires: [[]] },
      ]),
    });
    expect([200, 204]).toContain(res.status);
    const credFile = readFileSync(join(stack.dir, 'node-red', 'flows_cred.json'), 'utf8');
    expect(credFile).toContain('"$"');
    expect(credFile).not.toContain('robot-key-do-not-leak');
    expect(readFileSync(join(stack.dir, 'node-red', 'flows.json'), 'utf8')).not.toContain('robot-key-do-not-leak');
    // The editor never gets a password-type credential back.
    const creds = (await (await fetch(`${stack.base}/flows/credentials/parkops-notify/cred-notify`, { headers: auth })).json()) as Record<string, unknown>;
    expect(creds).toEqual({ has_url: true });
  });

  it('wrote an encrypted credentials file on first start, so Node-RED never warns "Encrypted credentials not found"', () => {
    const first = JSON.parse(readFileSync(join(stack.dir, 'node-red', 'flows_cred.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(first)).toEqual(['$']);
    expect(warnings.filter((w) => /credentials/i.test(w))).toEqual([]);
  });
});

describe('PARKOPS_NODE_RED=false', () => {
  it('starts nothing, writes nothing, and /flows answers 404 with a reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parkops-nodered-off-'));
    const config = loadConfig({ PARKOPS_DATA_DIR: dir, PARKOPS_NODE_RED: 'false' }, { dotenv: false });
    const log = createLogger('silent');
    const app = express();
    const server = createServer(app);
    const off = new NodeRedModule({
      app,
      server,
      config,
      log,
      bus: new EventBus(log),
      alerts: { acknowledge: () => ({}), list: () => [] },
      editorAuth: { sessionAdmin: async () => null, isAdmin: async () => false, tokenAdmin: async () => null },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await off.start();
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/flows/flows`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'the Node-RED editor is not running (PARKOPS_NODE_RED=false)' });
      expect(() => statSync(join(dir, 'node-red'))).toThrow();
      await off.stop();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
