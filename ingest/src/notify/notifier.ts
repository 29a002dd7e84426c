/**
 * Webhook delivery for alert changes: durable, retried with exponential backoff, every attempt recorded.
 *
 * Routes (docs/node-red.md explains the choice):
 * - The settings webhook (PARKOPS_WEBHOOK_URL). While the Node-RED flow route is attached (the default
 *   flow runs `parkops-alert` -> format -> `parkops-notify`), flows decide what goes there and hand each
 *   message to `handOff`. Without Node-RED the Notifier sends every change itself. Either way a critical
 *   change that no flow handed off within `handoffGraceMs` is sent by the core anyway: a broken or
 *   deleted flow cannot silence a flood alarm.
 * - Escalation contacts (site `notifications.escalationContacts`): always sent by the core on `escalated`.
 * - Channels (channels/: WeCom, signed DingTalk and Feishu robots, Web Push): always sent by the core,
 *   whatever the flows do; each channel signs or encrypts at send time (`Channel.send`).
 *
 * A delivery is a row in `notification_deliveries` before any HTTP happens, so a restart resumes pending
 * retries. Each try is a row in `notifications` (the incident timeline and the dashboard read these).
 * Nothing here blocks the bus: the listener only inserts a row; HTTP runs on timers with a hard timeout.
 */
import type { Router } from 'express';
import { asyncRouter } from '../api/async-routes.ts';
import type { Alert } from '../contract/api.ts';
import type { EventBus, AlertChanged } from '../bus.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { systemClock, type Clock, type Module } from '../module.ts';
import type { Db } from '../store/db.ts';
import { migrateDatabase, type ModuleSchema } from '../db/migrations.ts';
import { buildBody, describeAlert, pickFormat, redactTarget, type SiteNames, type WebhookFormat } from './format.ts';
import { postJson } from './http-post.ts';
import type { Channel, ChannelDelivery } from './channels/types.ts';

export type AttemptStatus = 'sent' | 'retrying' | 'failed';

/** One delivery attempt, as the dashboard and the incident timeline show it. */
export interface NotificationAttempt {
  id: number;
  deliveryId: number;
  alertId: string;
  change: string;
  /**
   * `webhook` (core, settings URL), `node-red` (handed off by a flow), `escalation`, `fallback` (core,
   * after no flow handed off a critical change), or a channel's name (`wecom`, `dingtalk`, `feishu`, `webpush`).
   */
  channel: string;
  /** The URL with its secrets masked. */
  target: string;
  attempt: number;
  status: AttemptStatus;
  httpStatus: number | null;
  error: string | null;
  at: string;
  durationMs: number;
}

export interface NotifySite extends SiteNames {
  notifications: { escalationContacts: string[] };
}

export interface NotifierOptions {
  /** Per attempt, headers and body included. */
  timeoutMs: number;
  maxAttempts: number;
  /** Backoff before try n+1 is baseDelayMs * 2^(n-1), capped at maxDelayMs, with ±jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** 0..1: share of the delay randomised, so many deliveries do not retry in lock-step. */
  jitter: number;
  /** How many POSTs may be in flight at once. */
  concurrency: number;
  /** How long a critical change may wait for a flow's hand-off before the core sends it. */
  handoffGraceMs: number;
  /** The alert changes worth a message; others (`updated`) are not sent by the core. */
  changes: string[];
  /** Send critical changes no flow handed off (true). False trusts the flows completely. */
  criticalFallback: boolean;
}

/** Alert changes that notify people (alerts/types.ts AlertChange, without `updated`). */
export const NOTIFY_CHANGES = ['opened', 'worsened', 'acknowledged', 'renotified', 'escalated', 'resolved'];

export const DEFAULT_NOTIFIER_OPTIONS: NotifierOptions = {
  timeoutMs: 10_000,
  maxAttempts: 6,
  baseDelayMs: 5_000,
  maxDelayMs: 5 * 60_000,
  jitter: 0.2,
  concurrency: 4,
  handoffGraceMs: 15_000,
  changes: NOTIFY_CHANGES,
  criticalFallback: true,
};

