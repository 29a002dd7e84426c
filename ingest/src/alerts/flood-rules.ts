/**
 * Flood rules for one room: water-level bands, rate of rise with a time-to-threshold estimate, pump
 * diagnosis, stale or offline devices and disagreeing level sensors. All thresholds come from the site
 * file (site/schema.ts). `evaluate` is cheap and synchronous: it runs on every reading of the room and on
 * the engine's 1 s tick, so a critical level is raised while the reading is being handled.
 */
import type { LevelReading, PumpReading } from '../contract/readings.ts';
import type { FloodRoom, Pump } from '../site/index.ts';
import { RULES, type AlertSink, type Condition, type StateStore } from './types.ts';

/** Band index: 0 none, 1 warning, 2 alarm, 3 critical. */
export type Band = 0 | 1 | 2 | 3;
export const BAND_NAMES = ['normal', 'warning', 'alarm', 'critical'] as const;

/** What the engine keeps per level sensor or pump. Last seen and last changed are apart on purpose. */
export interface DeviceState {
  /** When a message from the device last arrived (server clock). */
  seenAt: number | null;
  /** When its value last changed. A value sitting unchanged while still reported is alive, not stale. */
  changedAt: number | null;
  /** Silence is measured from here: seenAt, moved forward by the time the engine itself was down. */
  silentFrom: number;
  /** From `park/devices/{id}/status`; null until a status arrived. */
  online: boolean | null;
  mm?: number | null;
  running?: boolean | null;
  amps?: number | null;
  /** When the pump last started (running false -> true). */
  startedAt?: number | null;
  /** Start times in the last hour, for short cycling. */
  starts?: number[];
}

interface PumpRuleState {
  aboveStartSince: number | null;
  currentBadSince: number | null;
  currentKind: 'dry' | 'jam' | null;
  currentOkSince: number | null;
  /** The start these fields describe (DeviceState.startedAt), the level and rate of rise then, the lowest level since. */
  startSeen?: number | null;
  startLevel?: number | null;
  rateAtStart?: number | null;
  minSinceStart?: number | null;
  noEffectClearSince?: number | null;
  failedClearSince?: number | null;
}

/** Persisted per room under `room:{id}`. */
export interface RoomRuleState {
  band: Band;
  /** A band change waiting out its hold time. */
  pending: { target: Band; since: number } | null;
  /** Per level sensor: samples [t ms, mm], oldest first, for rate of rise and pump effect. */
  samples: Record<string, [number, number][]>;
  riseGrade: number;
  riseClearSince: number | null;
  disagreeSince: number | null;
  disagreeClearSince: number | null;
  pumps: Record<string, PumpRuleState>;
}

/** Hooks for the incident timeline. */
export interface FloodObserver {
  level(room: string, mm: number, now: number): void;
  pump(room: string, pumpId: string, running: boolean, now: number, runMs: number | null): void;
}

/** Below this slope (mm/min) a level counts as not rising: sensor noise over minutes is far smaller. */
const RISING_MM_PER_MIN = 0.5;
const MAX_SAMPLES = 2000;
/** Clear hold of the level bands while a pump of the room is faulty (see clearHoldSec()). */
const FAULT_CLEAR_HOLD_SEC = 30 * 60;

export interface RiseEstimate {
  /** observed rate of rise, mm/min over the window */
  rateMmPerMin: number;
  /** next threshold above the level, and the minutes to it; null when the pumps that would run outpace the inflow */
  next: { name: string; mm: number; min: number | null } | null;
  floorMin: number | null;
}

const round = (x: number, step: 1 | 0.1 = 1): number => (step === 1 ? Math.round(x) : Math.round(x * 10) / 10);

export class FloodRoomRules {
  readonly room: FloodRoom;
  private state: RoomRuleState;
  private readonly devices = new Map<string, DeviceState>();
  private readonly stateKey: string;
  private readonly levelSubject: string;

