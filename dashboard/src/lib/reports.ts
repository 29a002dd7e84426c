/** Report ranges, comparison periods and the hour × weekday heatmap, as pure functions. */
import type { UsagePoint } from '@parkops/ingest/contract';

export type Preset = 'today' | '7d' | '30d' | '12m';
export type Every = '15m' | '1h' | '1d';
export const PRESETS: Preset[] = ['today', '7d', '30d', '12m'];

export interface Range { from: Date; to: Date; every: Every }

export function presetRange(p: Preset, now: Date): Range {
  const to = new Date(now);
  const from = new Date(now);
  switch (p) {
    case 'today': from.setHours(0, 0, 0, 0); return { from, to, every: '15m' };
    case '7d': from.setDate(from.getDate() - 7); return { from, to, every: '1h' };
    case '30d': from.setDate(from.getDate() - 30); return { from, to, every: '1h' };
    case '12m': from.setFullYear(from.getFullYear() - 1); return { from, to, every: '1d' };
  }
}

/** The period of the same length just before. */
export function previousRange(r: Range): Range {
  const len = r.to.getTime() - r.from.getTime();
  return { from: new Date(r.from.getTime() - len), to: new Date(r.from.getTime()), every: r.every };
}

export function usageUrl(subject: string, r: Range, csv = false): string {
  const q = new URLSearchParams({ subject, from: r.from.toISOString(), to: r.to.toISOString(), every: r.every });
  if (csv) q.set('format', 'csv');
  return `/api/usage?${q}`;
}

/** Mean of `avg` by weekday (0 = Monday) and hour, in the browser's zone; null where no data (an honest gap). */
export function heatmap(points: readonly UsagePoint[]): (number | null)[][] {
  const sum = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
  const n = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
  for (const p of points) {
    if (p.avg === null) continue;
    const d = new Date(p.t);
    const wd = (d.getDay() + 6) % 7;
    sum[wd]![d.getHours()]! += p.avg;
    n[wd]![d.getHours()]! += 1;
  }
  return sum.map((row, w) => row.map((s, h) => (n[w]![h]! ? s / n[w]![h]! : null)));
}

export function mean(points: readonly UsagePoint[]): number | null {
  const v = points.map((p) => p.avg).filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}
export function peak(points: readonly UsagePoint[]): { value: number; t: string } | null {
  let best: { value: number; t: string } | null = null;
  for (const p of points) if (p.max !== null && (!best || p.max > best.value)) best = { value: p.max, t: p.t };
  return best;
}
