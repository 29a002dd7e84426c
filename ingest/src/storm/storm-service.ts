/**
 * The storm module: what storm mode does beyond the rules' numbers (docs/warnings.md, "What storm mode
 * does").
 *
 * - **The team is told** through the alert path: while a room is in storm mode it has an `info` alert
 *   `flood.storm-mode` (subject `flood/{room}`), opened when storm mode starts and resolved when it
 *   ends. So storm mode gets what every alert gets: stored before published, `park/alerts/{id}`, the
 *   webhook, the robots and phone push (the notifications module), acknowledgement with who and when,
 *   and the incident timeline. A warning upgraded while in storm mode (yellow to orange) worsens it.
 * - **One story per storm**: the storm-mode alert opens the room's incident (alerts/incidents.ts), and
 *   the water's alerts that follow join it, so the timeline runs from the warning through the
 *   checklist, the pumps and the levels to the all-clear.
 * - **The readiness checklist** of each room is evaluated all the time (so a pump idle too long is
 *   flagged before any warning), every EVALUATE_EVERY_MS and whenever something it reads changed;
 *   each item's state change goes on the room's open incident timeline, and the whole list is put
 *   there when storm mode starts. Manual items are ticked by responders (audited); ticks count for the
 *   storm at hand and are cleared when its storm mode ends.
 */
import type { EventBus, StormEnded, StormStarted } from '../bus.ts';
import type { AlertDetails, ChecklistItemView, FloodRoomView, RoomStormView, StormWarningRef, WarningView } from '@parkops/contract/api.ts';
import { Subjects } from '@parkops/contract/subjects.ts';
import type { Logger } from '../log.ts';
import { systemClock, type Clock, type Module } from '../module.ts';
import type { FloodRoom, Site } from '@parkops/contract/site/index.ts';
import type { TimeSeriesStore } from '../store/types.ts';
import { effectiveRules } from '../alerts/flood/storm.ts';
import { RULES, type AlertSink } from '../alerts/types.ts';
import { evaluateItem, PumpHistory, type ChecklistItem, type ContactRoute } from './checklist.ts';
import type { ChecklistTick, StormRepository, StoredItemState } from './repository.ts';
import { StormText, type Lang } from './text.ts';

/** The checklist is evaluated at least this often (sensors and routes change without an event here). */
export const EVALUATE_EVERY_MS = 30_000;

/** The warnings module, as storm mode needs it. */
export interface StormSource {
  stormMode(roomId: string, now: number): boolean;
  /** the storm warnings in force at `now`, newest first */
  stormWarnings(now: number): WarningView[];
  /** when the room's storm mode began, while it is on */
  stormSince(roomId: string): number | null;
}

/** The alert engine, as the storm module uses it. */
export interface StormAlerts extends AlertSink {
  recordIncidentEvent(roomId: string, e: { at?: number; kind: string; subject?: string; value?: number; detail?: string }): boolean;
}

export interface StormAuditEntry {
  actor: string;
  action: string;
  target?: string;
  ip?: string;
  detail?: object;
}

export interface StormServiceDeps {
  site: Site;
  bus: EventBus;
  log: Logger;
  repo: StormRepository;
  warnings: StormSource;
  alerts: StormAlerts;
  /** the rooms as GET /api/flood shows them (pumps running now, sensors' freshness) */
  rooms: { room(roomId: string): FloodRoomView | undefined };
  store: Pick<TimeSeriesStore, 'series' | 'readings'>;
  /** routes to people outside the dashboard and their last deliveries */
  contacts: { routes(): Promise<ContactRoute[]> };
  audit?: (e: StormAuditEntry) => void;
  clock?: Clock;
  /** the language of the timeline's lines (the site's language) */
  language?: Lang;
  evaluateEveryMs?: number;
}

