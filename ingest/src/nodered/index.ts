/**
 * Node-RED 4 embedded in the ingest service: its flows deliver notifications, and its editor is for admins only.
 *
 * - The editor and admin API are at `/flows`, for ParkOps admins only, signed in with their dashboard
 *   session (settings.ts, auth/nodered-gate.ts).
 * - ParkOps nodes (`nodes/`): `parkops-alert`, `parkops-reading`, `parkops-ack`, `parkops-notify`,
 *   reaching ParkOps through an in-process bridge (bridge.ts), never over HTTP.
 * - On first start (no flows file) the default flow is written (default-flow.ts).
 * - With a Notifier, flows route the settings webhook once they run (notify/notifier.ts).
 *
 * Node-RED is a process-wide singleton: it starts once per process and cannot start again after stop().
 * It is loaded only when enabled, so PARKOPS_NODE_RED=false costs no memory.
 */
import type http from 'node:http';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type express from 'express';
import type { EventBus } from '../bus.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Module } from '../module.ts';
import type { SiteNames } from '../notify/format.ts';
import { Bridge, type AlertsPort, type NotifyPort } from './bridge.ts';
import { writeDefaultFlowIfMissing, writeEmptyCredentialsIfMissing } from './default-flow.ts';
import { ADMIN_ROOT, adminAuth, buildSettings, credentialSecretFrom, loadOrCreateSecret, type EditorAuthPorts } from './settings.ts';

export { ADMIN_ROOT } from './settings.ts';
export type { ParkOpsBridge, AlertEvent } from './bridge.ts';

/** The part of the `node-red` module ParkOps uses (@types/node-red clashes with express 4: ENVIRONMENT.md). */
interface NodeRedRuntime {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly httpAdmin: express.RequestHandler;
  readonly httpNode: express.RequestHandler | undefined;
  readonly events: {
    on(event: string, fn: (...args: unknown[]) => void): void;
    once(event: string, fn: (...args: unknown[]) => void): void;
    removeListener(event: string, fn: (...args: unknown[]) => void): void;
  };
}

/**
 * Node-RED's own info lines (a banner, "Starting flows" on every deploy) are debug detail for ParkOps:
 * at LOG_LEVEL=info they are left out; warnings, errors (flows that throw) and audit lines stay.
 */
function nodeRedLogLevel(level: Config['LOG_LEVEL']): string {
  if (level === 'silent') return 'off';
  if (level === 'debug' || level === 'trace' || level === 'fatal' || level === 'error') return level;
  return 'warn';
}

/** Node-RED keeps its state in module globals: one runtime per process. */
let processClaimed = false;

export interface NodeRedDeps {
  app: express.Express;
  server: http.Server;
  config: Config;
  log: Logger;
  bus: EventBus;
  alerts: AlertsPort;
  /** How the editor signs in: with the ParkOps admin session (auth/nodered-gate.ts). */
  editorAuth: EditorAuthPorts;
  /** Optional: the Notifier, for `parkops-notify` and the default flow's delivery. */
  notifier?: NotifyPort & { attachFlowRoute(): void; detachFlowRoute(): void };
  /** Optional: runs before Node-RED on every `/flows` request: EditorGate.handler() keeps out everyone but admins. */
  editorGate?: express.RequestHandler;
  /** Optional: room names and time zone for message text. */
  site?: SiteNames;
  /** Where flows' http-in nodes are served; false (default) serves none. Such endpoints have no ParkOps auth. */
  httpNodeRoot?: string | false;
  /** Seconds a function node may run synchronously (default 2). */
  functionTimeoutSec?: number;
  /** How long to wait for the flows to start (default 30 s); past it, start() resolves with a warning. */
  flowsStartTimeoutMs?: number;
}

export class NodeRedModule implements Module {
  readonly name = 'node-red';
  private readonly deps: NodeRedDeps;
  private readonly log: Logger;
  private readonly bridge: Bridge;
  private red: NodeRedRuntime | null = null;
  private adminHandler: express.RequestHandler | null = null;
  private nodeHandler: express.RequestHandler | null = null;
  private state: 'idle' | 'starting' | 'running' | 'stopped' = 'idle';
  /** Measured at start: time to flows running, and RSS added (bytes). */
  startup: { ms: number; rssAddedBytes: number } | null = null;

  constructor(deps: NodeRedDeps) {
    this.deps = deps;
    this.log = deps.log.child({ module: 'node-red' });
    this.bridge = new Bridge({
      bus: deps.bus,
      alerts: deps.alerts,
      notifier: deps.notifier,
      site: deps.site,
      webhookUrl: deps.config.PARKOPS_WEBHOOK_URL,
      webhookFormat: deps.config.PARKOPS_WEBHOOK_FORMAT,
      log: this.log,
    });
    // Mounted now, so the route sits before any catch-all the app adds later (the SvelteKit handler).
    // The gate (EditorGate) answers everyone but admins before Node-RED sees the request.
    if (deps.editorGate) deps.app.use(ADMIN_ROOT, deps.editorGate);
    deps.app.use(ADMIN_ROOT, (req, res, next) => {
      if (this.adminHandler) {
        this.adminHandler(req, res, next);
        return;
      }
      const status = this.state === 'starting' ? 503 : 404;
      res.status(status).json({ error: status === 503 ? 'the Node-RED editor is starting' : 'the Node-RED editor is not running (PARKOPS_NODE_RED=false)' });
    });
    const nodeRoot = deps.httpNodeRoot ?? false;
    if (nodeRoot !== false) {
      deps.app.use(nodeRoot, (req, res, next) => {
        if (this.nodeHandler) this.nodeHandler(req, res, next);
        else next();
      });
    }
  }

