/**
 * Node-RED runtime settings for the embedded editor. The editor runs code (function and exec nodes),
 * so it is closed to everyone but ParkOps admins and cannot install anything:
 *
 * - `adminAuth` type `credentials`: `authenticate` asks ParkOps (`verifyAdmin`, admins only); `users`
 *   answers only for admins; no `default`, so anonymous requests get 401 (issue 3, item 5).
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

export interface AuthPorts {
  verifyAdmin: (username: string, password: string) => Promise<{ username: string; role: string } | null>;
  /** The user's current role, or null when there is no such user. Without it, an admin's editor token is honoured for as long as the process knows they logged in as admin. */
  userRole?: ((username: string) => Promise<string | null>) | undefined;
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
 * `users` is called on every editor request with a token: it says who the token's user is now.
 * `authenticate` is the login. Both return null for anyone who is not an admin, and never throw
 * (a rejection inside Node-RED's passport chain would leave the request hanging).
 */
export function adminAuth(ports: AuthPorts, log: Logger, sessionExpirySec: number) {
  /** Admins who logged in to the editor during this process (used when there is no `userRole`). */
  const knownAdmins = new Map<string, number>();
  return {
    type: 'credentials' as const,
    sessionExpiryTime: Math.round(sessionExpirySec),
    async users(username: string): Promise<AdminUser | null> {
      try {
        if (ports.userRole) {
          return (await ports.userRole(username)) === 'admin' ? { username, permissions: '*' } : null;
        }
        const until = knownAdmins.get(username);
        return until !== undefined && until > Date.now() ? { username, permissions: '*' } : null;
      } catch (err) {
        log.error({ err, username }, 'Node-RED user lookup failed');
        return null;
      }
    },
    async authenticate(username: unknown, password: unknown): Promise<AdminUser | null> {
      if (typeof username !== 'string' || typeof password !== 'string') return null;
      try {
        const user = await ports.verifyAdmin(username, password);
        if (!user || user.role !== 'admin') return null;
        knownAdmins.set(user.username, Date.now() + sessionExpirySec * 1000);
        return { username: user.username, permissions: '*' };
      } catch (err) {
        log.error({ err, username }, 'Node-RED login check failed');
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
