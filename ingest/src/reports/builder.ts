/**
 * Builds the parking, venue, flood and heatmap reports (docs/reports.md) from a ReportSource. Ranges
 * arrive already validated and aligned to quarter hours; days, hours and weekdays are local to the site.
 */
import type { Site } from '@parkops/contract/site/index.ts';
import type { TimeSeriesStore } from '../store/types.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS, type LocalTime } from './local-time.ts';
import { R_A1, R_A2, R_A3, R_BUCKET, R_KNOWN, R_N, R_PEAK, R_PEAK_AT, R_SUM, type RollupRow } from './rollups.ts';
import type { ReportSource, SessionRow } from './sources.ts';
import type {
  BandMinutes,
  Every,
  FloodReport,
  FloodRoomReport,
  FloodSummary,
  Heatmap,
  HeatmapReport,
  Overstay,
  ParkingDay,
  ParkingReport,
  ParkingSummary,
  Point,
  VenueReport,
  VenueSummary,
  VenuesReport,
} from './types.ts';
import { avgOf, foldRows, maxOf, resolveSubject, round, type Agg } from './usage.ts';
import { Subjects } from '@parkops/contract/subjects.ts';

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** A bay that has not changed state for this long while still reporting is flagged as possibly stuck. */
export const STUCK_AFTER_MS = 72 * HOUR_MS;
/** How far back a bay's unchanged state is traced (a stuck bay shows `since` at most this far back). */
export const STUCK_LOOK_BACK_MS = 7 * DAY_MS;
/** A bay with no reading in the last this-long of the range is listed as silent. */
export const SILENT_AFTER_MS = 24 * HOUR_MS;
/** Gate entries and sensor arrivals disagreeing by more than this share (and DRIFT_MIN_CARS) is drift. */
export const DRIFT_PCT = 10;
export const DRIFT_MIN_CARS = 5;
const OVERSTAY_ITEMS = 200;

