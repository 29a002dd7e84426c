/**
 * Web Push subscriptions, one per browser a responder enabled notifications in (W3C Push API
 * `PushSubscription.toJSON()`: `{endpoint, expirationTime, keys: {p256dh, auth}}`). This module owns
 * the `push_subscriptions` table; the repository interface has nothing SQLite-specific in it.
 *
 * A subscription is made for one application server key (VAPID public key). It is kept with it: when
 * the keys change, old subscriptions can no longer be sent to and are dropped, and the dashboard
 * subscribes again with the new key.
 */
import { createECDH } from 'node:crypto';
import type { Db } from '../store/db.ts';
import { migrateDatabase, type ModuleSchema } from '../db/migrations.ts';

export interface PushSubscriptionInput {
  endpoint: string;
  /** epoch ms after which the push service drops it, when the browser says so */
  expirationTime: number | null;
  keys: { p256dh: string; auth: string };
}

export interface StoredPushSubscription extends PushSubscriptionInput {
  id: number;
  username: string;
  /** the VAPID public key it was made for */
  serverKey: string;
  userAgent: string | null;
  createdAt: string;
  lastSentAt: string | null;
}

/** Async over plain data, so a PostgreSQL implementation can stand beside the SQLite one (push-subscriptions.suite.ts). */
export interface PushSubscriptionRepository {
  /** Adds, or moves an endpoint to `username` (the same browser signed in as someone else). */
  save(username: string, sub: PushSubscriptionInput, serverKey: string, userAgent: string | null, at: string): Promise<{ subscription: StoredPushSubscription; created: boolean }>;
  byEndpoint(endpoint: string): Promise<StoredPushSubscription | undefined>;
  forUser(username: string): Promise<StoredPushSubscription[]>;
  all(): Promise<StoredPushSubscription[]>;
  /** Removes one endpoint (of `username` only, when given); true when there was one. */
  remove(endpoint: string, username?: string): Promise<boolean>;
  markSent(endpoint: string, at: string): Promise<void>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS push_subscriptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL,
  endpoint TEXT NOT NULL UNIQUE,   -- the push service URL; a capability, shown only redacted
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  expiration_time INTEGER,
  server_key TEXT NOT NULL,
  user_agent TEXT,
  created_at TEXT NOT NULL,
  last_sent_at TEXT
);
CREATE INDEX IF NOT EXISTS push_subscriptions_user ON push_subscriptions (username);
`;

interface Row {
  id: number;
  username: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  expiration_time: number | null;
  server_key: string;
  user_agent: string | null;
  created_at: string;
  last_sent_at: string | null;
}

/** Web Push subscriptions' migrations (db/migrations.ts). */
export const PUSH_SCHEMA: ModuleSchema = { module: 'push', migrations: [{ version: 1, description: 'Web Push subscriptions', up: SCHEMA }] };

const toSubscription = (r: Row): StoredPushSubscription => ({
  id: r.id,
  username: r.username,
  endpoint: r.endpoint,
  expirationTime: r.expiration_time,
  keys: { p256dh: r.p256dh, auth: r.auth },
  serverKey: r.server_key,
  userAgent: r.user_agent,
  createdAt: r.created_at,
  lastSentAt: r.last_sent_at,
});

export class SqlitePushSubscriptions implements PushSubscriptionRepository {
  constructor(private readonly db: Db) {
    migrateDatabase(db, [PUSH_SCHEMA]);
  }

  async save(username: string, sub: PushSubscriptionInput, serverKey: string, userAgent: string | null, at: string): Promise<{ subscription: StoredPushSubscription; created: boolean }> {
    return this.db.transaction(() => {
      const existing = this.get(sub.endpoint);
      this.db
        .prepare(
          `INSERT INTO push_subscriptions (username, endpoint, p256dh, auth, expiration_time, server_key, user_agent, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (endpoint) DO UPDATE SET username = excluded.username, p256dh = excluded.p256dh, auth = excluded.auth,
             expiration_time = excluded.expiration_time, server_key = excluded.server_key, user_agent = excluded.user_agent`,
        )
        .run(username, sub.endpoint, sub.keys.p256dh, sub.keys.auth, sub.expirationTime, serverKey, userAgent, at);
      return { subscription: this.get(sub.endpoint)!, created: existing === undefined };
    })();
  }

  private get(endpoint: string): StoredPushSubscription | undefined {
    const r = this.db.prepare('SELECT * FROM push_subscriptions WHERE endpoint = ?').get(endpoint) as Row | undefined;
    return r ? toSubscription(r) : undefined;
  }

  async byEndpoint(endpoint: string): Promise<StoredPushSubscription | undefined> {
    return this.get(endpoint);
  }

  async forUser(username: string): Promise<StoredPushSubscription[]> {
    return (this.db.prepare('SELECT * FROM push_subscriptions WHERE username = ? ORDER BY id').all(username) as Row[]).map(toSubscription);
  }

  async all(): Promise<StoredPushSubscription[]> {
    return (this.db.prepare('SELECT * FROM push_subscriptions ORDER BY id').all() as Row[]).map(toSubscription);
  }

  async remove(endpoint: string, username?: string): Promise<boolean> {
    const info =
      username === undefined
        ? this.db.prepare('DELETE FROM push_subscriptions WHERE endpoint = ?').run(endpoint)
        : this.db.prepare('DELETE FROM push_subscriptions WHERE endpoint = ? AND username = ?').run(endpoint, username);
    return info.changes > 0;
  }

  async markSent(endpoint: string, at: string): Promise<void> {
    this.db.prepare('UPDATE push_subscriptions SET last_sent_at = ? WHERE endpoint = ?').run(at, endpoint);
  }
}

const MAX_ENDPOINT_LENGTH = 2048;

/**
 * The browsers' push services (the hosts their PushManager hands out endpoints for): Chrome and most
 * Android browsers use Firebase Cloud Messaging, Firefox Mozilla's autopush, Safari Apple's web push,
 * Edge the Windows Push Notification Services (a regional *.notify.windows.com host). ParkOps POSTs to a
 * subscription's endpoint, so any other host (an internal address, a metadata service) is refused unless
 * the administrator allows it (PARKOPS_PUSH_ALLOW_HOSTS): otherwise a responder account could make
 * ParkOps send requests anywhere.
 */
export const KNOWN_PUSH_HOSTS: readonly string[] = ['fcm.googleapis.com', 'updates.push.services.mozilla.com', 'web.push.apple.com', '*.notify.windows.com'];

/** `host` matches `pattern`: equal, or `*.example.com` for any name under example.com (not example.com itself). */
function hostMatches(host: string, pattern: string): boolean {
  const p = pattern.toLowerCase();
  return p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p;
}

/** Null when pushes may go to this endpoint's host, else why not (naming the setting). */
export function pushHostProblem(endpoint: string, extraHosts: readonly string[] = []): string | null {
  let host: string;
  try {
    host = new URL(endpoint).hostname.toLowerCase();
  } catch {
    return 'endpoint: not a URL';
  }
  if ([...KNOWN_PUSH_HOSTS, ...extraHosts].some((p) => hostMatches(host, p))) return null;
  return `endpoint: ${host} is not a known browser push service (FCM, Mozilla, Apple, Windows); an administrator can allow it with PARKOPS_PUSH_ALLOW_HOSTS`;
}
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** base64url as browsers write it; padding and the standard alphabet are accepted too. */
function decodeKey(v: unknown): Buffer | null {
  if (typeof v !== 'string' || v.length === 0 || v.length > 200 || !/^[A-Za-z0-9_\-+/]+={0,2}$/.test(v)) return null;
  return Buffer.from(v.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
}

/**
 * Checks a `PushSubscription.toJSON()` body, naming the field that is wrong. The endpoint is where
 * ParkOps will POST, so it must be https (every browser push service is); plain http only on loopback,
 * for a push relay on the same machine.
 */
export function parsePushSubscription(input: unknown): { ok: true; value: PushSubscriptionInput } | { ok: false; error: string } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return { ok: false, error: 'the body must be a PushSubscription JSON object: {"endpoint", "keys": {"p256dh", "auth"}}' };
  const o = input as Record<string, unknown>;
  if (typeof o.endpoint !== 'string' || o.endpoint.length === 0) return { ok: false, error: 'endpoint: required, the push service URL' };
  if (o.endpoint.length > MAX_ENDPOINT_LENGTH) return { ok: false, error: `endpoint: at most ${MAX_ENDPOINT_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(o.endpoint);
  } catch {
    return { ok: false, error: 'endpoint: not a URL' };
  }
  if (url.username || url.password) return { ok: false, error: 'endpoint: must not carry a user name or password' };
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) return { ok: false, error: 'endpoint: must be an https:// URL' };
  const exp = o.expirationTime;
  if (exp !== undefined && exp !== null && (typeof exp !== 'number' || !Number.isFinite(exp) || exp < 0)) return { ok: false, error: 'expirationTime: must be null or epoch milliseconds' };
  const keys = o.keys;
  if (keys === null || typeof keys !== 'object' || Array.isArray(keys)) return { ok: false, error: 'keys: required, {"p256dh", "auth"}' };
  const k = keys as Record<string, unknown>;
  const p256dh = decodeKey(k.p256dh);
  // RFC 8291 section 2: p256dh is the user agent's uncompressed P-256 point, auth a 16-byte secret.
  if (!p256dh || p256dh.length !== 65 || p256dh[0] !== 4) return { ok: false, error: 'keys.p256dh: must be a base64url uncompressed P-256 public key (65 bytes)' };
  try {
    const probe = createECDH('prime256v1');
    probe.generateKeys();
    probe.computeSecret(p256dh);
  } catch {
    return { ok: false, error: 'keys.p256dh: not a point on the P-256 curve' };
  }
  const auth = decodeKey(k.auth);
  if (!auth || auth.length !== 16) return { ok: false, error: 'keys.auth: must be a base64url 16-byte secret' };
  return {
    ok: true,
    value: { endpoint: o.endpoint, expirationTime: typeof exp === 'number' ? exp : null, keys: { p256dh: p256dh.toString('base64url'), auth: auth.toString('base64url') } },
  };
}
