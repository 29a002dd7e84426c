/**
 * Usage subjects and bucket arithmetic shared by the stores' `usage()` and the report builders.
 */
import type { Site } from '@parkops/contract/site/index.ts';
import type { Every } from './types.ts';
import { DAY_MS, type LocalTime } from './local-time.ts';
import { R_BUCKET, R_KNOWN, R_PEAK, R_PEAK_AT, R_SUM, type RollupRow } from './rollups.ts';
import { parseSubject, Subjects } from '@parkops/contract/subjects.ts';

export const EVERIES: readonly Every[] = ['15m', '1h', '1d'];

/**
 * Longest range per bucket size (a longer one is a 400): what the rollups serve at about the cost of a
 * year at hourly resolution (bench/reports.ts, docs/benchmarks.md): 92 days of quarter hours (8,832
 * points), a leap year of hours (8,784) and five years of days (1,830).
 */
export const MAX_SPAN_MS: Record<Every, number> = { '15m': 92 * DAY_MS, '1h': 366 * DAY_MS, '1d': 1830 * DAY_MS };

export interface UsageSubject {
  subject: string;
  /** rollup key */
  key: string;
  kind: 'parking' | 'venue';
  /** the zone of a zone's parking, the venue of a venue */
  zoneId?: string;
  venueId?: string;
  /** bays in the subject (parking) or the venue's capacity */
  size: number;
}

/** Resolves a `subject` parameter, or returns a message saying what is allowed. */
export function resolveSubject(site: Site, subject: string): UsageSubject | string {
  const s = parseSubject(subject);
  if (s?.kind === 'parking') return { subject, key: subject, kind: 'parking', size: site.bays.length };
  if (s?.kind === 'zone') {
    const zone = site.zone(s.zoneId);
    if (zone) return { subject, key: subject, kind: 'parking', zoneId: zone.id, size: zone.bays.length };
  }
  if (s?.kind === 'venue') {
    const venue = site.venue(s.venueId);
    if (venue) return { subject, key: subject, kind: 'venue', venueId: venue.id, size: venue.capacity };
  }
  const zones = site.zones.map((z) => Subjects.zone(z.id)).join(', ');
  const venues = site.venues.map((v) => Subjects.venue(v.id)).join(', ');
  return `unknown subject "${subject.slice(0, 80)}": use parking, ${zones}, ${venues}`;
}

export interface Agg {
  /** bucket start */
  t: number;
  known: number;
  sum: number;
  peak: number | null;
  peakAt: number | null;
}

/**
 * Folds quarter-hour rollup rows (oldest first) into the buckets given by `bounds` (starts plus the
 * final end). Every bucket is returned; one without known time has `known` 0 and `peak` null.
 */
export function foldRows(rows: RollupRow[], bounds: number[]): Agg[] {
  const out: Agg[] = [];
  let j = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i]!;
    const end = bounds[i + 1]!;
    while (j < rows.length && rows[j]![R_BUCKET] < start) j++;
    let known = 0;
    let sum = 0;
    let peak: number | null = null;
    let peakAt: number | null = null;
    while (j < rows.length && rows[j]![R_BUCKET] < end) {
      const r = rows[j]!;
      known += r[R_KNOWN];
      sum += r[R_SUM];
      const p = r[R_PEAK];
      if (p !== null && r[R_KNOWN] > 0 && (peak === null || p > peak)) {
        peak = p;
        peakAt = r[R_PEAK_AT];
      }
      j++;
    }
    out.push({ t: start, known, sum, peak, peakAt });
  }
  return out;
}

export const round = (n: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** avg of a folded bucket in the subject's unit: share (4 decimals) or people (2 decimals); null for a gap. */
export function avgOf(a: { known: number; sum: number }, kind: 'parking' | 'venue'): number | null {
  if (a.known <= 0) return null;
  return round(a.sum / a.known, kind === 'parking' ? 4 : 2);
}

export function maxOf(a: { peak: number | null }, kind: 'parking' | 'venue'): number | null {
  if (a.peak === null) return null;
  return round(a.peak, kind === 'parking' ? 4 : 2);
}

/** [from, to) rounded out to whole buckets of `every` in the site's zone. */
export function alignRange(lt: LocalTime, from: number, to: number, every: Every): { from: number; to: number } {
  return { from: lt.floor(from, every), to: lt.ceil(to, every) };
}