  constructor(
    room: FloodRoom,
    private readonly sink: AlertSink,
    private readonly store: StateStore,
    private readonly observer: FloodObserver,
    now: number,
  ) {
    this.room = room;
    this.stateKey = `room:${room.id}`;
    this.levelSubject = `flood/${room.id}/levels`;
    this.state = store.load<RoomRuleState>(this.stateKey) ?? {
      band: 0,
      pending: null,
      samples: {},
      riseGrade: 0,
      riseClearSince: null,
      disagreeSince: null,
      disagreeClearSince: null,
      pumps: {},
    };
    for (const p of room.pumps) {
      this.state.pumps[p.id] ??= { aboveStartSince: null, currentBadSince: null, currentKind: null, currentOkSince: null };
    }
    for (const d of [...room.levels, ...room.pumps]) {
      let dev = store.load<DeviceState>(`dev:${d.id}`);
      if (!dev) {
        // Never heard of: its silence counts from the engine's first start, kept across restarts.
        dev = { seenAt: null, changedAt: null, silentFrom: now, online: null };
        store.save(`dev:${d.id}`, dev);
      }
      this.devices.set(d.id, dev);
    }
  }

  /** Called once at start with how long the engine was down: silence is not counted while nobody listened. */
  creditDowntime(ms: number, now: number): void {
    if (ms <= 0) return;
    for (const [id, d] of this.devices) {
      d.silentFrom = Math.min(now, d.silentFrom + ms);
      this.store.save(`dev:${id}`, d);
    }
  }

  levelSubjectOf(sensorId: string): string {
    return `flood/${this.room.id}/levels/${sensorId}`;
  }
  pumpSubjectOf(pumpId: string): string {
    return `flood/${this.room.id}/pumps/${pumpId}`;
  }

  onLevel(r: LevelReading, applied: boolean, now: number): void {
    const d = this.devices.get(r.sensorId);
    if (!d) return;
    d.seenAt = now;
    d.silentFrom = now;
    if (applied) {
      if (d.mm !== r.mm) d.changedAt = now;
      d.mm = r.mm;
      this.addSample(r.sensorId, r.mm, now);
    }
    this.store.save(`dev:${r.sensorId}`, d);
    this.evaluate(now, applied);
  }

  onPump(r: PumpReading, applied: boolean, now: number): void {
    const d = this.devices.get(r.pumpId);
    if (!d) return;
    d.seenAt = now;
    d.silentFrom = now;
    if (applied) {
      const was = d.running ?? null;
      if (was !== r.running || d.amps !== (r.amps ?? null)) d.changedAt = now;
      if (r.running && was !== true) {
        d.startedAt = now;
        // A pump first heard already running did not start now: it does not count towards short cycling.
        if (was === false) d.starts = [...(d.starts ?? []), now];
        this.observer.pump(this.room.id, r.pumpId, true, now, null);
      } else if (!r.running && was === true) {
        const runMs = d.startedAt != null ? now - d.startedAt : null;
        d.startedAt = null;
        this.observer.pump(this.room.id, r.pumpId, false, now, runMs);
      }
      d.running = r.running;
      d.amps = r.amps ?? null;
    }
    this.store.save(`dev:${r.pumpId}`, d);
    this.evaluate(now, false);
  }

  onStatus(deviceId: string, online: boolean, now: number): void {
    const d = this.devices.get(deviceId);
    if (!d) return;
    d.online = online;
    d.seenAt = now;
    d.silentFrom = now;
    this.store.save(`dev:${deviceId}`, d);
    this.evaluate(now, false);
  }

  device(id: string): DeviceState | undefined {
    return this.devices.get(id);
  }
  get band(): Band {
    return this.state.band;
  }

  private isStale(id: string, staleAfterSec: number, now: number): boolean {
    const d = this.devices.get(id);
    if (!d) return true;
    return d.online === false || now - d.silentFrom > staleAfterSec * 1000;
  }

  private freshLevels(now: number): { id: string; mm: number }[] {
    const out: { id: string; mm: number }[] = [];
    for (const l of this.room.levels) {
      const d = this.devices.get(l.id);
      if (d && d.mm != null && d.seenAt !== null && !this.isStale(l.id, l.staleAfterSec, now)) out.push({ id: l.id, mm: d.mm });
    }
    return out;
  }

