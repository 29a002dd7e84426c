/**
 * Utilisation for GET /api/usage on the SQLite store, read from the 15-minute rollups (rollups.ts),
 * which are brought up to date for this subject first. Buckets follow the site's time zone; every
 * bucket of the range is returned, gaps as `avg: null, max: null` (honest gaps, not zeros).
 */
import type { UsagePoint } from '@parkops/contract/index.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import type { Every, TimeRange } from '../store/types.ts';
import { DAY_MS, LocalTime, STEP_MS } from './local-time.ts';
import { groupRows, type RollupRow, type Rollups } from './rollups.ts';
import type { Every as ReportEvery } from './types.ts';
import { alignRange, avgOf, foldRows, maxOf, resolveSubject, type Agg } from './usage.ts';

const clocks = new Map<string, LocalTime>();
export function localTimeOf(site: Site): LocalTime {
  let lt = clocks.get(site.timezone);
  if (!lt) {
    lt = new LocalTime(site.timezone);
    clocks.set(site.timezone, lt);
  }
  return lt;
}

export function sqliteUsage(rollups: Rollups, site: Site, subject: string, range: TimeRange, every: Every): UsagePoint[] {
  const s = resolveSubject(site, subject);
  if (typeof s === 'string') throw new Error(s);
  const lt = localTimeOf(site);
  const { from, to } = alignRange(lt, range.from, range.to, every);
  rollups.refresh([s.key]);
  return usageAggs(rollups, lt, s.key, from, to, every).map((a) => ({ t: new Date(a.t).toISOString(), avg: avgOf(a, s.kind), max: maxOf(a, s.kind) }));
}

/**
 * The quarter rollups of [from, to) summed per local bucket of `every` (1h or 1d), oldest first,
 * buckets without rows left out, a row's start clamped to `from`. Stretches of whole local days with one
 * zone offset are grouped in SQL; a day whose offset changes (daylight saving) is grouped in JS.
 */
export function bucketRows(rollups: Rollups, lt: LocalTime, key: string, from: number, to: number, every: ReportEvery): RollupRow[] {
  if (every === '15m') return rollups.rows(key, from, to);
  const step = every === '1d' ? DAY_MS : STEP_MS[every];
  const out: RollupRow[] = [];
  const days = lt.boundaries(from, to, '1d');
  let i = 0;
  while (i + 1 < days.length) {
    const segStart = Math.max(days[i]!, from);
    const off = lt.offsetMs(segStart);
    if (lt.offsetMs(days[i + 1]! - 1) !== off) {
      const dayEnd = Math.min(days[i + 1]!, to);
      const bounds = lt.boundaries(segStart, dayEnd, every);
      bounds[0] = segStart;
      out.push(...groupRows(rollups.rows(key, segStart, dayEnd), bounds));
      i++;
      continue;
    }
    let j = i + 1;
    while (j + 1 < days.length && lt.offsetMs(days[j]!) === off && lt.offsetMs(days[j + 1]! - 1) === off) j++;
    const segEnd = Math.min(days[j]!, to);
    for (const r of rollups.sums(key, segStart, segEnd, step, off)) {
      if (r[0] < segStart) r[0] = segStart;
      out.push(r);
    }
    i = j;
  }
  return out;
}

/** Every bucket of [from, to) (aligned to `every`), gaps included as nothing known. */
export function usageAggs(rollups: Rollups, lt: LocalTime, key: string, from: number, to: number, every: ReportEvery): Agg[] {
  return foldRows(bucketRows(rollups, lt, key, from, to, every), lt.boundaries(from, to, every));
}
