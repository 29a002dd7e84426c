/**
 * Flood-room helpers shared by the gauge, the room card and tests. The room's level and band come from
 * the server (`FloodRoomView.level`, `band`: the alert engine's judgement); nothing here works out a
 * level or a band.
 */
import type { Alert, FloodBand } from '@parkops/contract';
import type { MessageKey } from './i18n/messages.ts';

/** The words for a band the server judged. */
export function bandLabelKey(band: FloodBand): MessageKey {
  switch (band) {
    case 'normal': return 'band.normal';
    case 'warning': return 'band.warn';
    case 'alarm': return 'band.alarm';
    case 'critical': return 'band.critical';
  }
}

/** GET /api/flood/{roomId}/history: server-downsampled buckets. */
export interface HistoryPoint { t: string; avg: number | null; min?: number | null; max?: number | null }
export interface PumpHistoryPoint { t: string; running: number | null; amps: number | null }
export interface RoomHistory {
  room: string;
  levels: Record<string, HistoryPoint[]>;
  pumps: Record<string, PumpHistoryPoint[]>;
}

export interface Trend {
  kind: 'rising' | 'falling' | 'steady' | 'unknown';
  /** mm/min, positive while rising */
  rate: number;
  /** minutes the rate was taken over when it comes from the readings (null: the alert engine's own rate) */
  windowMin: number | null;
}

/** Below this change per minute the water counts as steady (a sensor's noise, not a trend). */
const STEADY_MM_PER_MIN = 0.5;
const TREND_WINDOW_MIN = 10;

/**
 * How the water moves: the rate the alert engine measured for a live flood alert of the room (its
 * details carry it), else the change over the last 10 minutes of the readings of the sensor that gives
 * the level. Nothing here judges a band: this is only what the screen says next to the level.
 */
export function liveTrend(alerts: readonly Alert[], points: readonly HistoryPoint[] | undefined, now: number): Trend {
  for (const a of alerts) {
    if (a.state === 'resolved' || !a.details) continue;
    const d = a.details;
    const rate = d.rule === 'flood.rise' && d.stopped === undefined ? d.rateMmPerMin : d.rule === 'flood.level' && d.rateMmPerMin !== undefined ? d.rateMmPerMin : undefined;
    if (rate !== undefined) return { kind: rate >= STEADY_MM_PER_MIN ? 'rising' : rate <= -STEADY_MM_PER_MIN ? 'falling' : 'steady', rate, windowMin: null };
  }
  const recent = (points ?? []).filter((p) => p.avg !== null && Date.parse(p.t) >= now - TREND_WINDOW_MIN * 60_000);
  const first = recent[0];
  const last = recent.at(-1);
  if (!first || !last || first === last) return { kind: 'unknown', rate: 0, windowMin: null };
  const minutes = (Date.parse(last.t) - Date.parse(first.t)) / 60_000;
  if (minutes < 2) return { kind: 'unknown', rate: 0, windowMin: null };
  const rate = ((last.avg ?? 0) - (first.avg ?? 0)) / minutes;
  return { kind: rate >= STEADY_MM_PER_MIN ? 'rising' : rate <= -STEADY_MM_PER_MIN ? 'falling' : 'steady', rate, windowMin: Math.round(minutes) };
}
