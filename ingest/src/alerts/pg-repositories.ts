/**
 * The alert engine's and the incident tracker's tables on PostgreSQL (PARKOPS_DATABASE_URL), the twins
 * of alert-repository.ts and incident-repository.ts, passing the same behaviour suite.
 *
 * Every write is fenced (db/pg.ts): it commits only while this process holds the leader lease, so a
 * deposed leader cannot change an alert, a rule's timers (`alert_rule_state`: holds, silence and
 * escalation times with the time they were set, which a new leader resumes) or an incident.
 */
import type { AlertDetails, AlertSeverity, AlertState } from '@parkops/contract/api.ts';
import type { PgDatabase, PgModuleSchema } from '../db/pg.ts';
import { alertFromRow, type AlertEvent, type AlertRecord, type AlertRepository, type AlertRow as SharedAlertRow, type ChangeRecord } from './alert-repository.ts';
import type { IncidentEvent, IncidentRecord, IncidentRepository } from './incident-repository.ts';

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  rule TEXT NOT NULL,
  subject TEXT NOT NULL,
  severity TEXT NOT NULL,
  state TEXT NOT NULL,
  message TEXT NOT NULL,
  details JSONB,
  value DOUBLE PRECISION,
  room TEXT,
  eta_min DOUBLE PRECISION,
  eta_target TEXT,
  grade INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  acked_at BIGINT,
  acked_by TEXT,
  ack_note TEXT,
  resolved_at BIGINT,
  escalate_from BIGINT NOT NULL,
  escalated_at BIGINT
);
-- One open alert per rule and subject (CONTRACT.md section 4), enforced by the database too: two
-- leaders racing could never both open one.
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open ON alerts(rule, subject) WHERE state <> 'resolved';
CREATE INDEX IF NOT EXISTS alerts_started ON alerts(started_at);
CREATE INDEX IF NOT EXISTS alerts_active ON alerts(state, acked_at);
CREATE TABLE IF NOT EXISTS alert_events (
  seq BIGSERIAL PRIMARY KEY,
  alert_id TEXT NOT NULL REFERENCES alerts(id),
  at BIGINT NOT NULL,
  change TEXT NOT NULL,
  state TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  value DOUBLE PRECISION,
  actor TEXT,
  note TEXT
);
CREATE INDEX IF NOT EXISTS alert_events_alert ON alert_events(alert_id, seq);
CREATE TABLE IF NOT EXISTS alert_rule_state (key TEXT PRIMARY KEY, value JSONB NOT NULL, updated_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (id TEXT PRIMARY KEY, room TEXT NOT NULL, started_at BIGINT NOT NULL, ended_at BIGINT, peak_mm DOUBLE PRECISION, peak_at BIGINT);
CREATE UNIQUE INDEX IF NOT EXISTS incidents_one_open ON incidents(room) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS incidents_started ON incidents(started_at);
CREATE TABLE IF NOT EXISTS incident_alerts (incident_id TEXT NOT NULL REFERENCES incidents(id), alert_id TEXT NOT NULL REFERENCES alerts(id), PRIMARY KEY (incident_id, alert_id));
CREATE INDEX IF NOT EXISTS incident_alerts_alert ON incident_alerts(alert_id);
CREATE TABLE IF NOT EXISTS incident_events (seq BIGSERIAL PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents(id), at BIGINT NOT NULL, kind TEXT NOT NULL, subject TEXT, value DOUBLE PRECISION, detail TEXT);
CREATE INDEX IF NOT EXISTS incident_events_incident ON incident_events(incident_id, seq);
`;

/** The SQLite list's versions 1-3 end in the same tables; PostgreSQL starts at that point. */
export const PG_ALERTS_SCHEMA: PgModuleSchema = {
  module: 'alerts',
  migrations: [
    { version: 3, description: 'alerts, their events, rule state and flood incidents', up: SCHEMA_V1 },
    { version: 4, description: 'each change keeps its structured details', up: 'ALTER TABLE alert_events ADD COLUMN IF NOT EXISTS details JSONB;' },
  ],
};

type AlertRow = SharedAlertRow<AlertRecord['details'] | undefined>;

const fromRow = (r: AlertRow): AlertRecord => alertFromRow(r, (d) => d ?? null);

const UPSERT = `INSERT INTO alerts (id, rule, subject, severity, state, message, details, value, room, eta_min, eta_target, grade,
    started_at, updated_at, acked_at, acked_by, ack_note, resolved_at, escalate_from, escalated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
  ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, state = excluded.state, message = excluded.message, details = excluded.details,
    value = excluded.value, eta_min = excluded.eta_min, eta_target = excluded.eta_target, grade = excluded.grade,
    updated_at = excluded.updated_at, acked_at = excluded.acked_at, acked_by = excluded.acked_by, ack_note = excluded.ack_note,
    resolved_at = excluded.resolved_at, escalate_from = excluded.escalate_from, escalated_at = excluded.escalated_at`;

export class PgAlertRepository implements AlertRepository {
  constructor(private readonly db: PgDatabase) {}

  async save(a: AlertRecord, change?: ChangeRecord): Promise<void> {
    await this.db.transaction(`alert ${a.id}`, async (c) => {
      await c.query(UPSERT, [
        a.id, a.rule, a.subject, a.severity, a.state, a.message, a.details === null ? null : JSON.stringify(a.details), a.value, a.room, a.etaMin, a.etaTarget, a.grade,
        a.startedAt, a.updatedAt, a.ackedAt, a.ackedBy, a.ackNote, a.resolvedAt, a.escalateFrom, a.escalatedAt,
      ]);
      if (change) {
        await c.query('INSERT INTO alert_events (alert_id, at, change, state, severity, message, value, actor, note, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
          a.id, change.at, change.change, a.state, a.severity, a.message, a.value, change.actor ?? null, change.note ?? null, a.details === null ? null : JSON.stringify(a.details),
        ]);
      }
    });
  }

  async get(id: string): Promise<AlertRecord | undefined> {
    const r = (await this.db.query<AlertRow>('SELECT * FROM alerts WHERE id = $1', [id])).rows[0];
    return r ? fromRow(r) : undefined;
  }

  async byIds(ids: readonly string[]): Promise<AlertRecord[]> {
    if (ids.length === 0) return [];
    return (await this.db.query<AlertRow>('SELECT * FROM alerts WHERE id = ANY($1) ORDER BY started_at, id', [ids])).rows.map(fromRow);
  }

  async active(): Promise<AlertRecord[]> {
    return (await this.db.query<AlertRow>(`SELECT * FROM alerts WHERE state <> 'resolved' OR acked_at IS NULL ORDER BY started_at DESC, id DESC`)).rows.map(fromRow);
  }

  async range(from: number, to: number, limit: number): Promise<AlertRecord[]> {
    return (await this.db.query<AlertRow>('SELECT * FROM alerts WHERE started_at <= $2 AND (resolved_at IS NULL OR resolved_at >= $1) ORDER BY started_at DESC, id DESC LIMIT $3', [from, to, limit])).rows.map(fromRow);
  }

  async resolvedSince(t: number): Promise<string[]> {
    return (await this.db.query<{ id: string }>('SELECT id FROM alerts WHERE resolved_at >= $1', [t])).rows.map((r) => r.id);
  }

  async events(alertId: string): Promise<AlertEvent[]> {
    const rows = (await this.db.query('SELECT * FROM alert_events WHERE alert_id = $1 ORDER BY seq', [alertId])).rows as Array<{ seq: number; alert_id: string; at: number; change: string; state: AlertState; severity: AlertSeverity; message: string; value: number | null; actor: string | null; note: string | null; details: AlertDetails | null }>;
    return rows.map((r) => ({ seq: r.seq, alertId: r.alert_id, at: r.at, change: r.change, state: r.state, severity: r.severity, message: r.message, value: r.value, actor: r.actor, note: r.note, details: r.details ?? null }));
  }

  async allState(): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (const r of (await this.db.query<{ key: string; value: unknown }>('SELECT key, value FROM alert_rule_state')).rows) out.set(r.key, r.value);
    return out;
  }

  async saveState(entries: ReadonlyArray<[string, unknown]>, now: number): Promise<void> {
    if (entries.length === 0) return;
    await this.db.transaction('alert rule state', async (c) => {
      await c.query(
        `INSERT INTO alert_rule_state (key, value, updated_at) SELECT k, v, $3 FROM unnest($1::text[], $2::jsonb[]) AS t(k, v)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [entries.map((e) => e[0]), entries.map((e) => JSON.stringify(e[1] ?? null)), now],
      );
    });
  }
}

