/**
 * The site's calendar for reports: local days, hours and weekdays (a manager's day is the
 * site's day: they follow the site's time zone, not UTC). Intl is slow (microseconds a call), so the zone offset is looked up once
 * per UTC hour and cached; bucket boundaries are built from local midnights plus fixed steps, which is
 * exact for every zone whose offsets are whole quarter hours (all of them today).
 */
import type { Every } from './types.ts';

import { DAY_MS, HOUR_MS, MINUTE_MS, SiteClock } from '@parkops/contract/site/local-time.ts';

export { DAY_MS, HOUR_MS, MINUTE_MS } from '@parkops/contract/site/local-time.ts';
export const QUARTER_MS = 15 * MINUTE_MS;

export const STEP_MS: Record<Exclude<Every, '1d'>, number> = { '15m': QUARTER_MS, '1h': HOUR_MS };

/** The site clock (contract/src/site/local-time.ts) with report buckets on top. Weekdays: Monday 0. */
export class LocalTime extends SiteClock {
  /** Local date `YYYY-MM-DD` of `ms`. */
  date(ms: number): string {
    return new Date(ms + this.offsetMs(ms)).toISOString().slice(0, 10);
  }

  /** Local `YYYY-MM-DD HH:mm` of `ms`. */
  stamp(ms: number): string {
    const s = new Date(ms + this.offsetMs(ms)).toISOString();
    return `${s.slice(0, 10)} ${s.slice(11, 16)}`;
  }

  /** Local hour 0..23 of `ms`. */
  hour(ms: number): number {
    return Math.floor(((ms + this.offsetMs(ms)) % DAY_MS + DAY_MS) % DAY_MS / HOUR_MS);
  }

  /** Local weekday of `ms`, Monday 0 .. Sunday 6. */
  weekday(ms: number): number {
    const days = Math.floor((ms + this.offsetMs(ms)) / DAY_MS);
    // 1970-01-01 was a Thursday (3 counting from Monday).
    return (((days + 3) % 7) + 7) % 7;
  }

  /** Start of the bucket of `every` holding `ms`: local midnight for 1d, the local hour or quarter otherwise. */
  floor(ms: number, every: Every): number {
    if (every === '1d') return this.midnightBefore(ms);
    const step = STEP_MS[every];
    const off = this.offsetMs(ms);
    return Math.floor((ms + off) / step) * step - off;
  }

  /** End of the bucket holding `ms - 1`, i.e. `ms` rounded up to a bucket boundary. */
  ceil(ms: number, every: Every): number {
    const start = this.floor(ms, every);
    return start === ms ? ms : this.next(start, every);
  }

  next(bucketStart: number, every: Every): number {
    return every === '1d' ? this.nextMidnight(bucketStart) : bucketStart + STEP_MS[every];
  }

  /** Bucket boundaries covering [from, to): starts, plus the end as the last element. */
  boundaries(from: number, to: number, every: Every): number[] {
    const out: number[] = [];
    let t = this.floor(from, every);
    if (every === '1d') {
      while (t < to) {
        out.push(t);
        t = this.nextMidnight(t);
      }
      out.push(t);
      return out;
    }
    // Fixed steps within each local day, re-anchored at every midnight (daylight-saving safe).
    const step = STEP_MS[every];
    let dayEnd = this.nextMidnight(t);
    while (t < to) {
      out.push(t);
      t += step;
      if (t >= dayEnd) {
        t = dayEnd;
        dayEnd = this.nextMidnight(dayEnd);
      }
    }
    out.push(t);
    return out;
  }
}

/** Quarter-hour bucket (UTC-aligned; every local boundary is one since offsets are whole quarters). */
export const quarter = (ms: number): number => Math.floor(ms / QUARTER_MS) * QUARTER_MS;
