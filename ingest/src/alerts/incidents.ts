/**
 * Flood incidents: one runs in a room from its first flood alert (water level or rate of rise) until every
 * flood and pump alert attached to it is resolved. The timeline (alerts, acknowledgements with notes,
 * level peaks, pump starts and stops with run time, notifications) is built from stored rows, so it is the
 * same after a restart, and exports as CSV for the after-action review and the insurer.
 */
import type { Alert, AlertDetails } from '@parkops/contract/api.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import { toAlert, type AlertRecord, type AlertRepository, type IncidentRow } from './alert-repository.ts';
import { LocalTimeText } from './messages.ts';
import { RULES, type StateStore } from './types.ts';
import { parseSubject, Subjects } from '@parkops/contract/subjects.ts';
import { toCsv, type CsvCell } from '../api/csv.ts';
import { LocalTime } from '../reports/local-time.ts';
import type { ReportLang } from '../reports/report-text.ts';

/**
 * Rules that open an incident. Storm mode opens one too: the team wants one story per storm, from the
 * warning through the checklist and the water to the all-clear (docs/warnings.md).
 */
const OPENS = new Set<string>([RULES.level, RULES.rise, RULES.stormMode]);
/** Rules attached to a room's incident that keep it open until resolved. */
const BELONGS = (rule: string): boolean => rule.startsWith('flood.') || rule.startsWith('pump.');

export interface TimelineEntry {
  at: string;
  /** alert-opened, alert-acknowledged, alert-worsened, ..., level-peak, pump-start, pump-stop, pump-running, notification, incident-start, incident-end */
  kind: string;
  subject?: string;
  alertId?: string;
  rule?: string;
  severity?: string;
  state?: string;
  value?: number;
  actor?: string;
  note?: string;
  /** in the site's language (an alert's message) or English (pump and notification lines): for the CSV */
  detail?: string;
  // Structured, so that readers word the entry in their own language:
  /** alert-* and notification entries: the alert change */
  change?: string;
  /** alert-* entries: what the rule found at this change */
  details?: AlertDetails;
  /** notification entries: the channel (`webhook`, `wecom`, `webpush`, ... `none`: nobody was told) */
  channel?: string;
  /** notification entries that did not deliver: why, as a code (contract/notifications.ts DeliveryErrorCode) */
  errorCode?: string;
}

export interface IncidentSummary {
  id: string;
  room: string;
  roomName: string;
  state: 'open' | 'closed';
  startedAt: string;
  endedAt?: string;
  /** highest combined level during the incident, mm above the pit floor */
  peakMm?: number;
  peakAt?: string;
  alertCount: number;
}

export interface IncidentDetail extends IncidentSummary {
  alerts: Alert[];
  /** pump id -> seconds run during the incident */
  pumpRunSec: Record<string, number>;
  notificationsSent: number;
  notificationsFailed: number;
  timeline: TimelineEntry[];
}