  /**
   * The room's level from its sensors. Both fresh: the lower of the two, so one sensor's spike is not a
   * flood while both rising is; once they have disagreed for sensorDisagreeMin (an open disagreement
   * alert) the higher one, because a stuck-low sensor must not hide a real flood. One fresh: that one.
   */
  combinedLevel(now: number): number | null {
    const fresh = this.freshLevels(now);
    if (fresh.length === 0) return null;
    const values = fresh.map((f) => f.mm);
    return this.sink.isOpen(RULES.disagree, this.levelSubject) ? Math.max(...values) : Math.min(...values);
  }

  private addSample(sensorId: string, mm: number, now: number): void {
    const rules = this.room.rules;
    const samples = (this.state.samples[sensorId] ??= []);
    const keepMs = Math.max(rules.riseWindowSec, rules.pumpNoEffectMin * 60) * 1000 + 60_000;
    const last = samples[samples.length - 1];
    if (last && last[0] === now) last[1] = mm;
    else samples.push([now, mm]);
    while (samples.length > 0 && (samples[0]![0] < now - keepMs || samples.length > MAX_SAMPLES)) samples.shift();
  }

  /**
   * Rate of rise in mm/min since `from`: each fresh sensor's least-squares slope, combined like the
   * level (the lower one, or the higher while the sensors disagree), so one sensor's spike is no rise.
   */
  slopeSince(from: number, now: number): number | null {
    const slopes: number[] = [];
    for (const l of this.room.levels) {
      if (this.isStale(l.id, l.staleAfterSec, now)) continue;
      const x = this.sensorSlope(this.state.samples[l.id] ?? [], from, now);
      if (x !== null) slopes.push(x);
    }
    if (slopes.length === 0) return null;
    return this.sink.isOpen(RULES.disagree, this.levelSubject) ? Math.max(...slopes) : Math.min(...slopes);
  }

  private sensorSlope(samples: [number, number][], from: number, now: number): number | null {
    const pts = samples.filter(([t]) => t >= from && t <= now);
    if (pts.length < 3) return null;
    const first = pts[0]!;
    const last = pts[pts.length - 1]!;
    if (last[0] - first[0] < (now - from) / 2) return null;
    let st = 0, sm = 0, stt = 0, stm = 0;
    for (const [t, mm] of pts) {
      const x = (t - first[0]) / 60_000;
      st += x;
      sm += mm;
      stt += x * x;
      stm += x * mm;
    }
    const n = pts.length;
    const den = n * stt - st * st;
    if (den === 0) return null;
    return (n * stm - st * sm) / den;
  }

  /** Pumps that are running and not diagnosed as failing to move water. */
  private effectivePumps(): Pump[] {
    return this.room.pumps.filter(
      (p) => this.devices.get(p.id)?.running === true && !this.sink.isOpen(RULES.pumpNoEffect, this.pumpSubjectOf(p.id)) && !this.isJammedOrDry(p),
    );
  }
  /** Not diagnosed as failing in any way, and not offline. */
  private isHealthy(p: Pump): boolean {
    const subject = this.pumpSubjectOf(p.id);
    return (
      this.devices.get(p.id)?.online !== false &&
      !this.sink.isOpen(RULES.pumpFailedStart, subject) &&
      !this.sink.isOpen(RULES.pumpNoEffect, subject) &&
      !this.sink.isOpen(RULES.pumpCurrent, subject)
    );
  }
  private isJammedOrDry(p: Pump): boolean {
    return this.sink.isOpen(RULES.pumpCurrent, this.pumpSubjectOf(p.id));
  }

  /**
   * Minutes for the level to climb from `level` to `target` at the current inflow. Net inflow = observed
   * rise + outflow of the pumps running now (1 L over 1 m² of pit is 1 mm). On the way up, pumps that are
   * not running yet but healthy start at their startMm and take their capacity off the inflow.
   */
  minutesTo(level: number, target: number, rateMmPerMin: number): number | null {
    if (target <= level) return 0;
    const area = this.room.pit.areaM2;
    const running = this.effectivePumps();
    const runningIds = new Set(running.map((p) => p.id));
    const inflow = rateMmPerMin + running.reduce((s, p) => s + p.capacityLpm, 0) / area;
    const waiting = this.room.pumps.filter(
      (p) => !runningIds.has(p.id) && p.startMm > level && !this.sink.isOpen(RULES.pumpFailedStart, this.pumpSubjectOf(p.id)) && !this.isJammedOrDry(p) && this.devices.get(p.id)?.online !== false,
    );
    const breaks = [...new Set(waiting.map((p) => p.startMm).filter((mm) => mm < target))].sort((a, b) => a - b);
    let at = level;
    let outflow = running.reduce((s, p) => s + p.capacityLpm, 0) / area;
    let minutes = 0;
    for (const stop of [...breaks, target]) {
      const net = inflow - outflow;
      if (net <= 0) return null;
      minutes += (stop - at) / net;
      at = stop;
      outflow += waiting.filter((p) => p.startMm === stop).reduce((s, p) => s + p.capacityLpm, 0) / area;
    }
    return minutes;
  }

