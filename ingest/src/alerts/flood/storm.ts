/**
 * Storm mode in the flood rules: while a relevant rainstorm or flood warning is in force for a room
 * (the warnings module's `stormMode(room, now)`), its rules use the room's storm settings from the
 * site file (already resolved there, and never looser than the normal ones): the rise alert's rate and
 * window, and the band hold times. Everything else (thresholds, deadband, pump rules) stays as it is.
 *
 * A change of mode never resolves or reopens an alert by itself: the rules keep their state (bands,
 * holds, open alerts) across it and only the numbers they compare against change. One guard is needed
 * for that: a clear hold that gets shorter when storm mode begins must not let a fall that has been
 * waiting longer than the new hold complete at the instant storm mode begins (`clearHoldFor`).
 */
import type { FloodRoom } from '@parkops/contract/site/index.ts';

/** The numbers a room's rules use right now. */
export interface EffectiveRules {
  storm: boolean;
  riseWarnMmPerMin: number;
  riseWindowSec: number;
  /** A band is entered after the level held it this long. */
  holdSec: number;
  /** A band (or the rise alert) clears after the level stayed below it this long. */
  clearHoldSec: number;
}

export function effectiveRules(room: FloodRoom, storm: boolean): EffectiveRules {
  if (storm && room.storm.enabled) {
    const s = room.storm;
    return { storm: true, riseWarnMmPerMin: s.riseWarnMmPerMin, riseWindowSec: s.riseWindowSec, holdSec: s.holdSec, clearHoldSec: s.clearHoldSec };
  }
  return { storm: false, riseWarnMmPerMin: room.rules.riseWarnMmPerMin, riseWindowSec: room.rules.riseWindowSec, holdSec: room.bands.holdSec, clearHoldSec: room.bands.clearHoldSec };
}

/** The longest rise window the room can use, for how many level samples to keep. */
export function longestRiseWindowSec(room: FloodRoom): number {
  return Math.max(room.rules.riseWindowSec, room.storm.riseWindowSec);
}

/**
 * The clear hold for a wait that began at `since`, given when storm mode last began (`stormSince`).
 * A wait that began before storm mode keeps the normal hold, shortened to the storm hold counted from
 * the start of storm mode: it completes at min(since + normal hold, storm start + storm hold), never
 * earlier than either rule alone would allow once the mode changed. Leaving storm mode only lengthens
 * holds (the normal ones are never shorter), so nothing completes at that instant either.
 */
export function clearHoldFor(eff: EffectiveRules, normalClearHoldSec: number, since: number | null, stormSince: number | null): number {
  if (!eff.storm || since === null || stormSince === null || since >= stormSince || eff.clearHoldSec >= normalClearHoldSec) return eff.clearHoldSec;
  return Math.min(normalClearHoldSec, (stormSince - since) / 1000 + eff.clearHoldSec);
}
