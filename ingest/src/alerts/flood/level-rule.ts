/**
 * Water-level bands (`flood.level`): the alert follows the band the room's judge holds (hysteresis and
 * hold times are the judge's, flood/room-judge.ts), so the alert, `GET /api/flood` and the dashboard
 * can never disagree about the band. One alert per room: climbing a band worsens it, and the alarm band
 * is critical already, because it means the duty pump is not keeping up and the response team is called.
 */
import { BAND_NAMES } from '../../flood/room-judge.ts';
import type { AlertDetails } from '@parkops/contract/api.ts';
import { RULES, type Condition } from '../types.ts';
import { iso, round, type RoomContext } from './context.ts';
import type { RiseEstimate } from './rise-rule.ts';

export function evaluateLevelAlert(ctx: RoomContext, level: number | null, est: RiseEstimate | null, clearHoldSec: number, now: number): void {
  const band = ctx.judge.bandIndex;
  if (band === 0) {
    ctx.sink.clear(RULES.level, ctx.levelSubject, now);
    return;
  }
  const name = BAND_NAMES[band];
  const thresholdMm = ctx.judge.threshold(band);
  const belowMm = thresholdMm - ctx.room.bands.deadbandMm;
  const details: Extract<AlertDetails, { rule: 'flood.level' }> = { rule: RULES.level, room: ctx.room.id, band: name, thresholdMm, levelMm: level === null ? null : round(level, 0.1) };
  const fallingSince = ctx.judge.fallingSince;
  if (level !== null && level <= belowMm && fallingSince !== null) details.clearing = { belowMm, at: iso(fallingSince + clearHoldSec * 1000) };
  if (est) {
    details.rateMmPerMin = round(est.rateMmPerMin, 0.1);
    if (est.floorMin === null) details.pumpsOutpace = true;
  }
  const cond: Condition = {
    severity: band === 1 ? 'warning' : 'critical',
    details,
    value: level !== null ? round(level, 0.1) : undefined,
    room: ctx.room.id,
    grade: band,
  };
  // The level alert carries the time to the next band (or the floor); the rise alert the time to the floor.
  if (est?.next && est.next.min !== null) {
    cond.etaMin = round(est.next.min, 0.1);
    cond.etaTarget = est.next.name;
  }
  ctx.sink.raise(RULES.level, ctx.levelSubject, cond, now);
}
