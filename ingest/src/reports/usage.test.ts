import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site/index.ts';
import { openDatabase } from '../store/db.ts';
import { LocalTime } from './local-time.ts';
import { Rollups, ROLLUPS_SCHEMA } from './rollups.ts';
import { migrateDatabase } from '../db/migrations.ts';
import { TIMESERIES_SCHEMA } from '../store/sqlite-store.ts';
import { usageAggs } from './sqlite-usage.ts';
import { foldRows } from './usage.ts';

const dir = mkdtempSync(join(tmpdir(), 'parkops-usage-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalTime', () => {
  it('local days, hours and weekdays of Asia/Shanghai', () => {
    const lt = new LocalTime('Asia/Shanghai');
    const t = Date.parse('2026-11-16T00:30:00+08:00');
    expect(lt.date(t)).toBe('2026-11-16');
    expect(lt.hour(t)).toBe(0);
    expect(lt.weekday(t)).toBe(0); // Monday
    expect(new Date(lt.floor(t, '1d')).toISOString()).toBe('2026-11-15T16:00:00.000Z');
    expect(lt.stamp(t)).toBe('2026-11-16 00:30');
  });

  it('daylight-saving days are 23 and 25 hours long (Europe/Berlin)', () => {
    const lt = new LocalTime('Europe/Berlin');
    const days = lt.boundaries(Date.parse('2026-03-28T12:00:00+01:00'), Date.parse('2026-03-30T12:00:00+02:00'), '1d');
    expect(days.map((d) => new Date(d).toISOString())).toEqual(['2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', '2026-03-30T22:00:00.000Z']);
    const hours = lt.boundaries(days[1]!, days[2]!, '1h');
    expect(hours).toHaveLength(24); // 23 hours and the end
    const autumn = lt.boundaries(Date.parse('2026-10-25T00:00:00+02:00'), Date.parse('2026-10-26T00:00:00+01:00'), '1h');
    expect(autumn).toHaveLength(26);
  });
});

describe('usageAggs (SQL grouping) agrees with folding quarter rows', () => {
  const site = loadSite();
  const db = openDatabase(dir);
  migrateDatabase(db, [TIMESERIES_SCHEMA, ROLLUPS_SCHEMA]);
  const rollups = new Rollups(db, site);
  rollups.init();
  const ins = db.prepare('INSERT INTO report_rollup_15m VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0)');
  const from = Date.parse('2026-03-20T00:00:00Z');
  const to = Date.parse('2026-11-05T00:00:00Z');
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  db.transaction(() => {
    for (let b = from; b < to; b += 900_000) {
      if (rnd() < 0.1) continue; // gaps
      const known = Math.round(rnd() * 900_000);
      ins.run('parking', b, known, known * rnd(), rnd(), b + Math.floor(rnd() * 900) * 1000);
    }
  })();

  for (const tz of ['Asia/Shanghai', 'Europe/Berlin', 'Asia/Kolkata', 'America/New_York']) {
    for (const every of ['15m', '1h', '1d'] as const) {
      it(`${tz} every ${every}`, () => {
        const lt = new LocalTime(tz);
        const a = lt.floor(Date.parse('2026-03-25T05:07:00Z'), every);
        const b = lt.ceil(every === '15m' ? Date.parse('2026-04-02T00:00:00Z') : Date.parse('2026-11-03T00:00:00Z'), every);
        const viaSql = usageAggs(rollups, lt, 'parking', a, b, every);
        const viaJs = foldRows(rollups.rows('parking', a, b), lt.boundaries(a, b, every));
        expect(viaSql.length).toBe(viaJs.length);
        viaSql.forEach((x, i) => {
          const y = viaJs[i]!;
          expect(x.t).toBe(y.t);
          expect(x.known).toBe(y.known);
          expect(x.sum).toBeCloseTo(y.sum, 3);
          expect(x.peak).toBe(y.peak);
          expect(x.peakAt).toBe(y.peakAt);
        });
      });
    }
  }
});
