/**
 * SQLite tables of the alert engine: alerts, every state change (alert_events), rule state, incidents and
 * the notification attempts the webhook module reports. Times are epoch ms.
 */
import type { Alert, AlertDetails, AlertSeverity, AlertState } from '@parkops/contract/api.ts';
import { migrate, type Db } from '../store/db.ts';

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  rule TEXT NOT NULL,
  subject TEXT NOT NULL,
  severity TEXT NOT NULL,
  state TEXT NOT NULL,
  message TEXT NOT NULL,
  value REAL,
  room TEXT,
  eta_min REAL,
  eta_target TEXT,
  grade INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  acked_at INTEGER,
  acked_by TEXT,
  ack_note TEXT,
  resolved_at INTEGER,
  -- escalation counts from here: when the alert last went to firing, or became critical while firing
  escalate_from INTEGER NOT NULL,
  escalated_at INTEGER
);
-- docs/api.md, the alert object: one open alert per rule and subject, enforced by the database too.
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open ON alerts(rule, subject) WHERE state <> 'resolved';
CREATE INDEX IF NOT EXISTS alerts_started ON alerts(started_at);
CREATE INDEX IF NOT EXISTS alerts_active ON alerts(state, acked_at);
CREATE TABLE IF NOT EXISTS alert_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL REFERENCES alerts(id),
  at INTEGER NOT NULL,
  change TEXT NOT NULL,
  state TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  value REAL,
  actor TEXT,
  note TEXT
);
CREATE INDEX IF NOT EXISTS alert_events_alert ON alert_events(alert_id, seq);
CREATE TABLE IF NOT EXISTS alert_rule_state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  room TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  peak_mm REAL,
  peak_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS incidents_one_open ON incidents(room) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS incidents_started ON incidents(started_at);
CREATE TABLE IF NOT EXISTS incident_alerts (
  incident_id TEXT NOT NULL REFERENCES incidents(id),
  alert_id TEXT NOT NULL REFERENCES alerts(id),
  PRIMARY KEY (incident_id, alert_id)
);
CREATE INDEX IF NOT EXISTS incident_alerts_alert ON incident_alerts(alert_id);
CREATE TABLE IF NOT EXISTS incident_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id TEXT NOT NULL REFERENCES incidents(id),
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT,
  value REAL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS incident_events_incident ON incident_events(incident_id, seq);
