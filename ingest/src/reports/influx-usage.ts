/**
 * Utilisation for GET /api/usage on the InfluxDB store (InfluxQL GROUP BY time(), so
 * InfluxDB aggregates and only the buckets travel), for the schema of ingest/src/store/influx-store.ts:
 *
 *   parking_bay,bay=B-001,zone=B  occupied=1i      venue_count,venue=gym  in=3i,out=1i,occupancy=40i
 *
 * Buckets are aligned in the site's zone with `tz()` (1d starts at local midnight), `fill(none)` leaves
 * empty buckets out and they come back as null points, as on SQLite. The figures are sample-based:
 * `avg` is the mean of the readings in the bucket (bays heartbeat at a fixed interval, so this is close
 * to the time-weighted share; time with no readings counts neither way), and `max` is the highest
 * quarter-hour share, a quarter's share being the mean over bays of each bay's highest reading in it.
 * The SQLite rollups are exact (time-weighted, instantaneous peak); see docs/reports.md.
 *
 * Wiring (InfluxStore):
 *   async usage(subject, range, every) { return influxUsage((q) => this.query(q), this.opts.site, subject, range, every); }
 */
import type { UsagePoint } from '@parkops/contract/index.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import type { Every, TimeRange } from '../store/types.ts';
import { LocalTime } from './local-time.ts';
import { alignRange, resolveSubject, round } from './usage.ts';

/** The JSON InfluxDB's /query answers (epoch=ms). */
export interface InfluxQueryResult {
  results?: Array<{ series?: Array<{ columns: string[]; values: unknown[][] }>; error?: string }>;
  error?: string;
}

export type InfluxQuery = (q: string) => Promise<InfluxQueryResult>;

const clocks = new Map<string, LocalTime>();
function localTime(tz: string): LocalTime {
  let lt = clocks.get(tz);
  if (!lt) clocks.set(tz, (lt = new LocalTime(tz)));
  return lt;
}

const ident = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const lit = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The InfluxQL statements for one usage request (exported for tests and for reading). */
export function influxUsageQueries(site: Site, subject: string, range: TimeRange, every: Every): { avg: string; max: string; from: number; to: number; kind: 'parking' | 'venue' } {
  const s = resolveSubject(site, subject);
  if (typeof s === 'string') throw new Error(s);
  const lt = localTime(site.timezone);
  const { from, to } = alignRange(lt, range.from, range.to, every);
  const time = `time >= ${from}ms AND time < ${to}ms`;
  const tz = `tz(${lit(site.timezone)})`;
  if (s.kind === 'parking') {
    const where = [s.zoneId === undefined ? null : `${ident('zone')} = ${lit(s.zoneId)}`, time].filter(Boolean).join(' AND ');
    return {
      from,
      to,
      kind: s.kind,
      avg: `SELECT mean(${ident('occupied')}) AS avg FROM ${ident('parking_bay')} WHERE ${where} GROUP BY time(${every}) fill(none) ${tz}`,
      max:
        `SELECT max(share) AS max FROM (SELECT mean(m) AS share FROM (SELECT max(${ident('occupied')}) AS m FROM ${ident('parking_bay')} WHERE ${where} GROUP BY time(15m), ${ident('bay')} fill(none)) ` +
        `WHERE ${time} GROUP BY time(15m) fill(none)) WHERE ${time} GROUP BY time(${every}) fill(none) ${tz}`,
    };
  }
  const where = `${ident('venue')} = ${lit(s.venueId ?? '')} AND ${time}`;
  return {
    from,
    to,
    kind: s.kind,
    avg: `SELECT mean(${ident('occupancy')}) AS avg FROM ${ident('venue_count')} WHERE ${where} GROUP BY time(${every}) fill(none) ${tz}`,
    max: `SELECT max(${ident('occupancy')}) AS max FROM ${ident('venue_count')} WHERE ${where} GROUP BY time(${every}) fill(none) ${tz}`,
  };
}

function byTime(res: InfluxQueryResult, column: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const series of res.results?.[0]?.series ?? []) {
    const t = series.columns.indexOf('time');
    const c = series.columns.indexOf(column);
    for (const row of series.values) {
      const v = row[c];
      if (v !== null && v !== undefined) out.set(Number(row[t]), Number(v));
    }
  }
  return out;
}

export async function influxUsage(query: InfluxQuery, site: Site, subject: string, range: TimeRange, every: Every): Promise<UsagePoint[]> {
  const q = influxUsageQueries(site, subject, range, every);
  const kind = q.kind;
  const [avgRes, maxRes] = await Promise.all([query(q.avg), query(q.max)]);
  const avg = byTime(avgRes, 'avg');
  const max = byTime(maxRes, 'max');
  const lt = localTime(site.timezone);
  const digits = kind === 'parking' ? 4 : 2;
  return lt
    .boundaries(q.from, q.to, every)
    .slice(0, -1)
    .map((t) => {
      const a = avg.get(t);
      const m = max.get(t);
      return { t: new Date(t).toISOString(), avg: a === undefined ? null : round(a, digits), max: a === undefined || m === undefined ? (a === undefined ? null : round(a, digits)) : round(m, digits) };
    });
}
