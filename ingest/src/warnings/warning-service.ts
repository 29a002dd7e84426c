/**
 * The warnings module: official weather warnings (CAP 1.2) in, by HTTP, MQTT or a polled feed;
 * stored once per sender and identifier; judged against the site (relevant, a rainstorm or flood
 * warning, when in force); and storm mode per flood room, which starts and ends on time by a timer
 * even when no message arrives (docs/api.md, official warnings, docs/warnings.md).
 *
 * For the alert rules: `stormMode(roomId, now)` answers, and the bus carries `storm.started`,
 * `storm.updated` and `storm.ended` with the warning. Each room's state is persisted, so a restart
 * announces only real changes (a storm mode that ended while ParkOps was down ends at start).
 *
 * Receiving and evaluating run one at a time through a serial queue: each change is stored through
 * the repository first, and announced on the bus only after the write resolved, in order. What the
 * alert rules ask (`stormMode`) is answered from memory, synchronously.
 */
import { createHash } from 'node:crypto';
import type { EventBus } from '../bus.ts';
import type { FloodResponse, PostWarningResponse, WarningInfoView, WarningView } from '@parkops/contract/api.ts';
import type { Topics } from '@parkops/contract/index.ts';
import type { Logger } from '../log.ts';
import { Counter, Gauge, type Metrics } from '../metrics.ts';
import { systemClock, type Clock, type Module, type Publisher } from '../module.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import { describeProblems, parseCap, type CapAlert, type CapProblem } from './cap.ts';
import { inForceAt, judge } from './relevance.ts';
import type { StormState, StoredWarning, WarningRepository, WarningVia } from './repository.ts';

/** The timer re-checks at least this often, whatever the next boundary (clock changes, long sleeps). */
const MAX_TIMER_MS = 3_600_000;
/** At start, warnings received this recently are judged again against the (maybe edited) site file. */
const REJUDGE_DAYS = 30;
const DAY_MS = 86_400_000;

export type ReceiveResult =
  | { ok: true; response: PostWarningResponse; warning: WarningView }
  | { ok: false; problems: CapProblem[]; reason: string };

export interface WarningServiceDeps {
  repo: WarningRepository;
  site: Site;
  bus: EventBus;
  log: Logger;
  metrics?: Metrics;
  clock?: Clock;
  /** For MQTT input: where rejections go (park/rejected). */
  topics?: Topics;
  publisher?: Publisher | null;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The entries that have a value: optional API fields are left out rather than sent as null. */
function defined<T extends Record<string, string | undefined>>(o: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}

/** Stable id of a warning: the same sender and identifier always give the same id. */
export function warningId(sender: string, identifier: string): string {
  return `w-${createHash('sha256').update(`${sender}\u0000${identifier}`).digest('hex').slice(0, 20)}`;
}

export class WarningService implements Module {
  readonly name = 'warnings';
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Warnings that are or will be in force (not superseded, window not over), by id. */
  private readonly current = new Map<string, StoredWarning>();
  /** Ids in force at the last evaluation, to announce windows opening and closing. */
  private inForce = new Set<string>();
  private states = new Map<string, StormState>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly received: Counter;
  /** The serial queue: receive and evaluate in order, never interleaved. */
  private tail: Promise<unknown> = Promise.resolve();
  publisher: Publisher | null;

  constructor(private readonly deps: WarningServiceDeps) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log.child({ module: 'warnings' });
    this.publisher = deps.publisher ?? null;
    this.received = new Counter('parkops_warnings_received_total', 'CAP warnings received, by route and result (stored, duplicate, refused)', ['via', 'result']);
    if (deps.metrics) {
      deps.metrics.add(this.received);
      deps.metrics.add(new Gauge('parkops_warnings_in_force', 'Relevant CAP warnings in force for the site', () => this.inForce.size));
      deps.metrics.add(new Gauge('parkops_storm_mode', 'Flood room in storm mode (1) or not (0)', () => deps.site.rooms.map((r) => [{ room: r.id }, this.states.get(r.id)?.active ? 1 : 0]), ['room']));
    }
  }

  async start(): Promise<void> {
    const { repo } = this.deps;
    const now = this.clock.now();
    // The site file may have changed since these were judged (a geocode added, an event name).
    for (const w of await repo.receivedSince(now - REJUDGE_DAYS * DAY_MS)) {
      const j = judge(w.alert, this.deps.site);
      if (JSON.stringify(j) !== JSON.stringify(w.judgement)) await repo.updateJudgement(w.id, j);
    }
    for (const w of await repo.current(now)) this.current.set(w.id, w);
    this.states = await repo.stormStates();
    this.inForce = new Set([...this.current.values()].filter((w) => inForceAt(this.windowOf(w), now)).map((w) => w.id));
    this.running = true;
    await this.serial(() => this.evaluate(now, { quietWarnings: true }));
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.tail.catch(() => undefined);
  }

