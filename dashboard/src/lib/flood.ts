/** Flood-room figures shared by the gauge, the room card and tests. */
import type { FloodRoomView, LevelView } from '@parkops/ingest/contract';

export type Band = 'normal' | 'warn' | 'alarm' | 'critical' | 'floor';

export function bandOf(mm: number | null, th: FloodRoomView['thresholds']): Band | null {
  if (mm === null || !Number.isFinite(mm)) return null;
  if (mm >= th.floorMm) return 'floor';
  if (mm >= th.criticalMm) return 'critical';
  if (mm >= th.alarmMm) return 'alarm';
  if (mm >= th.warnMm) return 'warn';
  return 'normal';
}

/** The room's level for display: the highest fresh sensor; stale sensors count only if none is fresh. */
export function roomLevel(levels: readonly LevelView[]): { mm: number | null; ts: string | null; stale: boolean } {
  const usable = levels.filter((l) => l.mm !== null);
  const fresh = usable.filter((l) => !l.stale);
  const pool = fresh.length ? fresh : usable;
  if (pool.length === 0) return { mm: null, ts: null, stale: true };
  const top = pool.reduce((a, b) => ((b.mm as number) > (a.mm as number) ? b : a));
  return { mm: top.mm, ts: top.ts, stale: fresh.length === 0 };
}

/** GET /api/flood/{roomId}/history: server-downsampled buckets. */
export interface HistoryPoint { t: string; avg: number | null; min?: number | null; max?: number | null }
export interface PumpHistoryPoint { t: string; running: number | null; amps: number | null }
export interface RoomHistory {
  room: string;
  levels: Record<string, HistoryPoint[]>;
  pumps: Record<string, PumpHistoryPoint[]>;
}
