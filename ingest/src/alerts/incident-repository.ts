/**
 * Storage of flood incidents: the incidents, which alerts belong to each, and their timeline events
 * (level peaks, pump starts and stops). `SqliteIncidentRepository` owns `incidents`, `incident_alerts`
 * and `incident_events`. Their tables came with the alert engine's first schema version (one module
 * then), so that list creates them; later changes to them go in this module's own list.
 *
 * Alerts themselves are the alert repository's: an incident knows the ids of its alerts, and the
 * incident timeline asks the alert repository for them.
 */
import type { Db } from '../store/db.ts';
import { migrateDatabase } from '../db/migrations.ts';
import { ALERTS_SCHEMA } from './alert-repository.ts';

export interface IncidentRecord {
  id: string;
  room: string;
  startedAt: number;
  endedAt: number | null;
  /** highest combined level, mm above the pit floor */
  peakMm: number | null;
  peakAt: number | null;
}

export interface IncidentEvent {
  seq: number;
  at: number;
  /** level-peak, pump-start, pump-stop, pump-running */
  kind: string;
  subject: string | null;
  value: number | null;
  detail: string | null;
}

export interface IncidentRepository {
  /** Stores a new open incident (one open incident per room). */
  open(incident: IncidentRecord): Promise<void>;
  /** The incidents not ended. */
  openIncidents(): Promise<IncidentRecord[]>;
  end(id: string, at: number): Promise<void>;
  setPeak(id: string, mm: number, at: number): Promise<void>;
  /** Attaches an alert to an incident; attaching it again changes nothing. */
  attach(incidentId: string, alertId: string): Promise<void>;
  /** Ids of the alerts attached to an incident. */
  alertIds(incidentId: string): Promise<string[]>;
  /** How many alerts each incident has. */
  alertCounts(incidentIds: readonly string[]): Promise<Map<string, number>>;
  addEvent(incidentId: string, e: Omit<IncidentEvent, 'seq'>): Promise<void>;
  /** An incident's events, by time, then in the order recorded. */
  events(incidentId: string): Promise<IncidentEvent[]>;
  get(id: string): Promise<IncidentRecord | undefined>;
  /** Incidents overlapping [from, to], of one room when given, newest first. */
  list(q: { from: number; to: number; room?: string | undefined; limit: number }): Promise<IncidentRecord[]>;
}

/** Pruning of old incidents (the retention service; the SQLite implementation has it, PostgreSQL not yet). */
export interface IncidentRetention {
  /** Retention: deletes at most `limit` incidents that ended before `cutoffMs`, with their events and alert links (never an open one). */
  pruneBefore(cutoffMs: number, limit: number): Promise<number>;
  /** Which of these alerts are attached to an incident still stored. */
  attachedAlerts(alertIds: readonly string[]): Promise<ReadonlySet<string>>;
}

interface Row {
  id: string;
  room: string;
  started_at: number;
  ended_at: number | null;
  peak_mm: number | null;
  peak_at: number | null;
}
const fromRow = (r: Row): IncidentRecord => ({ id: r.id, room: r.room, startedAt: r.started_at, endedAt: r.ended_at, peakMm: r.peak_mm, peakAt: r.peak_at });

export class SqliteIncidentRepository implements IncidentRepository, IncidentRetention {
  private readonly stmts;

