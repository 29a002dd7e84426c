/**
 * Flood incidents: one runs in a room from its first flood alert (water level or rate of rise) until every
 * flood and pump alert attached to it is resolved. The timeline (alerts, acknowledgements with notes,
 * level peaks, pump starts and stops with run time, notifications) is built from stored rows, so it is the
 * same after a restart, and exports as CSV for the after-action review and the insurer.
 *
 * Which incident is open and which alerts it holds is kept in memory, decided synchronously as the
 * alerts change; each change is written through the incident repository on the alert engine's serial
 * write queue, after the alert change that caused it. Notification attempts are the notifications
 * module's: the timeline asks it through `NotificationLog`.
 */
import type { Alert, AlertDetails } from '@parkops/contract/api.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import { toAlert, type AlertRecord, type AlertRepository } from './alert-repository.ts';
import type { IncidentRecord, IncidentRepository } from './incident-repository.ts';
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

/** One delivery attempt of a notification, as the notifications module records it. */
export interface NotificationAttempt {
  alertId: string;
  change: string;
  /** `webhook`, `escalation`, `node-red`, a channel's name */
  channel: string;
  /** where it went, secrets masked */
  target: string;
  attempt: number;
  status: 'sent' | 'retrying' | 'failed';
  httpStatus: number | null;
  error: string | null;
  /** why it did not deliver, as the notifications module's code (contract/notifications.ts) */
  errorCode?: string | null | undefined;
  /** ISO 8601 */
  at: string;
}

/** What the incident timeline needs from the notifications module (the controller hands it the Notifier). */
export interface NotificationLog {
  /** Every attempt for these alerts, oldest first. */
  forAlerts(alertIds: string[]): Promise<NotificationAttempt[]>;
}

interface PeakState {
  mode: 'rising' | 'falling';
  mm: number;
  at: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export interface IncidentTrackerDeps {
  repo: IncidentRepository;
  alerts: AlertRepository;
  notifications?: NotificationLog | undefined;
  site: Site;
  store: StateStore;
  newId: (prefix: string, now: number) => string;
  runningPumps: (room: string) => { id: string; startedAt: number | null }[];
  /** The room's alerts that are not resolved, from the engine's memory. */
  openAlerts: (room: string) => AlertRecord[];
  /** The engine's record of an alert while it is active (fresher than storage), else undefined. */
  current: (alertId: string) => AlertRecord | undefined;
  /** Queues a write on the engine's serial write queue. */
  write: (what: string, w: () => Promise<void>) => void;
}

export class IncidentTracker {
  /** Open incidents by room. */
  private readonly open = new Map<string, IncidentRecord>();
  /** Alert ids attached to each open incident. */
  private readonly attached = new Map<string, Set<string>>();
  private readonly clock: LocalTimeText;
  private readonly repo: IncidentRepository;
  private readonly site: Site;
  private readonly store: StateStore;

  constructor(private readonly deps: IncidentTrackerDeps) {
    this.repo = deps.repo;
    this.site = deps.site;
    this.store = deps.store;
    this.clock = new LocalTimeText(deps.site.timezone);
  }

  /** Reads the open incidents and their alerts (at start). */
  async load(): Promise<void> {
    for (const row of await this.repo.openIncidents()) {
      this.open.set(row.room, row);
      this.attached.set(row.id, new Set(await this.repo.alertIds(row.id)));
    }
  }

  openIncidentOf(room: string): IncidentRecord | undefined {
    return this.open.get(room);
  }

  private attach(inc: IncidentRecord, alertId: string): void {
    const set = this.attached.get(inc.id) ?? new Set<string>();
    this.attached.set(inc.id, set);
    if (set.has(alertId)) return;
    set.add(alertId);
    this.deps.write('incident attach', () => this.repo.attach(inc.id, alertId));
  }

  private event(inc: IncidentRecord, at: number, kind: string, subject: string | null, value: number | null, detail: string | null): void {
    this.deps.write('incident event', () => this.repo.addEvent(inc.id, { at, kind, subject, value, detail }));
  }