interface IncidentRow {
  id: string;
  room: string;
  started_at: number;
  ended_at: number | null;
  peak_mm: number | null;
  peak_at: number | null;
}
const incidentOf = (r: IncidentRow): IncidentRecord => ({ id: r.id, room: r.room, startedAt: r.started_at, endedAt: r.ended_at, peakMm: r.peak_mm, peakAt: r.peak_at });

export class PgIncidentRepository implements IncidentRepository {
  constructor(private readonly db: PgDatabase) {}

  private write(what: string, sql: string, params: unknown[]): Promise<void> {
    return this.db.transaction(what, async (c) => {
      await c.query(sql, params);
    });
  }

  open(i: IncidentRecord): Promise<void> {
    return this.write(`incident ${i.id}`, 'INSERT INTO incidents (id, room, started_at, ended_at, peak_mm, peak_at) VALUES ($1, $2, $3, $4, $5, $6)', [i.id, i.room, i.startedAt, i.endedAt, i.peakMm, i.peakAt]);
  }

  async openIncidents(): Promise<IncidentRecord[]> {
    return (await this.db.query<IncidentRow>('SELECT * FROM incidents WHERE ended_at IS NULL')).rows.map(incidentOf);
  }

  end(id: string, at: number): Promise<void> {
    return this.write(`incident ${id}`, 'UPDATE incidents SET ended_at = $1 WHERE id = $2', [at, id]);
  }

