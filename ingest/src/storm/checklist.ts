/**
 * The readiness checklist, checked from live data where it can be (docs/warnings.md, "The readiness
 * checklist"). Each check kind of the site file turns what ParkOps knows into a state and findings:
 *
 * - `pump-ran-recently`: every pump of the room ran within `maxIdleDays` (default 7), from the stored
 *   pump readings (a pump running now counts as run now). A pump that has sat idle is flagged before the
 *   rain: a seized impeller or a tripped breaker is found on a dry afternoon, not at 3 a.m.
 * - `standby-pump-starts`: each standby pump's last start (within `maxIdleDays`, default 30) was seen,
 *   its running current then was inside its normal band (`ampsMin`..`ampsMax`, the median of its running
 *   readings in that run), and no pump alert (failed start, current, no effect) is open on it.
 * - `sensors-fresh`: every level sensor is fresh as the room judge says (the same freshness the alerts use).
 * - `contacts-reachable`: at least one route to people outside the dashboard is configured (settings
 *   webhook, group robots, phone push with a subscription, escalation contacts), and no configured
 *   route's last finished delivery failed. A route configured but never used leaves the item `unknown`
 *   (send a test message) unless another route has delivered.
 * - `manual`: ticked by a responder.
 */
import type { ChecklistFinding, ChecklistState, FloodRoomView } from '@parkops/contract/api.ts';
import type { TimeSeriesStore } from '../store/types.ts';
import type { FloodRoom } from '@parkops/contract/site/index.ts';
import { Subjects } from '@parkops/contract/subjects.ts';
import type { ChecklistTick } from './repository.ts';
import { RULES, type RuleName } from '../alerts/types.ts';

export type ChecklistItem = FloodRoom['storm']['checklist'][number];

const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** pump-ran-recently: a pump idle longer than this is flagged unless the item says otherwise. */
export const DEFAULT_MAX_IDLE_DAYS = 7;
/** standby-pump-starts: how far back its last start is looked for unless the item says otherwise. */
export const DEFAULT_STANDBY_LOOKBACK_DAYS = 30;
/** pump-ran-recently looks back at least this far, so an idle pump says when it last ran. */
const MIN_LOOKBACK_DAYS = 30;
/** How far back a running pump's start is looked for, in steps of STEP_MS of raw readings. */
const START_SEARCH_STEPS = 8;
const STEP_MS = 6 * HOUR_MS;

/** A pump's last run as the stored readings show it. Times are device times (the readings' ts). */
export interface PumpRun {
  /** the last reading that said running */
  lastRunningAt: number;
  /** the running:false -> true edge that began that run; null when it began before what was searched */
  startedAt: number | null;
  /** the median current of the run's running readings that carried one */
  amps: number | null;
}

/**
 * Pump runs from the store, cached per pump. A full look-up reads day buckets of the pump's running
 * series over the look-back, hour buckets of the last day with a run, and the raw readings around it;
 * it is redone only when a reading of that pump could change the answer (a running reading, or a
 * back-fill of older readings) — so an idle pump costs nothing between evaluations.
 */
export class PumpHistory {
  private readonly cache = new Map<string, { lookbackMs: number; run: PumpRun | null }>();

  constructor(private readonly store: Pick<TimeSeriesStore, 'series' | 'readings'>) {}

  /** A pump reading was stored: a run or a back-fill makes the cached answer for that pump stale. */
  onPumpReading(subject: string, running: boolean, applied: boolean): void {
    if (running || !applied) this.cache.delete(subject);
  }

  async lastRun(roomId: string, pumpId: string, lookbackMs: number, now: number): Promise<PumpRun | null> {
    const subject = Subjects.pump(roomId, pumpId);
    const hit = this.cache.get(subject);
    if (hit && hit.lookbackMs >= lookbackMs && (hit.run === null || hit.run.lastRunningAt >= now - lookbackMs)) return hit.run;
    const run = await this.lookUp(subject, lookbackMs, now);
    this.cache.set(subject, { lookbackMs, run });
    return run;
  }