export class StormError extends Error {
  constructor(
    readonly status: 404 | 409,
    readonly code: string,
    message: string,
    readonly params: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** CAP severities as alert grades: an upgraded warning (yellow to orange) worsens the storm-mode alert. */
const GRADE: Record<string, number> = { Minor: 1, Moderate: 2, Unknown: 2, Severe: 3, Extreme: 4 };
type StormDetails = Extract<AlertDetails, { rule: 'flood.storm-mode' }>;

const iso = (ms: number): string => new Date(ms).toISOString();

export function warningRef(w: WarningView): StormWarningRef {
  const blocks = w.infos.some((i) => i.coversSite) ? w.infos.filter((i) => i.coversSite) : w.infos;
  return {
    id: w.id,
    sender: w.sender,
    event: w.event,
    severity: w.severity,
    ...(w.onset !== undefined ? { onset: w.onset } : {}),
    ...(w.expires !== undefined ? { expires: w.expires } : w.inForceUntil !== null ? { expires: w.inForceUntil } : {}),
    ...(w.headline !== undefined ? { headline: w.headline } : {}),
    texts: blocks.map((i) => ({ language: i.language, event: i.event, ...(i.headline !== undefined ? { headline: i.headline } : {}), ...(i.senderName !== undefined ? { senderName: i.senderName } : {}) })),
  };
}

export class StormService implements Module {
  readonly name = 'storm';
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly text: StormText;
  private readonly lang: Lang;
  private readonly history: PumpHistory;
  private readonly views = new Map<string, RoomStormView>();
  private readonly states = new Map<string, StoredItemState>();
  private readonly ticks = new Map<string, Map<string, ChecklistTick>>();
  private readonly subscriptions: Array<() => void> = [];
  /** Evaluations run one at a time, in order; a room asked for while one waits is evaluated once. */
  private queue: Promise<void> = Promise.resolve();
  private readonly waiting = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly deps: StormServiceDeps) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log.child({ module: 'storm' });
    this.text = new StormText(deps.site);
    this.lang = deps.language ?? 'en';
    this.history = new PumpHistory(deps.store);
  }

