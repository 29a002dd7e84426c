/**
 * The alert engine: evaluates the flood and park rules on every accepted reading and on a 1 s
 * tick, runs the alert lifecycle of docs/api.md, the alert object (firing -> acknowledged -> resolved, one open
 * alert per rule and subject), persists everything so a restart changes nothing, publishes
 * `park/alerts/{id}` as section 2 says, and emits `alert.changed` on the bus for every change.
 *
 * Memory is authoritative and synchronous: a rule raises, and the alert is open, before the reading's
 * handler returns. Every durable change (alert, its event, rule state, incident) goes through one
 * serial write queue, and the external effects of a change (MQTT publish, `alert.changed`, and so the
 * notifications) run only after its write settled, in the order of the changes: stored before
 * published. With SQLite a write is one synchronous statement, so the queue adds microseconds.
 */
import { FencedOut } from '../db/tx.ts';
import { randomBytes } from 'node:crypto';
import type { EventBus, ReadingAccepted } from '../bus.ts';
import type { Alert } from '@parkops/contract/api.ts';
import type { Topics } from '@parkops/contract/topics.ts';
import type { Logger } from '../log.ts';
import { systemClock, type Clock, type Module, type Publisher } from '../module.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import { toAlert, type AlertRecord, type AlertRepository, type ChangeRecord } from './alert-repository.ts';
import type { IncidentRepository } from './incident-repository.ts';
import type { RoomJudgement } from '../flood/room-judge.ts';
import { FloodRoomRules, type FloodObserver, type RoomChanges } from './flood/room-rules.ts';
import { AlertMessages } from './messages.ts';
import { IncidentTracker, timelineCsv, type IncidentDetail, type IncidentSummary, type NotificationLog } from './incidents.ts';
import { ParkRules } from './park-rules.ts';
import type { AlertChange, AlertSink, Condition, RuleName, StateStore } from './types.ts';

export class AlertNotFound extends Error {
  readonly status = 404;
}
export class AlertNotAckable extends Error {
  readonly status = 409;
  /** For the client: who acknowledged it and when (ISO), and whether it is resolved too. */
  constructor(
    message: string,
    readonly by: string,
    readonly at: string,
    readonly resolved: boolean,
  ) {
    super(message);
  }
}

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string;
  ip?: string;
  detail?: object;
}

export interface AlertEngineDeps {
  repo: AlertRepository;
  incidents: IncidentRepository;
  /** Notification attempts for the incident timeline (the Notifier); none: the timeline has none. */
  notifications?: NotificationLog | undefined;
  bus: EventBus;
  site: Site;
  topics: Topics;
  publisher: Publisher;
  log: Logger;
  clock?: Clock;
  audit?: (e: AuditEntry) => void;
  /** Whether a flood room is in storm mode at a time (the warnings module); its rules then use the room's storm settings. */
  stormMode?: (roomId: string, now: number) => boolean;
}

/** An open alert whose value or ETA moves is republished at most this often (a change of state, severity or grade goes out at once). */
const UPDATE_EVERY_MS = 10_000;
const TICK_MS = 1000;
const ALIVE_EVERY_MS = 5000;
const RECLEAR_WITHIN_MS = 24 * 3_600_000;
/** Lifecycle times for alerts outside a flood room (site/schema.ts defaults). */
const DEFAULT_LIFECYCLE = { ackExpiresMin: 30, escalateAfterMin: 10 };
const LIST_LIMIT = 1000;

export class AlertEngine implements Module, AlertSink {
  readonly name = 'alerts';
  private readonly bus: EventBus;
  private readonly site: Site;
  private readonly topics: Topics;
  private readonly publisher: Publisher;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly audit: ((e: AuditEntry) => void) | undefined;
  private readonly stormMode: (roomId: string, now: number) => boolean;

