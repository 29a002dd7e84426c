/**
 * Utilisation for GET /api/usage on the SQLite store, read from the 15-minute rollups (rollups.ts),
 * which are brought up to date for this subject first. Buckets follow the site's time zone; every
 * bucket of the range is returned, gaps as `avg: null, max: null` (honest gaps, not zeros).
 */
import type { UsagePoint } from '../contract/index.ts';
import type { Site } from '../site/index.ts';
import type { Db } from '../store/db.ts';
import type { Every, TimeRange } from '../store/types.ts';
import { LocalTime } from './local-time.ts';
import { rollupsFor } from './rollups.ts';
import { alignRange, avgOf, foldRows, maxOf, resolveSubject } from './usage.ts';

const clocks = new Map<string, LocalTime>();
export function localTimeOf(site: Site): LocalTime {
  let lt = clocks.get(site.timezone);
  if (!lt) {
    lt = new LocalTime(site.timezone);
    clocks.set(site.timezone, lt);
  }
  return lt;
}

export function sqliteUsage(db: Db, site: Site, subject: string, range: TimeRange, every: Every): UsagePoint[] {
  const s = resolveSubject(site, subject);
  if (typeof s === 'string') throw new Error(s);
  const lt = localTimeOf(site);
  const { from, to } = alignRange(lt, range.from, range.to, every);
  const rollups = rollupsFor(db, site);
  rollups.refresh([s.key]);
  const rows = rollups.rows(s.key, from, to);
  return foldRows(rows, lt.boundaries(from, to, every)).map((a) => ({ t: new Date(a.t).toISOString(), avg: avgOf(a, s.kind), max: maxOf(a, s.kind) }));
}