  onAlertOpened(a: AlertRecord, now: number): void {
    if (a.room === null || !BELONGS(a.rule)) return;
    let inc = this.open.get(a.room);
    if (!inc) {
      if (!OPENS.has(a.rule)) return;
      // A pump that failed to start (or does not move water) opens below the warning band: the incident
      // starts with the first of the room's flood and pump alerts still open.
      const earlier = this.deps.openAlerts(a.room).filter((x) => BELONGS(x.rule) && x.id !== a.id);
      const startedAt = Math.min(now, ...earlier.map((x) => x.startedAt));
      const opened: IncidentRecord = { id: this.deps.newId('inc', now), room: a.room, startedAt, endedAt: null, peakMm: null, peakAt: null };
      inc = opened;
      const snapshot = { ...opened };
      this.deps.write('incident open', () => this.repo.open(snapshot));
      this.open.set(a.room, inc);
      this.attached.set(inc.id, new Set());
      this.store.save(`peak:${a.room}`, null);
      for (const p of this.deps.runningPumps(a.room)) {
        const since = Math.max(p.startedAt ?? startedAt, startedAt);
        this.event(inc, since, 'pump-running', Subjects.pump(a.room, p.id), null, p.startedAt !== null ? `running since ${this.clock.at(iso(p.startedAt), now)}` : 'running');
      }
      for (const other of earlier) this.attach(inc, other.id);
    }
    this.attach(inc, a.id);
  }

  onAlertResolved(a: AlertRecord, now: number): void {
    if (a.room === null || !BELONGS(a.rule)) return;
    const inc = this.open.get(a.room);
    if (!inc) return;
    const stillOpen = [...(this.attached.get(inc.id) ?? [])].some((id) => id !== a.id && (this.deps.current(id)?.state ?? 'resolved') !== 'resolved');
    if (stillOpen) return;
    const peak = this.store.load<PeakState | null>(`peak:${a.room}`);
    if (peak && peak.mode === 'rising') this.event(inc, peak.at, 'level-peak', Subjects.roomLevel(a.room), peak.mm, null);
    this.store.save(`peak:${a.room}`, null);
    inc.endedAt = now;
    this.deps.write('incident end', () => this.repo.end(inc.id, now));
    this.open.delete(a.room);
    this.attached.delete(inc.id);
  }

  /** Combined level of a room: keeps the incident's peak, and records each local peak (a fall of deadbandMm after a rise). */
  level(room: string, mm: number, now: number): void {
    const inc = this.open.get(room);
    if (!inc) return;
    if (inc.peakMm === null || mm > inc.peakMm) {
      inc.peakMm = mm;
      inc.peakAt = now;
      this.deps.write('incident peak', () => this.repo.setPeak(inc.id, mm, now));
    }
    const db = this.site.room(room)?.bands.deadbandMm ?? 20;
    const key = `peak:${room}`;
    const p = this.store.load<PeakState | null>(key) ?? { mode: 'rising', mm, at: now };
    if (p.mode === 'rising') {
      if (mm > p.mm) Object.assign(p, { mm, at: now });
      else if (mm <= p.mm - db) {
        this.event(inc, p.at, 'level-peak', Subjects.roomLevel(room), p.mm, null);
        Object.assign(p, { mode: 'falling', mm, at: now });
      }
    } else if (mm < p.mm) Object.assign(p, { mm, at: now });
    else if (mm >= p.mm + db) Object.assign(p, { mode: 'rising', mm, at: now });
    this.store.save(key, p);
  }

  /** Any other entry on the room's open incident timeline; false when none is open. */
  roomEvent(room: string, at: number, kind: string, subject: string | null, value: number | null, detail: string | null): boolean {
    const inc = this.open.get(room);
    if (!inc) return false;
    this.event(inc, at, kind, subject, value, detail);
    return true;
  }