/** What a flow hands to the Notifier (`parkops-notify` node). */
export interface HandOff {
  /** Empty for a message that is not about one alert. */
  alertId?: string | undefined;
  /** Missing: `message`. */
  change?: string | undefined;
  /** Empty or missing: the settings webhook. */
  target?: string | undefined;
  /** The request body; a string is sent as is, anything else as JSON. */
  body: unknown;
}

interface DeliveryRow {
  id: number;
  alert_id: string;
  change: string;
  channel: string;
  target: string;
  body: string;
  attempts: number;
  next_at: number;
}

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
  at: string;
  duration_ms: number;
}

const SCHEMA = `
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

/** The notifications module's migrations (db/migrations.ts). */
export const NOTIFY_SCHEMA: ModuleSchema = { module: 'notify', migrations: [{ version: 1, description: 'notification deliveries and attempts', up: SCHEMA }] };

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
    at: r.at,
    durationMs: r.duration_ms,
  };
}

export class Notifier implements Module {
  readonly name = 'notify';
  private readonly db: Db;
  private readonly bus: EventBus;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly site: NotifySite | undefined;
  readonly options: NotifierOptions;

  private unsubscribe: (() => void) | null = null;
  private running = false;
  private stopController = new AbortController();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly ready: number[] = [];
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly graceTimers = new Set<NodeJS.Timeout>();
  /** alertId + change -> when a flow last handed it off (epoch ms). */
  private readonly handOffs = new Map<string, number>();
  private flowRoute = false;
  private readonly attemptListeners = new Set<(a: NotificationAttempt) => void>();
  private readonly channels = new Map<string, Channel>();

  constructor(deps: { db: Db; bus: EventBus; config: Config; log: Logger; clock?: Clock; site?: NotifySite; options?: Partial<NotifierOptions>; channels?: Channel[] }) {
    this.db = deps.db;
    this.bus = deps.bus;
    this.config = deps.config;
    this.log = deps.log.child({ module: 'notify' });
    this.clock = deps.clock ?? systemClock;
    this.site = deps.site;
    this.options = { ...DEFAULT_NOTIFIER_OPTIONS, ...deps.options };
    for (const c of deps.channels ?? []) this.channels.set(c.name, c);
    migrateDatabase(this.db, [NOTIFY_SCHEMA]);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopController = new AbortController();
    this.unsubscribe = this.bus.on('alert.changed', (e) => this.onAlertChanged(e));
    // Resume what a previous run left pending; their times come from the database.
    const pending = this.db.prepare("SELECT id, next_at FROM notification_deliveries WHERE state = 'pending' ORDER BY id").all() as { id: number; next_at: number }[];
    for (const p of pending) this.schedule(p.id, p.next_at);
    if (pending.length > 0) this.log.info({ pending: pending.length }, 'resuming pending notifications');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const t of this.graceTimers) clearTimeout(t);
    this.graceTimers.clear();
    this.ready.length = 0;
    // In-flight POSTs are cut short; their deliveries stay pending and resume on the next start.
    this.stopController.abort();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Node-RED calls this once its flows run (and detaches on stop): flows then route the settings webhook. */
  attachFlowRoute(): void {
    this.flowRoute = true;
  }
  detachFlowRoute(): void {
    this.flowRoute = false;
  }

  /** The settings webhook and its format, for the default flow's formatting step. */
  settingsWebhook(): { url: string | null; format: WebhookFormat } {
    const url = this.config.PARKOPS_WEBHOOK_URL ?? null;
    return { url, format: url ? pickFormat(url, this.config.PARKOPS_WEBHOOK_FORMAT) : 'json' };
  }

  /**
   * A flow's message for a webhook. Stored before it returns, delivered later with retries; throws
   * (with a message for the flow's debug panel) when there is nowhere to send it.
   */
  handOff(h: HandOff): number {
    const target = h.target && h.target.trim() !== '' ? h.target.trim() : this.config.PARKOPS_WEBHOOK_URL;
    if (!target) throw new Error('no webhook URL: set PARKOPS_WEBHOOK_URL or give the node a URL');
    let protocol = '';
    try {
      protocol = new URL(target).protocol;
    } catch {
      throw new Error(`not a URL: ${redactTarget(target)}`);
    }
    if (protocol !== 'http:' && protocol !== 'https:') throw new Error('the webhook URL must start with http:// or https://');
    // A flow may send things that are not about one alert (a reading tap, a daily summary).
    const alertId = typeof h.alertId === 'string' ? h.alertId : '';
    const change = typeof h.change === 'string' && h.change !== '' ? h.change : 'message';
    if (alertId) this.noteHandOff(alertId, change);
    const body = typeof h.body === 'string' ? h.body : JSON.stringify(h.body ?? null);
    return this.enqueue(alertId, change, 'node-red', target, body);
  }

  /** Queues deliveries a channel made outside an alert change (a test push). Returns the delivery ids. */
  queueChannel(channel: string, alertId: string, change: string, deliveries: ChannelDelivery[]): number[] {
    if (!this.channels.has(channel)) throw new Error(`no channel ${channel}`);
    return deliveries.map((d) => this.enqueue(alertId, change, channel, d.target, d.body));
  }

  /** Newest attempts first. */
  recent(limit = 100, opts: { status?: AttemptStatus } = {}): NotificationAttempt[] {
    const n = Math.max(1, Math.min(1000, Math.floor(limit)));
    const rows = opts.status
      ? (this.db.prepare('SELECT * FROM notifications WHERE status = ? ORDER BY id DESC LIMIT ?').all(opts.status, n) as AttemptRow[])
      : (this.db.prepare('SELECT * FROM notifications ORDER BY id DESC LIMIT ?').all(n) as AttemptRow[]);
    return rows.map(toAttempt);
  }

  /** Every attempt for one alert, oldest first (the incident timeline). */
  forAlert(alertId: string): NotificationAttempt[] {
    return (this.db.prepare('SELECT * FROM notifications WHERE alert_id = ? ORDER BY id').all(alertId) as AttemptRow[]).map(toAttempt);
  }

  /** Every attempt for these alerts, oldest first: the incident timeline's NotificationLog. */
  async forAlerts(alertIds: string[]): Promise<NotificationAttempt[]> {
    if (alertIds.length === 0) return [];
    const marks = alertIds.map(() => '?').join(',');
    return (this.db.prepare(`SELECT * FROM notifications WHERE alert_id IN (${marks}) ORDER BY id`).all(...alertIds) as AttemptRow[]).map(toAttempt);
  }

  /**
   * Retention: empties the bodies of at most `limit` deliveries settled (sent or given up) before
   * `cutoffMs`. The delivery and its attempt rows stay for the incident timeline; a pending delivery
   * keeps its body (it is still to be sent).
   */
  async pruneBodiesBefore(cutoffMs: number, limit: number): Promise<number> {
    const cutoff = new Date(cutoffMs).toISOString();
    return this.db.prepare("UPDATE notification_deliveries SET body = '' WHERE id IN (SELECT id FROM notification_deliveries WHERE state <> 'pending' AND updated_at < ? AND body <> '' ORDER BY id LIMIT ?)").run(cutoff, limit).changes;
  }

  /** Retention: deletes at most `limit` settled deliveries last changed before `cutoffMs`, with their attempt rows. */
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

  /** For health and the dashboard: deliveries still retrying, and the ones given up in the last 24 h. */
  stats(): { pending: number; failedLast24h: number; lastFailure: NotificationAttempt | null } {
    const pending = (this.db.prepare("SELECT count(*) AS n FROM notification_deliveries WHERE state = 'pending'").get() as { n: number }).n;
    const since = new Date(this.clock.now() - 24 * 3600_000).toISOString();
    const failedLast24h = (this.db.prepare("SELECT count(*) AS n FROM notifications WHERE status = 'failed' AND at >= ?").get(since) as { n: number }).n;
    const last = this.db.prepare("SELECT * FROM notifications WHERE status = 'failed' ORDER BY id DESC LIMIT 1").get() as AttemptRow | undefined;
    return { pending, failedLast24h, lastFailure: last ? toAttempt(last) : null };
  }

  /** Called after every attempt (for the live stream: a failed delivery shows on the dashboard at once). */
  onAttempt(listener: (a: NotificationAttempt) => void): () => void {
    this.attemptListeners.add(listener);
    return () => this.attemptListeners.delete(listener);
  }

  /** `GET /` -> attempts, newest first; `?alert=ID` one alert's, oldest first; `?status=failed`; `?limit=`. `GET /stats`. Mount behind requireRole('viewer'). */
  router(): Router {
    const r = asyncRouter();
    r.get('/stats', (_req, res) => {
      res.json(this.stats());
    });
    r.get('/', (req, res) => {
      const alert = typeof req.query.alert === 'string' ? req.query.alert : undefined;
      const status = req.query.status;
      if (status !== undefined && status !== 'sent' && status !== 'retrying' && status !== 'failed') {
        res.status(400).json({ error: 'status must be sent, retrying or failed' });
        return;
      }
      const limitRaw = req.query.limit === undefined ? 100 : Number(req.query.limit);
      if (!Number.isInteger(limitRaw) || limitRaw < 1 || limitRaw > 1000) {
        res.status(400).json({ error: 'limit must be a whole number 1..1000' });
        return;
      }
      if (alert !== undefined) {
        const all = this.forAlert(alert);
        res.json(status ? all.filter((a) => a.status === status) : all);
        return;
      }
      res.json(this.recent(limitRaw, status ? { status } : {}));
    });
    return r;
  }

  // --- internals ---

  private onAlertChanged({ alert, change }: AlertChanged): void {
    // `updated` (value moved, every 10 s at most per alert) is for dashboards, not for phones.
    if (!this.options.changes.includes(change)) return;
    const url = this.config.PARKOPS_WEBHOOK_URL;
    if (url) {
      if (!this.flowRoute) {
        this.enqueueFormatted(alert, change, 'webhook', url, this.config.PARKOPS_WEBHOOK_FORMAT);
      } else if (alert.severity === 'critical' && this.options.criticalFallback) {
        this.watchHandOff(alert, change, url);
      }
    }
    if (change === 'escalated') {
      for (const contact of this.site?.notifications.escalationContacts ?? []) {
        this.enqueueFormatted(alert, change, 'escalation', contact, 'auto');
      }
    }
    for (const channel of this.channels.values()) {
      try {
        for (const d of channel.deliveriesFor(alert, change)) this.enqueue(alert.id, change, channel.name, d.target, d.body);
      } catch (err) {
        // One channel's fault (a bad subscription row, a formatting bug) must not cost the others their message.
        this.log.error({ err, channel: channel.name, alertId: alert.id, change }, 'could not queue a notification');
      }
    }
  }

  private handOffKey(alertId: string, change: string): string {
    return `${alertId}\u0000${change}`;
  }

  private noteHandOff(alertId: string, change: string): void {
    const now = this.clock.now();
    this.handOffs.set(this.handOffKey(alertId, change), now);
    if (this.handOffs.size > 1000) {
      for (const [k, at] of this.handOffs) if (at < now - 3600_000) this.handOffs.delete(k);
    }
  }

  /** Critical changes reach the settings webhook even when the flow is broken, deleted or filters them out by mistake. */
  private watchHandOff(alert: Alert, change: string, url: string): void {
    const since = this.clock.now();
    const snapshot = structuredClone(alert);
    const timer = setTimeout(() => {
      this.graceTimers.delete(timer);
      if (!this.running) return;
      const handedAt = this.handOffs.get(this.handOffKey(snapshot.id, change));
      if (handedAt !== undefined && handedAt >= since) return;
      this.log.warn({ alertId: snapshot.id, change, graceMs: this.options.handoffGraceMs }, 'no Node-RED flow handed off a critical alert change: the core sends it');
      this.enqueueFormatted(snapshot, change, 'fallback', url, this.config.PARKOPS_WEBHOOK_FORMAT);
    }, this.options.handoffGraceMs);
    this.graceTimers.add(timer);
  }

  private enqueueFormatted(alert: Alert, change: string, channel: string, target: string, format: WebhookFormat | 'auto'): void {
    const text = describeAlert(alert, change, this.site);
    const body = buildBody(pickFormat(target, format), alert, change, text);
    this.enqueue(alert.id, change, channel, target, JSON.stringify(body));
  }

  private enqueue(alertId: string, change: string, channel: string, target: string, body: string): number {
    const now = this.clock.now();
    const iso = new Date(now).toISOString();
    const info = this.db
      .prepare("INSERT INTO notification_deliveries (alert_id, change, channel, target, body, state, attempts, next_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)")
      .run(alertId, change, channel, target, body, now, iso, iso);
    const id = Number(info.lastInsertRowid);
    if (this.running) this.schedule(id, now);
    return id;
  }

  private schedule(id: number, at: number): void {
    const existing = this.timers.get(id);
    if (existing) clearTimeout(existing);
    const delay = Math.max(0, at - this.clock.now());
    const timer = setTimeout(() => {
      this.timers.delete(id);
      this.ready.push(id);
      this.pump();
    }, delay);
    this.timers.set(id, timer);
  }

  private pump(): void {
    while (this.running && this.inFlight.size < this.options.concurrency && this.ready.length > 0) {
      const id = this.ready.shift() as number;
      if (this.inFlight.has(id)) continue;
      const p = this.attempt(id)
        .catch((err: unknown) => this.log.error({ err, deliveryId: id }, 'notification attempt failed unexpectedly'))
        .finally(() => {
          this.inFlight.delete(id);
          this.pump();
        });
      this.inFlight.set(id, p);
    }
  }

  private backoffMs(attempt: number, retryAfterMs: number | null): number {
    const exp = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
    const jittered = exp * (1 - this.options.jitter + Math.random() * 2 * this.options.jitter);
    return Math.round(Math.min(this.options.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0)));
  }

  private async attempt(id: number): Promise<void> {
    const d = this.db.prepare("SELECT id, alert_id, change, channel, target, body, attempts, next_at FROM notification_deliveries WHERE id = ? AND state = 'pending'").get(id) as DeliveryRow | undefined;
    if (!d) return;
    const channel = this.channels.get(d.channel);
    const sendOpts = { timeoutMs: this.options.timeoutMs, signal: this.stopController.signal, now: () => this.clock.now() };
    const result = channel ? await channel.send({ target: d.target, body: d.body }, sendOpts) : await postJson(d.target, d.body, sendOpts);
    const interrupted = !result.ok && this.stopController.signal.aborted;
    const attempt = d.attempts + 1;
    const now = this.clock.now();
    let status: AttemptStatus;
    let nextAt = d.next_at;
    if (result.ok) status = 'sent';
    else if (interrupted || (result.retryable && attempt < this.options.maxAttempts)) {
      status = 'retrying';
      nextAt = interrupted ? now : now + this.backoffMs(attempt, result.retryAfterMs);
    } else status = 'failed';
    const at = new Date(now).toISOString();
    const target = redactTarget(d.target);
    let attemptId = 0;
    try {
      this.db.transaction(() => {
        const info = this.db
          .prepare('INSERT INTO notifications (delivery_id, alert_id, change, channel, target, attempt, status, http_status, error, at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(d.id, d.alert_id, d.change, d.channel, target, attempt, status, result.httpStatus, result.error, at, result.durationMs);
        attemptId = Number(info.lastInsertRowid);
        this.db
          .prepare('UPDATE notification_deliveries SET state = ?, attempts = ?, next_at = ?, updated_at = ? WHERE id = ?')
          .run(status === 'retrying' ? 'pending' : status, attempt, nextAt, at, d.id);
      })();
    } catch (err) {
      // The database closed under a shutdown; the delivery stays pending and resumes on the next start.
      this.log.warn({ err, deliveryId: d.id }, 'could not record a notification attempt');
      return;
    }
    const recorded: NotificationAttempt = {
      id: attemptId,
      deliveryId: d.id,
      alertId: d.alert_id,
      change: d.change,
      channel: d.channel,
      target,
      attempt,
      status,
      httpStatus: result.httpStatus,
      error: result.error,
      at,
      durationMs: result.durationMs,
    };
    const logFields = { deliveryId: d.id, alertId: d.alert_id, change: d.change, channel: d.channel, target, attempt, httpStatus: result.httpStatus, error: result.error };
    if (status === 'sent') this.log.info(logFields, 'notification sent');
    else if (status === 'retrying') this.log.warn({ ...logFields, retryInMs: nextAt - now }, 'notification attempt failed, will retry');
    else this.log.error(logFields, 'notification failed, giving up');
    for (const l of this.attemptListeners) {
      try {
        l(recorded);
      } catch (err) {
        this.log.error({ err }, 'notification attempt listener failed');
      }
    }
    if (status === 'retrying' && this.running) this.schedule(d.id, nextAt);
  }
}
