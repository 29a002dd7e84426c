import { describe, expect, it } from 'vitest';
import { change, presetRange, previousRange, rangeFromUrl, reportUrl } from './reports.ts';

describe('report ranges', () => {
  const now = new Date('2026-06-10T15:30:00');
  it('maps presets to ranges and bucket sizes, and the previous period to the same length just before', () => {
    const week = presetRange('7d', now);
    expect(week.every).toBe('1h');
    expect(now.getTime() - week.from.getTime()).toBe(7 * 86_400_000);
    const prev = previousRange(week);
    expect(prev.to.getTime()).toBe(week.from.getTime());
    expect(week.from.getTime() - prev.from.getTime()).toBe(7 * 86_400_000);
    expect(presetRange('today', now).from.getHours()).toBe(0);
    expect(presetRange('12m', now).every).toBe('1d');
  });
  it('reads the preset from the URL, defaulting to 7 days for anything unknown', () => {
    expect(rangeFromUrl(new URL('http://x/reports?range=30d'), now).preset).toBe('30d');
    expect(rangeFromUrl(new URL('http://x/reports?range=bogus'), now).preset).toBe('7d');
  });
  it('builds report and CSV URLs', () => {
    const r = presetRange('30d', now);
    const u = new URL(reportUrl('parking', r, { zone: 'A', venue: undefined }, 'days'), 'http://x');
    expect(u.pathname).toBe('/api/reports/parking');
    expect(Object.fromEntries(u.searchParams)).toMatchObject({ zone: 'A', format: 'csv', table: 'days', every: '1h' });
    expect(u.searchParams.has('venue')).toBe(false);
  });
  it('gives relative change, or null with nothing to compare', () => {
    expect(change(12, 10)).toBeCloseTo(0.2);
    expect(change(5, 0)).toBeNull();
    expect(change(null, 3)).toBeNull();
  });
});
