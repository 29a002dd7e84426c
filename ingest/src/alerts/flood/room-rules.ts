/**
 * The flood rules of one room. The room's judge (flood/room-judge.ts) decides which sensors count, the
 * combined level, the band and each device's freshness; the rule families next to this file turn that
 * into alerts: level bands (level-rule.ts), rate of rise and time to threshold (rise-rule.ts), pumps
 * (pump-rules.ts), silent or offline devices (stale-rule.ts) and disagreeing sensors (disagree-rule.ts).
 * All thresholds come from the site file. `evaluate` is cheap and synchronous: it runs on every reading of
 * the room and on the engine's 1 s tick, so a critical level is raised while the reading is handled.
 */
import type { LevelReading, PumpReading } from '@parkops/contract/readings.ts';
import { RoomJudge, type DeviceRecord, type RoomJudgement } from '../../flood/room-judge.ts';
import type { FloodRoom, Pump } from '@parkops/contract/site/index.ts';
import { RULES, type AlertSink, type StateStore } from '../types.ts';
import { type RoomContext, type RoomRuleState, RISING_MM_PER_MIN } from './context.ts';
import { evaluateDisagreement } from './disagree-rule.ts';
import { evaluateLevelAlert } from './level-rule.ts';
import { evaluatePumps } from './pump-rules.ts';
import { estimate, evaluateRise } from './rise-rule.ts';
import { robustSlope } from './slope.ts';
import { evaluateStale } from './stale-rule.ts';
import { clearHoldFor, effectiveRules, longestRiseWindowSec, type EffectiveRules } from './storm.ts';
import { Subjects } from '@parkops/contract/subjects.ts';

/** Hooks for the incident timeline. */
export interface FloodObserver {
  level(room: string, mm: number, now: number): void;
  pump(room: string, pumpId: string, running: boolean, now: number, runMs: number | null): void;
}

/** What changed in a room's judgement: its level (or band), and the devices whose view changed. */
export interface RoomChanges {
  level: boolean;
  devices: string[];
}

function withDevice(c: RoomChanges, id: string): RoomChanges {
  return c.devices.includes(id) ? c : { level: c.level, devices: [...c.devices, id] };
}

/** Combined-level samples kept, at most (a sensor reporting every second fills 10 minutes). */
const MAX_SAMPLES = 2000;
/** Clear hold of the level bands while a pump of the room is faulty (see clearHoldSec()). */
const FAULT_CLEAR_HOLD_SEC = 30 * 60;

export class FloodRoomRules implements RoomContext {
  readonly room: FloodRoom;
  readonly judge: RoomJudge;
  readonly state: RoomRuleState;
  readonly levelSubject: string;
  private readonly stateKey: string;
  /** What the API last showed of each device and of the room's level, to tell the stream what changed. */
  private readonly shown = new Map<string, string>();
  /** The numbers the rules use now: the normal ones, or the storm ones while storm mode is on (storm.ts). */
  settings: EffectiveRules;

  constructor(
    room: FloodRoom,
    readonly sink: AlertSink,
    private readonly store: StateStore,
    private readonly observer: FloodObserver,
    now: number,
    /** Whether the room is in storm mode at a time (the warnings module); never, without one. */
    private readonly stormMode: (now: number) => boolean = () => false,
  ) {
    this.room = room;
    this.stateKey = `room:${room.id}`;
    this.levelSubject = Subjects.roomLevel(room.id);
    this.judge = new RoomJudge(room, store, now);
    const stored = store.load<Partial<RoomRuleState>>(this.stateKey);
    // Fields of the state before the judge (band, pending, per-sensor samples) are left behind here.
    this.state = {
      levelSamples: stored?.levelSamples ?? [],
      riseGrade: stored?.riseGrade ?? 0,
      riseClearSince: stored?.riseClearSince ?? null,
      disagreeSince: stored?.disagreeSince ?? null,
      disagreeClearSince: stored?.disagreeClearSince ?? null,
      pumps: stored?.pumps ?? {},
      stormSince: stored?.stormSince ?? null,
    };
    this.settings = effectiveRules(room, this.state.stormSince !== null);
    for (const p of room.pumps) {
      this.state.pumps[p.id] ??= { aboveStartSince: null, currentBadSince: null, currentKind: null, currentOkSince: null };
    }
  }

  /** Called once at start with how long the engine was down: silence is not counted while nobody listened. */
  creditDowntime(ms: number, now: number): void {
    this.judge.creditDowntime(ms, now);
  }

  levelSensorSubject(sensorId: string): string {
    return Subjects.level(this.room.id, sensorId);
  }
  pumpSubject(pumpId: string): string {
    return Subjects.pump(this.room.id, pumpId);
  }

  device(id: string): DeviceRecord | undefined {
    return this.judge.device(id);
  }

  onLevel(r: LevelReading, applied: boolean, now: number): RoomChanges {
    const moved = this.judge.onLevel(r.sensorId, r.mm, r.ts, applied, now);
    if (moved) {
      const level = this.judge.combinedLevel(now);
      if (level !== null) this.addSample(level, now);
    }
    return withDevice(this.evaluate(now, moved), r.sensorId);
  }

  onPump(r: PumpReading, applied: boolean, now: number): RoomChanges {
    const edge = this.judge.onPump(r.pumpId, r.running, r.amps ?? null, r.ts, applied, now);
    if (edge?.started === true) this.observer.pump(this.room.id, r.pumpId, true, now, null);
    else if (edge?.started === false) this.observer.pump(this.room.id, r.pumpId, false, now, edge.runMs);
    return withDevice(this.evaluate(now, false), r.pumpId);
  }