  pump(room: string, pumpId: string, running: boolean, now: number, runMs: number | null): void {
    const inc = this.open.get(room);
    if (!inc) return;
    const subject = Subjects.pump(room, pumpId);
    if (running) this.event(inc, now, 'pump-start', subject, null, null);
    else this.event(inc, now, 'pump-stop', subject, runMs !== null ? Math.round(runMs / 1000) : null, runMs !== null ? `ran ${Math.round(runMs / 1000)} s` : null);
  }

  async list(q: { from: number; to: number; room?: string | undefined; limit: number }): Promise<IncidentSummary[]> {
    const rows = await this.repo.list(q);
    const counts = await this.repo.alertCounts(rows.map((r) => r.id));
    return rows.map((row) => this.summary(row, counts.get(row.id) ?? 0));
  }

  private summary(row: IncidentRecord, alertCount: number): IncidentSummary {
    const s: IncidentSummary = {
      id: row.id,
      room: row.room,
      roomName: this.site.room(row.room)?.name ?? row.room,
      state: row.endedAt === null ? 'open' : 'closed',
      startedAt: iso(row.startedAt),
      alertCount,
    };
    if (row.endedAt !== null) s.endedAt = iso(row.endedAt);
    if (row.peakMm !== null) s.peakMm = row.peakMm;
    if (row.peakAt !== null) s.peakAt = iso(row.peakAt);
    return s;
  }

  async detail(id: string, now: number): Promise<IncidentDetail | undefined> {
    const row = await this.repo.get(id);
    if (!row) return undefined;
    const stored = await this.deps.alerts.byIds(await this.repo.alertIds(id));
    const alerts = stored.map((a) => this.deps.current(a.id) ?? a);
    const entries: { at: number; seq: number; e: TimelineEntry }[] = [];
    let seq = 0;
    const add = (at: number, e: Omit<TimelineEntry, 'at'>): void => {
      entries.push({ at, seq: seq++, e: { at: iso(at), ...e } });
    };
    add(row.startedAt, { kind: 'incident-start', subject: Subjects.room(row.room), detail: this.site.room(row.room)?.name ?? row.room });
    for (const a of alerts) {
      for (const ev of await this.deps.alerts.events(a.id)) {
        const e: Omit<TimelineEntry, 'at'> = { kind: `alert-${ev.change}`, subject: a.subject, alertId: a.id, rule: a.rule, severity: ev.severity, state: ev.state, detail: ev.message, change: ev.change };
        if (ev.details !== null) e.details = ev.details;
        if (ev.value !== null) e.value = ev.value;
        if (ev.actor !== null) e.actor = ev.actor;
        if (ev.note !== null) e.note = ev.note;
        add(ev.at, e);
      }
    }
    const pumpRunSec: Record<string, number> = {};
    const runningSince = new Map<string, number>();
    const end = row.endedAt ?? now;
    for (const ev of await this.repo.events(id)) {
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
        const from = runningSince.get(pumpId) ?? row.startedAt;
        pumpRunSec[pumpId] = (pumpRunSec[pumpId] ?? 0) + Math.round((ev.at - from) / 1000);
        runningSince.delete(pumpId);
      }
    }
    for (const [pumpId, from] of runningSince) pumpRunSec[pumpId] = (pumpRunSec[pumpId] ?? 0) + Math.round((end - from) / 1000);
    let sent = 0;
    let failed = 0;
    const attempts = this.deps.notifications ? await this.deps.notifications.forAlerts(alerts.map((a) => a.id)) : [];
    for (const n of attempts) {
      const ok = n.status === 'sent';
      if (ok) sent++;
      else failed++;
      const outcome = n.error ?? (n.httpStatus !== null ? `HTTP ${n.httpStatus}` : null);
      const e: Omit<TimelineEntry, 'at'> = { kind: 'notification', alertId: n.alertId, state: ok ? 'sent' : 'failed', detail: [n.channel, n.change, n.target, outcome].filter((x) => x).join(' '), change: n.change, channel: n.channel };
      if (n.errorCode) e.errorCode = n.errorCode;
      e.value = n.attempt;
      add(Date.parse(n.at), e);
    }
    if (row.endedAt !== null) add(row.endedAt, { kind: 'incident-end', subject: Subjects.room(row.room) });
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
