/**
 * Starts express + http on a free loopback port with a real EventBus, a real SQLite file for the
 * Notifier and the embedded Node-RED in a temp data folder. Node-RED is a process-wide singleton, so
 * each test file starts one stack in beforeAll.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import express from 'express';
import { EventBus } from '../../ingest/src/bus.ts';
import { loadConfig, type Config } from '../../ingest/src/config.ts';
import type { Alert } from '@parkops/contract/api.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { NodeRedModule, type NodeRedDeps } from '../../ingest/src/nodered/index.ts';
import { robotChannels } from '../../ingest/src/notify/channels/index.ts';
import { Notifier, NOTIFY_CHANGES, type NotifierOptions } from '../../ingest/src/notify/index.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../../ingest/src/store/db.ts';

/** A small in-memory stand-in for the alert engine's acknowledge/list, emitting on the real bus like it. */
export class MemoryAlerts {
  readonly alerts = new Map<string, Alert>();
  readonly acks: { id: string; by: string; note: string | undefined }[] = [];
  constructor(private readonly bus: EventBus) {}

  open(alert: Alert): void {
    this.alerts.set(alert.id, alert);
    this.bus.emit('alert.changed', { alert, change: 'opened' });
  }

  acknowledge(id: string, by: { username: string }, note?: string): Alert {
    const a = this.alerts.get(id);
    if (!a) throw new Error(`no alert ${id}`);
    const acked: Alert = { ...a, state: 'acknowledged', ackedBy: by.username, ackedAt: new Date().toISOString(), ...(note === undefined ? {} : { ackNote: note }) };
    this.alerts.set(id, acked);
    this.acks.push({ id, by: by.username, note });
    this.bus.emit('alert.changed', { alert: acked, change: 'acknowledged' });
    return acked;
  }

  list(q: { state: 'active' | 'all' }): Alert[] {
    const all = [...this.alerts.values()];
    return q.state === 'all' ? all : all.filter((a) => a.state !== 'resolved');
  }
}

/** ParkOps accounts for the tests: name -> role. */
export const USERS: Record<string, { role: string }> = {
  admin: { role: 'admin' },
  vera: { role: 'viewer' },
  rui: { role: 'responder' },
};

export interface Stack {
  dir: string;
  base: string;
  config: Config;
  bus: EventBus;
  alerts: MemoryAlerts;
  nodeRed: NodeRedModule;
  notifier: Notifier;
  db: Db;
  server: Server;
  stop(): Promise<void>;
}

export async function startStack(env: Record<string, string> = {}, notifierOptions: Partial<NotifierOptions> = {}, extra: Partial<NodeRedDeps> = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'parkops-nodered-'));
  const config = loadConfig({ PARKOPS_DATA_DIR: dir, LOG_LEVEL: 'silent', ...env }, { dotenv: false });
  const log = createLogger(config.LOG_LEVEL);
  const bus = new EventBus(log);
  const db = openDatabase(dir);
  const site = loadSite();
  const alerts = new MemoryAlerts(bus);
  const notifier = new Notifier({ db, bus, config, log, site, channels: robotChannels(config, site, NOTIFY_CHANGES), options: { timeoutMs: 2_000, baseDelayMs: 100, maxDelayMs: 1_000, jitter: 0, handoffGraceMs: 60_000, ...notifierOptions } });
  const app = express();
  const server = createServer(app);
  const nodeRed = new NodeRedModule({
    app,
    server,
    config,
    log,
    bus,
    alerts,
    notifier,
    site,
    functionTimeoutSec: 1,
    // Stands in for the ParkOps session (auth/nodered-gate.ts): a cookie `test-user=<name>` signs that user in.
    editorAuth: {
      sessionAdmin: async (req) => {
        const name = /(?:^|;\s*)test-user=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
        return name !== undefined && USERS[name]?.role === 'admin' ? name : null;
      },
      isAdmin: async (username) => USERS[username]?.role === 'admin',
      tokenAdmin: async (token) => (token === ADMIN_API_TOKEN ? 'token:deploy' : null),
    },
    ...extra,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await notifier.start();
  await nodeRed.start();
  return {
    dir,
    base,
    config,
    bus,
    alerts,
    nodeRed,
    notifier,
    db,
    server,
    async stop() {
      await nodeRed.stop();
      await notifier.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A ParkOps admin API token the stand-in accepts (for scripts that use the Node-RED admin API). */
export const ADMIN_API_TOKEN = 'pko_test-admin-token';

/**
 * Signs in to the editor as its page does: GET /flows/auth/strategy with the (stand-in) ParkOps session;
 * Node-RED answers with a redirect to the editor carrying its own access token, or without one.
 */
export async function login(base: string, username: string): Promise<{ status: number; location: string; token: string | undefined }> {
  const res = await fetch(`${base}/flows/auth/strategy`, { headers: { cookie: `test-user=${username}` }, redirect: 'manual' });
  const location = res.headers.get('location') ?? '';
  const token = /[?&]access_token=([^&]+)/.exec(location)?.[1];
  return { status: res.status, location, token: token === undefined ? undefined : decodeURIComponent(token) };
}

export function criticalAlert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'al-1',
    rule: 'flood.level',
    severity: 'critical',
    state: 'firing',
    subject: 'flood/b1-power/levels/L1',
    message: 'Water level 712 mm in the B1 power room (critical 700 mm)',
    value: 712,
    startedAt: new Date().toISOString(),
    room: 'b1-power',
    ...over,
  };
}

/** Adds a tab of nodes to the running flows (a full deploy of the old flows plus these). */
export async function deployTab(base: string, token: string, tabId: string, nodes: Record<string, unknown>[]): Promise<void> {
  const auth = { authorization: `Bearer ${token}` };
  const current = (await (await fetch(`${base}/flows/flows`, { headers: auth })).json()) as Record<string, unknown>[];
  const kept = current.filter((n) => n.id !== tabId && n.z !== tabId);
  // The deploy answers before the new flows run: wait for them, or the next event finds no listener.
  const started = flowsStarted();
  const res = await fetch(`${base}/flows/flows`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
    body: JSON.stringify([...kept, { id: tabId, type: 'tab', label: tabId }, ...nodes.map((n) => ({ z: tabId, x: 100, y: 100, ...n }))]),
  });
  if (res.status !== 204 && res.status !== 200) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
  await started;
}

/** Resolves at the next `flows:started` of the (process-wide) Node-RED runtime. */
function flowsStarted(timeoutMs = 10_000): Promise<void> {
  const red = createRequire(import.meta.url)('node-red') as { events: { once(e: string, fn: () => void): void; removeListener(e: string, fn: () => void): void } };
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      red.events.removeListener('flows:started', done);
      reject(new Error(`flows did not start within ${timeoutMs} ms of the deploy`));
    }, timeoutMs);
    red.events.once('flows:started', done);
  });
}