export interface Range {
  from: number;
  to: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
const diff = (a: number | null, b: number | null, digits: number): number | null => (a === null || b === null ? null : round(a - b, digits));

function median(sorted: number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export class ReportBuilder {
  readonly source: ReportSource;
  readonly lt: LocalTime;
  private readonly site: Site;

  constructor(deps: { store: TimeSeriesStore; site: Site; lt: LocalTime }) {
    this.site = deps.site;
    this.lt = deps.lt;
    this.source = deps.store.reportSource(deps.lt);
  }

  /** Default bucket of an occupancy series for a span. */
  static defaultEvery(spanMs: number): Every {
    return spanMs <= 92 * DAY_MS ? '1h' : '1d';
  }

  private series(rows: RollupRow[], range: Range, every: Every, kind: 'parking' | 'venue'): Point[] {
    const bounds = this.lt.boundaries(range.from, range.to, every);
    return foldRows(rows, bounds).map((a) => ({ t: iso(a.t), avg: avgOf(a, kind), max: maxOf(a, kind) }));
  }

  private days(range: Range): number[] {
    return this.lt.boundaries(range.from, range.to, '1d').map((b, i, all) => (i === 0 ? Math.max(b, range.from) : i === all.length - 1 ? Math.min(b, range.to) : b));
  }

  heatmapOf(rows: RollupRow[], kind: 'parking' | 'venue'): Heatmap {
    const known = new Float64Array(168);
    const sum = new Float64Array(168);
    const peak = new Array<number | null>(168).fill(null);
    for (const r of rows) {
      if (r[R_KNOWN] <= 0) continue;
      const i = this.lt.weekday(r[R_BUCKET]) * 24 + this.lt.hour(r[R_BUCKET]);
      known[i]! += r[R_KNOWN];
      sum[i]! += r[R_SUM];
      const p = r[R_PEAK];
      if (p !== null && (peak[i] === null || p > peak[i]!)) peak[i] = p;
    }
    const avg: (number | null)[][] = [];
    const max: (number | null)[][] = [];
    for (let d = 0; d < 7; d++) {
      avg.push(Array.from({ length: 24 }, (_, h) => avgOf({ known: known[d * 24 + h]!, sum: sum[d * 24 + h]! }, kind)));
      max.push(Array.from({ length: 24 }, (_, h) => maxOf({ peak: peak[d * 24 + h]! }, kind)));
    }
    return { weekdays: WEEKDAYS, hours: Array.from({ length: 24 }, (_, h) => h), avg, max };
  }

  private byHour(rows: RollupRow[], kind: 'parking' | 'venue'): { hour: number; avg: number | null; max: number | null; n: number }[] {
    const acc = Array.from({ length: 24 }, () => ({ known: 0, sum: 0, peak: null as number | null, n: 0 }));
    for (const r of rows) {
      const a = acc[this.lt.hour(r[R_BUCKET])]!;
      a.known += r[R_KNOWN];
      a.sum += r[R_SUM];
      a.n += r[R_N];
      const p = r[R_PEAK];
      if (p !== null && r[R_KNOWN] > 0 && (a.peak === null || p > a.peak)) a.peak = p;
    }
    return acc.map((a, hour) => ({ hour, avg: avgOf(a, kind), max: maxOf(a, kind), n: a.n }));
  }

  async heatmap(subject: string, range: Range): Promise<HeatmapReport> {
    const s = resolveSubject(this.site, subject);
    if (typeof s === 'string') throw new Error(s);
    const rows = await this.source.buckets(s.key, range.from, range.to, '1h');
    return { subject, from: iso(range.from), to: iso(range.to), timezone: this.lt.timezone, ...this.heatmapOf(rows, s.kind) };
  }

  // ---- parking ---------------------------------------------------------------------------------

  private async parkingSummary(key: string, bays: number, range: Range): Promise<{ summary: ParkingSummary; sessions: SessionRow[] }> {
    const all = aggOf(await this.source.totals(key, range.from, range.to));
    const list = await this.source.sessions(range.from, range.to);
    const dwell = this.dwell(list, range);
    const spanDays = (range.to - range.from) / DAY_MS;
    const totalBays = this.site.bays.length;
    const summary: ParkingSummary = {
      avg: avgOf(all, 'parking'),
      peak: all.peak === null ? null : { share: round(all.peak, 4), at: iso(all.peakAt!) },
      coverage: bays > 0 ? round(all.known / (bays * (range.to - range.from)), 4) : 0,
      sessions: list.length,
      turnover: totalBays > 0 && spanDays > 0 ? round(list.length / totalBays / spanDays, 3) : null,
      avgDwellMin: dwell.avg,
      medianDwellMin: dwell.median,
      overstays: this.overstays(list, range.to).length,
    };
    return { summary, sessions: list };
  }

  private dwell(list: SessionRow[], _range: Range): { avg: number | null; median: number | null } {
    const mins: number[] = [];
    for (const s of list) if (s.exit !== null) mins.push((s.exit - s.entry) / MINUTE_MS);
    if (mins.length === 0) return { avg: null, median: null };
    mins.sort((a, b) => a - b);
    let total = 0;
    for (const m of mins) total += m;
    return { avg: round(total / mins.length, 1), median: round(median(mins)!, 1) };
  }

  /** Sessions longer than the site's overstay limit; open ones count up to `asOf` (the range end, or now). */
  private overstays(list: SessionRow[], to: number): { s: SessionRow; ms: number; open: boolean }[] {
    const limit = this.site.parking.overstayHours * HOUR_MS;
    const asOf = Math.min(to, Date.now());
    const out: { s: SessionRow; ms: number; open: boolean }[] = [];
    for (const s of list) {
      const end = s.exit ?? asOf;
      if (end - s.entry > limit) out.push({ s, ms: end - s.entry, open: s.exit === null });
    }
    return out;
  }

  async parking(range: Range, opts: { zone?: string | undefined; every?: Every | undefined }): Promise<ParkingReport> {
    const site = this.site;
    const zone = opts.zone ? site.zone(opts.zone) : undefined;
    const key = zone ? Subjects.zone(zone.id) : Subjects.parking();
    const bays = zone ? zone.bays.length : site.bays.length;
    const span = range.to - range.from;
    const every = opts.every ?? ReportBuilder.defaultEvery(span);
    const prevRange = { from: range.from - span, to: range.from };

    const cur = await this.parkingSummary(key, bays, range);
    const prev = await this.parkingSummary(key, bays, prevRange);
    // Hourly rows carry everything hours, days and weekdays need (a quarter of the rows to read).
    const rows = await this.source.buckets(key, range.from, range.to, '1h');
    const seriesRows = every === '15m' ? await this.source.quarters(key, range.from, range.to) : rows;

    // Days: occupancy from rollups, sessions and dwell by local entry day, gate scans vs sensor arrivals.
    const dayBounds = this.days(range);
    const siteRows = key === 'parking' ? rows : await this.source.buckets('parking', range.from, range.to, '1h');
    const dayAgg = foldRows(rows, dayBounds);
    const arrivalsByDay = foldN(siteRows, dayBounds);
    const gates = await this.source.gateCounts(dayBounds);
    const sessionsByDay: SessionRow[][] = dayAgg.map(() => []);
    for (const s of cur.sessions) {
      const i = bucketIndex(dayBounds, s.entry);
      if (i >= 0) sessionsByDay[i]!.push(s);
    }
    const totalBays = site.bays.length;
    const days: ParkingDay[] = dayAgg.map((a, i) => {
      const list = sessionsByDay[i]!;
      const d = this.dwell(list, range);
      const dayLen = (dayBounds[i + 1]! - dayBounds[i]!) / DAY_MS;
      const entries = gates.entries[i]!;
      const arrivals = arrivalsByDay[i]!;
      const drift = driftOf(entries, arrivals);
      return {
        date: this.lt.date(a.t),
        avg: avgOf(a, 'parking'),
        max: maxOf(a, 'parking'),
        peakAt: isoOrNull(a.peakAt),
        sessions: list.length,
        turnover: totalBays > 0 && dayLen > 0 ? round(list.length / totalBays / dayLen, 3) : null,
        avgDwellMin: d.avg,
        medianDwellMin: d.median,
        overstays: this.overstays(list, range.to).length,
        entries,
        exits: gates.exits[i]!,
        sensorArrivals: arrivals,
        driftPct: drift.pct,
        drift: drift.flag,
      };
    });

    const zoneTotals = await Promise.all(site.zones.map((z) => this.source.totals(Subjects.zone(z.id), range.from, range.to)));
    const zoneList = site.zones.map((z, i) => {
      const a = aggOf(zoneTotals[i]!);
      return { id: z.id, name: z.name, bays: z.bays.length, avg: avgOf(a, 'parking'), max: maxOf(a, 'parking'), peakAt: isoOrNull(a.peakAt) };
    });

    const over = this.overstays(cur.sessions, range.to).sort((a, b) => b.ms - a.ms);
    const shown = over.slice(0, OVERSTAY_ITEMS);
    const details = await this.source.sessionDetails(
      shown.map((o) => o.s.id),
      cur.sessions,
    );
    const items: Overstay[] = shown.map((o) => ({
      pass: details.get(o.s.id)?.pass ?? '',
      gateIn: details.get(o.s.id)?.gateIn ?? '',
      entryAt: iso(o.s.entry),
      exitAt: isoOrNull(o.s.exit),
      hours: round(o.ms / HOUR_MS, 2),
      open: o.open,
    }));

    const entries = gates.entries.reduce((a, b) => a + b, 0);
    const exits = gates.exits.reduce((a, b) => a + b, 0);
    const arrivals = arrivalsByDay.reduce((a, b) => a + b, 0);
    const drift = driftOf(entries, arrivals);
    const bayIds = (zone ? zone.bays : site.bays).map((b) => b.id);
    const activity = await this.source.bayActivity(bayIds, range.to, STUCK_LOOK_BACK_MS);
    const stuckBays = activity
      .filter((a) => a.last !== null && a.since !== null && range.to - a.last.ts < SILENT_AFTER_MS && range.to - a.since >= STUCK_AFTER_MS)
      .map((a) => ({ bayId: a.bayId, zone: a.zone, occupied: a.last!.occupied, since: iso(a.since!), hours: round((range.to - a.since!) / HOUR_MS, 1) }));
    const silentBays = activity.filter((a) => a.last === null || range.to - a.last.ts >= SILENT_AFTER_MS).map((a) => ({ bayId: a.bayId, zone: a.zone, lastSeen: a.last ? iso(a.last.ts) : null }));

    const c = cur.summary;
    const p = prev.summary;
    return {
      kind: 'parking',
      from: iso(range.from),
      to: iso(range.to),
      timezone: this.lt.timezone,
      zone: zone?.id ?? null,
      bays,
      every,
      occupancy: this.series(seriesRows, range, every, 'parking'),
      summary: c,
      byHour: this.byHour(rows, 'parking').map(({ hour, avg, max }) => ({ hour, avg, max })),
      heatmap: this.heatmapOf(rows, 'parking'),
      days,
      zones: zoneList,
      overstays: { limitHours: site.parking.overstayHours, count: over.length, items },
      crossCheck: { entries, exits, sensorArrivals: arrivals, driftPct: drift.pct, drift: drift.flag, stuckBays, silentBays },
      previous: { from: iso(prevRange.from), to: iso(prevRange.to), summary: p },
      change: {
        avg: diff(c.avg, p.avg, 4),
        peak: diff(c.peak?.share ?? null, p.peak?.share ?? null, 4),
        sessions: c.sessions - p.sessions,
        turnover: diff(c.turnover, p.turnover, 3),
        avgDwellMin: diff(c.avgDwellMin, p.avgDwellMin, 1),
        overstays: c.overstays - p.overstays,
      },
    };
  }

  // ---- venues ----------------------------------------------------------------------------------

  private venueSummary(rows: RollupRow[], range: Range, capacity: number): VenueSummary {
    const a = foldRows(rows, [range.from, range.to])[0]!;
    let visitors = 0;
    for (const r of rows) visitors += r[R_N];
    const days = (range.to - range.from) / DAY_MS;
    return {
      visitors,
      visitorsPerDay: days > 0 ? round(visitors / days, 1) : null,
      avg: avgOf(a, 'venue'),
      peak: a.peak === null ? null : { people: round(a.peak, 2), at: iso(a.peakAt!), ofCapacity: round(a.peak / capacity, 3) },
      coverage: round(a.known / (range.to - range.from), 4),
    };
  }

  async venues(range: Range, opts: { venue?: string | undefined; every?: Every | undefined }): Promise<VenuesReport> {
    const span = range.to - range.from;
    const every = opts.every ?? ReportBuilder.defaultEvery(span);
    const prevRange = { from: range.from - span, to: range.from };
    const list = opts.venue ? this.site.venues.filter((v) => v.id === opts.venue) : this.site.venues;
    const dayBounds = this.days(range);
    const venues: VenueReport[] = [];
    for (const v of list) {
      const key = Subjects.venue(v.id);
      const rows = await this.source.buckets(key, range.from, range.to, '1h');
      const seriesRows = every === '15m' ? await this.source.quarters(key, range.from, range.to) : rows;
      const prevTotal = await this.source.totals(key, prevRange.from, prevRange.to);
      const summary = this.venueSummary(rows, range, v.capacity);
      const previous = this.venueSummary(prevTotal ? [prevTotal] : [], prevRange, v.capacity);
      const visitorsByDay = foldN(rows, dayBounds);
      const hours = this.byHour(rows, 'venue');
      venues.push({
        id: v.id,
        name: v.name,
        capacity: v.capacity,
        areaM2: v.areaM2,
        occupancy: this.series(seriesRows, range, every, 'venue'),
        summary,
        days: foldRows(rows, dayBounds).map((a, i) => ({ date: this.lt.date(a.t), visitors: visitorsByDay[i]!, avg: avgOf(a, 'venue'), max: maxOf(a, 'venue'), peakAt: isoOrNull(a.peakAt) })),
        byHour: hours.map(({ hour, avg, max, n }) => ({ hour, avg, max, visitors: n })),
        busiestHours: hours
          .filter((h) => h.avg !== null && h.avg > 0)
          .sort((a, b) => b.avg! - a.avg! || a.hour - b.hour)
          .slice(0, 3)
          .map((h) => ({ hour: h.hour, avg: h.avg! })),
        heatmap: this.heatmapOf(rows, 'venue'),
        previous: { from: iso(prevRange.from), to: iso(prevRange.to), summary: previous },
        change: {
          visitors: summary.visitors - previous.visitors,
          avg: diff(summary.avg, previous.avg, 2),
          peak: diff(summary.peak?.people ?? null, previous.peak?.people ?? null, 2),
        },
      });
    }
    return { kind: 'venues', from: iso(range.from), to: iso(range.to), timezone: this.lt.timezone, every, venues };
  }

  // ---- flood -----------------------------------------------------------------------------------

  private async floodRoom(roomId: string, range: Range): Promise<{ summary: FloodSummary; levels: FloodRoomReport['levels']; pumps: FloodRoomReport['pumps']; days: FloodRoomReport['days'] }> {
    const room = this.site.room(roomId)!;
    const dayBounds = this.days(range);
    const spanDays = (range.to - range.from) / DAY_MS;
    const levelRows = await Promise.all(room.levels.map((l) => this.source.buckets(Subjects.level(room.id, l.id), range.from, range.to, '1h')));
    const roomRows = await this.source.buckets(Subjects.roomLevel(room.id), range.from, range.to, '1h');
    const pumpRows = await Promise.all(room.pumps.map((p) => this.source.buckets(Subjects.pump(room.id, p.id), range.from, range.to, '1h')));
    const bands = (rows: RollupRow[], from: number, to: number): BandMinutes => {
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (const r of rows) {
        if (r[R_BUCKET] < from || r[R_BUCKET] >= to) continue;
        a1 += r[R_A1];
        a2 += r[R_A2];
        a3 += r[R_A3];
      }
      return { warn: round(a1 / MINUTE_MS, 1), alarm: round(a2 / MINUTE_MS, 1), critical: round(a3 / MINUTE_MS, 1) };
    };
    const pumpTotals = (rows: RollupRow[]): { runMs: number; starts: number } => {
      let runMs = 0;
      let starts = 0;
      for (const r of rows) {
        runMs += r[R_SUM];
        starts += r[R_N];
      }
      return { runMs, starts };
    };
    const levels = room.levels.map((l, i) => {
      const a = foldRows(levelRows[i]!, [range.from, range.to])[0]!;
      return { id: l.id, name: l.name, maxMm: a.peak === null ? null : round(a.peak, 1), at: isoOrNull(a.peakAt), avgMm: a.known > 0 ? round(a.sum / a.known, 1) : null, aboveMin: bands(levelRows[i]!, range.from, range.to) };
    });
    const pumps = room.pumps.map((p, i) => {
      const t = pumpTotals(pumpRows[i]!);
      return { id: p.id, name: p.name, role: p.role, runHours: round(t.runMs / HOUR_MS, 2), starts: t.starts, startsPerDay: spanDays > 0 ? round(t.starts / spanDays, 2) : null };
    });
    // The room's own figures (its highest level, time in each band) are of its combined level: the
    // sensors combined by the room judge's rule, the same level the alerts and the live page show.
    const roomDays = foldRows(roomRows, dayBounds);
    const pumpDays = pumpRows.map((rows) => foldRows(rows, dayBounds));
    const pumpStarts = pumpRows.map((rows) => foldN(rows, dayBounds));
    const days = dayBounds.slice(0, -1).map((start, d) => {
      const peak = roomDays[d]!;
      return {
        date: this.lt.date(start),
        maxLevelMm: peak.peak === null ? null : round(peak.peak, 1),
        maxLevelAt: isoOrNull(peak.peakAt),
        aboveMin: bands(roomRows, dayBounds[d]!, dayBounds[d + 1]!),
        pumps: room.pumps.map((p, i) => ({ id: p.id, runHours: round(pumpDays[i]![d]!.sum / HOUR_MS, 2), starts: pumpStarts[i]![d]! })),
      };
    });
    const overall = foldRows(roomRows, [range.from, range.to])[0]!;
    const summary: FloodSummary = {
      runHours: round(pumps.reduce((a, p) => a + p.runHours, 0), 2),
      starts: pumps.reduce((a, p) => a + p.starts, 0),
      maxLevelMm: overall.peak === null ? null : round(overall.peak, 1),
      maxLevelAt: isoOrNull(overall.peakAt),
      aboveMin: bands(roomRows, range.from, range.to),
    };
    return { summary, levels, pumps, days };
  }

  /** The summary alone, from one summed row per device and of the room's level (the previous period). */
  private async floodSummary(roomId: string, range: Range): Promise<FloodSummary> {
    const room = this.site.room(roomId)!;
    const level = await this.source.totals(Subjects.roomLevel(room.id), range.from, range.to);
    const pumps = await Promise.all(room.pumps.map((p) => this.source.totals(Subjects.pump(room.id, p.id), range.from, range.to)));
    const a = aggOf(level);
    const above = level ? { warn: round(level[R_A1] / MINUTE_MS, 1), alarm: round(level[R_A2] / MINUTE_MS, 1), critical: round(level[R_A3] / MINUTE_MS, 1) } : { warn: 0, alarm: 0, critical: 0 };
    let runMs = 0;
    let starts = 0;
    for (const t of pumps) {
      if (!t) continue;
      runMs += t[R_SUM];
      starts += t[R_N];
    }
    return { runHours: round(runMs / HOUR_MS, 2), starts, maxLevelMm: a.peak === null ? null : round(a.peak, 1), maxLevelAt: isoOrNull(a.peakAt), aboveMin: above };
  }

  async flood(range: Range, opts: { room?: string | undefined }): Promise<FloodReport> {
    const span = range.to - range.from;
    const prevRange = { from: range.from - span, to: range.from };
    const rooms: FloodRoomReport[] = [];
    for (const room of opts.room ? this.site.rooms.filter((r) => r.id === opts.room) : this.site.rooms) {
      const cur = await this.floodRoom(room.id, range);
      const prev = { summary: await this.floodSummary(room.id, prevRange) };
      rooms.push({
        id: room.id,
        name: room.name,
        bands: { warnMm: room.bands.warnMm, alarmMm: room.bands.alarmMm, criticalMm: room.bands.criticalMm },
        summary: cur.summary,
        days: cur.days,
        levels: cur.levels,
        pumps: cur.pumps,
        previous: { from: iso(prevRange.from), to: iso(prevRange.to), summary: prev.summary },
        change: {
          runHours: round(cur.summary.runHours - prev.summary.runHours, 2),
          starts: cur.summary.starts - prev.summary.starts,
          maxLevelMm: diff(cur.summary.maxLevelMm, prev.summary.maxLevelMm, 1),
        },
      });
    }
    return { kind: 'flood', from: iso(range.from), to: iso(range.to), timezone: this.lt.timezone, rooms };
  }
}

/** A summed rollup row as an Agg (no row: nothing known). */
function aggOf(r: RollupRow | null): Agg {
  return r ? { t: r[R_BUCKET], known: r[R_KNOWN], sum: r[R_SUM], peak: r[R_KNOWN] > 0 ? r[R_PEAK] : null, peakAt: r[R_KNOWN] > 0 ? r[R_PEAK_AT] : null } : { t: 0, known: 0, sum: 0, peak: null, peakAt: null };
}

/** Index of the bucket of `bounds` holding `t`, or -1. */
function bucketIndex(bounds: number[], t: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  if (t < bounds[0]! || t >= bounds[hi]!) return -1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid]! <= t) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Sum of `n` per bucket of `bounds`. */
function foldN(rows: RollupRow[], bounds: number[]): number[] {
  const out = new Array<number>(Math.max(0, bounds.length - 1)).fill(0);
  let j = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    while (j < rows.length && rows[j]![R_BUCKET] < bounds[i]!) j++;
    while (j < rows.length && rows[j]![R_BUCKET] < bounds[i + 1]!) out[i]! += rows[j++]![R_N];
  }
  return out;
}

function driftOf(entries: number, arrivals: number): { pct: number | null; flag: boolean } {
  if (entries === 0) return { pct: null, flag: arrivals >= DRIFT_MIN_CARS };
  const pct = round((Math.abs(arrivals - entries) / entries) * 100, 1);
  return { pct, flag: pct > DRIFT_PCT && Math.abs(arrivals - entries) >= DRIFT_MIN_CARS };
}