  private readonly repo: AlertRepository;
  /** The serial write queue's tail; `queued` counts the writes not yet settled. */
  private writes: Promise<void> = Promise.resolve();
  private queued = 0;
  /** Writes that failed since start (logged; for tests and the log). */
  writeFailures = 0;
  /**
   * Set on a standby (several processes on PostgreSQL): acknowledgements go to the leader's engine
   * (ha/cluster.ts) instead of being applied here, where no rule runs.
   */
  ackForwarder: ((id: string, by: { username: string; ip?: string | undefined }, note?: string) => Promise<Alert>) | null = null;
  /** Open (not resolved) alerts by `rule|subject`. */
  private readonly open = new Map<string, AlertRecord>();
  /** Open alerts and resolved ones nobody acknowledged yet, by id: the `active` list. */
  private readonly byId = new Map<string, AlertRecord>();
  /** Alerts whose value moved since they were last published. */
  private readonly dirtyAlerts = new Set<string>();
  private readonly lastPublished = new Map<string, number>();
  private readonly state = new Map<string, unknown>();
  private readonly dirtyState = new Set<string>();
  private readonly publishing = new Map<string, Promise<void>>();
  private readonly rooms = new Map<string, FloodRoomRules>();
  private park!: ParkRules;
  private tracker!: IncidentTracker;
  private readonly messages: AlertMessages;
  private timer: NodeJS.Timeout | null = null;
  /** An alert changed since rule state was last written. */
  private committed = false;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly deps: AlertEngineDeps) {
    this.repo = deps.repo;
    this.bus = deps.bus;
    this.site = deps.site;
    this.topics = deps.topics;
    this.publisher = deps.publisher;
    this.log = deps.log;
    this.clock = deps.clock ?? systemClock;
    this.audit = deps.audit;
    this.stormMode = deps.stormMode ?? (() => false);
    this.messages = new AlertMessages(deps.site);
  }

  async start(): Promise<void> {
    const now = this.clock.now();
    // A standby promoted to leader starts from what is stored now, not from what it last followed.
    this.byId.clear();
    this.open.clear();
    for (const [k, v] of await this.repo.allState()) this.state.set(k, v);
    for (const a of await this.repo.active()) {
      this.byId.set(a.id, a);
      if (a.state !== 'resolved') this.open.set(`${a.rule}|${a.subject}`, a);
    }
    const store: StateStore = {
      load: <T>(key: string) => this.state.get(key) as T | undefined,
      save: (key, value) => {
        this.state.set(key, value);
        this.dirtyState.add(key);
      },
    };
    const observer: FloodObserver = {
      level: (room, mm, at) => this.tracker.level(room, mm, at),
      pump: (room, pumpId, running, at, runMs) => this.tracker.pump(room, pumpId, running, at, runMs),
    };
    // Silence is not counted while the engine itself was down: device messages queued on the broker
    // arrive after the restart. Hold timers, pump start times and ack/escalation times resume as stored.
    const aliveAt = this.state.get('meta:aliveAt');
    const downtime = typeof aliveAt === 'number' ? Math.max(0, now - aliveAt) : 0;
    for (const room of this.site.rooms) {
      const rules = new FloodRoomRules(room, this, store, observer, now, (at) => this.stormMode(room.id, at));
      rules.creditDowntime(downtime, now);
      this.rooms.set(room.id, rules);
    }
    this.park = new ParkRules(this.site, this, store);
    this.tracker = this.makeTracker(store);
    await this.tracker.load();
    // Re-assert the retained messages: a publish lost while the broker was away converges here. Clearing
    // an already empty retained topic is harmless, so recently resolved alerts are cleared once more.
    for (const a of this.open.values()) this.publish(a);
    for (const id of await this.repo.resolvedSince(now - RECLEAR_WITHIN_MS)) this.clearRetained(id);
    this.unsubscribe = this.bus.on('reading.accepted', (e) => this.onReading(e));
    // Judge every room once now, not a tick later: a hold that ran out while the engine was down is
    // entered at start, and the API shows the room as the alerts stand from the first request.
    this.tick();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    this.log.info({ open: this.open.size, active: this.byId.size, downtimeMs: downtime }, 'alert engine started');
  }

  private makeTracker(store: StateStore): IncidentTracker {
    return new IncidentTracker({
      repo: this.deps.incidents,
      alerts: this.repo,
      notifications: this.deps.notifications,
      site: this.site,
      store,
      newId: (prefix, at) => this.newId(prefix, at),
      runningPumps: (roomId) => {
        const rules = this.rooms.get(roomId);
        if (!rules) return [];
        return rules.room.pumps.flatMap((p) => {
          const d = rules.device(p.id);
          return d?.running === true ? [{ id: p.id, startedAt: d.startedAt ?? null }] : [];
        });
      },
      openAlerts: (roomId) => [...this.open.values()].filter((a) => a.room === roomId),
      current: (id) => this.byId.get(id),
      write: (what, w) => void this.enqueue(what, w),
    });
  }

  /**
   * A standby's view (several processes on PostgreSQL): the active alerts as the leader stored them,
   * read again, without running any rule. Returns the alerts whose stored row changed since the last call.
   */
  async follow(): Promise<Alert[]> {
    // Incident lists and timelines are read through the tracker; a standby never ran start().
    this.tracker ??= this.makeTracker({ load: <T>(key: string) => this.state.get(key) as T | undefined, save: () => undefined });
    const rows = await this.repo.active();
    const changed: Alert[] = [];
    const seen = new Set<string>();
    for (const a of rows) {
      seen.add(a.id);
      const had = this.byId.get(a.id);
      if (!had || had.updatedAt !== a.updatedAt || had.state !== a.state) changed.push(toAlert(a));
      this.byId.set(a.id, a);
      if (a.state !== 'resolved') this.open.set(`${a.rule}|${a.subject}`, a);
    }
    for (const [id, a] of this.byId) {
      if (seen.has(id)) continue;
      this.byId.delete(id);
      this.open.delete(`${a.rule}|${a.subject}`);
      const now = await this.repo.get(id);
      if (now) changed.push(toAlert(now));
    }
    for (const [k, a] of this.open) if (!seen.has(a.id) || a.state === 'resolved') this.open.delete(k);
    return changed;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.tracker) {
      for (const id of this.dirtyAlerts) {
        const a = this.byId.get(id);
        if (a) {
          const snapshot = { ...a };
          void this.enqueue('alert value', () => this.repo.save(snapshot));
        }
      }
      this.dirtyAlerts.clear();
      this.flushState(this.clock.now(), true);
    }
    await this.settled();
  }

  /**
   * The serial write queue: `write` runs after every write queued before it, and `after` (the external
   * effects of the change) once it settled, in queue order. A failed write is logged and its effects
   * still run: people are told about a flood even when the disk is failing (memory keeps the change,
   * and the record's next change writes it whole again).
   */
  private enqueue(what: string, write: () => Promise<void>, after?: () => void): Promise<void> {
    this.queued++;
    const job = this.writes.then(async () => {
      try {
        await write();
      } catch (err) {
        this.writeFailures++;
        // A write refused because another process is now the leader (fencing on PostgreSQL): this
        // engine is deposed and must not announce or notify anything, or two processes would.
        if (err instanceof FencedOut) {
          this.log.warn({ what }, 'alert engine: not the leader any more; the change is neither stored nor announced');
          return;
        }
        this.log.error({ err, what }, 'alert engine: a write failed; the change stays in memory and is announced anyway');
      } finally {
        this.queued--;
      }
      after?.();
    });
    this.writes = job.catch((err: unknown) => this.log.error({ err, what }, 'alert engine: announcing a change failed'));
    return job;
  }

  /** Resolves once every write queued so far has settled (reads of stored rows wait for it). */
  private async caughtUp(): Promise<void> {
    while (this.queued > 0) await this.writes;
  }

  // ---- evaluation ---------------------------------------------------------------------------------

  /** Synchronous on purpose: a critical level is raised, stored, published and emitted before this returns. */
  private onReading(e: ReadingAccepted): void {
    if (e.duplicate) return;
    const now = this.clock.now();
    this.dispatch(e, now);
    // Rule state behind an alert change (a band, a hold) is stored right after it, not on the next tick,
    // so a crash in between cannot make a restarted engine resolve and reopen the alert.
    if (this.committed) this.flushState(now, true);
  }

  private dispatch(e: ReadingAccepted, now: number): void {
    const r = e.reading;
    switch (r.kind) {
      case 'level': {
        const rules = this.rooms.get(r.roomId);
        if (rules) this.judged(r.roomId, rules.onLevel(r, e.applied, now));
        break;
      }
      case 'pump': {
        const rules = this.rooms.get(r.roomId);
        if (rules) this.judged(r.roomId, rules.onPump(r, e.applied, now));
        break;
      }
      case 'status': {
        if (!e.applied) break;
        const dev = this.site.device(r.deviceId);
        const rules = (dev?.kind === 'level' || dev?.kind === 'pump') && dev.parent !== undefined ? this.rooms.get(dev.parent) : undefined;
        if (rules) this.judged(rules.room.id, rules.onStatus(r.deviceId, r.online, now));
        break;
      }
      case 'bay':
        this.park.onBay(r, e.applied, now);
        break;
      case 'venue':
        this.park.onVenue(r, e.applied, now);
        break;
      case 'gate':
        break;
    }
  }

  /** Tells the live stream that a room's judgement moved (after the alerts it caused are stored and announced). */
  private judged(room: string, c: RoomChanges): void {
    if (!c.level && c.devices.length === 0) return;
    const event = { room, level: c.level, devices: c.devices };
    if (this.queued === 0) this.bus.emit('flood.judged', event);
    else void this.enqueue('judgement', async () => undefined, () => this.bus.emit('flood.judged', event));
  }

  /** A flood room as the engine judges it now: level, band, device freshness (for the API and the stream). */
  floodJudgement(roomId: string): RoomJudgement | undefined {
    return this.rooms.get(roomId)?.judgement(this.clock.now());
  }

  /** Time-based rules: staleness, hold timers, pump grace times, escalation and ack expiry. */
  tick(): void {
    const now = this.clock.now();
    try {
      for (const [id, rules] of this.rooms) this.judged(id, rules.evaluate(now, false));
      for (const a of [...this.open.values()]) this.lifecycleTimers(a, now);
      for (const id of [...this.dirtyAlerts]) {
        const a = this.byId.get(id);
        if (a && now - (this.lastPublished.get(id) ?? 0) >= UPDATE_EVERY_MS) void this.commit(a, 'updated', now, { event: false });
      }
      this.flushState(now);
    } catch (err) {
      this.log.error({ err }, 'alert tick failed');
    }
  }

  private lifecycleTimers(a: AlertRecord, now: number): void {
    if (a.severity !== 'critical') return;
    const { ackExpiresMin, escalateAfterMin } = (a.room !== null ? this.site.room(a.room)?.rules : undefined) ?? DEFAULT_LIFECYCLE;
    if (a.state === 'acknowledged' && a.ackedAt !== null && now - a.ackedAt >= ackExpiresMin * 60_000) {
      // The acknowledgement expired and the condition still holds: back to firing, notified again.
      a.state = 'firing';
      a.escalateFrom = now;
      a.escalatedAt = null;
      void this.commit(a, 'renotified', now, { note: `acknowledgement by ${a.ackedBy ?? 'unknown'} expired after ${ackExpiresMin} min` });
    } else if (a.state === 'firing' && a.escalatedAt === null && now - a.escalateFrom >= escalateAfterMin * 60_000) {
      a.escalatedAt = now;
      const contacts = this.site.notifications.escalationContacts;
      void this.commit(a, 'escalated', now, { note: `unacknowledged for ${escalateAfterMin} min; escalation contacts: ${contacts.length > 0 ? contacts.join(', ') : 'none configured'}` });
    }
  }

  private flushState(now: number, force = false): void {
    this.committed = false;
    // meta:aliveAt (how long the engine was down, see start) only needs a few seconds' precision.
    if (!force && this.dirtyState.size === 0 && now - ((this.state.get('meta:aliveAt') as number | undefined) ?? 0) < ALIVE_EVERY_MS) return;
    // Copied now: rule state objects change in place, and what is written must be the state of this
    // moment, behind the alert changes queued before it and never ahead of those queued after.
    const entries: [string, unknown][] = [...this.dirtyState].map((k) => [k, structuredClone(this.state.get(k))]);
    entries.push(['meta:aliveAt', now]);
    this.state.set('meta:aliveAt', now);
    void this.enqueue('rule state', () => this.repo.saveState(entries, now));
    this.dirtyState.clear();
  }

  // ---- lifecycle (AlertSink) ------------------------------------------------------------------------

  isOpen(rule: RuleName, subject: string): boolean {
    return this.open.has(`${rule}|${subject}`);
  }

  raise(rule: RuleName, subject: string, cond: Condition, now: number): void {
    const key = `${rule}|${subject}`;
    const a = this.open.get(key);
    const message = this.messages.render(cond.details, now);
    const details = JSON.stringify(cond.details);
    if (!a) {
      const rec: AlertRecord = {
        id: this.newId('al', now),
        rule,
        subject,
        severity: cond.severity,
        state: 'firing',
        message,
        details: cond.details,
        value: cond.value ?? null,
        room: cond.room ?? null,
        etaMin: cond.etaMin ?? null,
        etaTarget: cond.etaTarget ?? null,
        grade: cond.grade,
        startedAt: now,
        updatedAt: now,
        ackedAt: null,
        ackedBy: null,
        ackNote: null,
        resolvedAt: null,
        escalateFrom: now,
        escalatedAt: null,
      };
      this.open.set(key, rec);
      this.byId.set(rec.id, rec);
      void this.commit(rec, 'opened', now);
      this.tracker.onAlertOpened(rec, now);
      return;
    }
    let change: AlertChange | null = null;
    if (cond.grade > a.grade) {
      change = 'worsened';
      if (a.state === 'acknowledged') {
        // Worse than when it was acknowledged (next band, faster rise): back to firing at once.
        a.state = 'firing';
        a.escalateFrom = now;
        a.escalatedAt = null;
      }
    }
    if (a.state === 'firing' && cond.severity === 'critical' && a.severity !== 'critical') {
      a.escalateFrom = now;
      a.escalatedAt = null;
    }
    const severityChanged = a.severity !== cond.severity;
    const moved =
      a.message !== message ||
      JSON.stringify(a.details) !== details ||
      a.value !== (cond.value ?? null) ||
      a.etaMin !== (cond.etaMin ?? null) ||
      a.etaTarget !== (cond.etaTarget ?? null) ||
      a.grade !== cond.grade;
    a.severity = cond.severity;
    a.message = message;
    a.details = cond.details;
    a.value = cond.value ?? null;
    a.etaMin = cond.etaMin ?? null;
    a.etaTarget = cond.etaTarget ?? null;
    a.grade = cond.grade;
    if (change !== null) void this.commit(a, change, now);
    else if (severityChanged) void this.commit(a, 'updated', now);
    else if (moved) {
      if (now - (this.lastPublished.get(a.id) ?? 0) >= UPDATE_EVERY_MS) void this.commit(a, 'updated', now, { event: false });
      else this.dirtyAlerts.add(a.id);
    }
  }

  clear(rule: RuleName, subject: string, now: number): void {
    const key = `${rule}|${subject}`;
    const a = this.open.get(key);
    if (!a) return;
    this.open.delete(key);
    a.state = 'resolved';
    a.resolvedAt = now;
    a.etaMin = null;
    a.etaTarget = null;
    void this.commit(a, 'resolved', now);
    if (a.ackedAt !== null) this.forget(a.id);
    this.tracker.onAlertResolved(a, now);
  }

  private forget(id: string): void {
    this.byId.delete(id);
    this.dirtyAlerts.delete(id);
    this.lastPublished.delete(id);
  }

  /**
   * Queues the alert's write (and the change's, unless `event: false`); once it settled, publishes the
   * alert and emits `alert.changed`. Resolves to the alert as it was at this change.
   */
  private commit(a: AlertRecord, change: AlertChange, now: number, opts: { event?: boolean; actor?: string; note?: string; publish?: boolean } = {}): Promise<Alert> {
    a.updatedAt = now;
    this.committed = true;
    this.dirtyAlerts.delete(a.id);
    this.lastPublished.set(a.id, now);
    // The record changes on; what is written and announced is this moment's copy.
    const snapshot: AlertRecord = { ...a };
    const alert = toAlert(snapshot);
    const record: ChangeRecord | undefined = opts.event === false ? undefined : { change, at: now, actor: opts.actor, note: opts.note };
    return this.enqueue(`alert ${change}`, () => this.repo.save(snapshot, record), () => {
      if (opts.publish !== false) this.publish(snapshot);
      this.bus.emit('alert.changed', { alert, change });
    }).then(() => alert);
  }

  /**
   * docs/api.md, ParkOps to clients: retained while not resolved; on resolution the resolved object once, not
   * retained, then an empty retained payload clears the retained message. Publishes of one alert are
   * chained so they reach the broker in order.
   */
  private publish(a: AlertRecord): void {
    const topic = this.topics.alert(a.id);
    const payload = JSON.stringify(toAlert(a));
    const steps: [string, boolean][] = a.state === 'resolved' ? [[payload, false], ['', true]] : [[payload, true]];
    const send = ([body, retain]: [string, boolean]): Promise<void> => {
      try {
        return this.publisher.publish(topic, body, { qos: 1, retain });
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const runSteps = (): Promise<void> => steps.slice(1).reduce((p, step) => p.then(() => send(step)), send(steps[0]!));
    const prev = this.publishing.get(topic);
    // Nothing in flight for this alert: the first publish leaves now, not on a later microtask (latency).
    const next = (prev ? prev.then(runSteps) : runSteps()).catch((err: unknown) => this.log.error({ err, topic }, 'alert publish failed'));
    this.publishing.set(topic, next);
    void next.then(() => {
      if (this.publishing.get(topic) === next) this.publishing.delete(topic);
    });
  }

  private clearRetained(id: string): void {
    const topic = this.topics.alert(id);
    const prev = this.publishing.get(topic) ?? Promise.resolve();
    const next = prev.then(() => this.publisher.publish(topic, '', { qos: 1, retain: true })).catch((err: unknown) => this.log.error({ err, topic }, 'clearing a retained alert failed'));
    this.publishing.set(topic, next);
    void next.then(() => {
      if (this.publishing.get(topic) === next) this.publishing.delete(topic);
    });
  }

  /** Resolves once every write queued so far has settled and every publish it led to has finished (tests, shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      await this.caughtUp();
      if (this.publishing.size === 0) return;
      await Promise.allSettled([...this.publishing.values()]);
    }
  }

  private newId(prefix: string, now: number): string {
    return `${prefix}-${now.toString(36)}-${randomBytes(4).toString('hex')}`;
  }

  // ---- queries and acknowledgement ----------------------------------------------------------------

  /**
   * The active alerts (not resolved, or resolved but never acknowledged), newest first, from memory:
   * what the engine holds now, at once. `from`/`to` (epoch ms) keep alerts overlapping the range.
   */
  active(q: { from?: number | undefined; to?: number | undefined } = {}): Alert[] {
    const from = q.from ?? -Infinity;
    const to = q.to ?? Infinity;
    const rows = [...this.byId.values()].filter((a) => (a.state !== 'resolved' || a.ackedAt === null) && a.startedAt <= to && (a.resolvedAt === null || a.resolvedAt >= from));
    return newestFirst(rows).map(toAlert);
  }

  /** Newest first. `active`: as `active()`; `all`: every stored alert overlapping the range (at most 1,000). */
  async list(q: { state: 'active' | 'all'; from?: number | undefined; to?: number | undefined }): Promise<Alert[]> {
    if (q.state === 'active') return this.active(q);
    const from = q.from ?? -Infinity;
    const to = q.to ?? Infinity;
    await this.caughtUp();
    const rows = (await this.repo.range(Number.isFinite(from) ? from : 0, Number.isFinite(to) ? to : Number.MAX_SAFE_INTEGER, LIST_LIMIT)).map((r) => this.byId.get(r.id) ?? r);
    return newestFirst(rows).map(toAlert);
  }

  async get(id: string): Promise<Alert | undefined> {
    const a = this.byId.get(id) ?? (await this.stored(id));
    return a ? toAlert(a) : undefined;
  }

  /** A stored alert, once the writes queued before this read are in. */
  private async stored(id: string): Promise<AlertRecord | undefined> {
    await this.caughtUp();
    return this.byId.get(id) ?? this.repo.get(id);
  }

  /** Acknowledges an alert; resolves once the acknowledgement is stored, to the acknowledged alert. */
  async acknowledge(id: string, by: { username: string; ip?: string | undefined }, note?: string): Promise<Alert> {
    if (this.ackForwarder) return this.ackForwarder(id, by, note);
    const a = this.byId.get(id) ?? (await this.stored(id));
    if (!a) throw new AlertNotFound(`no alert with id "${id}"`);
    const now = this.clock.now();
    if (a.state === 'acknowledged') throw new AlertNotAckable(`alert ${id} is already acknowledged by ${a.ackedBy ?? 'someone'} at ${this.messages.localTime(a.ackedAt ?? a.updatedAt, now)}`, a.ackedBy ?? '', new Date(a.ackedAt ?? a.updatedAt).toISOString(), false);
    if (a.state === 'resolved' && a.ackedAt !== null) throw new AlertNotAckable(`alert ${id} is resolved and was acknowledged by ${a.ackedBy ?? 'someone'} at ${this.messages.localTime(a.ackedAt, now)}`, a.ackedBy ?? '', new Date(a.ackedAt).toISOString(), true);
    const text = note?.trim() || null;
    a.ackedAt = now;
    a.ackedBy = by.username;
    a.ackNote = text;
    let stored: Promise<Alert>;
    if (a.state === 'firing') {
      a.state = 'acknowledged';
      stored = this.commit(a, 'acknowledged', now, { actor: by.username, note: text ?? undefined });
    } else {
      // Resolved before anyone acknowledged it: the acknowledgement takes it off the active list. The
      // resolved object was already published once (docs/api.md, ParkOps to clients), so nothing goes to MQTT.
      stored = this.commit(a, 'acknowledged', now, { actor: by.username, note: text ?? undefined, publish: false });
      this.forget(a.id);
    }
    const entry: AuditEntry = { actor: by.username, action: 'alert.acknowledge', target: id, detail: { rule: a.rule, subject: a.subject, note: text } };
    if (by.ip !== undefined) entry.ip = by.ip;
    try {
      this.audit?.(entry);
    } catch (err) {
      this.log.error({ err }, 'audit of an acknowledgement failed');
    }
    return stored;
  }

  /** Flood incidents overlapping [from, to] (epoch ms), newest first. */
  async incidents(q: { from?: number | undefined; to?: number | undefined; room?: string | undefined } = {}): Promise<IncidentSummary[]> {
    await this.caughtUp();
    return this.tracker.list({ from: q.from ?? 0, to: q.to ?? Number.MAX_SAFE_INTEGER, room: q.room, limit: LIST_LIMIT });
  }

  async incident(id: string): Promise<IncidentDetail | undefined> {
    await this.caughtUp();
    return this.tracker.detail(id, this.clock.now());
  }

  /** The incident timeline as CSV (RFC 4180, CRLF), or undefined for an unknown id. */
  async incidentCsv(id: string, lang?: 'en' | 'zh-CN'): Promise<string | undefined> {
    const d = await this.incident(id);
    return d ? timelineCsv(d, { timezone: this.site.timezone, lang }) : undefined;
  }

  /** For the HTTP routes: an unexpected failure goes to the log, the client gets a plain message. */
  logError(err: unknown, what: string): void {
    this.log.error({ err }, what);
  }

  /**
   * For the storm module: an entry on the room's open incident timeline (storm mode's warning changing,
   * a readiness-checklist item changing state), written on the engine's write queue. Returns false when
   * the room has no open incident.
   */
  recordIncidentEvent(roomId: string, e: { at?: number; kind: string; subject?: string; value?: number; detail?: string }): boolean {
    return this.tracker.roomEvent(roomId, e.at ?? this.clock.now(), e.kind, e.subject ?? null, e.value ?? null, e.detail ?? null);
  }
}

function newestFirst(rows: AlertRecord[]): AlertRecord[] {
  return rows.sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1));
}