  onStatus(deviceId: string, online: boolean, now: number): RoomChanges {
    this.judge.onStatus(deviceId, online, now);
    return withDevice(this.evaluate(now, false), deviceId);
  }

  private addSample(mm: number, now: number): void {
    const rules = this.room.rules;
    const samples = this.state.levelSamples;
    const keepMs = Math.max(longestRiseWindowSec(this.room), rules.pumpNoEffectMin * 60) * 1000 + 60_000;
    const last = samples[samples.length - 1];
    if (last && last[0] === now) last[1] = mm;
    else samples.push([now, mm]);
    let drop = 0;
    while (drop < samples.length && (samples[drop]![0] < now - keepMs || samples.length - drop > MAX_SAMPLES)) drop++;
    if (drop > 0) samples.splice(0, drop);
  }

  slopeSince(from: number, now: number): number | null {
    return robustSlope(this.state.levelSamples, from, now);
  }

  effectivePumps(): Pump[] {
    return this.room.pumps.filter((p) => this.judge.device(p.id)?.running === true && !this.sink.isOpen(RULES.pumpNoEffect, this.pumpSubject(p.id)) && !this.isJammedOrDry(p));
  }

  isHealthy(p: Pump): boolean {
    const subject = this.pumpSubject(p.id);
    return !this.judge.isOffline(p.id) && !this.sink.isOpen(RULES.pumpFailedStart, subject) && !this.sink.isOpen(RULES.pumpNoEffect, subject) && !this.sink.isOpen(RULES.pumpCurrent, subject);
  }

  isJammedOrDry(p: Pump): boolean {
    return this.sink.isOpen(RULES.pumpCurrent, this.pumpSubject(p.id));
  }

  anyPumpFaulty(): boolean {
    return this.room.pumps.some((p) => {
      const subject = this.pumpSubject(p.id);
      return this.sink.isOpen(RULES.pumpFailedStart, subject) || this.sink.isOpen(RULES.pumpNoEffect, subject) || this.sink.isOpen(RULES.pumpCurrent, subject);
    });
  }

  /**
   * Hold before a band clears. While a pump of the room is diagnosed faulty the remaining pumps cycle the
   * level through the bands (a failed duty pump leaves the standby to pump from 450 mm down to 150 mm and
   * the water comes straight back): the band then clears only after FAULT_CLEAR_HOLD_SEC below it, so the
   * episode stays one alert instead of one per pump cycle.
   */
  clearHoldSec(): number {
    const hold = this.clearHoldFor(this.judge.fallingSince);
    return this.anyPumpFaulty() ? Math.max(hold, FAULT_CLEAR_HOLD_SEC) : hold;
  }

  clearHoldFor(since: number | null): number {
    return clearHoldFor(this.settings, this.room.bands.clearHoldSec, since, this.state.stormSince);
  }

  /**
   * Follows storm mode: the settings switch, and when storm mode began is kept (persisted with the
   * rule state) for the clear-hold guard. Nothing else changes: no alert is resolved or reopened here.
   */
  private followStormMode(now: number): void {
    const on = this.room.storm.enabled && this.stormMode(now);
    if (on && this.state.stormSince === null) this.state.stormSince = now;
    else if (!on) this.state.stormSince = null;
    if (on !== this.settings.storm) this.settings = effectiveRules(this.room, on);
  }

  /** The room as the API shows it: level, band and device freshness. */
  judgement(now: number): RoomJudgement {
    this.followStormMode(now);
    return this.judge.judgement(now, this.clearHoldSec(), this.settings.holdSec);
  }

  /**
   * Runs every rule of the room. `newSample`: a level reading moved a value. Returns what changed in the
   * room's judgement since the last call (the level, and the devices whose freshness or status flipped),
   * so the live stream can push it.
   */
  evaluate(now: number, newSample: boolean): RoomChanges {
    this.followStormMode(now);
    evaluateStale(this, now);
    evaluateDisagreement(this, this.judge.freshLevels(now), now);
    const clearHold = this.clearHoldSec();
    this.judge.step(now, clearHold, this.settings.holdSec);
    const level = this.judge.combinedLevel(now);
    if (newSample && level !== null) this.observer.level(this.room.id, level, now);

    const rate = this.slopeSince(now - this.settings.riseWindowSec * 1000, now);
    const est = level !== null && rate !== null && rate > RISING_MM_PER_MIN ? estimate(this, level, rate) : null;
    evaluateRise(this, level, rate, est, now);
    evaluateLevelAlert(this, level, est, clearHold, now);
    evaluatePumps(this, level, now);
    this.store.save(this.stateKey, this.state);
    return this.changes(now, clearHold);
  }

  private changes(now: number, clearHold: number): RoomChanges {
    const j = this.judge.judgement(now, clearHold, this.settings.holdSec);
    const devices: string[] = [];
    for (const d of [...j.levels, ...j.pumps]) {
      const sig = `${d.stale}|${d.online}`;
      if (this.shown.get(d.id) !== sig) {
        this.shown.set(d.id, sig);
        devices.push(d.id);
      }
    }
    const levelSig = JSON.stringify([j.band, j.level]);
    const level = this.shown.get('') !== levelSig;
    if (level) this.shown.set('', levelSig);
    return { level, devices };
  }
}
