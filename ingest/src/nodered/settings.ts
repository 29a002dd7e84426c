/**
 * Node-RED runtime settings for the embedded editor. The editor runs code (function and exec nodes),
 * so it is closed to everyone but ParkOps admins and cannot install anything:
 *
 * - `adminAuth` type `strategy`: the editor signs in with the ParkOps admin session (no second login);
 *   `users` answers only for admins; no `default`, so requests without a token get 401.
 * - No palette manager, no npm installs, no external modules in function nodes.
 * - No http-in endpoints unless the embedder asks for a root (`httpNodeRoot` false by default).
 * - Telemetry, update checks, diagnostics and the runtime start/stop switch are off.
 * - Function nodes without their own timeout are stopped after `globalFunctionTimeout` s (a vm
 *   timeout), so a synchronous endless loop in a flow cannot stall ingest for long.
 * - Flows, credentials and sessions live in `<dataDir>/node-red`; credentials are encrypted with a key
 *   derived from a secret generated once into `<dataDir>/node-red.secret` (mode 0600).
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.ts';
import type { ParkOpsBridge } from './bridge.ts';

export const NODES_DIR = fileURLToPath(new URL('./nodes', import.meta.url));
export const ADMIN_ROOT = '/flows';

export interface AdminUser {
  username: string;
  permissions: '*';
}

/** What the editor's sign-in asks of ParkOps (auth/nodered-gate.ts implements it). */
export interface EditorAuthPorts {
  sessionAdmin(req: IncomingMessage): Promise<string | null>;
  isAdmin(username: string): Promise<boolean>;
  tokenAdmin(token: string): Promise<string | null>;
}

/** Reads the secret, or creates it once (32 random bytes, hex, mode 0600). */
export function loadOrCreateSecret(dataDir: string, log: Logger): string {
  const file = join(dataDir, 'node-red.secret');
  try {
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    log.info({ file }, 'generated the Node-RED credential secret');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    chmodSync(file, 0o600);
    log.warn({ file, mode: mode.toString(8) }, 'the Node-RED secret was readable by others; set it to 0600');
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) throw new Error(`${file}: the Node-RED secret is too short; delete the file to make a new one (stored flow credentials are then lost)`);
  return secret;
}

/** Node-RED's key is derived, so the raw secret file could serve other purposes without reuse. */
export function credentialSecretFrom(secret: string): string {
  return createHmac('sha256', secret).update('parkops/node-red/credentialSecret').digest('hex');
}

/**
 * A passport strategy (passport calls `authenticate` on a copy that has success/fail/error): signs the
 * editor in with the admin's ParkOps session cookie, so an admin who is signed in to the dashboard
 * opens /flows without a second login. Written without passport itself: Node-RED brings it.
 */
const STRATEGY_NAME = 'parkops';

class ParkOpsSessionStrategy {
  readonly name = STRATEGY_NAME;
  declare success: (user: unknown, info?: unknown) => void;
  declare fail: (status?: number) => void;
  declare error: (err: unknown) => void;
  constructor(
    private readonly options: { sessionAdmin: EditorAuthPorts['sessionAdmin'] },
    private readonly verify: (profile: { username: string }, done: (err: unknown, user?: unknown) => void) => void,
  ) {}
  authenticate(req: IncomingMessage): void {
    this.options.sessionAdmin(req).then(
      (username) => {
        if (username === null) return this.fail(403);
        this.verify({ username }, (err, user) => (err ? this.error(err) : user ? this.success(user) : this.fail(403)));
      },
      (err: unknown) => this.error(err),
    );
  }
}

/**
 * Node-RED's adminAuth, type `strategy` with `autoLogin`: the editor sends a browser without an editor
 * token to /flows/auth/strategy, which trusts the ParkOps session (above) and hands back an editor
 * token. There is no password form. `users` is asked on every editor request and answers only for an
 * enabled admin; `tokens` lets a ParkOps admin API token use the admin API (scripts, node-red-admin).
 * No `default`, so a request without a token gets 401. None of them throws (a rejection inside
 * Node-RED's passport chain would leave the request hanging).
 */
