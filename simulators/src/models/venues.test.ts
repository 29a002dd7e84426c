import { describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site';
import { DAY_MS, HOUR_MS, LocalTime } from '../local-time.ts';
import { createSimulation } from '../simulation.ts';
import type { SimMessage } from '../types.ts';

const site = loadSite();
const local = new LocalTime(site.timezone);
const MONDAY = Date.parse('2026-07-20T00:00:00+08:00');

/** Two weeks of counter messages: occupancy as ParkOps adds it up, per venue and minute. */
function twoWeeks(): { msgs: SimMessage[]; wills: number } {
  const sim = createSimulation({ site, seed: 21, startAt: MONDAY, realNow: () => MONDAY + 30 * DAY_MS });
  const msgs: SimMessage[] = [];
  for (let d = 0; d < 14 * 24; d++) for (const m of sim.advance(HOUR_MS)) if (m.kind === 'venue') msgs.push(m);
  return { msgs, wills: sim.stats().wills };
}

const { msgs } = twoWeeks();

function series(venue: string): Array<{ at: number; in: number; out: number; occupancy: number }> {
  let occ = 0;
  return msgs
    .filter((m) => m.device === `${venue}-counter`)
    .map((m) => {
      const c = JSON.parse(m.payload) as { in: number; out: number };
      occ += c.in - c.out;
      return { at: m.at, ...c, occupancy: occ };
    });
}

function meanOver(s: ReturnType<typeof series>, fromHour: number, toHour: number, weekend: boolean): number {
  const xs = s.filter((r) => {
    const h = local.hourOfDay(r.at);
    const wd = local.weekday(r.at);
    return h >= fromHour && h < toHour && (wd === 0 || wd === 6) === weekend;
  });
  return xs.reduce((a, r) => a + r.occupancy, 0) / Math.max(1, xs.length);
}

describe('venue counters', () => {
  it('never report occupancy below zero, and never more than capacity (plus a little drift)', () => {
    for (const v of site.venues) {
      const s = series(v.id);
      expect(s.length).toBeGreaterThan(14 * 24 * 50);
      expect(s.filter((r) => r.in < 0 || r.out < 0 || !Number.isInteger(r.in) || !Number.isInteger(r.out))).toEqual([]);
      expect(Math.min(...s.map((r) => r.occupancy))).toBe(0);
      expect(Math.max(...s.map((r) => r.occupancy))).toBeLessThanOrEqual(v.capacity * 1.05);
    }
  });

  it('drift a little: the counts are not perfectly balanced during the day, and are reset at night', () => {
    const s = series('gym');
    const at0330 = s.filter((r) => Math.abs(local.hourOfDay(r.at) - 3.5) < 0.01);
    expect(at0330.length).toBe(14);
    expect(at0330.every((r) => r.occupancy === 0)).toBe(true);
  });

  it('gym: peaks at lunch and after work on weekdays', () => {
    const s = series('gym');
    const lunch = meanOver(s, 12, 13.5, false);
    const afternoon = meanOver(s, 15, 16.5, false);
    const evening = meanOver(s, 18, 20, false);
    expect(lunch).toBeGreaterThan(2.5 * afternoon);
    expect(evening).toBeGreaterThan(2.5 * afternoon);
    expect(meanOver(s, 3.5, 5.5, false)).toBe(0);
  });

  it('fitness plaza: evenings', () => {
    const s = series('fitness-plaza');
    expect(meanOver(s, 19, 21, false)).toBeGreaterThan(4 * meanOver(s, 10, 16, false));
  });

  it('culture plaza: groups of 30-80 arrive together on weekdays only', () => {
    const s = series('culture-plaza');
    // A group comes off its bus within 90 s, so one counter minute sees at least half of it.
    const bursts = s.filter((r) => r.in >= 15);
    const weekdayBursts = bursts.filter((r) => local.weekday(r.at) % 6 !== 0);
    expect(weekdayBursts.length).toBeGreaterThan(10);
    expect(bursts.length - weekdayBursts.length).toBe(0);
    const first = weekdayBursts[0]?.at ?? 0;
    const around = s.filter((r) => r.at >= first && r.at <= first + 2 * 60_000).reduce((a, r) => a + r.in, 0);
    expect(around).toBeGreaterThanOrEqual(30);
    // Busier at weekends overall (families), quieter on weekday mornings.
    expect(meanOver(s, 14, 17, true)).toBeGreaterThan(meanOver(s, 8, 10, false));
  });
});