  private thresholds(): { name: string; mm: number }[] {
    const b = this.room.bands;
    return [
      { name: 'warning', mm: b.warnMm },
      { name: 'alarm', mm: b.alarmMm },
      { name: 'critical', mm: b.criticalMm },
      { name: 'floor', mm: b.floorMm },
    ];
  }

  estimate(level: number, rate: number): RiseEstimate {
    const nextT = this.thresholds().find((t) => t.mm > level);
    return {
      rateMmPerMin: rate,
      next: nextT ? { ...nextT, min: this.minutesTo(level, nextT.mm, rate) } : null,
      floorMin: level < this.room.bands.floorMm ? this.minutesTo(level, this.room.bands.floorMm, rate) : null,
    };
  }

  private etaText(e: RiseEstimate): string {
    const parts: string[] = [];
    if (e.next && e.next.name !== 'floor' && e.next.min !== null) parts.push(`reaches ${e.next.name} (${e.next.mm} mm) in ~${Math.max(1, Math.round(e.next.min))} min`);
    if (e.floorMin !== null) parts.push(`reaches the floor in ~${Math.max(1, Math.round(e.floorMin))} min`);
    let text = parts.length > 0 ? `${parts.join(', ')} at the current rate` : '';
    if (e.floorMin === null) text += `${text ? '; ' : ''}the running and standby pumps should outpace it before the floor`;
    return text;
  }

  private threshold(band: Band): number {
    const b = this.room.bands;
    return band === 1 ? b.warnMm : band === 2 ? b.alarmMm : band === 3 ? b.criticalMm : -Infinity;
  }

  /**
   * Bands with hysteresis and hold times. A band is entered when the level reaches its threshold and
   * stays at or above threshold - deadband for holdSec (critical: at once); it is left when the level has
   * stayed at or below threshold - deadband for clearHoldSec. A level wobbling a few mm around a threshold
   * therefore enters the band once and never leaves it: one alert.
   */
  private stepBand(level: number | null, now: number): void {
    const s = this.state;
    const { deadbandMm, holdSec } = this.room.bands;
    if (level !== null) {
      let up: Band = 0;
      for (const b of [1, 2, 3] as const) if (level >= this.threshold(b)) up = b;
      const holds = (b: Band): boolean => b === 0 || level > this.threshold(b) - deadbandMm;
      if (up === 3 && s.band < 3) {
        s.band = 3;
        s.pending = null;
      } else if (up > s.band) {
        if (s.pending && s.pending.target > s.band) s.pending = { target: Math.max(s.pending.target, up) as Band, since: s.pending.since };
        else s.pending = { target: up, since: now };
      } else if (!holds(s.band)) {
        let down: Band = 0;
        for (const b of [1, 2, 3] as const) if (b < s.band && holds(b)) down = b;
        if (s.pending && s.pending.target < s.band) s.pending = { target: down, since: s.pending.since };
        else s.pending = { target: down, since: now };
      } else if (s.pending) {
        // Back inside the current band: a pending rise survives while the level stays within the deadband of
        // its threshold (the wobble), a pending fall is cancelled.
        if (s.pending.target < s.band || !holds(s.pending.target)) s.pending = null;
      }
    }
    if (s.pending) {
      const rising = s.pending.target > s.band;
      if (now - s.pending.since >= (rising ? holdSec : this.clearHoldSec()) * 1000) {
        s.band = s.pending.target;
        s.pending = null;
      }
    }
  }

