import { describe, expect, it } from 'vitest';
import { parseSpan, parseTime, planTime, UsageError } from './cli-args.ts';

const NOW = Date.parse('2026-07-20T06:00:00Z');

describe('CLI time arguments', () => {
  it('reads spans and times', () => {
    expect(parseSpan('90s', 'x')).toBe(90_000);
    expect(parseSpan('4h', 'x')).toBe(4 * 3_600_000);
    expect(parseTime('now', 'x', NOW)).toBe(NOW);
    expect(parseTime('-30d', 'x', NOW)).toBe(NOW - 30 * 86_400_000);
    expect(parseTime('+10m', 'x', NOW)).toBe(NOW + 600_000);
    expect(parseTime('2026-07-21T08:00:00+08:00', 'x', NOW)).toBe(Date.parse('2026-07-21T00:00:00Z'));
    expect(parseTime('1784505600000', 'x', NOW)).toBe(1784505600000);
    expect(() => parseTime('yesterday', '--from', NOW)).toThrow(/--from: "yesterday" is not a time/);
    expect(() => parseSpan('4 hours', '--duration')).toThrow(UsageError);
  });

  it('picks live, accelerated or back-fill from the options', () => {
    expect(planTime({}, NOW)).toMatchObject({ from: NOW, until: Infinity, pace: 1 });
    expect(planTime({ from: '-30d', to: 'now' }, NOW)).toMatchObject({ from: NOW - 30 * 86_400_000, until: NOW, pace: 'max' });
    expect(planTime({ from: '-6h', speed: '60' }, NOW)).toMatchObject({ from: NOW - 6 * 3_600_000, until: Infinity, pace: 60 });
    expect(planTime({ speed: '60', duration: '4h' }, NOW)).toMatchObject({ from: NOW - 4 * 3_600_000, until: NOW, pace: 60 });
    expect(planTime({ from: '-1h' }, NOW).description).toMatch(/back-fill .* then live/);
  });

  it('refuses what would stamp readings in the future, with the reason', () => {
    expect(() => planTime({ speed: '60' }, NOW)).toThrow(/give --from in the past/);
    expect(() => planTime({ from: '+1h' }, NOW)).toThrow(/--from is in the future/);
    expect(() => planTime({ from: '-1h', to: '-2h' }, NOW)).toThrow(/must come after the start/);
    expect(() => planTime({ speed: 'fast' }, NOW)).toThrow(/--speed/);
  });
});