  private async lookUp(subject: string, lookbackMs: number, now: number): Promise<PumpRun | null> {
    const from = now - lookbackMs;
    const to = now + 1;
    const days = await this.store.series(subject, 'running', { from, to }, DAY_MS);
    const day = lastWith(days, (p) => p.max > 0);
    if (!day) return null;
    const hours = await this.store.series(subject, 'running', { from: Math.max(from, day.t), to: Math.min(day.t + DAY_MS, to) }, HOUR_MS);
    const hour = lastWith(hours, (p) => p.max > 0) ?? { t: day.t };
    // The raw readings from the last hour with a run to an hour after it (where the run ended).
    let windowFrom = Math.max(from, hour.t);
    let rows = await this.pumpReadings(subject, windowFrom, Math.min(hour.t + 2 * HOUR_MS, to));
    let i = lastIndex(rows, (r) => r.running);
    if (i < 0) return null;
    const lastRunningAt = rows[i]!.ts;
    const amps: number[] = [];
    // Walk back to the start of the run, reading earlier windows while it keeps running.
    for (let step = 0; ; ) {
      for (; i >= 0; i--) {
        const r = rows[i]!;
        if (!r.running) return { lastRunningAt, startedAt: rows[i + 1]?.ts ?? null, amps: median(amps) };
        if (r.amps !== undefined && r.amps !== null) amps.push(r.amps);
      }
      if (++step > START_SEARCH_STEPS || windowFrom <= from) return { lastRunningAt, startedAt: null, amps: median(amps) };
      const earlierTo = windowFrom;
      windowFrom = Math.max(from, windowFrom - STEP_MS);
      const earlier = await this.pumpReadings(subject, windowFrom, earlierTo);
      if (earlier.length === 0) return { lastRunningAt, startedAt: rows[0]?.ts ?? null, amps: median(amps) };
      rows = earlier.concat(rows.slice(0, 1));
      i = earlier.length - 1;
    }
  }

  private async pumpReadings(subject: string, from: number, to: number): Promise<{ ts: number; running: boolean; amps: number | null | undefined }[]> {
    const rows = await this.store.readings(subject, { from, to }, 10_000);
    return rows.flatMap((r) => (r.kind === 'pump' ? [{ ts: r.ts, running: r.running, amps: r.amps }] : []));
  }
}

function lastWith<T>(xs: readonly T[], ok: (x: T) => boolean): T | undefined {
  for (let i = xs.length - 1; i >= 0; i--) if (ok(xs[i]!)) return xs[i];
  return undefined;
}
function lastIndex<T>(xs: readonly T[], ok: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (ok(xs[i]!)) return i;
  return -1;
}
function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return Math.round((s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2) * 10) / 10;
}

/** A route to people outside the dashboard, and its last finished delivery (sent or given up). */
export interface ContactRoute {
  /** `webhook`, `wecom`, `dingtalk`, `feishu`, `webpush`, `escalation` */
  channel: string;
  last: { ok: boolean; at: number; error: string | null } | null;
}

/** What the checks read; the service fills it per room and evaluation. */
export interface ChecklistSources {
  now: number;
  room: FloodRoom;
  /** the room as GET /api/flood shows it now: pumps running, sensors' freshness (the room judge's) */
  view: FloodRoomView | undefined;
  history: PumpHistory;
  isOpen(rule: RuleName, subject: string): boolean;
  routes(): Promise<ContactRoute[]>;
  tick(itemId: string): ChecklistTick | undefined;
  /** A check failed to read its data (logged by the caller; people see only that it could not be checked). */
  onError?(err: unknown, itemId: string): void;
}