  setPeak(id: string, mm: number, at: number): Promise<void> {
    return this.write(`incident ${id}`, 'UPDATE incidents SET peak_mm = $1, peak_at = $2 WHERE id = $3', [mm, at, id]);
  }

  attach(incidentId: string, alertId: string): Promise<void> {
    return this.write(`incident ${incidentId}`, 'INSERT INTO incident_alerts (incident_id, alert_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [incidentId, alertId]);
  }

  async alertIds(incidentId: string): Promise<string[]> {
    return (await this.db.query<{ alert_id: string }>('SELECT alert_id FROM incident_alerts WHERE incident_id = $1 ORDER BY alert_id', [incidentId])).rows.map((r) => r.alert_id);
  }

  async alertCounts(incidentIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>(incidentIds.map((id) => [id, 0]));
    if (incidentIds.length === 0) return out;
    const rows = (await this.db.query<{ incident_id: string; n: number }>('SELECT incident_id, count(*)::int AS n FROM incident_alerts WHERE incident_id = ANY($1) GROUP BY incident_id', [incidentIds])).rows;
    for (const r of rows) out.set(r.incident_id, r.n);
    return out;
  }

  addEvent(incidentId: string, e: Omit<IncidentEvent, 'seq'>): Promise<void> {
    return this.write(`incident ${incidentId}`, 'INSERT INTO incident_events (incident_id, at, kind, subject, value, detail) VALUES ($1, $2, $3, $4, $5, $6)', [incidentId, e.at, e.kind, e.subject, e.value, e.detail]);
  }

  async events(incidentId: string): Promise<IncidentEvent[]> {
    return (await this.db.query<IncidentEvent>('SELECT seq, at, kind, subject, value, detail FROM incident_events WHERE incident_id = $1 ORDER BY at, seq', [incidentId])).rows;
  }

  async get(id: string): Promise<IncidentRecord | undefined> {
    const r = (await this.db.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id])).rows[0];
    return r ? incidentOf(r) : undefined;
  }

  async list(q: { from: number; to: number; room?: string | undefined; limit: number }): Promise<IncidentRecord[]> {
    return (
      await this.db.query<IncidentRow>('SELECT * FROM incidents WHERE started_at <= $2 AND (ended_at IS NULL OR ended_at >= $1) AND ($3::text IS NULL OR room = $3) ORDER BY started_at DESC, id DESC LIMIT $4', [q.from, q.to, q.room ?? null, q.limit])
    ).rows.map(incidentOf);
  }
}
