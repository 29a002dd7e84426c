/**
 * Report routes (docs/reports.md): `GET /api/usage` (docs/api.md, the HTTP API), `GET /api/reports/*` and
 * the monthly PDF, manager role and above, JSON, `format=csv` or PDF. The controller mounts this router
 * at /api.
 */
import type { Request, Response, Router } from 'express';
import { asyncRouter, caught } from '../api/async-routes.ts';
import type { UsageResponse } from '@parkops/contract/index.ts';
import { monthlyPdfQuerySchema, reportsCalendarSchema, type ReportsCalendar } from '@parkops/contract/reports.ts';
import { badRequest, zodMessage } from '../api/http-errors.ts';
import type { Guard } from '../api/live-routes.ts';
import { parseRange } from '../api/params.ts';
import { sendCsv, type CsvCell } from '../api/csv.ts';
import { DAY_MS, type LocalTime } from './local-time.ts';
import type { Reports } from './index.ts';
import { describeProblem, isProblem, parsePeriod, REPORT_MAX_DAYS, today } from './periods.ts';
import { cellWords, COLUMNS as C, header, pumpColumn, REPORT_LANGS, type CellWords, type Column, type ReportLang } from './report-text.ts';
import type { Every, Heatmap, Point } from './types.ts';
import { EVERIES, MAX_SPAN_MS, alignRange, resolveSubject } from './usage.ts';
import { monthlyPdf, monthRange } from './monthly-pdf.ts';

export const REPORT_MAX_SPAN_MS = REPORT_MAX_DAYS * DAY_MS;

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

/** `lang=en|zh-CN`: headers and cell words for people; absent: machine column names. */
function parseLang(req: Request): ReportLang | null {
  const v = one(req, 'lang');
  if (v === undefined) return null;
  if (!(REPORT_LANGS as readonly string[]).includes(v)) throw badRequest(`lang: "${v.slice(0, 20)}" is not offered; use ${REPORT_LANGS.join(' or ')}`);
  return v as ReportLang;
}

/**
 * A report range: `range=day|week|month|custom|7d|30d|12m` (periods.ts, in the site's days) or
 * `from`/`to` times; validated, then rounded out to whole quarter hours.
 */
function reportRange(req: Request, lt: LocalTime, defaultSpanMs: number, maxSpanMs = REPORT_MAX_SPAN_MS): { from: number; to: number } {
  const range = one(req, 'range');
  if (range !== undefined) {
    const p = parsePeriod({ range, date: one(req, 'date'), from: one(req, 'from'), to: one(req, 'to') }, lt, Date.now());
    if (isProblem(p)) throw badRequest(describeProblem(p));
    if (p.to - p.from > maxSpanMs) throw badRequest(`the range is too long: at most ${Math.round(maxSpanMs / DAY_MS)} days`);
    return alignRange(lt, p.from, p.to, '15m');
  }
  const r = parseRange(req.query, { defaultSpanMs, maxSpanMs, now: Date.now() });
  return alignRange(lt, r.from, r.to, '15m');
}

const stamp = (lt: LocalTime, iso: string | null): string | null => (iso === null ? null : lt.stamp(Date.parse(iso)));

function pointRows(lt: LocalTime, points: Point[], prefix: CsvCell[] = []): CsvCell[][] {
  return points.map((p) => [...prefix, p.t, lt.stamp(Date.parse(p.t)), lt.timezone, p.avg, p.max]);
}

function heatmapRows(lt: LocalTime, w: CellWords, h: Heatmap, prefix: CsvCell[] = []): CsvCell[][] {
  const rows: CsvCell[][] = [];
  h.weekdays.forEach((d, wi) => h.hours.forEach((hour) => rows.push([...prefix, w.weekday(wi, d), hour, lt.timezone, h.avg[wi]![hour], h.max[wi]![hour]])));
  return rows;
}

const day = (from: string, to: string): string => `${from.slice(0, 10)}_${to.slice(0, 10)}`;