  /** Runs `fn` after everything queued before it. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }

  // ----------------------------------------------------------------------------------------------
  // Input

  /**
   * Takes one CAP document. Stored once per sender+identifier; the same one again is answered as a
   * duplicate and changes nothing. Throws only when storage fails (the caller must not acknowledge).
   */
  receive(input: Uint8Array | string, meta: { via: WarningVia; origin: string }): Promise<ReceiveResult> {
    return this.serial(() => this.receiveNow(input, meta));
  }

  private async receiveNow(input: Uint8Array | string, meta: { via: WarningVia; origin: string }): Promise<ReceiveResult> {
    const parsed = parseCap(input);
    if (!parsed.ok) {
      this.received.inc({ via: meta.via, result: 'refused' });
      return { ok: false, problems: parsed.problems, reason: describeProblems(parsed.problems) };
    }
    const now = this.clock.now();
    const alert = parsed.alert;
    const { repo } = this.deps;
    const existing = await repo.byKey(alert.sender, alert.identifier);
    if (existing) {
      this.received.inc({ via: meta.via, result: 'duplicate' });
      const view = this.view(existing, now);
      return { ok: true, warning: view, response: this.answer(view, true) };
    }
    const judgement = judge(alert, this.deps.site);
    // An Update or Cancel that arrived before the message it names (feeds do not promise order).
    const later = (await repo.referencing(alert.sender, alert.identifier)).find((r) => supersedes(r.alert, alert));
    const referenced = alert.msgType === 'Update' || alert.msgType === 'Cancel' ? await Promise.all(alert.references.map((r) => repo.byKey(r.sender, r.identifier))) : [];
    const targets = referenced.filter((w): w is StoredWarning => w !== undefined && w.supersededBy === null && supersedes(alert, w.alert));
    const stored: StoredWarning = {
      id: warningId(alert.sender, alert.identifier),
      alert,
      xml: typeof input === 'string' ? input : Buffer.from(input).toString('utf8'),
      receivedAt: now,
      via: meta.via,
      origin: meta.origin,
      judgement,
      supersededBy: later?.id ?? null,
      supersededAt: later ? now : null,
    };
    if (!(await repo.insert(stored, targets.map((t) => t.id)))) {
      // Stored by someone else between the look-up and the insert.
      this.received.inc({ via: meta.via, result: 'duplicate' });
      const view = this.view((await repo.byKey(alert.sender, alert.identifier))!, now);
      return { ok: true, warning: view, response: this.answer(view, true) };
    }
    this.received.inc({ via: meta.via, result: 'stored' });
    this.log.info(
      { id: stored.id, sender: alert.sender, identifier: alert.identifier, msgType: alert.msgType, status: alert.status, via: meta.via, relevant: judgement.relevant, storm: judgement.storm, supersedes: targets.map((t) => t.id) },
      'CAP warning stored',
    );
    if (stored.supersededBy === null && judgement.until !== null && judgement.until > now) this.current.set(stored.id, stored);
    const view = this.view(stored, now);
    this.deps.bus.emit('warning.changed', { warning: view, change: 'received' });
    for (const t of targets) {
      this.current.delete(t.id);
      const updated = await repo.get(t.id);
      if (updated) this.deps.bus.emit('warning.changed', { warning: this.view(updated, now), change: 'superseded' });
    }
    if (this.running) await this.evaluate(now, { supersededBy: new Map(targets.map((t) => [t.id, alert.msgType])) });
    return { ok: true, warning: view, response: this.answer(view, false) };
  }

