import { describe, expect, it } from 'vitest';
import { axisTicks, compare, change, localTime, periodHref, problemMessage, reportUrl, selectionFromUrl, siteTime, stepHref, tickLabel } from './reports.ts';

const cal = { timezone: 'Asia/Shanghai' };
const lt = localTime('Asia/Shanghai');
const local = (s: string): number => Date.parse(`${s}+08:00`);
// Wednesday 2026-11-18 14:07 in Jining; the browser's own zone plays no part.
const NOW = local('2026-11-18T14:07:00');
const url = (q: string): URL => new URL(`http://x/reports${q}`);

describe('report periods from the URL', () => {
  it('defaults to the last 7 days, and resolves a week in the site zone with the previous week before it', () => {
    const def = selectionFromUrl(url(''), cal, NOW);
    expect(def.ok && def.period.kind).toBe('7d');
    const s = selectionFromUrl(url('?range=week&date=2026-11-12&zone=A'), cal, NOW);
    if (!s.ok) throw new Error('expected a period');
    expect(s.range.from.toISOString()).toBe('2026-11-08T16:00:00.000Z');
    expect(s.range.every).toBe('1h');
    expect(s.prev.to.getTime()).toBe(s.range.from.getTime());
    expect(s.prev.from.getTime()).toBe(local('2026-11-02T00:00:00'));
  });

  it('a bad range is a problem to show, never a silent default', () => {
    const s = selectionFromUrl(url('?range=bogus'), cal, NOW);
    expect(s.ok).toBe(false);
    if (!s.ok) expect(problemMessage(s.problem)).toEqual({ key: 'reports.range.unknown', params: { value: 'bogus' } });
    const long = selectionFromUrl(url('?range=custom&from=2024-01-01&to=2026-01-01'), cal, NOW);
    if (!long.ok) expect(problemMessage(long.problem)).toEqual({ key: 'reports.range.tooLong', params: { days: 732, max: 366 } });
    expect(long.ok).toBe(false);
  });

  it('links keep the other parameters, and the picker never steps into the future', () => {
    expect(periodHref(url('?range=7d&zone=B'), 'month', { date: '2026-10-01' })).toBe('/reports?zone=B&range=month&date=2026-10-01');
    const s = selectionFromUrl(url('?range=day'), cal, NOW);
    if (!s.ok) throw new Error('expected a period');
    expect(stepHref(url('?range=day'), s.period, -1, '2026-11-18')).toBe('/reports?range=day&date=2026-11-17');
    expect(stepHref(url('?range=day'), s.period, 1, '2026-11-18')).toBeNull();
  });

  it('builds report and CSV URLs with the reader language on exports', () => {
    const s = selectionFromUrl(url('?range=30d'), cal, NOW);
    if (!s.ok) throw new Error('expected a period');
    const u = new URL(reportUrl('parking', s.range, { zone: 'A', venue: undefined }, 'days', 'zh-CN'), 'http://x');
    expect(u.pathname).toBe('/api/reports/parking');
    expect(Object.fromEntries(u.searchParams)).toMatchObject({ zone: 'A', format: 'csv', table: 'days', every: '1h', lang: 'zh-CN' });
    expect(u.searchParams.has('venue')).toBe(false);
  });
});

describe('axis ticks at local midnights and hours', () => {
  it('a day: every three hours from local midnight, midnight as a date', () => {
    const ticks = axisTicks(local('2026-11-16T00:00:00'), local('2026-11-17T00:00:00'), lt);
    expect(ticks.map((k) => lt.stamp(k.value).slice(11))).toEqual(['00:00', '03:00', '06:00', '09:00', '12:00', '15:00', '18:00', '21:00', '00:00']);
    expect(tickLabel(ticks[0]!, lt, 'en')).toBe('Nov 16');
    expect(tickLabel(ticks[0]!, lt, 'zh-CN')).toBe('11月16日');
    expect(tickLabel(ticks[3]!, lt, 'en')).toBe('09:00');
  });

  it('a week: each local midnight; a quarter: Mondays; a year: the 1st of each month', () => {
    const week = axisTicks(local('2026-11-16T00:00:00'), local('2026-11-23T00:00:00'), lt);
    expect(week).toHaveLength(8);
    expect(week.every((k) => lt.stamp(k.value).endsWith('00:00') && k.kind === 'date')).toBe(true);
    const quarter = axisTicks(local('2026-08-01T00:00:00'), local('2026-11-01T00:00:00'), lt);
    expect(quarter.every((k) => lt.weekday(k.value) === 0 && lt.stamp(k.value).endsWith('00:00'))).toBe(true);
    expect(quarter.length).toBeLessThanOrEqual(9);
    const year = axisTicks(local('2025-11-18T14:15:00'), local('2026-11-18T14:15:00'), lt);
    expect(year.every((k) => /-01 00:00$/.test(lt.stamp(k.value)))).toBe(true);
    expect(year.length).toBeGreaterThanOrEqual(6);
  });

  it('an odd start (a rolling 7 days) still ticks on midnights, never on "09:33 PM"', () => {
    const ticks = axisTicks(local('2026-11-11T14:15:00'), local('2026-11-18T14:15:00'), lt);
    expect(ticks.map((k) => lt.date(k.value))).toEqual(['2026-11-12', '2026-11-13', '2026-11-14', '2026-11-15', '2026-11-16', '2026-11-17', '2026-11-18']);
  });

  it('site times are shown in the site zone, the year only when it is not this one', () => {
    expect(siteTime('2026-11-16T00:30:00Z', lt, NOW)).toBe('11-16 08:30');
    expect(siteTime('2025-11-16T00:30:00Z', lt, NOW)).toBe('2025-11-16 08:30');
  });
});

describe('comparison with the previous period', () => {
  it('shares in points of the shown percentages; amounts as a difference and a relative change', () => {
    expect(compare('share', 0.2349, 0.2111)).toEqual({ sign: 1, diff: 2, rel: null });
    expect(compare('share', 0.231, 0.229)).toEqual({ sign: 0, diff: 0, rel: null });
    expect(compare('amount', 112, 100)).toEqual({ sign: 1, diff: 12, rel: 0.12 });
    expect(compare('amount', 5, 0)).toEqual({ sign: 1, diff: 5, rel: null });
    expect(compare('amount', null, 3)).toBeNull();
    expect(change(12, 10)).toBeCloseTo(0.2);
  });
});
