/**
 * Rate of rise (`flood.rise`) and the time-to-threshold estimate. The rate is the robust (Theil–Sen)
 * slope of the room's combined level over `riseWindowSec` (slope.ts): a sustained rise, not a spike.
 */
import type { AlertDetails } from '@parkops/contract/api.ts';
import { RULES } from '../types.ts';
import { iso, round, type RoomContext } from './context.ts';

export interface RiseEstimate {
  /** observed rate of rise, mm/min over the window */
  rateMmPerMin: number;
  /** next threshold above the level, and the minutes to it; null when the pumps that would run outpace the inflow */
  next: { name: string; mm: number; min: number | null } | null;
  floorMin: number | null;
}

/**
 * Minutes for the level to climb from `level` to `target` at the current inflow. Net inflow = observed
 * rise + outflow of the pumps running now (1 L over 1 m² of pit is 1 mm). On the way up, pumps that are
 * not running yet but healthy start at their startMm and take their capacity off the inflow.
 */
export function minutesTo(ctx: RoomContext, level: number, target: number, rateMmPerMin: number): number | null {
  if (target <= level) return 0;
  const area = ctx.room.pit.areaM2;
  const running = ctx.effectivePumps();
  const runningIds = new Set(running.map((p) => p.id));
  const inflow = rateMmPerMin + running.reduce((s, p) => s + p.capacityLpm, 0) / area;
  const waiting = ctx.room.pumps.filter(
    (p) => !runningIds.has(p.id) && p.startMm > level && !ctx.sink.isOpen(RULES.pumpFailedStart, ctx.pumpSubject(p.id)) && !ctx.isJammedOrDry(p) && !ctx.judge.isOffline(p.id),
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

export function estimate(ctx: RoomContext, level: number, rate: number): RiseEstimate {
  const b = ctx.room.bands;
  const thresholds = [
    { name: 'warning', mm: b.warnMm },
    { name: 'alarm', mm: b.alarmMm },
    { name: 'critical', mm: b.criticalMm },
    { name: 'floor', mm: b.floorMm },
  ];
  const nextT = thresholds.find((t) => t.mm > level);
  return {
    rateMmPerMin: rate,
    next: nextT ? { ...nextT, min: minutesTo(ctx, level, nextT.mm, rate) } : null,
    floorMin: level < b.floorMm ? minutesTo(ctx, level, b.floorMm, rate) : null,
  };
}

/**
 * Fires at riseWarnMmPerMin (grade 1, warning), grade 2 at twice that and grade 3 at four times
 * (critical): a faster rise re-escalates an acknowledged alert. A grade steps down only below 75 % of its
 * threshold.
 *
 * A fast rise is part of normal pumping: the sump pit fills until the duty pump starts, and after a pump
 * stops the level climbs back towards the next start level. So the rule opens only once the level is in
 * the warning band, or above the start level of every healthy pump (all the reserve is engaged and the
 * water still rises).
 *
 * It clears when the rise has stopped: the robust rate under half the warning rate for max(clearHoldSec,
 * riseWindowSec), 5 min on the default site. The hold is one window long because the dip when the standby
 * pump joins is a few minutes of falling water before the inflow wins again; a shorter hold resolved the
 * alert in the dip and opened a second one a minute later. While it waits, the message says the rise has
 * stopped and when the alert clears.
 */
export function evaluateRise(ctx: RoomContext, level: number | null, rate: number | null, est: RiseEstimate | null, now: number): void {
  const s = ctx.state;
  const { riseWarnMmPerMin: warn, riseWindowSec } = ctx.settings;
  const subject = ctx.levelSubject;
  if (rate === null) return; // not enough fresh data: keep what we have
  const open = ctx.sink.isOpen(RULES.rise, subject);
  if (!open) s.riseGrade = 0;
  const gradeFor = (x: number): number => (x >= 4 * warn ? 3 : x >= 2 * warn ? 2 : x >= warn ? 1 : 0);
  const raw = gradeFor(rate);
  if (!open) {
    const healthy = ctx.room.pumps.filter((p) => ctx.isHealthy(p));
    const allEngagedAt = healthy.length > 0 ? Math.max(...healthy.map((p) => p.startMm)) : -Infinity;
    if (raw === 0 || level === null || level < Math.min(ctx.room.bands.warnMm, allEngagedAt)) return;
  }
  const details: Extract<AlertDetails, { rule: 'flood.rise' }> = {
    rule: RULES.rise,
    room: ctx.room.id,
    rateMmPerMin: round(rate, 0.1),
    windowMin: round(riseWindowSec / 60, 0.1),
    warnMmPerMin: warn,
    levelMm: level === null ? null : round(level),
  };
  if (ctx.settings.storm) details.storm = true;
  if (est && est.floorMin === null) details.pumpsOutpace = true;
  let grade: number;
  if (open && rate < warn / 2) {
    s.riseClearSince ??= now;
    const holdMs = Math.max(ctx.clearHoldFor(s.riseClearSince), riseWindowSec) * 1000;
    if (now - s.riseClearSince >= holdMs) {
      s.riseGrade = 0;
      s.riseClearSince = null;
      ctx.sink.clear(RULES.rise, subject, now);
      return;
    }
    details.stopped = { since: iso(s.riseClearSince), clearsAt: iso(s.riseClearSince + holdMs) };
    grade = Math.max(s.riseGrade, 1);
  } else {
    s.riseClearSince = null;
    grade = Math.max(s.riseGrade, 1);
    if (raw > grade) grade = raw;
    else if (grade > 1 && rate < 0.75 * warn * 2 ** (grade - 1)) grade = Math.max(raw, 1);
    s.riseGrade = grade;
  }
  const fields = est ? (est.floorMin !== null ? { etaMin: round(est.floorMin, 0.1), etaTarget: 'floor' } : est.next && est.next.min !== null ? { etaMin: round(est.next.min, 0.1), etaTarget: est.next.name } : {}) : {};
  ctx.sink.raise(RULES.rise, subject, { severity: grade >= 2 ? 'critical' : 'warning', details, value: round(rate, 0.1), room: ctx.room.id, grade, ...fields }, now);
}
