/**
 * The notifications module's storage: deliveries (what is to be sent where, with its retry state) and
 * attempts (every try, as the dashboard and the incident timeline show them). This module owns the
 * tables `notification_deliveries` and `notifications`; nothing else reads them: other modules ask the
 * Notifier (`forAlerts`).
 *
 * The interface is async over plain data, so a PostgreSQL implementation can stand beside the SQLite
 * one; the SQLite one runs its statements synchronously inside each method, so a delivery is on disk
 * when `createDelivery` is called. One behaviour suite (repository.suite.ts) holds every implementation
 * to the same rules.
 */
import type { AttemptStatus, DeliveryErrorCode, NotificationAttempt } from '@parkops/contract/notifications.ts';
import type { Db } from '../store/db.ts';
import { migrateDatabase, type ModuleSchema } from '../db/migrations.ts';

export interface NewDelivery {
  alertId: string;
  change: string;
  channel: string;
  /** full URL, secrets included: never returned by the attempt readers */
  target: string;
  body: string;
  /** epoch ms of the first try */
  nextAt: number;
}

/** A delivery still to be tried. */
export interface PendingDelivery extends NewDelivery {
  id: number;
  attempts: number;
}

/** One try, recorded with the delivery's new state in one write: the attempt as readers see it, and when it is tried next. */
export interface AttemptRecord extends Omit<NotificationAttempt, 'id'> {
  /** when the delivery is tried next, while `status` is `retrying` */
  nextAt: number;
}

/** An alert change that reached nobody: kept as a delivery that was never sent and one failed "attempt" 0. */
export interface UnsentRecord {
  alertId: string;
  change: string;
  channel: string;
  error: string;
  errorCode: DeliveryErrorCode;
  at: string;
}

export interface NotificationRepository {
  createDelivery(d: NewDelivery): Promise<number>;
  /** Every delivery still pending, oldest first (resumed at start). */
  pending(): Promise<{ id: number; nextAt: number }[]>;
  /** A pending delivery, or undefined when it is sent, failed or unknown. */
  pendingDelivery(id: number): Promise<PendingDelivery | undefined>;
  /** Records one try and moves the delivery to pending (retrying), sent or failed. Returns the attempt. */
  recordAttempt(a: AttemptRecord): Promise<NotificationAttempt>;
  /** Records that an alert change reached nobody outside the dashboard. */
  recordUnsent(u: UnsentRecord): Promise<NotificationAttempt>;
  /** Newest first, at most `limit`. */
  recent(limit: number, status?: AttemptStatus): Promise<NotificationAttempt[]>;
  /** Every attempt for these alerts, oldest first. */
  forAlerts(alertIds: string[]): Promise<NotificationAttempt[]>;
  /** Deliveries still pending; failures and unsent changes since `sinceIso`; the last failure. */
  stats(sinceIso: string): Promise<{ pending: number; failedSince: number; unsentSince: number; lastFailure: NotificationAttempt | null }>;
  /**
   * Retention: empties the bodies of at most `limit` deliveries settled (sent or given up) before
   * `cutoffMs`. The delivery and its attempt rows stay for the incident timeline; a pending delivery
   * keeps its body (it is still to be sent). Returns how many.
   */
  pruneBodiesBefore(cutoffMs: number, limit: number): Promise<number>;
  /** Retention: deletes at most `limit` settled deliveries last changed before `cutoffMs`, with their attempt rows. */
  pruneBefore(cutoffMs: number, limit: number): Promise<number>;
}

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS notification_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL,
  change TEXT NOT NULL,
  channel TEXT NOT NULL,
  target TEXT NOT NULL,          -- full URL, secrets included: never returned by the readers
  body TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,      -- epoch ms of the next try while pending
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notification_deliveries_pending ON notification_deliveries (state, next_at);
CREATE TABLE IF NOT EXISTS notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id INTEGER NOT NULL REFERENCES notification_deliveries (id),
  alert_id TEXT NOT NULL,
  change TEXT NOT NULL,
  channel TEXT NOT NULL,
  target TEXT NOT NULL,          -- redacted
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sent', 'retrying', 'failed')),
  http_status INTEGER,
  error TEXT,
  at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_alert ON notifications (alert_id, id);