  constructor(private readonly db: Db) {
    migrateDatabase(db, [ALERTS_SCHEMA]);
    this.stmts = {
      open: db.prepare('INSERT INTO incidents (id, room, started_at, ended_at, peak_mm, peak_at) VALUES (?, ?, ?, ?, ?, ?)'),
      openAll: db.prepare('SELECT * FROM incidents WHERE ended_at IS NULL'),
      end: db.prepare('UPDATE incidents SET ended_at = ? WHERE id = ?'),
      peak: db.prepare('UPDATE incidents SET peak_mm = ?, peak_at = ? WHERE id = ?'),
      attach: db.prepare('INSERT INTO incident_alerts (incident_id, alert_id) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      alertIds: db.prepare('SELECT alert_id FROM incident_alerts WHERE incident_id = ? ORDER BY alert_id'),
      event: db.prepare('INSERT INTO incident_events (incident_id, at, kind, subject, value, detail) VALUES (?, ?, ?, ?, ?, ?)'),
      events: db.prepare('SELECT seq, at, kind, subject, value, detail FROM incident_events WHERE incident_id = ? ORDER BY at, seq'),
      get: db.prepare('SELECT * FROM incidents WHERE id = ?'),
      list: db.prepare(
        `SELECT * FROM incidents WHERE started_at <= @to AND (ended_at IS NULL OR ended_at >= @from) AND (@room IS NULL OR room = @room)
         ORDER BY started_at DESC, id DESC LIMIT @limit`,
      ),
    };
  }

  async open(i: IncidentRecord): Promise<void> {
    this.stmts.open.run(i.id, i.room, i.startedAt, i.endedAt, i.peakMm, i.peakAt);
  }

  async openIncidents(): Promise<IncidentRecord[]> {
    return (this.stmts.openAll.all() as Row[]).map(fromRow);
  }

  async end(id: string, at: number): Promise<void> {
    this.stmts.end.run(at, id);
  }

  async setPeak(id: string, mm: number, at: number): Promise<void> {
    this.stmts.peak.run(mm, at, id);
  }

  async attach(incidentId: string, alertId: string): Promise<void> {
    this.stmts.attach.run(incidentId, alertId);
  }

  async alertIds(incidentId: string): Promise<string[]> {
    return (this.stmts.alertIds.all(incidentId) as { alert_id: string }[]).map((r) => r.alert_id);
  }

  async alertCounts(incidentIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>(incidentIds.map((id) => [id, 0]));
    if (incidentIds.length === 0) return out;
    const rows = this.db
      .prepare(`SELECT incident_id, count(*) AS n FROM incident_alerts WHERE incident_id IN (${incidentIds.map(() => '?').join(',')}) GROUP BY incident_id`)
      .all(...incidentIds) as { incident_id: string; n: number }[];
    for (const r of rows) out.set(r.incident_id, r.n);
    return out;
  }

  async addEvent(incidentId: string, e: Omit<IncidentEvent, 'seq'>): Promise<void> {
    this.stmts.event.run(incidentId, e.at, e.kind, e.subject, e.value, e.detail);
  }

  async events(incidentId: string): Promise<IncidentEvent[]> {
    return this.stmts.events.all(incidentId) as IncidentEvent[];
  }

  async get(id: string): Promise<IncidentRecord | undefined> {
    const r = this.stmts.get.get(id) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  async list(q: { from: number; to: number; room?: string | undefined; limit: number }): Promise<IncidentRecord[]> {
    return (this.stmts.list.all({ from: q.from, to: q.to, room: q.room ?? null, limit: q.limit }) as Row[]).map(fromRow);
  }

  async pruneBefore(cutoffMs: number, limit: number): Promise<number> {
    const ids = this.db.prepare('SELECT id FROM incidents WHERE started_at < ? AND ended_at IS NOT NULL AND ended_at < ? ORDER BY started_at LIMIT ?').pluck().all(cutoffMs, cutoffMs, limit) as string[];
    if (ids.length === 0) return 0;
    const marks = ids.map(() => '?').join(',');
    return this.db.transaction(() => {
      this.db.prepare(`DELETE FROM incident_events WHERE incident_id IN (${marks})`).run(...ids);
      this.db.prepare(`DELETE FROM incident_alerts WHERE incident_id IN (${marks})`).run(...ids);
      return this.db.prepare(`DELETE FROM incidents WHERE id IN (${marks}) AND ended_at IS NOT NULL`).run(...ids).changes;
    })();
  }

  async attachedAlerts(alertIds: readonly string[]): Promise<ReadonlySet<string>> {
    if (alertIds.length === 0) return new Set();
    const rows = this.db.prepare(`SELECT DISTINCT alert_id FROM incident_alerts WHERE alert_id IN (${alertIds.map(() => '?').join(',')})`).pluck().all(...alertIds) as string[];
    return new Set(rows);
  }
}
