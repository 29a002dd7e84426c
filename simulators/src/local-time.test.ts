import { describe, expect, it } from 'vitest';
import { HOUR_MS, LocalTime } from './local-time.ts';

describe('LocalTime', () => {
  it('knows the site day in Asia/Shanghai (UTC+8, no daylight saving)', () => {
    const t = new LocalTime('Asia/Shanghai');
    const ms = Date.parse('2026-07-20T14:30:00+08:00');
    expect(t.hourOfDay(ms)).toBeCloseTo(14.5, 9);
    expect(t.weekday(ms)).toBe(1);
    expect(t.midnightBefore(ms)).toBe(Date.parse('2026-07-20T00:00:00+08:00'));
    expect(t.nextMidnight(ms)).toBe(Date.parse('2026-07-21T00:00:00+08:00'));
    expect(t.midnightBefore(Date.parse('2026-07-20T00:00:00+08:00'))).toBe(Date.parse('2026-07-20T00:00:00+08:00'));
    expect(t.iso(ms)).toBe('2026-07-20T14:30:00.000+08:00');
    expect(t.at(t.midnightBefore(ms), 8.5)).toBe(Date.parse('2026-07-20T08:30:00+08:00'));
  });

  it('keeps local hours right across a daylight-saving change (Europe/Berlin, 29 March 2026)', () => {
    const t = new LocalTime('Europe/Berlin');
    const midnight = Date.parse('2026-03-29T00:00:00+01:00');
    expect(t.nextMidnight(midnight) - midnight).toBe(23 * HOUR_MS);
    expect(t.at(midnight, 8)).toBe(Date.parse('2026-03-29T08:00:00+02:00'));
    expect(t.iso(Date.parse('2026-03-29T12:00:00Z'))).toBe('2026-03-29T14:00:00.000+02:00');
    expect(t.midnightBefore(Date.parse('2026-10-25T23:30:00+01:00'))).toBe(Date.parse('2026-10-25T00:00:00+02:00'));
  });
});