  /**
   * Hold before a band clears. While a pump of the room is diagnosed faulty the remaining pumps cycle the
   * level through the bands (a failed duty pump leaves the standby to pump from 450 mm down to 150 mm and
   * the water comes straight back): the band then clears only after FAULT_CLEAR_HOLD_SEC below it, so the
   * episode stays one alert instead of one per pump cycle.
   */
  private clearHoldSec(): number {
    const faulty = this.room.pumps.some((p) => {
      const subject = this.pumpSubjectOf(p.id);
      return this.sink.isOpen(RULES.pumpFailedStart, subject) || this.sink.isOpen(RULES.pumpNoEffect, subject) || this.sink.isOpen(RULES.pumpCurrent, subject);
    });
    return faulty ? Math.max(this.room.bands.clearHoldSec, FAULT_CLEAR_HOLD_SEC) : this.room.bands.clearHoldSec;
  }

  /** Runs every rule of the room. `newSample`: a level reading arrived, so the combined level is sampled. */
  evaluate(now: number, newSample: boolean): void {
    const r = this.room;
    const rules = r.rules;
    this.evaluateStale(now);
    const fresh = this.freshLevels(now);
    this.evaluateDisagreement(fresh, now);
    const level = this.combinedLevel(now);

    if (newSample && level !== null) this.observer.level(r.id, level, now);
    this.stepBand(level, now);

    const rate = this.slopeSince(now - rules.riseWindowSec * 1000, now);
    const est = level !== null && rate !== null && rate > RISING_MM_PER_MIN ? this.estimate(level, rate) : null;
    this.evaluateRise(level, rate, est, now);
    this.evaluateLevelAlert(level, est, now);
    this.evaluatePumps(level, now);
    this.store.save(this.stateKey, this.state);
  }

  private evaluateLevelAlert(level: number | null, est: RiseEstimate | null, now: number): void {
    const band = this.state.band;
    if (band === 0) {
      this.sink.clear(RULES.level, this.levelSubject, now);
      return;
    }
    const name = BAND_NAMES[band];
    const shown = level ?? this.threshold(band);
    const below = level !== null && level <= this.threshold(band) - this.room.bands.deadbandMm;
    let message = below
      ? `${this.room.name}: water back at ${round(shown)} mm, below the ${name} band (${name} at ${this.threshold(band)} mm); clears after ${Math.round(this.clearHoldSec() / 60)} min below it`
      : `${this.room.name}: water at ${round(shown)} mm, ${name} band (${name} at ${this.threshold(band)} mm)`;
    if (level === null) message += '; no fresh level reading';
    if (est) message += `; rising ${est.rateMmPerMin.toFixed(1)} mm/min, ${this.etaText(est)}`;
    const cond: Condition = {
      // The alarm band means the duty pump is not keeping up: the response team is called, as for critical.
      severity: band === 1 ? 'warning' : 'critical',
      message,
      value: level !== null ? round(level, 0.1) : undefined,
      room: this.room.id,
      grade: band,
      ...this.etaFields(est),
    };
    this.sink.raise(RULES.level, this.levelSubject, cond, now);
  }

  private etaFields(est: RiseEstimate | null): { etaMin?: number; etaTarget?: string } {
    if (!est) return {};
    if (est.next && est.next.min !== null) return { etaMin: round(est.next.min, 0.1), etaTarget: est.next.name };
    return {};
  }