/** Sends one CSV table: the header in the reader's language (or machine names) over the rows. */
function csv(res: Response, lang: ReportLang | null, name: string, columns: readonly Column[], rows: CsvCell[][]): void {
  sendCsv(res, lang === null ? name : `${name}_${lang}`, header(columns, lang), rows);
}

// ---- router ------------------------------------------------------------------------------------

export function reportsRouter(reports: Reports, guard: Guard): Router {
  const r = asyncRouter();
  const manager = guard.requireRole('manager');
  const { site, builder } = reports;
  const lt = builder.lt;

  r.get('/reports/calendar', manager, (_req, res) => {
    const now = Date.now();
    const body: ReportsCalendar = {
      timezone: site.timezone,
      today: today(lt, now),
      now: new Date(now).toISOString(),
      maxDays: { '15m': Math.round(MAX_SPAN_MS['15m'] / DAY_MS), '1h': Math.round(MAX_SPAN_MS['1h'] / DAY_MS), '1d': Math.round(MAX_SPAN_MS['1d'] / DAY_MS), report: REPORT_MAX_DAYS },
      simulated: reports.simulated,
    };
    res.json(reportsCalendarSchema.parse(body));
  });

  r.get('/usage', manager, caught(async (req, res) => {
    const subjectParam = one(req, 'subject');
    if (subjectParam === undefined) throw badRequest(`subject is required: ${(resolveSubject(site, '') as string).replace(/^unknown subject "": /, '')}`);
    const subject = resolveSubject(site, subjectParam);
    if (typeof subject === 'string') throw badRequest(subject);
    const every = parseEvery(req) ?? '1h';
    const format = parseFormat(req);
    const lang = parseLang(req);
    const raw = one(req, 'range') !== undefined ? reportRange(req, lt, DAY_MS, MAX_SPAN_MS[every]) : parseRange(req.query, { defaultSpanMs: DAY_MS, maxSpanMs: MAX_SPAN_MS[every], now: Date.now() });
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
    const kind = subject.kind === 'parking' ? [C.share_avg, C.share_max] : [C.people_avg, C.people_max];
    if (format === 'csv') return csv(res, lang, `usage_${subject.subject}_${every}_${day(body.from, body.to)}`, [C.t, C.local_time, C.time_zone, ...kind], pointRows(lt, points));
    res.json(body);
  }));

  r.get('/reports/heatmap', manager, caught(async (req, res) => {
    const subjectParam = one(req, 'subject') ?? 'parking';
    const subject = resolveSubject(site, subjectParam);
    if (typeof subject === 'string') throw badRequest(subject);
    const format = parseFormat(req);
    const lang = parseLang(req);
    const range = reportRange(req, lt, 30 * DAY_MS);
    const h = await builder.heatmap(subject.subject, range);
    const kind = subject.kind === 'parking' ? [C.share_avg, C.share_max] : [C.people_avg, C.people_max];
    if (format === 'csv') return csv(res, lang, `heatmap_${subject.subject}_${day(h.from, h.to)}`, [C.weekday, C.hour, C.time_zone, ...kind], heatmapRows(lt, cellWords(lang), h));
    res.json(h);
  }));

  r.get('/reports/parking', manager, caught(async (req, res) => {
    const zone = one(req, 'zone');
    if (zone !== undefined && !site.zone(zone)) throw badRequest(`zone: unknown zone "${zone.slice(0, 64)}"; use ${site.zones.map((z) => z.id).join(', ')}`);
    const format = parseFormat(req);
    const lang = parseLang(req);
    const w = cellWords(lang);
    const table = format === 'csv' ? parseTable(req, ['days', 'occupancy', 'hours', 'heatmap', 'zones', 'overstays']) : '';
    const range = reportRange(req, lt, 7 * DAY_MS);
    const every = parseEvery(req);
    if (every === '15m' && range.to - range.from > MAX_SPAN_MS['15m']) throw badRequest(`every: 15m is allowed for ranges up to ${Math.round(MAX_SPAN_MS['15m'] / DAY_MS)} days; use 1h or 1d`);
    const rep = await builder.parking(range, { zone, every });
    if (format === 'json') return res.json(rep);
    const name = `parking${zone ? `_${zone}` : ''}_${table}_${day(rep.from, rep.to)}`;
    const share = [C.share_avg, C.share_max];
    switch (table) {
      case 'occupancy':
        return csv(res, lang, name, [C.t, C.local_time, C.time_zone, ...share], pointRows(lt, rep.occupancy));
      case 'hours':
        return csv(res, lang, name, [C.hour, C.time_zone, ...share], rep.byHour.map((h) => [h.hour, lt.timezone, h.avg, h.max]));
      case 'heatmap':
        return csv(res, lang, name, [C.weekday, C.hour, C.time_zone, ...share], heatmapRows(lt, w, rep.heatmap));
      case 'zones':
        return csv(
          res,
          lang,
          name,
          [C.zone, C.name, C.bays, ...share, C.peak_at, C.peak_local],
          rep.zones.map((z) => [z.id, w.name(site.zone(z.id) ?? z), z.bays, z.avg, z.max, z.peakAt, stamp(lt, z.peakAt)]),
        );
      case 'overstays':
        return csv(
          res,
          lang,
          name,
          [C.pass, C.gate_in, C.entry_at, C.entry_local, C.exit_at, C.exit_local, C.hours, C.open],
          rep.overstays.items.map((o) => [o.pass, o.gateIn, o.entryAt, lt.stamp(Date.parse(o.entryAt)), o.exitAt, stamp(lt, o.exitAt), o.hours, w.yesNo(o.open)]),
        );
      default:
        return csv(
          res,
          lang,
          name,
          [C.date, C.time_zone, ...share, C.peak_at, C.peak_local, C.sessions, C.turnover, C.avg_dwell_min, C.median_dwell_min, C.overstays, C.entries, C.exits, C.sensor_arrivals, C.drift_pct, C.drift],
          rep.days.map((d) => [d.date, lt.timezone, d.avg, d.max, d.peakAt, stamp(lt, d.peakAt), d.sessions, d.turnover, d.avgDwellMin, d.medianDwellMin, d.overstays, d.entries, d.exits, d.sensorArrivals, d.driftPct, w.yesNo(d.drift)]),
        );
    }
  }));

  r.get('/reports/venues', manager, caught(async (req, res) => {
    const venue = one(req, 'venue');
    if (venue !== undefined && !site.venue(venue)) throw badRequest(`venue: unknown venue "${venue.slice(0, 64)}"; use ${site.venues.map((v) => v.id).join(', ')}`);
    const format = parseFormat(req);
    const lang = parseLang(req);
    const w = cellWords(lang);
    const table = format === 'csv' ? parseTable(req, ['days', 'occupancy', 'hours', 'heatmap']) : '';
    const range = reportRange(req, lt, 7 * DAY_MS);
    const every = parseEvery(req);
    if (every === '15m' && range.to - range.from > MAX_SPAN_MS['15m']) throw badRequest(`every: 15m is allowed for ranges up to ${Math.round(MAX_SPAN_MS['15m'] / DAY_MS)} days; use 1h or 1d`);
    const rep = await builder.venues(range, { venue, every });
    if (format === 'json') return res.json(rep);
    const name = `venues${venue ? `_${venue}` : ''}_${table}_${day(rep.from, rep.to)}`;
    const people = [C.people_avg, C.people_max];
    const who = (v: { id: string; name: string }): CsvCell[] => [v.id, w.name(site.venue(v.id) ?? v)];
    switch (table) {
      case 'occupancy':
        return csv(res, lang, name, [C.venue, C.venue_name, C.t, C.local_time, C.time_zone, ...people], rep.venues.flatMap((v) => pointRows(lt, v.occupancy, who(v))));
      case 'hours':
        return csv(res, lang, name, [C.venue, C.venue_name, C.hour, C.time_zone, ...people, C.visitors], rep.venues.flatMap((v) => v.byHour.map((h) => [...who(v), h.hour, lt.timezone, h.avg, h.max, h.visitors])));
      case 'heatmap':
        return csv(res, lang, name, [C.venue, C.venue_name, C.weekday, C.hour, C.time_zone, ...people], rep.venues.flatMap((v) => heatmapRows(lt, w, v.heatmap, who(v))));
      default:
        return csv(
          res,
          lang,
          name,
          [C.venue, C.venue_name, C.date, C.time_zone, C.visitors, ...people, C.peak_at, C.peak_local],
          rep.venues.flatMap((v) => v.days.map((d) => [...who(v), d.date, lt.timezone, d.visitors, d.avg, d.max, d.peakAt, stamp(lt, d.peakAt)])),
        );
    }
  }));

  r.get('/reports/flood', manager, caught(async (req, res) => {
    const room = one(req, 'room');
    if (room !== undefined && !site.room(room)) throw badRequest(`room: unknown flood room "${room.slice(0, 64)}"; use ${site.rooms.map((x) => x.id).join(', ')}`);
    const format = parseFormat(req);
    const lang = parseLang(req);
    const w = cellWords(lang);
    const table = format === 'csv' ? parseTable(req, ['days', 'levels', 'pumps']) : '';
    const range = reportRange(req, lt, 30 * DAY_MS);
    const rep = await builder.flood(range, { room });
    if (format === 'json') return res.json(rep);
    const name = `flood${room ? `_${room}` : ''}_${table}_${day(rep.from, rep.to)}`;
    const where = (x: { id: string; name: string }): CsvCell[] => [x.id, w.name(site.room(x.id) ?? x)];
    switch (table) {
      case 'levels':
        return csv(
          res,
          lang,
          name,
          [C.room, C.room_name, C.sensor, C.max_mm, C.max_at, C.max_local, C.avg_mm, C.above_warn_min, C.above_alarm_min, C.above_critical_min],
          rep.rooms.flatMap((x) => x.levels.map((l) => [...where(x), l.id, l.maxMm, l.at, stamp(lt, l.at), l.avgMm, l.aboveMin.warn, l.aboveMin.alarm, l.aboveMin.critical])),
        );
      case 'pumps':
        return csv(
          res,
          lang,
          name,
          [C.room, C.room_name, C.pump, C.role, C.run_hours, C.starts, C.starts_per_day],
          rep.rooms.flatMap((x) => x.pumps.map((p) => [...where(x), p.id, w.role(p.role), p.runHours, p.starts, p.startsPerDay])),
        );
      default: {
        const pumpIds = [...new Set(rep.rooms.flatMap((x) => x.pumps.map((p) => p.id)))];
        return csv(
          res,
          lang,
          name,
          [C.room, C.room_name, C.date, C.time_zone, C.max_level_mm, C.max_level_at, C.max_level_local, C.above_warn_min, C.above_alarm_min, C.above_critical_min, ...pumpIds.flatMap((p) => [pumpColumn(p, 'run_hours'), pumpColumn(p, 'starts')])],
          rep.rooms.flatMap((x) =>
            x.days.map((d) => [
              ...where(x),
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
  }));

  // The monthly utilisation report as a PDF: ?month=YYYY-MM (default: this month so far), lang.
  r.get('/reports/monthly.pdf', manager, caught(async (req, res) => {
    const q = monthlyPdfQuerySchema.safeParse(req.query);
    if (!q.success) throw badRequest(zodMessage(q.error));
    // The reader's language from the dashboard; else Chinese for a site whose names are Chinese.
    const lang: ReportLang = q.data.lang ?? (site.nameZh ? 'zh-CN' : 'en');
    const month = monthRange(lt, q.data.month, Date.now());
    if (typeof month === 'string') throw badRequest(month);
    const pdf = await monthlyPdf(reports, month, lang);
    res.setHeader('Content-Type', 'application/pdf');
    res.setHeader('Content-Disposition', `attachment; filename="parkops_monthly_${month.month}_${lang}.pdf"`);
    res.send(pdf);
  }));

  return r;
}