export function adminAuth(ports: EditorAuthPorts, log: Logger, sessionExpirySec: number) {
  const admin = (username: string): AdminUser => ({ username, permissions: '*' });
  return {
    type: 'strategy' as const,
    sessionExpiryTime: Math.round(sessionExpirySec),
    strategy: {
      name: STRATEGY_NAME,
      label: 'ParkOps',
      autoLogin: true,
      strategy: ParkOpsSessionStrategy,
      options: { sessionAdmin: (req: IncomingMessage) => ports.sessionAdmin(req) },
    },
    async users(username: string): Promise<AdminUser | null> {
      try {
        return (await ports.isAdmin(username)) ? admin(username) : null;
      } catch (err) {
        log.error({ err, username }, 'Node-RED user lookup failed');
        return null;
      }
    },
    async tokens(token: string): Promise<AdminUser | null> {
      try {
        const username = await ports.tokenAdmin(token);
        return username === null ? null : admin(username);
      } catch (err) {
        log.error({ err }, 'Node-RED token check failed');
        return null;
      }
    },
  };
}

/** Node-RED log levels (@node-red/util log.js) to pino. */
const LEVELS: Record<number, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'> = { 10: 'fatal', 20: 'error', 30: 'warn', 40: 'info', 50: 'debug', 60: 'trace' };
const AUDIT = 98;

interface NodeRedLogMsg {
  level: number;
  msg?: unknown;
  type?: string;
  id?: string;
  name?: string;
  event?: string;
  username?: string;
  path?: string;
  ip?: string;
}

export function logHandler(log: Logger) {
  return () => (m: NodeRedLogMsg) => {
    if (m.level === AUDIT) {
      // Logins, failed logins and deploys are audit events worth keeping; reads of the editor are not.
      if (m.event && /^(auth\.|flows\.set|nodes\.|library\.set|permission\.fail)/.test(m.event)) {
        log.info({ audit: m.event, user: m.username, ip: m.ip, path: m.path }, 'Node-RED audit');
      }
      return;
    }
    const level = LEVELS[m.level];
    if (!level) return;
    const text = m.msg instanceof Error ? m.msg.message : typeof m.msg === 'string' ? m.msg : JSON.stringify(m.msg);
    log[level]({ node: m.type ? { type: m.type, id: m.id, name: m.name } : undefined }, text);
  };
}

export function buildSettings(opts: {
  userDir: string;
  credentialSecret: string;
  auth: ReturnType<typeof adminAuth>;
  bridge: ParkOpsBridge;
  log: Logger;
  logLevel: string;
  httpNodeRoot: string | false;
  functionTimeoutSec: number;
}): Record<string, unknown> {
  return {
    userDir: opts.userDir,
    flowFile: 'flows.json',
    flowFilePretty: true,
    credentialSecret: opts.credentialSecret,
    httpAdminRoot: ADMIN_ROOT,
    httpNodeRoot: opts.httpNodeRoot,
    adminAuth: opts.auth,
    nodesDir: [NODES_DIR],
    parkops: opts.bridge,
    functionGlobalContext: {},
    exportGlobalContextKeys: false,
    functionExternalModules: false,
    functionTimeout: opts.functionTimeoutSec,
    globalFunctionTimeout: opts.functionTimeoutSec,
    externalModules: {
      autoInstall: false,
      palette: { allowInstall: false, allowUpdate: false, allowUpload: false },
      modules: { allowInstall: false },
    },
    editorTheme: {
      page: { title: 'ParkOps · Node-RED' },
      header: { title: 'ParkOps flows' },
      // `palette.editable` is deprecated in Node-RED 4: externalModules.palette above closes the palette manager.
      // Projects stay off (the default). `enabled: false` would only add a warning to every start.
      projects: {},
      tours: false,
    },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    logging: {
      parkops: { level: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(opts.logLevel) ? opts.logLevel : 'off', metrics: false, audit: true, handler: logHandler(opts.log) },
    },
  };
}