  /** The bridge the nodes use (for tests and for the lead's wiring checks). */
  get parkopsBridge(): Bridge {
    return this.bridge;
  }

  async start(): Promise<void> {
    const { config } = this.deps;
    if (!config.PARKOPS_NODE_RED) {
      this.log.info('Node-RED is off (PARKOPS_NODE_RED=false)');
      return;
    }
    if (this.state !== 'idle') throw new Error('Node-RED was already started in this process');
    if (processClaimed) throw new Error('Node-RED runs once per process: it cannot be started again after stop()');
    processClaimed = true;
    this.state = 'starting';
    const t0 = performance.now();
    const rss0 = process.memoryUsage().rss;

    const userDir = join(config.dataDir, 'node-red');
    mkdirSync(userDir, { recursive: true, mode: 0o700 });
    if (writeDefaultFlowIfMissing(userDir)) this.log.info({ flowFile: join(userDir, 'flows.json') }, 'first start: wrote the default notification flow');
    const credentialSecret = credentialSecretFrom(loadOrCreateSecret(config.dataDir, this.log));
    writeEmptyCredentialsIfMissing(userDir, credentialSecret);
    const settings = buildSettings({
      userDir,
      credentialSecret,
      // The editor's own token lasts as long as an unused admin session; the gate ends it sooner on sign-out.
      auth: adminAuth(this.deps.editorAuth, this.log, config.PARKOPS_ADMIN_SESSION_IDLE_HOURS * 3600),
      bridge: this.bridge,
      log: this.log,
      logLevel: nodeRedLogLevel(config.LOG_LEVEL),
      httpNodeRoot: this.deps.httpNodeRoot ?? false,
      functionTimeoutSec: this.deps.functionTimeoutSec ?? 2,
    });

    const require = createRequire(import.meta.url);
    const red = require('node-red') as NodeRedRuntime;
    this.red = red;
    this.bridge.attach();
    red.init(this.deps.server, settings);

    let onStarted: (() => void) | null = null;
    let onRuntimeEvent: ((e: unknown) => void) | null = null;
    const flowsStarted = new Promise<boolean>((resolve) => {
      const timeoutMs = this.deps.flowsStartTimeoutMs ?? 30_000;
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        if (onStarted) red.events.removeListener('flows:started', onStarted);
        if (onRuntimeEvent) red.events.removeListener('runtime-event', onRuntimeEvent);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      onStarted = () => finish(true);
      // Missing node types or modules, or safe mode: the flows will not start on their own; do not wait.
      onRuntimeEvent = (e) => {
        const ev = e as { id?: string; payload?: { state?: string; error?: string; type?: string } };
        if (ev.id === 'runtime-state' && ev.payload?.error && (ev.payload.state === 'stop' || ev.payload.state === 'safe')) {
          this.log.warn({ error: ev.payload.error }, 'Node-RED flows cannot start');
          finish(false);
        }
      };
      red.events.once('flows:started', onStarted);
      red.events.on('runtime-event', onRuntimeEvent);
    });
    try {
      await red.start();
    } catch (err) {
      if (onStarted) red.events.removeListener('flows:started', onStarted);
      if (onRuntimeEvent) red.events.removeListener('runtime-event', onRuntimeEvent);
      this.bridge.detach();
      this.state = 'stopped';
      throw new Error(`Node-RED failed to start: ${(err as Error).message}`, { cause: err });
    }
    this.adminHandler = red.httpAdmin;
    this.nodeHandler = red.httpNode ?? null;
    // RED.start() resolves slightly before the flows run (ENVIRONMENT.md).
    const started = await flowsStarted;
    this.state = 'running';
    if (started) {
      this.deps.notifier?.attachFlowRoute();
    } else {
      // Missing node types or a broken flows file: the editor is up to fix it; the core keeps notifying.
      this.log.warn('Node-RED flows did not start; the editor is available to fix them, and ParkOps notifies without flows meanwhile');
      red.events.once('flows:started', () => this.deps.notifier?.attachFlowRoute());
    }
    this.startup = { ms: Math.round(performance.now() - t0), rssAddedBytes: process.memoryUsage().rss - rss0 };
    this.log.info({ startMs: this.startup.ms, rssAddedMb: Math.round(this.startup.rssAddedBytes / 1048576), editor: ADMIN_ROOT }, 'Node-RED running');
  }

  async stop(): Promise<void> {
    if (this.state !== 'running' && this.state !== 'starting') return;
    this.state = 'stopped';
    this.deps.notifier?.detachFlowRoute();
    this.adminHandler = null;
    this.nodeHandler = null;
    this.bridge.detach();
    try {
      await this.red?.stop();
    } catch (err) {
      this.log.warn({ err }, 'Node-RED did not stop cleanly');
    }
  }
}
