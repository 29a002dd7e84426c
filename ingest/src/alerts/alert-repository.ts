/**
 * Storage of the alert engine: alerts, every state change (`alert_events`) and rule state
 * (`alert_rule_state`). The interface speaks alerts, not SQL, so a PostgreSQL implementation can
 * follow; `SqliteAlertRepository` owns those tables. Times are epoch ms.
 *
 * The first schema version also created the incident tables (the incidents repository owns them
 * now, incident-repository.ts) and an `alert_notifications` table that nothing ever wrote: version 3
 * drops it (notification attempts are the notifications module's, read through NotificationLog).
 */
import type { Alert, AlertDetails, AlertSeverity, AlertState } from '@parkops/contract/api.ts';
import type { Db } from '../store/db.ts';
import { migrateDatabase, type ModuleSchema } from '../db/migrations.ts';

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
const SCHEMA_V4 = `ALTER TABLE alert_events ADD COLUMN details TEXT;`;

/** The alert engine's migrations (db/migrations.ts). */
export const ALERTS_SCHEMA: ModuleSchema = {
  module: 'alerts',
  migrations: [
    { version: 1, description: 'alerts, their events, rule state and flood incidents', up: SCHEMA_V1 },
    { version: 2, description: 'structured details of each alert', up: SCHEMA_V2 },
    { version: 3, description: 'drop alert_notifications (never written; attempts are the notifications module\'s)', up: 'DROP TABLE IF EXISTS alert_notifications;' },
    {
      version: 4,
      description: 'each change keeps its structured details',
      // Development databases of a build that numbered this step 3 have the column already (and were
      // never released): add it only where it is missing.
      up: (db) => {
        if (db.prepare("SELECT 1 FROM pragma_table_info('alert_events') WHERE name = 'details'").get() === undefined) db.exec(SCHEMA_V4);
      },
    },
  ],
};

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