  /**
   * Rate of rise: fires at riseWarnMmPerMin (grade 1, warning), grade 2 at twice that and grade 3 at four
   * times (critical): a faster rise re-escalates an acknowledged alert. A grade steps down only below 75 %
   * of its threshold.
   *
   * A fast rise is part of normal pumping: the sump pit fills until the duty pump starts, and after a pump
   * stops the level climbs back towards the next start level. So the rule opens only once the level is in
   * the warning band, or above the start level of every healthy pump (all the reserve is engaged and the
   * water still rises). It clears after the rate stayed under half the warning rate for clearHoldSec, and
   * at least twice the rise window, so the dip when the standby pump joins does not resolve and reopen it.
   */
  private evaluateRise(level: number | null, rate: number | null, est: RiseEstimate | null, now: number): void {
    const s = this.state;
    const warn = this.room.rules.riseWarnMmPerMin;
    const subject = this.levelSubject;
    if (rate === null) return; // not enough fresh data: keep what we have
    const open = this.sink.isOpen(RULES.rise, subject);
    if (!open) s.riseGrade = 0;
    const gradeFor = (x: number): number => (x >= 4 * warn ? 3 : x >= 2 * warn ? 2 : x >= warn ? 1 : 0);
    const raw = gradeFor(rate);
    if (!open) {
      const healthy = this.room.pumps.filter((p) => this.isHealthy(p));
      const allEngagedAt = healthy.length > 0 ? Math.max(...healthy.map((p) => p.startMm)) : -Infinity;
      if (raw === 0 || level === null || level < Math.min(this.room.bands.warnMm, allEngagedAt)) return;
    }
    if (open && rate < warn / 2) {
      s.riseClearSince ??= now;
      const holdMs = Math.max(this.room.bands.clearHoldSec, 2 * this.room.rules.riseWindowSec) * 1000;
      if (now - s.riseClearSince >= holdMs) {
        s.riseGrade = 0;
        s.riseClearSince = null;
        this.sink.clear(RULES.rise, subject, now);
      }
      return; // clearing: the alert keeps the last rise it reported
    }
    s.riseClearSince = null;
    let grade = Math.max(s.riseGrade, 1);
    if (raw > grade) grade = raw;
    else if (grade > 1 && rate < 0.75 * warn * 2 ** (grade - 1)) grade = Math.max(raw, 1);
    s.riseGrade = grade;
    let message = `${this.room.name}: water rising ${rate.toFixed(1)} mm/min over ${Math.round(this.room.rules.riseWindowSec / 60)} min (alert at ${warn} mm/min)`;
    if (level !== null) message += `, now ${round(level)} mm`;
    if (est) message += `; ${this.etaText(est)}`;
    const fields = est
      ? est.floorMin !== null
        ? { etaMin: round(est.floorMin, 0.1), etaTarget: 'floor' }
        : this.etaFields(est)
      : {};
    this.sink.raise(RULES.rise, subject, { severity: grade >= 2 ? 'critical' : 'warning', message, value: round(rate, 0.1), room: this.room.id, grade, ...fields }, now);
  }

  private evaluateStale(now: number): void {
    const r = this.room;
    const staleLevels = r.levels.filter((l) => this.isStale(l.id, l.staleAfterSec, now));
    const blind = staleLevels.length === r.levels.length;
    const check = (id: string, subject: string, what: string, staleAfterSec: number, stale: boolean, critical: boolean): void => {
      if (!stale) {
        this.sink.clear(RULES.deviceStale, subject, now);
        return;
      }
      const d = this.devices.get(id)!;
      // A stable message (no running count of seconds): an open alert is not republished every tick.
      const why =
        d.online === false
          ? 'reported offline'
          : d.seenAt === null
            ? `not heard from since ${new Date(d.silentFrom).toISOString()} (expected within ${staleAfterSec} s)`
            : `silent since ${new Date(d.seenAt).toISOString()} (expected within ${staleAfterSec} s)`;
      let message = `${r.name}: ${what} ${id} ${why}`;
      if (critical) message += '; no level sensor of the room is reporting';
      this.sink.raise(RULES.deviceStale, subject, { severity: critical ? 'critical' : 'warning', message, room: r.id, grade: critical ? 2 : 1 }, now);
    };
    for (const l of r.levels) check(l.id, this.levelSubjectOf(l.id), 'level sensor', l.staleAfterSec, staleLevels.includes(l), blind);
    for (const p of r.pumps) check(p.id, this.pumpSubjectOf(p.id), 'pump', p.staleAfterSec, this.isStale(p.id, p.staleAfterSec, now), false);
  }

