import type { ParkingSession } from '@parkops/contract';

export interface SessionSummary { count: number; completed: number; open: number; avgDwellMin: number | null }

/** Today's sessions: how many, how many still parked, and the mean dwell of completed ones. */
export function summariseSessions(sessions: readonly ParkingSession[]): SessionSummary {
  let completed = 0, open = 0, sum = 0;
  for (const s of sessions) {
    if (s.exitAt && typeof s.minutes === 'number') { completed++; sum += s.minutes; }
    else if (!s.exitAt) open++;
  }
  return { count: sessions.length, completed, open, avgDwellMin: completed ? sum / completed : null };
}

export function startOfLocalDay(now: Date): Date {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d;
}
