/**
 * The reports pages' period (in the URL), comparison period, report and export URLs, chart ticks and
 * comparison wording, as pure functions. Periods are the site's days: they are resolved by the same
 * module the API uses (ingest/src/reports/periods.ts), in the site's time zone from
 * `GET /api/reports/calendar`, so a bad `?range=` is refused on the page exactly as the API would.
 */
import { LocalTime } from '@parkops/ingest/reports/local-time.ts';
import { isProblem, parsePeriod, stepDate, type Period, type PeriodKind, type PeriodProblem } from '@parkops/ingest/reports/periods.ts';
import type { ReportsCalendar } from '@parkops/contract/reports.ts';
import type { MessageKey } from './i18n/messages.ts';

export type Every = '15m' | '1h' | '1d';
export type { Period, PeriodKind, PeriodProblem };

/** The calendar periods of the picker, and the rolling ones beside them. */
export const CALENDAR_KINDS = ['day', 'week', 'month', 'custom'] as const satisfies readonly PeriodKind[];
export const ROLLING_KINDS = ['7d', '30d', '12m'] as const satisfies readonly PeriodKind[];
/** Without `?range=` the pages show the last 7 days. */
export const DEFAULT_KIND: PeriodKind = '7d';

export interface Range { from: Date; to: Date; every: Every }

export type Selection =
  | { ok: true; period: Period; range: Range; prev: Range; lt: LocalTime }
  | { ok: false; problem: PeriodProblem };

const clocks = new Map<string, LocalTime>();
export function localTime(timezone: string): LocalTime {
  let lt = clocks.get(timezone);
  if (!lt) clocks.set(timezone, (lt = new LocalTime(timezone)));
  return lt;
}

/** The period the URL asks for, in the site's zone; or what is wrong with it. */
export function selectionFromUrl(url: URL, cal: Pick<ReportsCalendar, 'timezone'>, now: number): Selection {
  const q = url.searchParams;
  const lt = localTime(cal.timezone);
  const p = parsePeriod({ range: q.get('range') ?? DEFAULT_KIND, date: q.get('date'), from: q.get('from'), to: q.get('to') }, lt, now);
  if (isProblem(p)) return { ok: false, problem: p };
  const range: Range = { from: new Date(p.from), to: new Date(p.to), every: p.every };
  return { ok: true, period: p, range, prev: previousRange(range), lt };
}

/** The period of the same length just before. */
export function previousRange(r: Range): Range {
  const len = r.to.getTime() - r.from.getTime();
  return { from: new Date(r.from.getTime() - len), to: new Date(r.from.getTime()), every: r.every };
}

/** A link to the same page for another period, keeping the other parameters (zone, ...). */
export function periodHref(url: URL, kind: PeriodKind, extra: { date?: string; from?: string; to?: string } = {}): string {
  const q = new URLSearchParams(url.searchParams);
  for (const k of ['range', 'date', 'from', 'to']) q.delete(k);
  q.set('range', kind);
  for (const [k, v] of Object.entries(extra)) if (v) q.set(k, v);
  return `${url.pathname}?${q}`;
}

/** The previous or next day, week or month; null when there is none (custom, rolling, or the future). */
export function stepHref(url: URL, p: Period, n: -1 | 1, today: string): string | null {
  const date = stepDate(p.kind, p.date, n);
  if (date === null || date > today) return null;
  return periodHref(url, p.kind, { date });
}

/** The query part shared by report, usage and export URLs: the resolved times and the bucket. */
function rangeQuery(r: Range): URLSearchParams {
  return new URLSearchParams({ from: r.from.toISOString(), to: r.to.toISOString(), every: r.every });
}

export function usageUrl(subject: string, r: Range, csv = false, lang?: string): string {
  const q = rangeQuery(r);
  q.set('subject', subject);
  if (csv) q.set('format', 'csv');
  if (csv && lang) q.set('lang', lang);
  return `/api/usage?${q}`;
}

/** GET /api/reports/{kind} for a range, JSON or one CSV table (headers in `lang`). */
export function reportUrl(kind: 'parking' | 'venues' | 'flood', r: Range, params: Record<string, string | undefined> = {}, csvTable?: string, lang?: string): string {
  const q = rangeQuery(r);
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  if (csvTable) {
    q.set('format', 'csv');
    q.set('table', csvTable);
    if (lang) q.set('lang', lang);
  }
  return `/api/reports/${kind}?${q}`;
}

/** The monthly PDF of the month a period starts in. */
export function monthlyPdfUrl(p: Period, lang: string): string {
  return `/api/reports/monthly.pdf?${new URLSearchParams({ month: p.date.slice(0, 7), lang })}`;
}

