import { describe, expect, it } from 'vitest';
import { LocalTime } from './local-time.ts';
import { addMonths, describeProblem, isProblem, midnightOf, parsePeriod, stepDate, suggestEvery, type Period, type PeriodQuery } from './periods.ts';

const sh = new LocalTime('Asia/Shanghai');
const local = (s: string): number => Date.parse(`${s}+08:00`);
// Wednesday 2026-11-18 14:07 in Jining.
const NOW = local('2026-11-18T14:07:00');

function period(q: PeriodQuery, lt = sh, now = NOW): Period {
  const p = parsePeriod(q, lt, now);
  if (isProblem(p)) throw new Error(describeProblem(p));
  return p;
}

describe('report periods in the site zone', () => {
  it('a past day runs from local midnight to the next, in quarter hours', () => {
    const p = period({ range: 'day', date: '2026-11-16' });
    expect(p).toMatchObject({ kind: 'day', date: '2026-11-16', until: '2026-11-16', from: local('2026-11-16T00:00:00'), to: local('2026-11-17T00:00:00'), end: local('2026-11-17T00:00:00'), every: '15m' });
  });

  it('today (and the old name "today") runs to now, rounded up to a quarter, with the axis to midnight', () => {
    for (const range of ['day', 'today']) {
      const p = period({ range });
      expect(p.date).toBe('2026-11-18');
      expect(p.from).toBe(local('2026-11-18T00:00:00'));
      expect(p.to).toBe(local('2026-11-18T14:15:00'));
      expect(p.end).toBe(local('2026-11-19T00:00:00'));
    }
  });

  it('a week is Monday to Sunday, whichever day is given', () => {
    for (const date of ['2026-11-09', '2026-11-12', '2026-11-15']) {
      const p = period({ range: 'week', date });
      expect([p.date, p.until, p.from, p.to, p.every]).toEqual(['2026-11-09', '2026-11-15', local('2026-11-09T00:00:00'), local('2026-11-16T00:00:00'), '1h']);
    }
  });

  it('a month is the calendar month (a whole month back is 30 or 31 days), and YYYY-MM is accepted', () => {
    const oct = period({ range: 'month', date: '2026-10' });
    expect([oct.date, oct.until, (oct.end - oct.from) / 86_400_000]).toEqual(['2026-10-01', '2026-10-31', 31]);
    const feb = period({ range: 'month', date: '2024-02-10' });
    expect([feb.date, feb.until]).toEqual(['2024-02-01', '2024-02-29']);
    expect(period({ range: 'month' }).to).toBe(local('2026-11-18T14:15:00'));
  });

  it('custom runs over whole local days, both ends included, up to a year (366 days)', () => {
    const p = period({ range: 'custom', from: '2026-11-01', to: '2026-11-03' });
    expect([p.from, p.end, p.every]).toEqual([local('2026-11-01T00:00:00'), local('2026-11-04T00:00:00'), '1h']);
    const year = period({ range: 'custom', from: '2025-11-18', to: '2026-11-18' });
    expect(year.every).toBe('1d');
    expect(year.to).toBe(local('2026-11-18T14:15:00'));
  });

  it('rolling periods end now', () => {
    const w = period({ range: '7d' });
    expect([w.from, w.to]).toEqual([local('2026-11-11T14:15:00'), local('2026-11-18T14:15:00')]);
    const y = period({ range: '12m' });
    expect(y.from).toBe(local('2025-11-18T14:15:00'));
    expect(y.every).toBe('1d');
  });

  const bad: [PeriodQuery, RegExp][] = [
    [{ range: 'fortnight' }, /^range: "fortnight" is not a period; use day, week, month, custom, 7d, 30d, 12m$/],
    [{ range: '' }, /^range: "" is not a period/],
    [{ range: 'day', date: '2026-02-30' }, /^date: "2026-02-30" is not a date; use YYYY-MM-DD$/],
    [{ range: 'day', date: 'yesterday' }, /^date: "yesterday" is not a date/],
    [{ range: 'week', date: '2026-11-19' }, /^date: 2026-11-19 is after today/],
    [{ range: 'custom', to: '2026-11-02' }, /^from: a custom range needs from and to/],
    [{ range: 'custom', from: '2026-11-02' }, /^to: a custom range needs/],
    [{ range: 'custom', from: '2026-11-05', to: '2026-11-02' }, /^to: 2026-11-02 is before from$/],
    [{ range: 'custom', from: '2026-11-05T00:00:00Z', to: '2026-11-06' }, /^from: "2026-11-05T00:00:00Z" is not a date/],
    [{ range: 'custom', from: '2025-01-01', to: '2026-11-01' }, /^range: 670 days is too long; at most 366 days$/],
  ];
  for (const [q, message] of bad) {
    it(`refuses ${JSON.stringify(q)} naming the parameter`, () => {
      const p = parsePeriod(q, sh, NOW);
      expect(isProblem(p)).toBe(true);
      if (isProblem(p)) expect(describeProblem(p)).toMatch(message);
    });
  }

  it('a daylight-saving day in a zone that has one is 23 hours long, from its own midnight', () => {
    const ny = new LocalTime('America/New_York');
    const p = period({ range: 'day', date: '2026-03-08' }, ny, Date.parse('2026-04-01T12:00:00Z'));
    expect(new Date(p.from).toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect((p.end - p.from) / 3_600_000).toBe(23);
    expect(midnightOf(ny, '2026-11-01')).toBe(Date.parse('2026-11-01T04:00:00Z'));
  });

  it('the picker steps a day, a week or a month, and not a custom or rolling period', () => {
    expect(stepDate('day', '2026-03-01', -1)).toBe('2026-02-28');
    expect(stepDate('week', '2026-11-16', 1)).toBe('2026-11-23');
    expect(stepDate('month', '2026-12-01', 1)).toBe('2027-01-01');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-01');
    expect(stepDate('custom', '2026-11-16', 1)).toBeNull();
    expect(stepDate('7d', '2026-11-16', 1)).toBeNull();
  });

  it('suggests quarter hours up to two days, hours up to 92 days, days beyond', () => {
    expect([suggestEvery(86_400_000), suggestEvery(3 * 86_400_000), suggestEvery(92 * 86_400_000), suggestEvery(93 * 86_400_000)]).toEqual(['15m', '1h', '1h', '1d']);
  });
});
