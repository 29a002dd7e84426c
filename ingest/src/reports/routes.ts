/**
 * Report routes (docs/reports.md): `GET /api/usage` (CONTRACT.md section 3) and `GET /api/reports/*`,
 * manager role and above, JSON or `format=csv`. The controller mounts this router at /api.
 */
import type { Request, Response, Router } from 'express';
import { asyncRouter } from '../api/async-routes.ts';
import type { UsageResponse } from '../contract/index.ts';
import { badRequest } from '../api/http-errors.ts';
import type { Guard } from '../api/live-routes.ts';
import { parseRange } from '../api/params.ts';
import { DAY_MS, type LocalTime } from './local-time.ts';
import type { Reports } from './index.ts';
import type { Every, Heatmap, Point } from './types.ts';
import { EVERIES, MAX_SPAN_MS, alignRange, resolveSubject } from './usage.ts';
import { sendCsv, type CsvCell } from '../api/csv.ts';

export const REPORT_MAX_SPAN_MS = 366 * DAY_MS;

function one(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw badRequest(`${name}: give one value`);
  return v;
}

function parseEvery(req: Request): Every | undefined {
  const v = one(req, 'every');
  if (v === undefined) return undefined;
  if (!(EVERIES as readonly string[]).includes(v)) throw badRequest(`every: "${v.slice(0, 20)}" is not allowed; use 15m, 1h or 1d`);
  return v as Every;
}

function parseFormat(req: Request): 'json' | 'csv' {
  const v = one(req, 'format') ?? 'json';
  if (v !== 'json' && v !== 'csv') throw badRequest(`format: "${v.slice(0, 20)}" is not allowed; use json or csv`);
  return v;
}

function parseTable(req: Request, allowed: string[]): string {
  const v = one(req, 'table') ?? allowed[0]!;
  if (!allowed.includes(v)) throw badRequest(`table: "${v.slice(0, 30)}" is not allowed; use ${allowed.join(', ')}`);
  return v;
}

/** A report range: validated, then rounded out to whole quarter hours. */
function reportRange(req: Request, lt: LocalTime, defaultSpanMs: number): { from: number; to: number } {
  const r = parseRange(req.query, { defaultSpanMs, maxSpanMs: REPORT_MAX_SPAN_MS, now: Date.now() });
  return alignRange(lt, r.from, r.to, '15m');
}

type Cell = CsvCell;

const stamp = (lt: LocalTime, iso: string | null): string | null => (iso === null ? null : lt.stamp(Date.parse(iso)));

function pointRows(lt: LocalTime, points: Point[], prefix: Cell[] = []): Cell[][] {
  return points.map((p) => [...prefix, p.t, lt.stamp(Date.parse(p.t)), lt.timezone, p.avg, p.max]);
}

function heatmapRows(h: Heatmap, prefix: Cell[] = []): Cell[][] {
  const rows: Cell[][] = [];
  h.weekdays.forEach((d, wi) => h.hours.forEach((hour) => rows.push([...prefix, d, hour, h.avg[wi]![hour], h.max[wi]![hour]])));
  return rows;
}

const day = (from: string, to: string): string => `${from.slice(0, 10)}_${to.slice(0, 10)}`;

// ---- router ------------------------------------------------------------------------------------