  /**
   * A warning from MQTT (`{prefix}/warnings/{source}`). `ack()` once stored or refused (a refusal is
   * published on park/rejected with the reason); `ack(err)` when storage failed, so the broker
   * redelivers it.
   */
  receiveMqtt(topic: string, payload: Uint8Array, receivedAt: number, ack: (err?: Error) => void): void {
    this.receive(payload, { via: 'mqtt', origin: topic }).then(
      (result) => this.answerMqtt(topic, receivedAt, result, ack),
      (err: unknown) => {
        this.log.error({ err, topic }, 'storing a CAP warning failed: left unacknowledged for redelivery');
        ack(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private answerMqtt(topic: string, receivedAt: number, result: ReceiveResult, ack: (err?: Error) => void): void {
    if (!result.ok) {
      this.log.warn({ topic, reason: result.reason }, 'CAP warning refused');
      // The park/rejected notice of a device message (docs/api.md, ParkOps to clients), with a code of its own.
      const notice = JSON.stringify({ topic, reason: `invalid_cap: ${result.reason}`, code: 'invalid_cap', at: new Date(receivedAt).toISOString() });
      const topics = this.deps.topics;
      if (topics && this.publisher) {
        this.publisher.publish(topics.rejected, notice, { qos: 0, retain: false }).catch(() => {
          // Best effort, as for device rejections: the refusal is logged and counted already.
        });
      }
    }
    ack();
  }

  // ----------------------------------------------------------------------------------------------
  // Answers

  async list(q: { state: 'active' | 'all'; limit?: number }): Promise<WarningView[]> {
    const now = this.clock.now();
    const rows = await this.deps.repo.list({ limit: q.limit ?? 200, inForceAt: q.state === 'active' ? now : undefined });
    return rows.map((w) => this.view(w, now));
  }

  /** Relevant warnings in force now, newest first. */
  inForceNow(): Promise<WarningView[]> {
    return this.list({ state: 'active' });
  }

  /** True while a relevant rainstorm or flood warning is in force for the room (docs/api.md, official warnings). */
  stormMode(roomId: string, now: number = this.clock.now()): boolean {
    const room = this.deps.site.room(roomId);
    if (!room || !room.storm.enabled) return false;
    return this.stormWarnings(now).length > 0;
  }

  /** When the room's storm mode began, while it is on (null while it is off). */
  stormSince(roomId: string): number | null {
    const s = this.states.get(roomId);
    return s?.active ? s.since : null;
  }

  /** The storm warnings in force at `now`, newest first. */
  stormWarnings(now: number = this.clock.now()): StoredWarning[] {
    return [...this.current.values()].filter((w) => w.judgement.storm && inForceAt(this.windowOf(w), now)).sort(newestFirst);
  }

  /** GET /api/flood and the stream snapshot: each room with `stormMode`. */
  withStormMode(flood: FloodResponse, now: number = this.clock.now()): FloodResponse {
    return { ...flood, rooms: flood.rooms.map((r) => ({ ...r, stormMode: this.stormMode(r.id, now) })) };
  }

  view(w: StoredWarning, now: number = this.clock.now()): WarningView {
    const a = w.alert;
    const j = w.judgement;
    const infos: WarningInfoView[] = a.infos.map((i, n) => ({
      language: i.language,
      category: i.categories,
      event: i.event,
      urgency: i.urgency,
      severity: i.severity,
      certainty: i.certainty,
      eventCodes: i.eventCodes,
      areaDesc: i.areas.map((x) => x.areaDesc).join('; '),
      coversSite: j.covers[n] ?? false,
      ...defined({ effective: iso(i.effective), onset: iso(i.onset), expires: iso(i.expires), senderName: i.senderName, headline: i.headline, description: i.description, instruction: i.instruction, web: i.web }),
    }));
    const p = infos[j.primary];
    return {
      id: w.id,
      sender: a.sender,
      event: p?.event ?? '',
      severity: p?.severity ?? 'Unknown',
      urgency: p?.urgency ?? 'Unknown',
      certainty: p?.certainty ?? 'Unknown',
      relevant: j.relevant,
      inForce: inForceAt(this.windowOf(w), now),
      identifier: a.identifier,
      sent: new Date(a.sent).toISOString(),
      status: a.status,
      msgType: a.msgType,
      scope: a.scope,
      areaDesc: p?.areaDesc ?? '',
      language: p?.language ?? '',
      storm: j.storm,
      inForceFrom: j.from === null ? null : new Date(j.from).toISOString(),
      inForceUntil: j.until === null ? null : new Date(j.until).toISOString(),
      references: a.references,
      receivedAt: new Date(w.receivedAt).toISOString(),
      via: w.via,
      infos,
      ...defined({ onset: p?.onset, expires: p?.expires, effective: p?.effective, headline: p?.headline, description: p?.description, instruction: p?.instruction, supersededBy: w.supersededBy ?? undefined }),
    };
  }

  private answer(v: WarningView, duplicate: boolean): PostWarningResponse {
    return { id: v.id, relevant: v.relevant, inForce: v.inForce, storm: v.storm, duplicate };
  }

  private windowOf(w: StoredWarning): { from: number | null; until: number | null; supersededBy: string | null } {
    return { from: w.judgement.from, until: w.judgement.until, supersededBy: w.supersededBy };
  }

  // ----------------------------------------------------------------------------------------------
  // Storm mode

  /**
   * Works out what changed at `now`: windows opening or closing, rooms entering or leaving storm
   * mode. Announces each change once, persists the rooms' states, and sets the timer for the next
   * boundary.
   */
  private async evaluate(now: number, opts: { quietWarnings?: boolean; supersededBy?: Map<string, string> } = {}): Promise<void> {
    const { bus, repo, site } = this.deps;
    const nowInForce = new Set<string>();
    for (const w of [...this.current.values()]) {
      if (inForceAt(this.windowOf(w), now)) nowInForce.add(w.id);
      else if (w.judgement.until !== null && w.judgement.until <= now) this.current.delete(w.id);
    }
    if (!opts.quietWarnings) {
      for (const id of nowInForce) {
        const w = this.current.get(id);
        if (!this.inForce.has(id) && w) bus.emit('warning.changed', { warning: this.view(w, now), change: 'in-force' });
      }
      for (const id of this.inForce) {
        if (nowInForce.has(id) || opts.supersededBy?.has(id)) continue;
        const w = await repo.get(id);
        if (w && w.supersededBy === null) bus.emit('warning.changed', { warning: this.view(w, now), change: 'expired' });
      }
    }
    this.inForce = nowInForce;

    const storms = this.stormWarnings(now);
    for (const room of site.rooms) {
      const prev = this.states.get(room.id) ?? { active: false, since: 0, warningId: null };
      const active = room.storm.enabled && storms.length > 0;
      if (active) {
        const newest = storms[0]!;
        if (prev.active && prev.warningId === newest.id) continue;
        const state: StormState = { active: true, since: prev.active ? prev.since : now, warningId: newest.id };
        this.states.set(room.id, state);
        await repo.saveStormState(room.id, state);
        const payload = { roomId: room.id, at: now, warning: this.view(newest, now), warnings: storms.map((w) => this.view(w, now)) };
        if (prev.active) {
          bus.emit('storm.updated', payload);
        } else {
          this.log.warn({ room: room.id, warning: newest.id, event: payload.warning.event, severity: payload.warning.severity, until: payload.warning.inForceUntil }, 'storm mode started');
          bus.emit('storm.started', payload);
        }
      } else if (prev.active) {
        const last = prev.warningId === null ? undefined : await repo.get(prev.warningId);
        const by = last?.supersededBy ? await repo.get(last.supersededBy) : undefined;
        const reason = !room.storm.enabled ? 'disabled' : by?.alert.msgType === 'Cancel' ? 'cancelled' : by ? 'updated' : 'expired';
        const state: StormState = { active: false, since: now, warningId: prev.warningId };
        this.states.set(room.id, state);
        await repo.saveStormState(room.id, state);
        this.log.warn({ room: room.id, warning: prev.warningId, reason }, 'storm mode ended');
        bus.emit('storm.ended', { roomId: room.id, at: now, warning: last ? this.view(last, now) : null, reason });
      }
    }
    this.schedule(now);
  }

  private schedule(now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.running) return;
    let next = Infinity;
    for (const w of this.current.values()) {
      const { from, until } = w.judgement;
      if (from !== null && from > now) next = Math.min(next, from);
      else if (until !== null && until > now) next = Math.min(next, until);
    }
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next - now));
    this.timer = setTimeout(() => {
      this.timer = null;
      const at = this.clock.now();
      this.serial(() => this.evaluate(at)).catch((err: unknown) => {
        this.log.error({ err }, 'storm mode check failed; retrying in a minute');
        if (!this.running) return;
        this.timer = setTimeout(() => this.schedule(this.clock.now()), 60_000);
        this.timer.unref?.();
      });
    }, wait);
    this.timer.unref?.();
  }
}

/**
 * Whether `by` (an Update or Cancel) supersedes `target`: it references it and has the same status,
 * so a Test or Exercise cancel can never end a real warning.
 */
function supersedes(by: CapAlert, target: CapAlert): boolean {
  if (by.msgType !== 'Update' && by.msgType !== 'Cancel') return false;
  if (by.status !== target.status) return false;
  return by.references.some((r) => r.sender === target.sender && r.identifier === target.identifier);
}

function newestFirst(a: StoredWarning, b: StoredWarning): number {
  return b.alert.sent - a.alert.sent || b.receivedAt - a.receivedAt;
}

