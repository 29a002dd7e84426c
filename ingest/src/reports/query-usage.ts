/**
 * Utilisation for GET /api/usage on a store that keeps no rollups (PostgreSQL): the same step sweep the
 * SQLite rollups use (step-sweep.ts: a bay holds its value until its next reading, for at most its
 * stale time; unknown time counts neither way), run at query time over the readings of the range, then
 * folded into the site-local buckets of `every`. Every bucket of the range is returned, gaps as
 * `avg: null, max: null`.
 */
import type { Reading, UsagePoint } from '@parkops/contract/index.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import type { Every, TimeRange, TimeSeriesStore } from '../store/types.ts';
import { Subjects } from '@parkops/contract/subjects.ts';
import { F_KNOWN, F_N, F_PEAK, F_PEAK_AT, F_SUM, StepSweep, type SweepSpec } from './step-sweep.ts';
import type { RollupRow } from './rollups.ts';
import { alignRange, avgOf, foldRows, maxOf, resolveSubject } from './usage.ts';
import { localTimeOf } from './sqlite-usage.ts';

interface Track {
  subject: string;
  value: (r: Reading) => number | null;
  x: (r: Reading) => number;
}

export async function queryUsage(store: TimeSeriesStore, site: Site, subject: string, range: TimeRange, every: Every): Promise<UsagePoint[]> {
  const s = resolveSubject(site, subject);
  if (typeof s === 'string') throw new Error(s);
  const lt = localTimeOf(site);
  const { from, to } = alignRange(lt, range.from, range.to, every);
  let tracks: Track[];
  let spec: SweepSpec;
  if (s.kind === 'parking') {
    const bays = s.zoneId === undefined ? site.bays : site.bays.filter((b) => b.zone === s.zoneId);
    tracks = bays.map((b) => ({ subject: Subjects.bay(b.id), value: (r) => (r.kind === 'bay' ? (r.occupied ? 1 : 0) : null), x: () => 0 }));
    spec = { trackGroups: tracks.map(() => [0]), groups: 1, gapMs: site.parking.bayStaleAfterSec * 1000, share: true, count: 'rises' };
  } else {
    const venue = site.venue(s.venueId!)!;
    tracks = [{ subject: Subjects.venueCounts(venue.id), value: (r) => (r.kind === 'venue' ? (r.occupancy ?? null) : null), x: (r) => (r.kind === 'venue' ? r.in : 0) }];
    spec = { trackGroups: [[0]], groups: 1, gapMs: venue.staleAfterSec * 1000, share: false, count: 'x', keepLast: true };
  }
  const sweep = new StepSweep(spec);
  const feed: Array<[number, number, number, number]> = [];
  const initial: Array<[number, number, number]> = [];
  await Promise.all(
    tracks.map(async (t, i) => {
      const rows = await store.readings(t.subject, { from: from - spec.gapMs, to }, 2_000_000);
      let before: [number, number, number] | undefined;
      for (const r of rows) {
        const v = t.value(r);
        if (v === null) continue;
        if (r.ts < from) before = [i, r.ts, v];
        else feed.push([i, r.ts, v, t.x(r)]);
      }
      if (before) initial.push(before);
    }),
  );
  initial.sort((a, b) => a[1] - b[1]);
  for (const [i, ts, v] of initial) sweep.initial(i, ts, v);
  sweep.begin(from);
  feed.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  for (const [i, ts, v, x] of feed) sweep.reading(i, ts, v, x);
  sweep.advanceTo(to);
  const quarters: RollupRow[] = [];
  for (const [bucket, c] of sweep.drainBefore(to)) {
    const known = c[F_KNOWN]!;
    if (known <= 0 && c[F_N]! === 0) continue;
    quarters.push([bucket, known, c[F_SUM]!, known > 0 ? c[F_PEAK]! : null, known > 0 ? c[F_PEAK_AT]! : null, c[F_N]!, 0, 0, 0]);
  }
  quarters.sort((a, b) => a[0] - b[0]);
  return foldRows(quarters, lt.boundaries(from, to, every)).map((a) => ({ t: new Date(a.t).toISOString(), avg: avgOf(a, s.kind), max: maxOf(a, s.kind) }));
}