`;

/** Why an attempt failed, as a code the dashboard words in the reader's language. */
const SCHEMA_V2 = `ALTER TABLE notifications ADD COLUMN error_code TEXT;`;

/** The notifications module's migrations (db/migrations.ts). */
export const NOTIFY_SCHEMA: ModuleSchema = {
  module: 'notify',
  migrations: [
    { version: 1, description: 'notification deliveries and attempts', up: SCHEMA_V1 },
    { version: 2, description: 'why an attempt failed, as a code', up: SCHEMA_V2 },
  ],
};

interface AttemptRow {
  id: number;
  delivery_id: number;
  alert_id: string;
  change: string;
  channel: string;
  target: string;
  attempt: number;
  status: AttemptStatus;
  http_status: number | null;
  error: string | null;
  error_code: DeliveryErrorCode | null;
  at: string;
  duration_ms: number;
}

function toAttempt(r: AttemptRow): NotificationAttempt {
  return {
    id: r.id,
    deliveryId: r.delivery_id,
    alertId: r.alert_id,
    change: r.change,
    channel: r.channel,
    target: r.target,
    attempt: r.attempt,
    status: r.status,
    httpStatus: r.http_status,
    error: r.error,
    errorCode: r.error_code,
    at: r.at,
    durationMs: r.duration_ms,
  };
}

/** At most this many alert ids per statement (SQLite's default limit of bound parameters is far above). */
const IDS_PER_QUERY = 500;

export class SqliteNotificationRepository implements NotificationRepository {
  private readonly stmts;

  constructor(private readonly db: Db) {
    migrateDatabase(db, [NOTIFY_SCHEMA]);
    this.stmts = {
      create: db.prepare(
        "INSERT INTO notification_deliveries (alert_id, change, channel, target, body, state, attempts, next_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
      ),
      pending: db.prepare("SELECT id, next_at FROM notification_deliveries WHERE state = 'pending' ORDER BY id"),
      pendingOne: db.prepare("SELECT id, alert_id, change, channel, target, body, attempts, next_at FROM notification_deliveries WHERE id = ? AND state = 'pending'"),
      attempt: db.prepare(
        'INSERT INTO notifications (delivery_id, alert_id, change, channel, target, attempt, status, http_status, error, error_code, at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      moveDelivery: db.prepare('UPDATE notification_deliveries SET state = ?, attempts = ?, next_at = ?, updated_at = ? WHERE id = ?'),
      unsentDelivery: db.prepare(
        "INSERT INTO notification_deliveries (alert_id, change, channel, target, body, state, attempts, next_at, created_at, updated_at) VALUES (?, ?, ?, '', '', 'failed', 0, ?, ?, ?)",
      ),
      byId: db.prepare('SELECT * FROM notifications WHERE id = ?'),
      recent: db.prepare('SELECT * FROM notifications ORDER BY id DESC LIMIT ?'),
      recentByStatus: db.prepare('SELECT * FROM notifications WHERE status = ? ORDER BY id DESC LIMIT ?'),
      pendingCount: db.prepare("SELECT count(*) AS n FROM notification_deliveries WHERE state = 'pending'"),
      failedSince: db.prepare("SELECT count(*) AS n FROM notifications WHERE status = 'failed' AND attempt > 0 AND at >= ?"),
      unsentSince: db.prepare("SELECT count(*) AS n FROM notifications WHERE attempt = 0 AND at >= ?"),
      lastFailure: db.prepare("SELECT * FROM notifications WHERE status = 'failed' AND attempt > 0 ORDER BY id DESC LIMIT 1"),
    };
  }

  async createDelivery(d: NewDelivery): Promise<number> {
    const iso = new Date(d.nextAt).toISOString();
    return Number(this.stmts.create.run(d.alertId, d.change, d.channel, d.target, d.body, d.nextAt, iso, iso).lastInsertRowid);
  }

  async pending(): Promise<{ id: number; nextAt: number }[]> {
    return (this.stmts.pending.all() as { id: number; next_at: number }[]).map((r) => ({ id: r.id, nextAt: r.next_at }));
  }

  async pendingDelivery(id: number): Promise<PendingDelivery | undefined> {
    const r = this.stmts.pendingOne.get(id) as { id: number; alert_id: string; change: string; channel: string; target: string; body: string; attempts: number; next_at: number } | undefined;
    return r ? { id: r.id, alertId: r.alert_id, change: r.change, channel: r.channel, target: r.target, body: r.body, attempts: r.attempts, nextAt: r.next_at } : undefined;
  }

  async recordAttempt(a: AttemptRecord): Promise<NotificationAttempt> {
    const id = this.db.transaction(() => {
      const info = this.stmts.attempt.run(a.deliveryId, a.alertId, a.change, a.channel, a.target, a.attempt, a.status, a.httpStatus, a.error, a.errorCode, a.at, a.durationMs);
      this.stmts.moveDelivery.run(a.status === 'retrying' ? 'pending' : a.status, a.attempt, a.nextAt, a.at, a.deliveryId);
      return Number(info.lastInsertRowid);
    })();
    return toAttempt(this.stmts.byId.get(id) as AttemptRow);
  }

  async recordUnsent(u: UnsentRecord): Promise<NotificationAttempt> {
    const id = this.db.transaction(() => {
      const at = Date.parse(u.at);
      const delivery = Number(this.stmts.unsentDelivery.run(u.alertId, u.change, u.channel, at, u.at, u.at).lastInsertRowid);
      return Number(this.stmts.attempt.run(delivery, u.alertId, u.change, u.channel, '', 0, 'failed', null, u.error, u.errorCode, u.at, 0).lastInsertRowid);
    })();
    return toAttempt(this.stmts.byId.get(id) as AttemptRow);
  }

  async recent(limit: number, status?: AttemptStatus): Promise<NotificationAttempt[]> {
    const rows = status ? this.stmts.recentByStatus.all(status, limit) : this.stmts.recent.all(limit);
    return (rows as AttemptRow[]).map(toAttempt);
  }

  async forAlerts(alertIds: string[]): Promise<NotificationAttempt[]> {
    const ids = [...new Set(alertIds)];
    const out: AttemptRow[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const part = ids.slice(i, i + IDS_PER_QUERY);
      out.push(...(this.db.prepare(`SELECT * FROM notifications WHERE alert_id IN (${part.map(() => '?').join(',')})`).all(...part) as AttemptRow[]));
    }
    return out.sort((a, b) => a.id - b.id).map(toAttempt);
  }

  async stats(sinceIso: string): Promise<{ pending: number; failedSince: number; unsentSince: number; lastFailure: NotificationAttempt | null }> {
    const last = this.stmts.lastFailure.get() as AttemptRow | undefined;
    return {
      pending: (this.stmts.pendingCount.get() as { n: number }).n,
      failedSince: (this.stmts.failedSince.get(sinceIso) as { n: number }).n,
      unsentSince: (this.stmts.unsentSince.get(sinceIso) as { n: number }).n,
      lastFailure: last ? toAttempt(last) : null,
    };
  }

  async pruneBodiesBefore(cutoffMs: number, limit: number): Promise<number> {
    const cutoff = new Date(cutoffMs).toISOString();
    return this.db.prepare("UPDATE notification_deliveries SET body = '' WHERE id IN (SELECT id FROM notification_deliveries WHERE state <> 'pending' AND updated_at < ? AND body <> '' ORDER BY id LIMIT ?)").run(cutoff, limit).changes;
  }

  async pruneBefore(cutoffMs: number, limit: number): Promise<number> {
    const cutoff = new Date(cutoffMs).toISOString();
    const ids = this.db.prepare("SELECT id FROM notification_deliveries WHERE state <> 'pending' AND updated_at < ? ORDER BY id LIMIT ?").pluck().all(cutoff, limit) as number[];
    if (ids.length === 0) return 0;
    const marks = ids.map(() => '?').join(',');
    return this.db.transaction(() => {
      this.db.prepare(`DELETE FROM notifications WHERE delivery_id IN (${marks})`).run(...ids);
      return this.db.prepare(`DELETE FROM notification_deliveries WHERE id IN (${marks}) AND state <> 'pending'`).run(...ids).changes;
    })();
  }
}