/** An `alerts` row; `D` is how the engine's driver returns `details` (SQLite: JSON text, PostgreSQL: JSONB, already parsed). */
export interface AlertRow<D = string | null> {
  id: string;
  rule: string;
  subject: string;
  severity: AlertSeverity;
  state: AlertState;
  message: string;
  details: D;
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

/** One change of an alert, as `alert_events` keeps it. */
export interface AlertEvent {
  seq: number;
  alertId: string;
  at: number;
  change: string;
  state: AlertState;
  severity: AlertSeverity;
  message: string;
  value: number | null;
  actor: string | null;
  note: string | null;
  /** What the rule found at this change; null for changes stored before schema version 4. */
  details: AlertDetails | null;
}

/** A change to record with the alert: what happened, when, by whom. */
export interface ChangeRecord {
  change: string;
  at: number;
  actor?: string | undefined;
  note?: string | undefined;
}

export interface AlertRepository {
  /** Writes the alert and, when given, its change, in one transaction. */
  save(a: AlertRecord, change?: ChangeRecord): Promise<void>;
  get(id: string): Promise<AlertRecord | undefined>;
  /** These alerts, oldest first (by start, then id); unknown ids are left out. */
  byIds(ids: readonly string[]): Promise<AlertRecord[]>;
  /** Not resolved, or resolved but never acknowledged. */
  active(): Promise<AlertRecord[]>;
  /** Alerts that overlap [from, to], newest first. */
  range(from: number, to: number, limit: number): Promise<AlertRecord[]>;
  /** Ids of alerts resolved since `t`: their retained messages are cleared again at start, in case a clear was lost. */
  resolvedSince(t: number): Promise<string[]>;
  /** Every change of one alert, in order. */
  events(alertId: string): Promise<AlertEvent[]>;
  allState(): Promise<Map<string, unknown>>;
  saveState(entries: ReadonlyArray<[string, unknown]>, now: number): Promise<void>;
}

/** Pruning of old alerts (the retention service; the SQLite implementation has it, PostgreSQL not yet). */
export interface AlertRetention {
  /**
   * Retention: deletes at most `limit` alerts (with their events) that were resolved AND acknowledged
   * before `cutoffMs`, skipping those `inUse` names (still attached to an incident that is kept). An
   * open alert, or a resolved one nobody acknowledged, is never removed. Resolves to the alerts deleted;
   * 0 when none can go.
   */
  pruneBefore(cutoffMs: number, limit: number, inUse: (ids: string[]) => Promise<ReadonlySet<string>>): Promise<number>;
}

/** The record of a row, whatever the engine; `details` decodes the driver's value. */
export function alertFromRow<D>(r: AlertRow<D>, details: (d: D) => AlertDetails | null): AlertRecord {
  return {
    id: r.id,
    rule: r.rule,
    subject: r.subject,
    severity: r.severity,
    state: r.state,
    message: r.message,
    details: details(r.details),
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

const fromRow = (r: AlertRow): AlertRecord => alertFromRow(r, (d) => (d === null ? null : (JSON.parse(d) as AlertDetails)));

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

export class SqliteAlertRepository implements AlertRepository, AlertRetention {
  private readonly stmts;

  constructor(private readonly db: Db) {
    migrateDatabase(db, [ALERTS_SCHEMA]);
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
      resolvedSince: db.prepare('SELECT id FROM alerts WHERE resolved_at >= ?'),
      eventsOf: db.prepare('SELECT * FROM alert_events WHERE alert_id = ? ORDER BY seq'),
      stateAll: db.prepare('SELECT key, value FROM alert_rule_state'),
      statePut: db.prepare(`INSERT INTO alert_rule_state (key, value, updated_at) VALUES (?, ?, ?)
        ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
    };
  }

  async save(a: AlertRecord, change?: ChangeRecord): Promise<void> {
    const details = a.details === null ? null : JSON.stringify(a.details);
    this.db.transaction(() => {
      this.stmts.upsert.run({ ...a, details });
      if (change) {
        this.stmts.event.run(a.id, change.at, change.change, a.state, a.severity, a.message, a.value, change.actor ?? null, change.note ?? null, details);
      }
    })();
  }

  async get(id: string): Promise<AlertRecord | undefined> {
    const r = this.stmts.get.get(id) as AlertRow | undefined;
    return r ? fromRow(r) : undefined;
  }

  async byIds(ids: readonly string[]): Promise<AlertRecord[]> {
    if (ids.length === 0) return [];
    const rows = this.db.prepare(`SELECT * FROM alerts WHERE id IN (${ids.map(() => '?').join(',')}) ORDER BY started_at, id`).all(...ids) as AlertRow[];
    return rows.map(fromRow);
  }

  async active(): Promise<AlertRecord[]> {
    return (this.stmts.active.all() as AlertRow[]).map(fromRow);
  }

  async range(from: number, to: number, limit: number): Promise<AlertRecord[]> {
    return (this.stmts.range.all({ from, to, limit }) as AlertRow[]).map(fromRow);
  }

  async resolvedSince(t: number): Promise<string[]> {
    return (this.stmts.resolvedSince.all(t) as { id: string }[]).map((r) => r.id);
  }

  async events(alertId: string): Promise<AlertEvent[]> {
    const rows = this.stmts.eventsOf.all(alertId) as Array<{ seq: number; alert_id: string; at: number; change: string; state: AlertState; severity: AlertSeverity; message: string; value: number | null; actor: string | null; note: string | null; details: string | null }>;
    return rows.map((r) => ({
      seq: r.seq,
      alertId: r.alert_id,
      at: r.at,
      change: r.change,
      state: r.state,
      severity: r.severity,
      message: r.message,
      value: r.value,
      actor: r.actor,
      note: r.note,
      details: r.details === null ? null : (JSON.parse(r.details) as AlertDetails),
    }));
  }

  async allState(): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (const r of this.stmts.stateAll.all() as { key: string; value: string }[]) out.set(r.key, JSON.parse(r.value));
    return out;
  }

  async pruneBefore(cutoffMs: number, limit: number, inUse: (ids: string[]) => Promise<ReadonlySet<string>>): Promise<number> {
    const page = this.db.prepare(
      `SELECT id, started_at AS startedAt FROM alerts WHERE started_at < @cutoff AND (started_at > @after OR (started_at = @after AND id > @afterId))
         AND state = 'resolved' AND acked_at IS NOT NULL AND resolved_at < @cutoff ORDER BY started_at, id LIMIT @limit`,
    );
    let after = -Infinity;
    let afterId = '';
    for (;;) {
      const found = page.all({ cutoff: cutoffMs, after: Number.isFinite(after) ? after : -1e300, afterId, limit }) as { id: string; startedAt: number }[];
      if (found.length === 0) return 0;
      const keep = await inUse(found.map((f) => f.id));
      const go = found.filter((f) => !keep.has(f.id)).map((f) => f.id);
      if (go.length > 0) {
        const marks = go.map(() => '?').join(',');
        return this.db.transaction(() => {
          this.db.prepare(`DELETE FROM alert_events WHERE alert_id IN (${marks})`).run(...go);
          // Checked again: the alert may have changed while `inUse` was asked.
          return this.db.prepare(`DELETE FROM alerts WHERE id IN (${marks}) AND state = 'resolved' AND acked_at IS NOT NULL AND resolved_at < ?`).run(...go, cutoffMs).changes;
        })();
      }
      const last = found[found.length - 1]!;
      after = last.startedAt;
      afterId = last.id;
    }
  }

  async saveState(entries: ReadonlyArray<[string, unknown]>, now: number): Promise<void> {
    this.db.transaction(() => {
      for (const [key, value] of entries) this.stmts.statePut.run(key, JSON.stringify(value), now);
    })();
  }
}