  /** Two fresh sensors more than sensorDisagreeMm apart for sensorDisagreeMin; clears below the deadband for clearHoldSec. */
  private evaluateDisagreement(fresh: { id: string; mm: number }[], now: number): void {
    const s = this.state;
    if (fresh.length < 2) return; // cannot judge: keep the state
    const { sensorDisagreeMm, sensorDisagreeMin } = this.room.rules;
    const hi = fresh.reduce((a, b) => (b.mm > a.mm ? b : a));
    const lo = fresh.reduce((a, b) => (b.mm < a.mm ? b : a));
    const diff = hi.mm - lo.mm;
    const open = this.sink.isOpen(RULES.disagree, this.levelSubject);
    if (diff > sensorDisagreeMm) {
      s.disagreeClearSince = null;
      s.disagreeSince ??= now;
      if (open || now - s.disagreeSince >= sensorDisagreeMin * 60_000) {
        const message = `${this.room.name}: level sensors disagree by ${round(diff)} mm (${hi.id} ${round(hi.mm)} mm, ${lo.id} ${round(lo.mm)} mm; allowed ${sensorDisagreeMm} mm); using the higher reading until they agree`;
        this.sink.raise(RULES.disagree, this.levelSubject, { severity: 'warning', message, value: round(diff), room: this.room.id, grade: 1 }, now);
      }
    } else if (diff <= sensorDisagreeMm - this.room.bands.deadbandMm || !open) {
      s.disagreeSince = null;
      if (!open) return;
      s.disagreeClearSince ??= now;
      if (now - s.disagreeClearSince >= this.room.bands.clearHoldSec * 1000) {
        s.disagreeClearSince = null;
        this.sink.clear(RULES.disagree, this.levelSubject, now);
      }
    }
  }