export interface ItemResult {
  state: ChecklistState;
  findings: ChecklistFinding[];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const days = (ms: number): number => Math.round((ms / DAY_MS) * 10) / 10;
/** Pump alerts that say a standby pump would not do its job now. */
const PUMP_FAULTS: RuleName[] = [RULES.pumpFailedStart, RULES.pumpCurrent, RULES.pumpNoEffect];

export async function evaluateItem(item: ChecklistItem, src: ChecklistSources): Promise<ItemResult> {
  try {
    switch (item.check) {
      case 'pump-ran-recently':
        return await pumpRanRecently(item, src);
      case 'standby-pump-starts':
        return await standbyStarts(item, src);
      case 'sensors-fresh':
        return sensorsFresh(src);
      case 'contacts-reachable':
        return await contactsReachable(src);
      case 'manual':
        return manual(item, src);
    }
  } catch (err) {
    // A store that cannot answer (InfluxDB away) leaves the item unchecked, never falsely fine.
    src.onError?.(err, item.id);
    return { state: 'unknown', findings: [{ code: 'no-data', reason: 'the stored readings could not be read' }] };
  }
}

async function pumpRanRecently(item: ChecklistItem, src: ChecklistSources): Promise<ItemResult> {
  const maxIdleDays = item.maxIdleDays ?? DEFAULT_MAX_IDLE_DAYS;
  const lookbackDays = Math.max(MIN_LOOKBACK_DAYS, Math.ceil(maxIdleDays * 2));
  const findings: ChecklistFinding[] = [];
  let flagged = false;
  for (const p of src.room.pumps) {
    if (src.view?.pumps.find((x) => x.id === p.id)?.running === true) {
      findings.push({ code: 'pump-running', pump: p.id });
      continue;
    }
    const run = await src.history.lastRun(src.room.id, p.id, lookbackDays * DAY_MS, src.now);
    const idleMs = run === null ? null : Math.max(0, src.now - run.lastRunningAt);
    if (run === null || idleMs! > maxIdleDays * DAY_MS) {
      flagged = true;
      findings.push({ code: 'pump-idle', pump: p.id, lastRunAt: run === null ? null : iso(run.lastRunningAt), idleDays: idleMs === null ? null : days(idleMs), maxIdleDays, lookbackDays });
    } else {
      findings.push({ code: 'pump-ran', pump: p.id, lastRunAt: iso(run.lastRunningAt), idleDays: days(idleMs!), maxIdleDays });
    }
  }
  return { state: flagged ? 'flagged' : 'ok', findings };
}

async function standbyStarts(item: ChecklistItem, src: ChecklistSources): Promise<ItemResult> {
  const standbys = src.room.pumps.filter((p) => p.role === 'standby');
  if (standbys.length === 0) return { state: 'unknown', findings: [{ code: 'no-standby' }] };
  const lookbackDays = item.maxIdleDays ?? DEFAULT_STANDBY_LOOKBACK_DAYS;
  const findings: ChecklistFinding[] = [];
  let state: ChecklistState = 'ok';
  const worst = (s: ChecklistState): void => {
    if (s === 'flagged' || (s === 'unknown' && state === 'ok')) state = s;
  };
  for (const p of standbys) {
    const subject = Subjects.pump(src.room.id, p.id);
    const fault = PUMP_FAULTS.find((rule) => src.isOpen(rule, subject));
    if (fault) {
      findings.push({ code: 'standby-alert', pump: p.id, rule: fault });
      worst('flagged');
      continue;
    }
    const run = await src.history.lastRun(src.room.id, p.id, lookbackDays * DAY_MS, src.now);
    if (run === null) {
      findings.push({ code: 'standby-not-started', pump: p.id, lookbackDays });
      worst('flagged');
      continue;
    }
    const startedAt = iso(run.startedAt ?? run.lastRunningAt);
    if (run.amps === null) {
      findings.push({ code: 'standby-no-current', pump: p.id, startedAt });
      worst('unknown');
    } else if (run.amps < p.ampsMin || run.amps > p.ampsMax) {
      findings.push({ code: 'standby-current', pump: p.id, startedAt, amps: run.amps, ampsMin: p.ampsMin, ampsMax: p.ampsMax });
      worst('flagged');
    } else {
      findings.push({ code: 'standby-started', pump: p.id, startedAt, amps: run.amps, ampsMin: p.ampsMin, ampsMax: p.ampsMax });
    }
  }
  return { state, findings };
}

function sensorsFresh(src: ChecklistSources): ItemResult {
  const findings: ChecklistFinding[] = src.room.levels.map((l) => {
    const v = src.view?.levels.find((x) => x.id === l.id);
    // Before the engine has judged the room nothing is fresh: the same answer the alerts would give.
    const lastSeen = v?.lastSeen ?? null;
    // A sensor never heard from is not reporting, however young ParkOps' silence count still is.
    return v !== undefined && !v.stale && lastSeen !== null ? { code: 'sensor-fresh', sensor: l.id, lastSeen } : { code: 'sensor-stale', sensor: l.id, lastSeen };
  });
  return { state: findings.some((f) => f.code === 'sensor-stale') ? 'flagged' : 'ok', findings };
}

async function contactsReachable(src: ChecklistSources): Promise<ItemResult> {
  const routes = await src.routes();
  if (routes.length === 0) return { state: 'flagged', findings: [{ code: 'no-route' }] };
  const findings: ChecklistFinding[] = routes.map((r) =>
    r.last === null ? { code: 'route-untried', channel: r.channel } : r.last.ok ? { code: 'route-ok', channel: r.channel, at: iso(r.last.at) } : { code: 'route-failed', channel: r.channel, at: iso(r.last.at), error: r.last.error },
  );
  if (findings.some((f) => f.code === 'route-failed')) return { state: 'flagged', findings };
  return { state: findings.some((f) => f.code === 'route-ok') ? 'ok' : 'unknown', findings };
}

function manual(item: ChecklistItem, src: ChecklistSources): ItemResult {
  const t = src.tick(item.id);
  if (!t) return { state: 'todo', findings: [{ code: 'not-ticked' }] };
  const f = { by: t.by, at: iso(t.at), ...(t.note !== null ? { note: t.note } : {}) };
  return t.done ? { state: 'ok', findings: [{ code: 'ticked', ...f }] } : { state: 'todo', findings: [{ code: 'unticked', ...f }] };
}