interface PeakState {
  mode: 'rising' | 'falling';
  mm: number;
  at: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class IncidentTracker {
  private readonly open = new Map<string, IncidentRow>();
  private readonly clock: LocalTimeText;

  constructor(
    private readonly repo: AlertRepository,
    private readonly site: Site,
    private readonly store: StateStore,
    private readonly newId: (prefix: string, now: number) => string,
    private readonly runningPumps: (room: string) => { id: string; startedAt: number | null }[],
    private readonly openAlerts: (room: string) => AlertRecord[],
  ) {
    for (const row of repo.openIncidents()) this.open.set(row.room, row);
    this.clock = new LocalTimeText(site.timezone);
  }

  openIncidentOf(room: string): IncidentRow | undefined {
    return this.open.get(room);
  }

  onAlertOpened(a: AlertRecord, now: number): void {
    if (a.room === null || !BELONGS(a.rule)) return;
    let inc = this.open.get(a.room);
    if (!inc) {
      if (!OPENS.has(a.rule)) return;
      // A pump that failed to start (or does not move water) opens below the warning band: the incident
      // starts with the first of the room's flood and pump alerts still open.
      const earlier = this.openAlerts(a.room).filter((x) => BELONGS(x.rule) && x.id !== a.id);
      const startedAt = Math.min(now, ...earlier.map((x) => x.startedAt));
      inc = { id: this.newId('inc', now), room: a.room, started_at: startedAt, ended_at: null, peak_mm: null, peak_at: null };
      this.repo.openIncident(inc);
      this.open.set(a.room, inc);
      this.store.save(`peak:${a.room}`, null);
      for (const p of this.runningPumps(a.room)) {
        const since = Math.max(p.startedAt ?? startedAt, startedAt);
        this.repo.incidentEvent(inc.id, since, 'pump-running', Subjects.pump(a.room, p.id), null, p.startedAt !== null ? `running since ${this.clock.at(iso(p.startedAt), now)}` : 'running');
      }
      for (const other of earlier) this.repo.attach(inc.id, other.id);
    }
    this.repo.attach(inc.id, a.id);
  }

  onAlertResolved(a: AlertRecord, now: number): void {
    if (a.room === null || !BELONGS(a.rule)) return;
    const inc = this.open.get(a.room);
    if (!inc) return;
    const stillOpen = this.repo.incidentAlerts(inc.id).some((x) => x.state !== 'resolved' && x.id !== a.id);
    if (stillOpen) return;
    const peak = this.store.load<PeakState | null>(`peak:${a.room}`);
    if (peak && peak.mode === 'rising') this.repo.incidentEvent(inc.id, peak.at, 'level-peak', Subjects.roomLevel(a.room), peak.mm, null);
    this.store.save(`peak:${a.room}`, null);
    this.repo.endIncident(inc.id, now);
    this.open.delete(a.room);
  }

  /** Combined level of a room: keeps the incident's peak, and records each local peak (a fall of deadbandMm after a rise). */
  level(room: string, mm: number, now: number): void {
    const inc = this.open.get(room);
    if (!inc) return;
    if (inc.peak_mm === null || mm > inc.peak_mm) {
      inc.peak_mm = mm;
      inc.peak_at = now;
      this.repo.setPeak(inc.id, mm, now);
    }
    const db = this.site.room(room)?.bands.deadbandMm ?? 20;
    const key = `peak:${room}`;
    const p = this.store.load<PeakState | null>(key) ?? { mode: 'rising', mm, at: now };
    if (p.mode === 'rising') {
      if (mm > p.mm) Object.assign(p, { mm, at: now });
      else if (mm <= p.mm - db) {
        this.repo.incidentEvent(inc.id, p.at, 'level-peak', Subjects.roomLevel(room), p.mm, null);
        Object.assign(p, { mode: 'falling', mm, at: now });
      }
    } else if (mm < p.mm) Object.assign(p, { mm, at: now });
    else if (mm >= p.mm + db) Object.assign(p, { mode: 'rising', mm, at: now });
    this.store.save(key, p);
  }

  /** Any other entry on the room's open incident timeline; false when none is open. */
  event(room: string, at: number, kind: string, subject: string | null, value: number | null, detail: string | null): boolean {
    const inc = this.open.get(room);
    if (!inc) return false;
    this.repo.incidentEvent(inc.id, at, kind, subject, value, detail);
    return true;
  }

  pump(room: string, pumpId: string, running: boolean, now: number, runMs: number | null): void {
    const inc = this.open.get(room);
    if (!inc) return;
    const subject = Subjects.pump(room, pumpId);
    if (running) this.repo.incidentEvent(inc.id, now, 'pump-start', subject, null, null);
    else this.repo.incidentEvent(inc.id, now, 'pump-stop', subject, runMs !== null ? Math.round(runMs / 1000) : null, runMs !== null ? `ran ${Math.round(runMs / 1000)} s` : null);
  }

  list(q: { from: number; to: number; room?: string | undefined; limit: number }): IncidentSummary[] {
    return this.repo.incidents(q.from, q.to, q.room, q.limit).map((row) => this.summary(row, this.repo.incidentAlerts(row.id).length));
  }

  private summary(row: IncidentRow, alertCount: number): IncidentSummary {
    const s: IncidentSummary = {
      id: row.id,
      room: row.room,
      roomName: this.site.room(row.room)?.name ?? row.room,
      state: row.ended_at === null ? 'open' : 'closed',
      startedAt: iso(row.started_at),
      alertCount,
    };
    if (row.ended_at !== null) s.endedAt = iso(row.ended_at);
    if (row.peak_mm !== null) s.peakMm = row.peak_mm;
    if (row.peak_at !== null) s.peakAt = iso(row.peak_at);
    return s;
  }

  detail(id: string, now: number): IncidentDetail | undefined {
    const row = this.repo.incident(id);
    if (!row) return undefined;
    const alerts = this.repo.incidentAlerts(id);
    const entries: { at: number; seq: number; e: TimelineEntry }[] = [];
    let seq = 0;
    const add = (at: number, e: Omit<TimelineEntry, 'at'>): void => {
      entries.push({ at, seq: seq++, e: { at: iso(at), ...e } });
    };
    add(row.started_at, { kind: 'incident-start', subject: Subjects.room(row.room), detail: this.site.room(row.room)?.name ?? row.room });
    for (const a of alerts) {
      for (const ev of this.repo.events(a.id)) {
        const e: Omit<TimelineEntry, 'at'> = { kind: `alert-${ev.change}`, subject: a.subject, alertId: a.id, rule: a.rule, severity: ev.severity, state: ev.state, detail: ev.message, change: ev.change };
        if (ev.details !== null) e.details = JSON.parse(ev.details) as AlertDetails;
        if (ev.value !== null) e.value = ev.value;
        if (ev.actor !== null) e.actor = ev.actor;
        if (ev.note !== null) e.note = ev.note;
        add(ev.at, e);
      }
    }
    const pumpRunSec: Record<string, number> = {};
    const runningSince = new Map<string, number>();
    const end = row.ended_at ?? now;
    for (const ev of this.repo.incidentEvents(id)) {
      const e: Omit<TimelineEntry, 'at'> = { kind: ev.kind };
      if (ev.subject !== null) e.subject = ev.subject;
      if (ev.value !== null) e.value = ev.value;
      if (ev.detail !== null) e.detail = ev.detail;
      add(ev.at, e);
      const target = ev.subject !== null ? parseSubject(ev.subject) : null;
      if (target?.kind !== 'pump') continue;
      const pumpId = target.pumpId;
      if (ev.kind === 'pump-start' || ev.kind === 'pump-running') runningSince.set(pumpId, ev.at);
      else if (ev.kind === 'pump-stop') {
        const from = runningSince.get(pumpId) ?? row.started_at;
        pumpRunSec[pumpId] = (pumpRunSec[pumpId] ?? 0) + Math.round((ev.at - from) / 1000);
        runningSince.delete(pumpId);
      }
    }
    for (const [pumpId, from] of runningSince) pumpRunSec[pumpId] = (pumpRunSec[pumpId] ?? 0) + Math.round((end - from) / 1000);
    let sent = 0;
    let failed = 0;
    for (const n of this.repo.notifications(alerts.map((a) => a.id))) {
      if (n.ok) sent++;
      else failed++;
      const e: Omit<TimelineEntry, 'at'> = { kind: 'notification', alertId: n.alertId, state: n.ok ? 'sent' : 'failed', detail: [n.channel, n.change, n.target, n.detail].filter((x) => x).join(' '), change: n.change, channel: n.channel };
      if (n.errorCode) e.errorCode = n.errorCode;
      e.value = n.attempt;
      add(n.at, e);
    }
    if (row.ended_at !== null) add(row.ended_at, { kind: 'incident-end', subject: Subjects.room(row.room) });
    entries.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return {
      ...this.summary(row, alerts.length),
      alerts: alerts.map(toAlert),
      pumpRunSec,
      notificationsSent: sent,
      notificationsFailed: failed,
      timeline: entries.map((x) => x.e),
    };
  }
}

const CSV_COLUMNS = ['at', 'kind', 'subject', 'alertId', 'rule', 'severity', 'state', 'value', 'actor', 'note', 'detail'] as const;
/** Headers for people (`lang`); the machine names above otherwise. `at_local` and `time_zone` follow `at`. */
const CSV_HEADERS: Record<ReportLang, Record<(typeof CSV_COLUMNS)[number] | 'at_local' | 'time_zone', string>> = {
  en: { at: 'Time (UTC)', at_local: 'Local time', time_zone: 'Time zone', kind: 'Event', subject: 'Subject', alertId: 'Alert', rule: 'Rule', severity: 'Severity', state: 'State', value: 'Value', actor: 'By', note: 'Note', detail: 'Detail' },
  'zh-CN': { at: '时间（UTC）', at_local: '当地时间', time_zone: '时区', kind: '事件', subject: '对象', alertId: '告警', rule: '规则', severity: '级别', state: '状态', value: '数值', actor: '操作人', note: '备注', detail: '详情' },
};

/** The timeline as CSV: each UTC time with the site's local time beside it; headers in `lang` when given. */
export function timelineCsv(d: IncidentDetail, opts: { timezone: string; lang?: ReportLang | null | undefined }): string {
  const lt = new LocalTime(opts.timezone);
  const ids = ['at', 'at_local', 'time_zone', ...CSV_COLUMNS.slice(1)] as const;
  const header = ids.map((c) => (opts.lang ? CSV_HEADERS[opts.lang][c] : c));
  const rows = d.timeline.map((e) => ids.map((c): CsvCell => (c === 'at_local' ? lt.stamp(Date.parse(e.at)) : c === 'time_zone' ? opts.timezone : (e[c] as CsvCell))));
  return toCsv(header, rows);
}