CREATE TABLE IF NOT EXISTS alert_notifications (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  change TEXT NOT NULL,
  channel TEXT NOT NULL,
  target TEXT,
  ok INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS alert_notifications_alert ON alert_notifications(alert_id, seq);
`;

/** The structured findings behind each message (messages.ts words them). */
const SCHEMA_V2 = `ALTER TABLE alerts ADD COLUMN details TEXT;`;

/** Each change keeps the details it was made with, so the timeline words it in the reader's language. */
const SCHEMA_V3 = `ALTER TABLE alert_events ADD COLUMN details TEXT;`;

/** An alert as the engine holds it: the contract object plus lifecycle bookkeeping. */
export interface AlertRecord {
  id: string;
  rule: string;
  subject: string;
  severity: AlertSeverity;
  state: AlertState;
  message: string;
  details: AlertDetails | null;
  value: number | null;
  room: string | null;
  etaMin: number | null;
  etaTarget: string | null;
  grade: number;
  startedAt: number;
  updatedAt: number;
  ackedAt: number | null;
  ackedBy: string | null;
  ackNote: string | null;
  resolvedAt: number | null;
  escalateFrom: number;
  escalatedAt: number | null;
}

interface AlertRow {
  id: string;
  rule: string;
  subject: string;
  severity: AlertSeverity;
  state: AlertState;
  message: string;
  details: string | null;
  value: number | null;
  room: string | null;
  eta_min: number | null;
  eta_target: string | null;
  grade: number;
  started_at: number;
  updated_at: number;
  acked_at: number | null;
  acked_by: string | null;
  ack_note: string | null;
  resolved_at: number | null;
  escalate_from: number;
  escalated_at: number | null;
}

export interface AlertEventRow {
  seq: number;
  alert_id: string;
  at: number;
  change: string;
  state: AlertState;
  severity: AlertSeverity;
  message: string;
  value: number | null;
  actor: string | null;
  note: string | null;
  /** JSON AlertDetails at this change; null for changes stored before version 3 */
  details: string | null;
}

export interface IncidentRow {
  id: string;
  room: string;
  started_at: number;
  ended_at: number | null;
  peak_mm: number | null;
  peak_at: number | null;
}

export interface IncidentEventRow {
  seq: number;
  incident_id: string;
  at: number;
  kind: string;
  subject: string | null;
  value: number | null;
  detail: string | null;
}

export interface NotificationAttempt {
  alertId: string;
  change: string;
  /** e.g. `webhook`, `escalation` */
  channel: string;
  /** where it went, without secrets (a host name, a contact name) */
  target?: string | undefined;
  ok: boolean;
  attempt: number;
  /** HTTP status, robot errcode, error text */
  detail?: string | undefined;
  at: number;
}

export interface NotificationRow {
  at: number;
  alertId: string;
  change: string;
  channel: string;
  target: string | null;
  ok: boolean;
  attempt: number;
  detail: string | null;
  /** why it failed, as the notifications module's code (contract/notifications.ts) */
  errorCode?: string | null;
}

function fromRow(r: AlertRow): AlertRecord {
  return {
    id: r.id,
    rule: r.rule,
    subject: r.subject,
    severity: r.severity,
    state: r.state,
    message: r.message,
    details: r.details === null ? null : (JSON.parse(r.details) as AlertDetails),
    value: r.value,
    room: r.room,
    etaMin: r.eta_min,
    etaTarget: r.eta_target,
    grade: r.grade,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    ackedAt: r.acked_at,
    ackedBy: r.acked_by,
    ackNote: r.ack_note,
    resolvedAt: r.resolved_at,
    escalateFrom: r.escalate_from,
    escalatedAt: r.escalated_at,
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The contract object (docs/api.md, the alert object) with the extensions of contract/api.ts. */
export function toAlert(a: AlertRecord): Alert {
  const out: Alert = {
    id: a.id,
    rule: a.rule,
    severity: a.severity,
    state: a.state,
    subject: a.subject,
    message: a.message,
    startedAt: iso(a.startedAt),
  };
  if (a.value !== null) out.value = a.value;
  if (a.ackedAt !== null) out.ackedAt = iso(a.ackedAt);
  if (a.ackedBy !== null) out.ackedBy = a.ackedBy;
  if (a.ackNote !== null) out.ackNote = a.ackNote;
  if (a.resolvedAt !== null) out.resolvedAt = iso(a.resolvedAt);
  if (a.etaMin !== null) out.etaMin = a.etaMin;
  if (a.etaTarget !== null) out.etaTarget = a.etaTarget;
  out.updatedAt = iso(a.updatedAt);
  if (a.room !== null) out.room = a.room;
  if (a.details !== null) out.details = a.details;
  return out;
}

export class AlertRepository {
  private readonly stmts;

  constructor(private readonly db: Db) {
    migrate(db, 'alerts', 1, SCHEMA_V1);
    migrate(db, 'alerts', 2, SCHEMA_V2);
    migrate(db, 'alerts', 3, SCHEMA_V3);
    this.stmts = {
      upsert: db.prepare(`INSERT INTO alerts (id, rule, subject, severity, state, message, details, value, room, eta_min, eta_target, grade,
          started_at, updated_at, acked_at, acked_by, ack_note, resolved_at, escalate_from, escalated_at)
        VALUES (@id, @rule, @subject, @severity, @state, @message, @details, @value, @room, @etaMin, @etaTarget, @grade,
          @startedAt, @updatedAt, @ackedAt, @ackedBy, @ackNote, @resolvedAt, @escalateFrom, @escalatedAt)
        ON CONFLICT(id) DO UPDATE SET severity = excluded.severity, state = excluded.state, message = excluded.message, details = excluded.details,
          value = excluded.value, eta_min = excluded.eta_min, eta_target = excluded.eta_target, grade = excluded.grade,
          updated_at = excluded.updated_at, acked_at = excluded.acked_at, acked_by = excluded.acked_by, ack_note = excluded.ack_note,
          resolved_at = excluded.resolved_at, escalate_from = excluded.escalate_from, escalated_at = excluded.escalated_at`),
      event: db.prepare(`INSERT INTO alert_events (alert_id, at, change, state, severity, message, value, actor, note, details)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      get: db.prepare('SELECT * FROM alerts WHERE id = ?'),
      active: db.prepare(`SELECT * FROM alerts WHERE state <> 'resolved' OR acked_at IS NULL ORDER BY started_at DESC, id DESC`),
      range: db.prepare(`SELECT * FROM alerts WHERE started_at <= @to AND (resolved_at IS NULL OR resolved_at >= @from)
        ORDER BY started_at DESC, id DESC LIMIT @limit`),
      eventsOf: db.prepare('SELECT * FROM alert_events WHERE alert_id = ? ORDER BY seq'),
      stateGet: db.prepare('SELECT value FROM alert_rule_state WHERE key = ?'),
      stateAll: db.prepare('SELECT key, value FROM alert_rule_state'),
      statePut: db.prepare(`INSERT INTO alert_rule_state (key, value, updated_at) VALUES (?, ?, ?)
        ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
      notify: db.prepare(`INSERT INTO alert_notifications (alert_id, at, change, channel, target, ok, attempt, detail)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    };
  }

  /** Writes the alert and, when given, its change to alert_events in one transaction. */
  save(a: AlertRecord, change?: { change: string; at: number; actor?: string | undefined; note?: string | undefined }): void {
    const details = a.details === null ? null : JSON.stringify(a.details);
    this.db.transaction(() => {
      this.stmts.upsert.run({ ...a, details });
      if (change) {
        this.stmts.event.run(a.id, change.at, change.change, a.state, a.severity, a.message, a.value, change.actor ?? null, change.note ?? null, details);
      }
    })();
  }

  get(id: string): AlertRecord | undefined {
    const r = this.stmts.get.get(id) as AlertRow | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** Not resolved, or resolved but never acknowledged. */
  active(): AlertRecord[] {
    return (this.stmts.active.all() as AlertRow[]).map(fromRow);
  }

  /** Alerts that overlap [from, to], newest first. */
  range(from: number, to: number, limit: number): AlertRecord[] {
    return (this.stmts.range.all({ from, to, limit }) as AlertRow[]).map(fromRow);
  }

  /** Ids of alerts resolved since `t`: their retained messages are cleared again at start, in case a clear was lost. */
  resolvedSince(t: number): string[] {
    return (this.db.prepare('SELECT id FROM alerts WHERE resolved_at >= ?').all(t) as { id: string }[]).map((r) => r.id);
  }

  events(alertId: string): AlertEventRow[] {
    return this.stmts.eventsOf.all(alertId) as AlertEventRow[];
  }

  loadState<T>(key: string): T | undefined {
    const r = this.stmts.stateGet.get(key) as { value: string } | undefined;
    return r ? (JSON.parse(r.value) as T) : undefined;
  }

  allState(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const r of this.stmts.stateAll.all() as { key: string; value: string }[]) out.set(r.key, JSON.parse(r.value));
    return out;
  }

  saveState(entries: Iterable<[string, unknown]>, now: number): void {
    this.db.transaction(() => {
      for (const [key, value] of entries) this.stmts.statePut.run(key, JSON.stringify(value), now);
    })();
  }

  recordNotification(n: NotificationAttempt): void {
    this.stmts.notify.run(n.alertId, n.at, n.change, n.channel, n.target ?? null, n.ok ? 1 : 0, n.attempt, n.detail ?? null);
  }

  /**
   * Notification attempts for some alerts: the ones reported through `recordNotification`, plus rows of a
   * `notifications` table if the notifications module keeps its own (read by whatever columns it has).
   */
  notifications(alertIds: string[]): NotificationRow[] {
    if (alertIds.length === 0) return [];
    const marks = alertIds.map(() => '?').join(',');
    const rows = (
      this.db.prepare(`SELECT * FROM alert_notifications WHERE alert_id IN (${marks}) ORDER BY at, seq`).all(...alertIds) as {
        alert_id: string;
        at: number;
        change: string;
        channel: string;
        target: string | null;
        ok: number;
        attempt: number;
        detail: string | null;
      }[]
    ).map((r) => ({ at: r.at, alertId: r.alert_id, change: r.change, channel: r.channel, target: r.target, ok: r.ok === 1, attempt: r.attempt, detail: r.detail }));
    return rows.concat(this.foreignNotifications(alertIds, marks)).sort((a, b) => a.at - b.at);
  }

  private foreignNotifications(alertIds: string[], marks: string): NotificationRow[] {
    const cols = new Set((this.db.prepare(`PRAGMA table_info(notifications)`).all() as { name: string }[]).map((c) => c.name));
    if (!cols.has('alert_id')) return [];
    const pick = (...names: string[]): string | undefined => names.find((n) => cols.has(n));
    const at = pick('at', 'sent_at', 'created_at', 'ts', 'time');
    if (at === undefined) return [];
    const change = pick('change', 'event');
    const channel = pick('channel', 'kind', 'format');
    const target = pick('target', 'url', 'host', 'contact');
    const ok = pick('ok', 'success', 'delivered');
    const status = pick('status', 'result', 'outcome');
    const attempt = pick('attempt', 'attempts', 'try');
    const detail = pick('detail', 'error', 'response', 'http_status');
    const rows = this.db.prepare(`SELECT * FROM notifications WHERE alert_id IN (${marks})`).all(...alertIds) as Record<string, unknown>[];
    return rows.map((r) => {
      const rawAt = r[at];
      const atMs = typeof rawAt === 'number' ? rawAt : Date.parse(String(rawAt));
      const okValue = ok !== undefined ? r[ok] === 1 || r[ok] === true || r[ok] === 'true' : status !== undefined ? /^(ok|sent|delivered|success)/i.test(String(r[status])) : false;
      const str = (k: string | undefined): string | null => (k !== undefined && r[k] !== null && r[k] !== undefined ? String(r[k]) : null);
      return {
        at: Number.isFinite(atMs) ? atMs : 0,
        alertId: String(r['alert_id']),
        change: str(change) ?? '',
        channel: str(channel) ?? 'webhook',
        target: str(target),
        ok: okValue,
        attempt: attempt !== undefined ? Number(r[attempt]) : 1,
        detail: str(detail) ?? str(status),
        errorCode: str(pick('error_code')),
      };
    });
  }

  openIncident(row: IncidentRow): void {
    this.db.prepare('INSERT INTO incidents (id, room, started_at, ended_at, peak_mm, peak_at) VALUES (@id, @room, @started_at, @ended_at, @peak_mm, @peak_at)').run(row);
  }
  openIncidents(): IncidentRow[] {
    return this.db.prepare('SELECT * FROM incidents WHERE ended_at IS NULL').all() as IncidentRow[];
  }
  endIncident(id: string, at: number): void {
    this.db.prepare('UPDATE incidents SET ended_at = ? WHERE id = ?').run(at, id);
  }
  setPeak(id: string, mm: number, at: number): void {
    this.db.prepare('UPDATE incidents SET peak_mm = ?, peak_at = ? WHERE id = ?').run(mm, at, id);
  }
  attach(incidentId: string, alertId: string): void {
    this.db.prepare('INSERT OR IGNORE INTO incident_alerts (incident_id, alert_id) VALUES (?, ?)').run(incidentId, alertId);
  }
  incidentAlerts(incidentId: string): AlertRecord[] {
    return (
      this.db.prepare('SELECT a.* FROM alerts a JOIN incident_alerts i ON i.alert_id = a.id WHERE i.incident_id = ? ORDER BY a.started_at, a.id').all(incidentId) as AlertRow[]
    ).map(fromRow);
  }
  incidentEvent(incidentId: string, at: number, kind: string, subject: string | null, value: number | null, detail: string | null): void {
    this.db.prepare('INSERT INTO incident_events (incident_id, at, kind, subject, value, detail) VALUES (?, ?, ?, ?, ?, ?)').run(incidentId, at, kind, subject, value, detail);
  }
  incidentEvents(incidentId: string): IncidentEventRow[] {
    return this.db.prepare('SELECT * FROM incident_events WHERE incident_id = ? ORDER BY at, seq').all(incidentId) as IncidentEventRow[];
  }
  incident(id: string): IncidentRow | undefined {
    return this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as IncidentRow | undefined;
  }
  incidents(from: number, to: number, room: string | undefined, limit: number): IncidentRow[] {
    return this.db
      .prepare(
        `SELECT * FROM incidents WHERE started_at <= @to AND (ended_at IS NULL OR ended_at >= @from) AND (@room IS NULL OR room = @room)
         ORDER BY started_at DESC, id DESC LIMIT @limit`,
      )
      .all({ from, to, room: room ?? null, limit }) as IncidentRow[];
  }
}