  private evaluatePumps(level: number | null, now: number): void {
    const { rules, bands } = this.room;
    for (const p of this.room.pumps) {
      const d = this.devices.get(p.id)!;
      const ps = this.state.pumps[p.id]!;
      const subject = this.pumpSubjectOf(p.id);
      const label = `${this.room.name}: ${p.role} pump ${p.id}`;

      // Failed to start: level above its start level and not running after the grace time. The fault is
      // over when the pump runs; while another pump keeps the level between this one's stop and start
      // levels it stays open (the pump was never seen working), and only a level below its stopMm for
      // clearHoldSec (nothing to pump any more) also clears it.
      const failedOpen = this.sink.isOpen(RULES.pumpFailedStart, subject);
      if (d.running === true) {
        ps.aboveStartSince = null;
        ps.failedClearSince = null;
        this.sink.clear(RULES.pumpFailedStart, subject, now);
      } else if (failedOpen) {
        if (level !== null && level < p.stopMm) {
          ps.failedClearSince ??= now;
          if (now - ps.failedClearSince >= bands.clearHoldSec * 1000) {
            ps.failedClearSince = null;
            ps.aboveStartSince = null;
            this.sink.clear(RULES.pumpFailedStart, subject, now);
          }
        } else ps.failedClearSince = null;
      } else if (level !== null && level < p.startMm - bands.deadbandMm) {
        ps.aboveStartSince = null;
      } else if (level !== null && level >= p.startMm) {
        ps.aboveStartSince ??= now;
        if (now - ps.aboveStartSince >= rules.pumpStartGraceSec * 1000) {
          const state = d.running === false ? 'not running' : 'not reporting whether it runs';
          this.sink.raise(
            RULES.pumpFailedStart,
            subject,
            { severity: 'critical', message: `${label} failed to start: water above its start level of ${p.startMm} mm since ${new Date(ps.aboveStartSince).toISOString()}, ${state} after ${rules.pumpStartGraceSec} s`, value: round(level), room: this.room.id, grade: 1 },
            now,
          );
        }
      }

      // Running but not moving water: the level still rises pumpNoEffectMin after the start, and the start
      // made no difference. A working pump shows at its start: the level drops (by deadbandMm at least) or
      // the rise slows by a quarter of its capacity. One that works but is outrun by the inflow (a storm
      // against the standby's start level) is not "not moving water"; the level and rise alerts cover that.
      if (d.running === true && d.startedAt != null) {
        if (ps.startSeen !== d.startedAt) {
          ps.startSeen = d.startedAt;
          ps.startLevel = level;
          ps.minSinceStart = level;
          ps.rateAtStart = this.slopeSince(now - rules.riseWindowSec * 1000, now);
        }
        if (level !== null) {
          ps.startLevel ??= level;
          ps.minSinceStart = Math.min(ps.minSinceStart ?? level, level);
        }
      }
      const noEffectMs = rules.pumpNoEffectMin * 60_000;
      if (d.running === true && d.startedAt != null && now - d.startedAt >= noEffectMs) {
        const slope = this.slopeSince(now - noEffectMs, now);
        const dropped = ps.startLevel != null && ps.minSinceStart != null && ps.minSinceStart <= ps.startLevel - bands.deadbandMm;
        const slowed = ps.rateAtStart != null && slope !== null && ps.rateAtStart - slope >= (0.25 * p.capacityLpm) / this.room.pit.areaM2;
        const open = this.sink.isOpen(RULES.pumpNoEffect, subject);
        if (slope !== null && slope > RISING_MM_PER_MIN && (open || (!dropped && !slowed))) {
          ps.noEffectClearSince = null;
          this.sink.raise(
            RULES.pumpNoEffect,
            subject,
            {
              severity: 'critical',
              message: `${label} is running but not moving water: level still rising ${slope.toFixed(1)} mm/min ${rules.pumpNoEffectMin} min after it started, no drop at its start`,
              value: round(slope, 0.1),
              room: this.room.id,
              grade: 1,
            },
            now,
          );
        } else if (open && slope !== null && slope <= 0) {
          ps.noEffectClearSince ??= now;
          if (now - ps.noEffectClearSince >= bands.clearHoldSec * 1000) {
            ps.noEffectClearSince = null;
            this.sink.clear(RULES.pumpNoEffect, subject, now);
          }
        }
      } else if (d.running !== true) {
        ps.noEffectClearSince = null;
        this.sink.clear(RULES.pumpNoEffect, subject, now);
      }

      // Dry running (current below its band) or jam (above), held for holdSec both ways.
      const amps = d.amps;
      const kind: 'dry' | 'jam' | null = d.running === true && amps != null ? (amps < p.ampsMin ? 'dry' : amps > p.ampsMax ? 'jam' : null) : null;
      const holdMs = bands.holdSec * 1000;
      if (kind !== null) {
        ps.currentOkSince = null;
        if (ps.currentKind !== kind) {
          ps.currentKind = kind;
          ps.currentBadSince = now;
        }
        ps.currentBadSince ??= now;
        if (now - ps.currentBadSince >= holdMs || this.sink.isOpen(RULES.pumpCurrent, subject)) {
          const message =
            kind === 'dry'
              ? `${label} is dry running: ${amps} A below its ${p.ampsMin}-${p.ampsMax} A band`
              : `${label} is jammed: ${amps} A above its ${p.ampsMin}-${p.ampsMax} A band`;
          this.sink.raise(RULES.pumpCurrent, subject, { severity: kind === 'jam' ? 'critical' : 'warning', message, value: amps ?? undefined, room: this.room.id, grade: kind === 'jam' ? 2 : 1 }, now);
        }
      } else {
        ps.currentKind = null;
        ps.currentBadSince = null;
        if (this.sink.isOpen(RULES.pumpCurrent, subject)) {
          if (d.running !== true) {
            ps.currentOkSince = null;
            this.sink.clear(RULES.pumpCurrent, subject, now);
          } else {
            ps.currentOkSince ??= now;
            if (now - ps.currentOkSince >= holdMs) {
              ps.currentOkSince = null;
              this.sink.clear(RULES.pumpCurrent, subject, now);
            }
          }
        }
      }

      // Short cycling: more than maxStartsPerHour starts in the last hour; clears at half of it.
      const starts = (d.starts ?? []).filter((t) => t > now - 3_600_000);
      if (starts.length !== (d.starts ?? []).length) {
        d.starts = starts;
        this.store.save(`dev:${p.id}`, d);
      }
      if (starts.length > rules.maxStartsPerHour) {
        this.sink.raise(
          RULES.pumpShortCycle,
          subject,
          { severity: 'warning', message: `${label} is short cycling: ${starts.length} starts in the last hour (at most ${rules.maxStartsPerHour})`, value: starts.length, room: this.room.id, grade: 1 },
          now,
        );
      } else if (starts.length <= rules.maxStartsPerHour / 2) {
        this.sink.clear(RULES.pumpShortCycle, subject, now);
      }
    }
  }
}
