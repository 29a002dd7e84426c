/**
 * Silent or offline devices (`device.stale`): a level sensor or pump whose last status said `offline`
 * (and that sent nothing since), or that sent nothing for its staleAfterSec. Freshness is the judge's
 * (flood/room-judge.ts): a reading is proof of life, so this alert never stands while readings arrive,
 * and it never holds back a level, rise or pump alert. When no level sensor of the room reports, the
 * room is blind: critical.
 */
import { RULES } from '../types.ts';
import { iso, type RoomContext } from './context.ts';

export function evaluateStale(ctx: RoomContext, now: number): void {
  const { room, judge } = ctx;
  const staleLevels = room.levels.filter((l) => judge.isStale(l.id, now));
  const blind = staleLevels.length === room.levels.length;
  const check = (id: string, kind: 'level' | 'pump', subject: string, staleAfterSec: number, stale: boolean, critical: boolean): void => {
    if (!stale) {
      ctx.sink.clear(RULES.deviceStale, subject, now);
      return;
    }
    const d = judge.device(id)!;
    // Stable details (no running count of seconds): an open alert is not republished every tick.
    const why = d.offline ? 'offline' : d.heardAt === null ? 'never' : 'silent';
    const since = d.heardAt ?? d.silentFrom;
    ctx.sink.raise(
      RULES.deviceStale,
      subject,
      { severity: critical ? 'critical' : 'warning', details: { rule: RULES.deviceStale, room: room.id, device: id, kind, why, since: iso(since), expectedSec: staleAfterSec, blind: critical }, room: room.id, grade: critical ? 2 : 1 },
      now,
    );
  };
  for (const l of room.levels) check(l.id, 'level', ctx.levelSensorSubject(l.id), l.staleAfterSec, staleLevels.includes(l), blind);
  for (const p of room.pumps) check(p.id, 'pump', ctx.pumpSubject(p.id), p.staleAfterSec, judge.isStale(p.id, now), false);
}
