/**
 * Disagreeing level sensors (`flood.sensors-disagree`): two fresh sensors more than sensorDisagreeMm
 * apart for sensorDisagreeMin; clears once they are within sensorDisagreeMm − deadbandMm for
 * clearHoldSec. The room's level already follows the higher sensor (flood/room-judge.ts), so this alert
 * does not change the level: it sends someone to check the lower sensor, which may be fouled or stuck.
 */
import type { FreshLevel } from '../../flood/room-judge.ts';
import { RULES } from '../types.ts';
import { round, type RoomContext } from './context.ts';

export function evaluateDisagreement(ctx: RoomContext, fresh: FreshLevel[], now: number): void {
  const s = ctx.state;
  if (fresh.length < 2) return; // cannot judge: keep the state
  const { sensorDisagreeMm, sensorDisagreeMin } = ctx.room.rules;
  const hi = fresh.reduce((a, b) => (b.mm > a.mm ? b : a));
  const lo = fresh.reduce((a, b) => (b.mm < a.mm ? b : a));
  const diff = hi.mm - lo.mm;
  const open = ctx.sink.isOpen(RULES.disagree, ctx.levelSubject);
  if (diff > sensorDisagreeMm) {
    s.disagreeClearSince = null;
    s.disagreeSince ??= now;
    if (open || now - s.disagreeSince >= sensorDisagreeMin * 60_000) {
      ctx.sink.raise(
        RULES.disagree,
        ctx.levelSubject,
        {
          severity: 'warning',
          details: { rule: RULES.disagree, room: ctx.room.id, diffMm: round(diff), high: { sensor: hi.id, mm: round(hi.mm) }, low: { sensor: lo.id, mm: round(lo.mm) }, allowedMm: sensorDisagreeMm },
          value: round(diff),
          room: ctx.room.id,
          grade: 1,
        },
        now,
      );
    }
  } else if (diff <= sensorDisagreeMm - ctx.room.bands.deadbandMm || !open) {
    s.disagreeSince = null;
    if (!open) return;
    s.disagreeClearSince ??= now;
    if (now - s.disagreeClearSince >= ctx.room.bands.clearHoldSec * 1000) {
      s.disagreeClearSince = null;
      ctx.sink.clear(RULES.disagree, ctx.levelSubject, now);
    }
  }
}