export function reportsRouter(reports: Reports, guard: Guard): Router {
  const r = asyncRouter();
  const manager = guard.requireRole('manager');
  const { site, builder } = reports;
  const lt = builder.lt;

  r.get('/usage', manager, async (req, res) => {
    const subjectParam = one(req, 'subject');
    if (subjectParam === undefined) throw badRequest(`subject is required: ${(resolveSubject(site, '') as string).replace(/^unknown subject "": /, '')}`);
    const subject = resolveSubject(site, subjectParam);
    if (typeof subject === 'string') throw badRequest(subject);
    const every = parseEvery(req) ?? '1h';
    const format = parseFormat(req);
    const raw = parseRange(req.query, { defaultSpanMs: DAY_MS, maxSpanMs: MAX_SPAN_MS[every], now: Date.now() });
    const range = alignRange(lt, raw.from, raw.to, every);
    const points = await reports.store.usage(subject.subject, range, every);
    const body: UsageResponse & { from: string; to: string } = {
      subject: subject.subject,
      every,
      timezone: site.timezone,
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      points,
    };
    if (format === 'csv') return sendCsv(res, `usage_${subject.subject}_${every}_${day(body.from, body.to)}`, ['t', 'local_time', 'time_zone', 'avg', 'max'], pointRows(lt, points));
    res.json(body);
  });

  r.get('/reports/heatmap', manager, async (req, res) => {
    const subjectParam = one(req, 'subject') ?? 'parking';
    const subject = resolveSubject(site, subjectParam);
    if (typeof subject === 'string') throw badRequest(subject);
    const format = parseFormat(req);
    const range = reportRange(req, lt, 30 * DAY_MS);
    const h = await builder.heatmap(subject.subject, range);
    if (format === 'csv') return sendCsv(res, `heatmap_${subject.subject}_${day(h.from, h.to)}`, ['weekday', 'hour', 'avg', 'max'], heatmapRows(h));
    res.json(h);
  });

  r.get('/reports/parking', manager, async (req, res) => {
    const zone = one(req, 'zone');
    if (zone !== undefined && !site.zone(zone)) throw badRequest(`zone: unknown zone "${zone.slice(0, 64)}"; use ${site.zones.map((z) => z.id).join(', ')}`);
    const format = parseFormat(req);
    const table = format === 'csv' ? parseTable(req, ['days', 'occupancy', 'hours', 'heatmap', 'zones', 'overstays']) : '';
    const range = reportRange(req, lt, 7 * DAY_MS);
    const every = parseEvery(req);
    if (every === '15m' && range.to - range.from > MAX_SPAN_MS['15m']) throw badRequest('every: 15m is allowed for ranges up to 31 days; use 1h or 1d');
    const rep = await builder.parking(range, { zone, every });
    if (format === 'json') return res.json(rep);
    const name = `parking${zone ? `_${zone}` : ''}_${table}_${day(rep.from, rep.to)}`;
    switch (table) {
      case 'occupancy':
        return sendCsv(res, name, ['t', 'local_time', 'time_zone', 'avg', 'max'], pointRows(lt, rep.occupancy));
      case 'hours':
        return sendCsv(res, name, ['hour', 'time_zone', 'avg', 'max'], rep.byHour.map((h) => [h.hour, lt.timezone, h.avg, h.max]));
      case 'heatmap':
        return sendCsv(res, name, ['weekday', 'hour', 'avg', 'max'], heatmapRows(rep.heatmap));
      case 'zones':
        return sendCsv(res, name, ['zone', 'name', 'bays', 'avg', 'max', 'peak_at', 'peak_local'], rep.zones.map((z) => [z.id, z.name, z.bays, z.avg, z.max, z.peakAt, stamp(lt, z.peakAt)]));
      case 'overstays':
        return sendCsv(
          res,
          name,
          ['pass', 'gate_in', 'entry_at', 'entry_local', 'exit_at', 'hours', 'open'],
          rep.overstays.items.map((o) => [o.pass, o.gateIn, o.entryAt, lt.stamp(Date.parse(o.entryAt)), o.exitAt, o.hours, o.open]),
        );
      default:
        return sendCsv(
          res,
          name,
          ['date', 'time_zone', 'avg', 'max', 'peak_at', 'peak_local', 'sessions', 'turnover', 'avg_dwell_min', 'median_dwell_min', 'overstays', 'entries', 'exits', 'sensor_arrivals', 'drift_pct', 'drift'],
          rep.days.map((d) => [d.date, lt.timezone, d.avg, d.max, d.peakAt, stamp(lt, d.peakAt), d.sessions, d.turnover, d.avgDwellMin, d.medianDwellMin, d.overstays, d.entries, d.exits, d.sensorArrivals, d.driftPct, d.drift]),
        );
    }
  });

  r.get('/reports/venues', manager, async (req, res) => {
    const venue = one(req, 'venue');
    if (venue !== undefined && !site.venue(venue)) throw badRequest(`venue: unknown venue "${venue.slice(0, 64)}"; use ${site.venues.map((v) => v.id).join(', ')}`);
    const format = parseFormat(req);
    const table = format === 'csv' ? parseTable(req, ['days', 'occupancy', 'hours', 'heatmap']) : '';
    const range = reportRange(req, lt, 7 * DAY_MS);
    const every = parseEvery(req);
    if (every === '15m' && range.to - range.from > MAX_SPAN_MS['15m']) throw badRequest('every: 15m is allowed for ranges up to 31 days; use 1h or 1d');
    const rep = await builder.venues(range, { venue, every });
    if (format === 'json') return res.json(rep);
    const name = `venues${venue ? `_${venue}` : ''}_${table}_${day(rep.from, rep.to)}`;
    switch (table) {
      case 'occupancy':
        return sendCsv(res, name, ['venue', 't', 'local_time', 'time_zone', 'avg', 'max'], rep.venues.flatMap((v) => pointRows(lt, v.occupancy, [v.id])));
      case 'hours':
        return sendCsv(res, name, ['venue', 'hour', 'time_zone', 'avg', 'max', 'visitors'], rep.venues.flatMap((v) => v.byHour.map((h) => [v.id, h.hour, lt.timezone, h.avg, h.max, h.visitors])));
      case 'heatmap':
        return sendCsv(res, name, ['venue', 'weekday', 'hour', 'avg', 'max'], rep.venues.flatMap((v) => heatmapRows(v.heatmap, [v.id])));
      default:
        return sendCsv(
          res,
          name,
          ['venue', 'date', 'time_zone', 'visitors', 'avg', 'max', 'peak_at', 'peak_local'],
          rep.venues.flatMap((v) => v.days.map((d) => [v.id, d.date, lt.timezone, d.visitors, d.avg, d.max, d.peakAt, stamp(lt, d.peakAt)])),
        );
    }
  });

  r.get('/reports/flood', manager, async (req, res) => {
    const room = one(req, 'room');
    if (room !== undefined && !site.room(room)) throw badRequest(`room: unknown flood room "${room.slice(0, 64)}"; use ${site.rooms.map((x) => x.id).join(', ')}`);
    const format = parseFormat(req);
    const table = format === 'csv' ? parseTable(req, ['days', 'levels', 'pumps']) : '';
    const range = reportRange(req, lt, 30 * DAY_MS);
    const rep = await builder.flood(range, { room });
    if (format === 'json') return res.json(rep);
    const name = `flood${room ? `_${room}` : ''}_${table}_${day(rep.from, rep.to)}`;
    switch (table) {
      case 'levels':
        return sendCsv(
          res,
          name,
          ['room', 'sensor', 'max_mm', 'max_at', 'max_local', 'avg_mm', 'above_warn_min', 'above_alarm_min', 'above_critical_min'],
          rep.rooms.flatMap((x) => x.levels.map((l) => [x.id, l.id, l.maxMm, l.at, stamp(lt, l.at), l.avgMm, l.aboveMin.warn, l.aboveMin.alarm, l.aboveMin.critical])),
        );
      case 'pumps':
        return sendCsv(res, name, ['room', 'pump', 'role', 'run_hours', 'starts', 'starts_per_day'], rep.rooms.flatMap((x) => x.pumps.map((p) => [x.id, p.id, p.role, p.runHours, p.starts, p.startsPerDay])));
      default: {
        const pumpIds = [...new Set(rep.rooms.flatMap((x) => x.pumps.map((p) => p.id)))];
        return sendCsv(
          res,
          name,
          ['room', 'date', 'time_zone', 'max_level_mm', 'max_level_at', 'max_level_local', 'above_warn_min', 'above_alarm_min', 'above_critical_min', ...pumpIds.flatMap((p) => [`${p}_run_hours`, `${p}_starts`])],
          rep.rooms.flatMap((x) =>
            x.days.map((d) => [
              x.id,
              d.date,
              lt.timezone,
              d.maxLevelMm,
              d.maxLevelAt,
              stamp(lt, d.maxLevelAt),
              d.aboveMin.warn,
              d.aboveMin.alarm,
              d.aboveMin.critical,
              ...pumpIds.flatMap((p) => {
                const x2 = d.pumps.find((q) => q.id === p);
                return x2 ? [x2.runHours, x2.starts] : [null, null];
              }),
            ]),
          ),
        );
      }
    }
  });

  return r;
}



