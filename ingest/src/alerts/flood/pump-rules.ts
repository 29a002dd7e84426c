/**
 * Pump diagnosis: failed to start (`pump.failed-start`), running without moving water (`pump.no-effect`),
 * dry running or jammed by its current (`pump.current`), and short cycling (`pump.short-cycling`).
 */
import type { Pump } from '@parkops/contract/site/index.ts';
import { RULES } from '../types.ts';
import { iso, RISING_MM_PER_MIN, round, type RoomContext } from './context.ts';

export function evaluatePumps(ctx: RoomContext, level: number | null, now: number): void {
  for (const p of ctx.room.pumps) {
    failedStart(ctx, p, level, now);
    noEffect(ctx, p, level, now);
    current(ctx, p, now);
    shortCycling(ctx, p, now);
  }
}

/**
 * Level above its start level and not running after the grace time. The fault is over when the pump
 * runs; while another pump keeps the level between this one's stop and start levels it stays open (the
 * pump was never seen working), and only a level below its stopMm for clearHoldSec (nothing to pump any
 * more) also clears it.
 */
function failedStart(ctx: RoomContext, p: Pump, level: number | null, now: number): void {
  const { rules, bands } = ctx.room;
  const d = ctx.judge.device(p.id)!;
  const ps = ctx.state.pumps[p.id]!;
  const subject = ctx.pumpSubject(p.id);
  const failedOpen = ctx.sink.isOpen(RULES.pumpFailedStart, subject);
  if (d.running === true) {
    ps.aboveStartSince = null;
    ps.failedClearSince = null;
    ctx.sink.clear(RULES.pumpFailedStart, subject, now);
  } else if (failedOpen) {
    if (level !== null && level < p.stopMm) {
      ps.failedClearSince ??= now;
      if (now - ps.failedClearSince >= bands.clearHoldSec * 1000) {
        ps.failedClearSince = null;
        ps.aboveStartSince = null;
        ctx.sink.clear(RULES.pumpFailedStart, subject, now);
      }
    } else ps.failedClearSince = null;
  } else if (level !== null && level < p.startMm - bands.deadbandMm) {
    ps.aboveStartSince = null;
  } else if (level !== null && level >= p.startMm) {
    ps.aboveStartSince ??= now;
    if (now - ps.aboveStartSince >= rules.pumpStartGraceSec * 1000) {
      ctx.sink.raise(
        RULES.pumpFailedStart,
        subject,
        {
          severity: 'critical',
          details: { rule: RULES.pumpFailedStart, room: ctx.room.id, pump: p.id, role: p.role, startMm: p.startMm, since: iso(ps.aboveStartSince), running: d.running === false ? false : null, graceSec: rules.pumpStartGraceSec },
          value: round(level),
          room: ctx.room.id,
          grade: 1,
        },
        now,
      );
    }
  }
}

/**
 * Running but not moving water: the level still rises pumpNoEffectMin after the start, and the start made
 * no difference. A working pump shows at its start: the level drops (by deadbandMm at least) or the rise
 * slows by a quarter of its capacity. One that works but is outrun by the inflow (a storm against the
 * standby's start level) is not "not moving water"; the level and rise alerts cover that.
 */