  async start(): Promise<void> {
    const { repo, bus, site } = this.deps;
    await repo.migrate();
    for (const s of await repo.itemStates()) this.states.set(`${s.room}|${s.item}`, s);
    for (const room of site.rooms) this.ticks.set(room.id, new Map((await repo.currentTicks(room.id)).map((t) => [t.item, t])));
    this.running = true;
    // Storm mode may have started or ended while ParkOps was down (or before this module subscribed):
    // the alert follows the warnings module's answer now.
    const now = this.clock.now();
    const starting: string[] = [];
    for (const room of site.rooms) if (this.reconcile(room, now)) starting.push(room.id);
    this.subscriptions.push(
      bus.on('storm.started', (e) => this.onStarted(e)),
      bus.on('storm.updated', (e) => this.onUpdated(e)),
      bus.on('storm.ended', (e) => this.onEnded(e)),
      bus.on('reading.accepted', ({ reading, applied, duplicate }) => {
        if (reading.kind === 'pump' && !duplicate) this.history.onPumpReading(reading.subject, reading.running, applied);
      }),
      // A sensor turning stale or fresh, a pump alert on a standby pump: checked again at once.
      bus.on('flood.judged', ({ room, devices }) => {
        if (devices.length > 0) this.request(room);
      }),
      bus.on('alert.changed', ({ alert }) => {
        if (alert.rule.startsWith('pump.') && alert.room !== undefined) this.request(alert.room);
      }),
    );
    for (const room of site.rooms) this.request(room.id, starting.includes(room.id) ? 'storm-start' : undefined);
    await this.settled();
    const every = this.deps.evaluateEveryMs ?? EVALUATE_EVERY_MS;
    this.timer = setInterval(() => {
      for (const room of this.deps.site.rooms) this.request(room.id);
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const u of this.subscriptions.splice(0)) u();
    await this.settled();
  }

  /** Resolves once every evaluation asked for so far has run (tests, shutdown). */
  async settled(): Promise<void> {
    let last: Promise<void> | undefined;
    while (last !== this.queue) {
      last = this.queue;
      await last;
    }
  }

  /** The room's storm view as last evaluated (GET /api/flood, the stream); undefined before the first evaluation. */
  view(roomId: string): RoomStormView | undefined {
    return this.views.get(roomId);
  }

  /** The room's storm view evaluated now (GET /api/flood/{room}/readiness). */
  async readiness(roomId: string): Promise<RoomStormView> {
    if (!this.deps.site.room(roomId)) throw new StormError(404, 'storm.unknown-room', `no flood room "${roomId}"`, { room: roomId });
    this.request(roomId);
    await this.settled();
    return this.views.get(roomId)!;
  }

  /** A responder ticks (or unticks) a manual item. Stored and audited before the answer. */
  async tick(roomId: string, itemId: string, input: { done: boolean; note?: string | undefined }, by: { username: string; ip?: string | undefined }): Promise<ChecklistItemView> {
    const room = this.deps.site.room(roomId);
    if (!room) throw new StormError(404, 'storm.unknown-room', `no flood room "${roomId}"`, { room: roomId });
    const item = room.storm.checklist.find((i) => i.id === itemId);
    if (!item) throw new StormError(404, 'storm.unknown-item', `room "${roomId}" has no checklist item "${itemId}"`, { room: roomId, item: itemId });
    if (item.check !== 'manual') throw new StormError(409, 'storm.not-manual', `checklist item "${itemId}" is checked from live data (${item.check}); it cannot be ticked`, { item: itemId, check: item.check });
    const note = input.note?.trim() ? input.note.trim() : null;
    const t: ChecklistTick = { room: roomId, item: itemId, done: input.done, by: by.username, at: this.clock.now(), note };
    await this.deps.repo.addTick(t);
    this.ticks.get(roomId)?.set(itemId, t);
    const entry: StormAuditEntry = { actor: by.username, action: input.done ? 'storm.checklist.tick' : 'storm.checklist.untick', target: `${roomId}/${itemId}`, detail: { note } };
    if (by.ip !== undefined) entry.ip = by.ip;
    try {
      this.deps.audit?.(entry);
    } catch (err) {
      this.log.error({ err }, 'audit of a checklist tick failed');
    }
    this.log.info({ room: roomId, item: itemId, done: input.done, by: by.username }, 'checklist item ticked');
    this.request(roomId);
    await this.settled();
    return this.views.get(roomId)!.checklist.find((i) => i.id === itemId)!;
  }

  // ---- storm mode as an alert -----------------------------------------------------------------------

  private details(room: FloodRoom, since: number, warning: WarningView, count: number): StormDetails {
    const s = room.storm;
    return {
      rule: RULES.stormMode,
      room: room.id,
      since: iso(since),
      warning: warningRef(warning),
      warnings: count,
      rules: { riseWarnMmPerMin: s.riseWarnMmPerMin, riseWindowSec: s.riseWindowSec, holdSec: s.holdSec, clearHoldSec: s.clearHoldSec },
    };
  }

  private raise(room: FloodRoom, d: StormDetails, now: number): void {
    this.deps.alerts.raise(RULES.stormMode, Subjects.room(room.id), { severity: 'info', details: d, room: room.id, grade: GRADE[d.warning.severity] ?? 2 }, now);
  }

  /** Ends the alert: its last words say when and why, then it resolves. */
  private end(room: FloodRoom, since: number, warning: WarningView | null, reason: NonNullable<StormDetails['ended']>['reason'], now: number): void {
    const subject = Subjects.room(room.id);
    if (!this.deps.alerts.isOpen(RULES.stormMode, subject)) return;
    if (warning) this.raise(room, { ...this.details(room, since, warning, 0), ended: { at: iso(now), reason } }, now);
    this.deps.alerts.clear(RULES.stormMode, subject, now);
  }

  /** At start: opens, refreshes or ends the room's storm-mode alert to match the warnings now. True when it opened. */
  private reconcile(room: FloodRoom, now: number): boolean {
    const { warnings, alerts } = this.deps;
    const subject = Subjects.room(room.id);
    const open = alerts.isOpen(RULES.stormMode, subject);
    if (room.storm.enabled && warnings.stormMode(room.id, now)) {
      const list = warnings.stormWarnings(now);
      const newest = list[0];
      if (newest) this.raise(room, this.details(room, warnings.stormSince(room.id) ?? now, newest, list.length), now);
      return !open;
    }
    if (open) {
      this.log.info({ room: room.id }, 'storm mode ended while ParkOps was down: its alert resolves now');
      alerts.clear(RULES.stormMode, subject, now);
    }
    return false;
  }

  private onStarted(e: StormStarted): void {
    const room = this.deps.site.room(e.roomId);
    if (!room) return;
    this.raise(room, this.details(room, e.at, e.warning, e.warnings.length), e.at);
    this.request(room.id, 'storm-start');
  }

  private onUpdated(e: StormStarted): void {
    const room = this.deps.site.room(e.roomId);
    if (!room) return;
    const since = this.deps.warnings.stormSince(room.id) ?? e.at;
    this.raise(room, this.details(room, since, e.warning, e.warnings.length), e.at);
    const w = warningRef(e.warning);
    this.deps.alerts.recordIncidentEvent(room.id, { at: e.at, kind: 'storm-warning', subject: Subjects.room(room.id), detail: this.text.warningLine(w, e.at, this.lang) });
    this.request(room.id);
  }

  private onEnded(e: StormEnded): void {
    const room = this.deps.site.room(e.roomId);
    if (!room) return;
    const since = this.views.get(room.id)?.since;
    this.end(room, since ? Date.parse(since) : e.at, e.warning, e.reason, e.at);
    // Ticks were for this storm: sandbags laid for it are not laid for the next one. Memory first (an
    // evaluation already waiting must not count them), then the log, in the evaluations' order.
    this.ticks.set(room.id, new Map());
    this.queue = this.queue
      .then(async () => {
        const n = await this.deps.repo.clearTicks(room.id, e.at);
        if (n > 0) this.log.info({ room: room.id, ticks: n }, 'storm mode ended: checklist ticks cleared');
      })
      .catch((err: unknown) => this.log.error({ err, room: room.id }, 'clearing checklist ticks failed'));
    this.request(room.id);
  }

  // ---- the checklist ----------------------------------------------------------------------------------

  /** Asks for an evaluation of the room; `storm-start` also writes the whole checklist on the timeline. */
  private request(roomId: string, reason?: 'storm-start'): void {
    if (!this.running) return;
    if (reason === undefined && this.waiting.has(roomId)) return;
    this.waiting.add(roomId);
    this.queue = this.queue
      .then(async () => {
        this.waiting.delete(roomId);
        await this.evaluate(roomId, reason);
      })
      .catch((err: unknown) => this.log.error({ err, room: roomId }, 'readiness checklist evaluation failed'));
  }

  private async evaluate(roomId: string, reason: 'storm-start' | undefined): Promise<void> {
    const { site, warnings, alerts, rooms, contacts, bus } = this.deps;
    const room = site.room(roomId);
    if (!room) return;
    const now = this.clock.now();
    const mode = room.storm.enabled && warnings.stormMode(room.id, now);
    const view = rooms.room(room.id);
    const ticks = this.ticks.get(room.id) ?? new Map<string, ChecklistTick>();
    const checklist: ChecklistItemView[] = [];
    for (const item of room.storm.checklist) {
      const r = await evaluateItem(item, { now, room, view, history: this.history, isOpen: (rule, subject) => alerts.isOpen(rule, subject), routes: () => contacts.routes(), tick: (id) => ticks.get(id), onError: (err, id) => this.log.error({ err, room: room.id, item: id }, 'a readiness check could not read its data') });
      const { since, changed } = await this.follow(room, item, r.state, now);
      const c: ChecklistItemView = { id: item.id, text: item.text, ...(item.textZh !== undefined ? { textZh: item.textZh } : {}), check: item.check, state: r.state, findings: r.findings, since: iso(since), checkedAt: iso(now) };
      checklist.push(c);
      if (changed && reason !== 'storm-start') {
        alerts.recordIncidentEvent(room.id, { at: now, kind: 'checklist', subject: Subjects.room(room.id), detail: this.text.item(room.id, c, now, this.lang) });
        this.log.info({ room: room.id, item: item.id, state: r.state }, 'checklist item changed');
      }
    }
    if (reason === 'storm-start') {
      for (const c of checklist) alerts.recordIncidentEvent(room.id, { at: now, kind: 'checklist-start', subject: Subjects.room(room.id), detail: this.text.item(room.id, c, now, this.lang) });
    }
    const list = mode ? warnings.stormWarnings(now) : [];
    const sinceMs = mode ? warnings.stormSince(room.id) : null;
    const eff = effectiveRules(room, mode);
    const storm = effectiveRules(room, true);
    const next: RoomStormView = {
      mode,
      ...(sinceMs !== null ? { since: iso(sinceMs) } : {}),
      ...(list[0] ? { warning: warningRef(list[0]) } : {}),
      rules: { riseWarnMmPerMin: eff.riseWarnMmPerMin, riseWindowSec: eff.riseWindowSec, holdSec: eff.holdSec, clearHoldSec: eff.clearHoldSec },
      stormRules: { riseWarnMmPerMin: storm.riseWarnMmPerMin, riseWindowSec: storm.riseWindowSec, holdSec: storm.holdSec, clearHoldSec: storm.clearHoldSec },
      checklist,
    };
    const before = this.views.get(room.id);
    this.views.set(room.id, next);
    if (!before || signature(before) !== signature(next)) bus.emit('storm.readiness', { roomId: room.id, storm: next });
  }

  /**
   * Keeps each item's state and since when, stored so a restart announces nothing twice. `changed`: the
   * state differs from the stored one (the first evaluation ever is no change).
   */
  private async follow(room: FloodRoom, item: ChecklistItem, state: ChecklistItemView['state'], now: number): Promise<{ since: number; changed: boolean }> {
    const key = `${room.id}|${item.id}`;
    const prev = this.states.get(key);
    if (prev && prev.state === state) return { since: prev.since, changed: false };
    const s: StoredItemState = { room: room.id, item: item.id, state, since: now };
    await this.deps.repo.saveItemState(s);
    this.states.set(key, s);
    return { since: now, changed: prev !== undefined };
  }
}

/** What the dashboard shows of a view; the evaluation time alone is no change. */
function signature(v: RoomStormView): string {
  return JSON.stringify({ ...v, checklist: v.checklist.map(({ checkedAt: _c, ...rest }) => rest) });
}