/** The message (and its parameters) for a period problem, in the reader's language. */
export function problemMessage(p: PeriodProblem): { key: MessageKey; params: Record<string, string | number> } {
  switch (p.problem) {
    case 'unknown':
      return { key: 'reports.range.unknown', params: { value: p.value } };
    case 'not_a_date':
      return { key: 'reports.range.notADate', params: { field: p.field, value: p.value } };
    case 'missing':
      return { key: 'reports.range.missing', params: { field: p.field } };
    case 'future':
      return { key: 'reports.range.future', params: { value: p.value } };
    case 'before_from':
      return { key: 'reports.range.beforeFrom', params: { value: p.value } };
    case 'too_long':
      return { key: 'reports.range.tooLong', params: { days: p.days, max: p.maxDays } };
  }
}

// ---- chart axis ---------------------------------------------------------------------------------

export interface Tick {
  /** epoch ms: a local midnight or a whole local hour */
  value: number;
  /** what the tick says: a date at a midnight, a clock time otherwise */
  kind: 'date' | 'time';
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * Axis ticks that land on the site's local midnights and whole hours: every 1, 2, 3, 6 or 12 hours
 * for up to three days (midnights shown as dates), else every 1, 2 or 7 days (weeks on Mondays), or
 * month starts for long spans; at most about `max` ticks.
 */
export function axisTicks(from: number, to: number, lt: LocalTime, max = 9): Tick[] {
  const span = to - from;
  const out: Tick[] = [];
  if (span <= 3 * DAY) {
    const step = [1, 2, 3, 6, 12].find((h) => span / (h * HOUR) <= max) ?? 24;
    for (let t = lt.floor(from, '1h'); t <= to; t += HOUR) {
      if (t < from || lt.hour(t) % step !== 0) continue;
      out.push({ value: t, kind: lt.hour(t) === 0 ? 'date' : 'time' });
    }
    return out;
  }
  const days: number[] = [];
  for (let t = lt.floor(from, '1d'); t <= to; t = lt.nextMidnight(t)) if (t >= from) days.push(t);
  if (span <= 14 * DAY) {
    const step = days.length <= max ? 1 : 2;
    return days.filter((_, i) => i % step === 0).map((value) => ({ value, kind: 'date' }));
  }
  if (span <= 120 * DAY) {
    const mondays = days.filter((d) => lt.weekday(d) === 0);
    const step = Math.max(1, Math.ceil(mondays.length / max));
    return mondays.filter((_, i) => i % step === 0).map((value) => ({ value, kind: 'date' }));
  }
  const firsts = days.filter((d) => lt.date(d).endsWith('-01'));
  const step = Math.max(1, Math.ceil(firsts.length / max));
  return firsts.filter((_, i) => i % step === 0).map((value) => ({ value, kind: 'date' }));
}

/** A tick's label in the site's zone: "11-26" / "11月26日" at midnight, "09:00" otherwise. */
export function tickLabel(tick: Tick, lt: LocalTime, lang: string): string {
  const stamp = lt.stamp(tick.value); // YYYY-MM-DD HH:mm, site-local
  if (tick.kind === 'time') return stamp.slice(11);
  const [, m, d] = stamp.slice(0, 10).split('-').map(Number) as [number, number, number];
  return lang === 'zh-CN' ? `${m}月${d}日` : new Date(Date.UTC(2000, m - 1, d)).toLocaleDateString('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** A time in the site's zone as people read it: "11-26 09:30" (with the year when it is not this one). */
export function siteTime(iso: string | null | undefined, lt: LocalTime, now = Date.now()): string {
  if (!iso) return '–';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '–';
  const s = lt.stamp(ms);
  return s.slice(0, 4) === lt.date(now).slice(0, 4) ? s.slice(5) : s;
}

// ---- comparisons --------------------------------------------------------------------------------

/** Relative change as a signed share (+0.12 = 12 % more), null when there is nothing to compare. */
export function change(now: number | null | undefined, before: number | null | undefined): number | null {
  if (now === null || now === undefined || before === null || before === undefined || before === 0) return null;
  return (now - before) / before;
}

/**
 * How a figure compares with the previous period, in words that say what they mean: shares in
 * percentage points ("+2 points", the shown percentages' own difference), counts and amounts as the
 * difference in their unit with the relative change beside it ("+12 (+8%)").
 */
export type CompareKind = 'share' | 'amount';
export interface Comparison {
  /** the difference, signed: +1, 0 or -1 */
  sign: 1 | 0 | -1;
  /** in percentage points (share) or in the figure's unit (amount) */
  diff: number;
  /** relative change (amount), null when the previous was zero or missing */
  rel: number | null;
}
export function compare(kind: CompareKind, now: number | null | undefined, before: number | null | undefined): Comparison | null {
  if (now === null || now === undefined || before === null || before === undefined) return null;
  const diff = kind === 'share' ? Math.round(now * 100) - Math.round(before * 100) : now - before;
  return { sign: diff > 0 ? 1 : diff < 0 ? -1 : 0, diff, rel: kind === 'share' ? null : change(now, before) };
}

/** The first time a series has data, or null: reports before it are gaps, not zeros. */
export function firstData(points: readonly { t: string; avg: number | null }[]): string | null {
  return points.find((p) => p.avg !== null)?.t ?? null;
}