function noEffect(ctx: RoomContext, p: Pump, level: number | null, now: number): void {
  const { rules, bands } = ctx.room;
  const d = ctx.judge.device(p.id)!;
  const ps = ctx.state.pumps[p.id]!;
  const subject = ctx.pumpSubject(p.id);
  if (d.running === true && d.startedAt != null) {
    if (ps.startSeen !== d.startedAt) {
      ps.startSeen = d.startedAt;
      ps.startLevel = level;
      ps.minSinceStart = level;
      ps.rateAtStart = ctx.slopeSince(now - rules.riseWindowSec * 1000, now);
    }
    if (level !== null) {
      ps.startLevel ??= level;
      ps.minSinceStart = Math.min(ps.minSinceStart ?? level, level);
    }
  }
  const noEffectMs = rules.pumpNoEffectMin * 60_000;
  if (d.running === true && d.startedAt != null && now - d.startedAt >= noEffectMs) {
    const slope = ctx.slopeSince(now - noEffectMs, now);
    const dropped = ps.startLevel != null && ps.minSinceStart != null && ps.minSinceStart <= ps.startLevel - bands.deadbandMm;
    const slowed = ps.rateAtStart != null && slope !== null && ps.rateAtStart - slope >= (0.25 * p.capacityLpm) / ctx.room.pit.areaM2;
    const open = ctx.sink.isOpen(RULES.pumpNoEffect, subject);
    if (slope !== null && slope > RISING_MM_PER_MIN && (open || (!dropped && !slowed))) {
      ps.noEffectClearSince = null;
      ctx.sink.raise(
        RULES.pumpNoEffect,
        subject,
        {
          severity: 'critical',
          details: { rule: RULES.pumpNoEffect, room: ctx.room.id, pump: p.id, role: p.role, rateMmPerMin: round(slope, 0.1), afterMin: rules.pumpNoEffectMin },
          value: round(slope, 0.1),
          room: ctx.room.id,
          grade: 1,
        },
        now,
      );
    } else if (open && slope !== null && slope <= 0) {
      ps.noEffectClearSince ??= now;
      if (now - ps.noEffectClearSince >= bands.clearHoldSec * 1000) {
        ps.noEffectClearSince = null;
        ctx.sink.clear(RULES.pumpNoEffect, subject, now);
      }
    }
  } else if (d.running !== true) {
    ps.noEffectClearSince = null;
    ctx.sink.clear(RULES.pumpNoEffect, subject, now);
  }
}

/** Dry running (current below its band) or jam (above), held for holdSec both ways. */
function current(ctx: RoomContext, p: Pump, now: number): void {
  const { bands } = ctx.room;
  const d = ctx.judge.device(p.id)!;
  const ps = ctx.state.pumps[p.id]!;
  const subject = ctx.pumpSubject(p.id);
  const amps = d.amps;
  const kind: 'dry' | 'jam' | null = d.running === true && amps != null ? (amps < p.ampsMin ? 'dry' : amps > p.ampsMax ? 'jam' : null) : null;
  const holdMs = bands.holdSec * 1000;
  if (kind !== null && amps != null) {
    ps.currentOkSince = null;
    if (ps.currentKind !== kind) {
      ps.currentKind = kind;
      ps.currentBadSince = now;
    }
    ps.currentBadSince ??= now;
    if (now - ps.currentBadSince >= holdMs || ctx.sink.isOpen(RULES.pumpCurrent, subject)) {
      ctx.sink.raise(
        RULES.pumpCurrent,
        subject,
        {
          severity: kind === 'jam' ? 'critical' : 'warning',
          details: { rule: RULES.pumpCurrent, room: ctx.room.id, pump: p.id, role: p.role, kind, amps, ampsMin: p.ampsMin, ampsMax: p.ampsMax },
          value: amps,
          room: ctx.room.id,
          grade: kind === 'jam' ? 2 : 1,
        },
        now,
      );
    }
  } else {
    ps.currentKind = null;
    ps.currentBadSince = null;
    if (ctx.sink.isOpen(RULES.pumpCurrent, subject)) {
      if (d.running !== true) {
        ps.currentOkSince = null;
        ctx.sink.clear(RULES.pumpCurrent, subject, now);
      } else {
        ps.currentOkSince ??= now;
        if (now - ps.currentOkSince >= holdMs) {
          ps.currentOkSince = null;
          ctx.sink.clear(RULES.pumpCurrent, subject, now);
        }
      }
    }
  }
}

/** More than maxStartsPerHour starts in the last hour; clears at half of it. */
function shortCycling(ctx: RoomContext, p: Pump, now: number): void {
  const { rules } = ctx.room;
  const subject = ctx.pumpSubject(p.id);
  const starts = ctx.judge.pumpStartsSince(p.id, now - 3_600_000);
  if (starts.length > rules.maxStartsPerHour) {
    ctx.sink.raise(
      RULES.pumpShortCycle,
      subject,
      { severity: 'warning', details: { rule: RULES.pumpShortCycle, room: ctx.room.id, pump: p.id, role: p.role, starts: starts.length, maxPerHour: rules.maxStartsPerHour }, value: starts.length, room: ctx.room.id, grade: 1 },
      now,
    );
  } else if (starts.length <= rules.maxStartsPerHour / 2) {
    ctx.sink.clear(RULES.pumpShortCycle, subject, now);
  }
}
