/**
 * Report periods a person picks: a local day, a Monday-to-Sunday week, a calendar month, a custom run of
 * whole local days, or a rolling "last 7 days / 30 days / 12 months". Days are the site's days (its time
 * zone), not the browser's or UTC. Pure and browser-safe: the API validates `?range=` with it and the
 * dashboard's range picker resolves the same URL the same way, so a bad range is refused alike in both.
 */
import { DAY_MS, QUARTER_MS, type LocalTime } from './local-time.ts';
import type { Every } from './types.ts';

export const PERIOD_KINDS = ['day', 'week', 'month', 'custom', '7d', '30d', '12m'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

/** Longest range a report serves: a year, leap day included. */
export const REPORT_MAX_DAYS = 366;

export interface Period {
  kind: PeriodKind;
  /** First local date of the period (YYYY-MM-DD): the day, the week's Monday, the month's 1st, a custom start. */
  date: string;
  /** Last local date the period covers (inclusive). */
  until: string;
  /** Start, epoch ms (a local midnight for calendar periods). */
  from: number;
  /** End of the figures: the period's end, or now (rounded up to a quarter hour) while the period is under way. */
  to: number;
  /** The period's own end (the chart's axis runs to it). */
  end: number;
  /** The series bucket that suits the period's length. */
  every: Every;
}

/** What is wrong with a period's parameters, in a form each side words in its reader's language. */
export type PeriodProblem =
  | { field: 'range'; problem: 'unknown'; value: string }
  | { field: 'date' | 'from' | 'to'; problem: 'not_a_date'; value: string }
  | { field: 'from' | 'to'; problem: 'missing' }
  | { field: 'date' | 'from'; problem: 'future'; value: string }
  | { field: 'to'; problem: 'before_from'; value: string }
  | { field: 'range'; problem: 'too_long'; days: number; maxDays: number };

export interface PeriodQuery {
  range?: string | null | undefined;
  date?: string | null | undefined;
  from?: string | null | undefined;
  to?: string | null | undefined;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

/** `YYYY-MM-DD` as [year, month 1..12, day], or null when it is not a real calendar date. */
export function parseDate(s: string): [number, number, number] | null {
  const m = DATE.exec(s) ?? (MONTH.test(s) ? DATE.exec(`${s}-01`) : null);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return null;
  return [y, mo, d];
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const fmt = (y: number, m: number, d: number): string => {
  const t = new Date(Date.UTC(y, m - 1, d));
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
};

/** The date `n` days after `date` (calendar arithmetic; no time zone involved). */
export function addDays(date: string, n: number): string {
  const [y, m, d] = parseDate(date)!;
  return fmt(y, m, d + n);
}

/** The 1st of the month `n` months after the month of `date`. */
export function addMonths(date: string, n: number): string {
  const [y, m] = parseDate(date)!;
  return fmt(y, m + n, 1);
}

/** Weekday of a calendar date, Monday 0 .. Sunday 6. */
function weekdayOf(date: string): number {
  const [y, m, d] = parseDate(date)!;
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

/** Epoch ms of the site's local midnight that starts `date`. */
export function midnightOf(lt: LocalTime, date: string): number {
  const [y, m, d] = parseDate(date)!;
  const noonUtc = Date.UTC(y, m - 1, d, 12);
  // Local noon of that date, then back to its midnight: right whatever the zone's offset or DST.
  return lt.midnightBefore(noonUtc - lt.offsetMs(noonUtc));
}

/** The site's local date today. */
export function today(lt: LocalTime, now: number): string {
  return lt.date(now);
}

/** The series bucket for a span: quarter hours up to two days, hours up to 92 days, else days. */
export function suggestEvery(spanMs: number): Every {
  if (spanMs <= 2 * DAY_MS) return '15m';
  return spanMs <= 92 * DAY_MS ? '1h' : '1d';
}

/** The period the next (n = 1) or previous (n = -1) step of the picker shows; null for rolling and custom periods. */
export function stepDate(kind: PeriodKind, date: string, n: number): string | null {
  switch (kind) {
    case 'day':
      return addDays(date, n);
    case 'week':
      return addDays(date, 7 * n);
    case 'month':
      return addMonths(date, n);
    case 'custom':
    case '7d':
    case '30d':
    case '12m':
      return null;
  }
}

function calendar(lt: LocalTime, now: number, kind: PeriodKind, first: string, afterLast: string): Period {
  const from = midnightOf(lt, first);
  const end = midnightOf(lt, afterLast);
  const to = Math.min(end, Math.ceil(now / QUARTER_MS) * QUARTER_MS);
  return { kind, date: first, until: addDays(afterLast, -1), from, to: Math.max(to, from + QUARTER_MS), end, every: suggestEvery(end - from) };
}

/**
 * Resolves `?range=&date=` (or `range=custom&from=&to=`, dates inclusive) in the site's zone. Without
 * `range` the caller keeps its own default; `today` is the old name of the current day.
 */
export function parsePeriod(q: PeriodQuery, lt: LocalTime, now: number): Period | PeriodProblem {
  const raw = (q.range ?? '').trim();
  const kind = raw === 'today' ? 'day' : raw;
  if (!(PERIOD_KINDS as readonly string[]).includes(kind)) return { field: 'range', problem: 'unknown', value: raw.slice(0, 40) };
  const k = kind as PeriodKind;
  const todayDate = today(lt, now);
  const dateParam = (q.date ?? '').trim();
  if (k === 'day' || k === 'week' || k === 'month') {
    if (dateParam !== '' && parseDate(dateParam) === null) return { field: 'date', problem: 'not_a_date', value: dateParam.slice(0, 40) };
    const date = dateParam === '' ? todayDate : fmt(...parseDate(dateParam)!);
    if (date > todayDate) return { field: 'date', problem: 'future', value: date };
    if (k === 'day') return calendar(lt, now, k, date, addDays(date, 1));
    if (k === 'week') {
      const monday = addDays(date, -weekdayOf(date));
      return calendar(lt, now, k, monday, addDays(monday, 7));
    }
    const first = addMonths(date, 0);
    return calendar(lt, now, k, first, addMonths(first, 1));
  }
  if (k === 'custom') {
    const f = (q.from ?? '').trim();
    const t = (q.to ?? '').trim();
    if (f === '') return { field: 'from', problem: 'missing' };
    if (t === '') return { field: 'to', problem: 'missing' };
    if (!DATE.test(f) || parseDate(f) === null) return { field: 'from', problem: 'not_a_date', value: f.slice(0, 40) };
    if (!DATE.test(t) || parseDate(t) === null) return { field: 'to', problem: 'not_a_date', value: t.slice(0, 40) };
    if (f > todayDate) return { field: 'from', problem: 'future', value: f };
    if (t < f) return { field: 'to', problem: 'before_from', value: t };
    const days = Math.round((Date.UTC(...ymd(t)) - Date.UTC(...ymd(f))) / DAY_MS) + 1;
    if (days > REPORT_MAX_DAYS) return { field: 'range', problem: 'too_long', days, maxDays: REPORT_MAX_DAYS };
    return calendar(lt, now, k, f, addDays(t, 1));
  }
  // Rolling: up to now, from the same local time so many days (or a year) before.
  const end = Math.ceil(now / QUARTER_MS) * QUARTER_MS;
  const back = k === '7d' ? 7 : k === '30d' ? 30 : 0;
  let from: number;
  if (back > 0) from = end - back * DAY_MS;
  else {
    const d = new Date(end + lt.offsetMs(end));
    d.setUTCFullYear(d.getUTCFullYear() - 1);
    from = d.getTime() - lt.offsetMs(d.getTime());
  }
  return { kind: k, date: lt.date(from), until: lt.date(end - 1), from, to: end, end, every: suggestEvery(end - from) };
}

function ymd(s: string): [number, number, number] {
  const [y, m, d] = parseDate(s)!;
  return [y, m - 1, d];
}

export const isProblem = (p: Period | PeriodProblem): p is PeriodProblem => 'problem' in p;

/** The problem in English, naming the parameter (the API's 400 message). */
export function describeProblem(p: PeriodProblem): string {
  switch (p.problem) {
    case 'unknown':
      return `range: "${p.value}" is not a period; use ${PERIOD_KINDS.join(', ')}`;
    case 'not_a_date':
      return `${p.field}: "${p.value}" is not a date; use YYYY-MM-DD`;
    case 'missing':
      return `${p.field}: a custom range needs from and to as dates (YYYY-MM-DD)`;
    case 'future':
      return `${p.field}: ${p.value} is after today; pick a date up to today`;
    case 'before_from':
      return `to: ${p.value} is before from`;
    case 'too_long':
      return `range: ${p.days} days is too long; at most ${p.maxDays} days`;
  }
}
