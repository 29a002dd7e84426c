/**
 * The site's calendar for reports: local days, hours and weekdays (issue 8: "days and hours follow the
 * site's time zone, not UTC"). Intl is slow (microseconds a call), so the zone offset is looked up once
 * per UTC hour and cached; bucket boundaries are built from local midnights plus fixed steps, which is
 * exact for every zone whose offsets are whole quarter hours (all of them today).
 */
import type { Every } from './types.ts';

export const MINUTE_MS = 60_000;
export const QUARTER_MS = 15 * MINUTE_MS;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const STEP_MS: Record<Exclude<Every, '1d'>, number> = { '15m': QUARTER_MS, '1h': HOUR_MS };

export class LocalTime {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly offsetByHour = new Map<number, number>();

  constructor(readonly timezone: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Local time minus UTC at `ms`, in ms (Asia/Shanghai: +8 h). */
  offsetMs(ms: number): number {
    const hour = Math.floor(ms / HOUR_MS);
    let off = this.offsetByHour.get(hour);
    if (off === undefined) {
      const at = hour * HOUR_MS;
      const p: Record<string, number> = {};
      for (const part of this.fmt.formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
      const asUtc = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
      off = Math.round((asUtc - at) / MINUTE_MS) * MINUTE_MS;
      if (this.offsetByHour.size > 50_000) this.offsetByHour.clear();
      this.offsetByHour.set(hour, off);
    }
    return off;
  }

  /** Epoch ms of the local midnight at or before `ms`. */
  midnightBefore(ms: number): number {
    const localMidnight = Math.floor((ms + this.offsetMs(ms)) / DAY_MS) * DAY_MS;
    let utc = localMidnight - this.offsetMs(ms);
    utc = localMidnight - this.offsetMs(utc);
    return utc > ms ? this.midnightBefore(ms - HOUR_MS) : utc;
  }

  /** Epoch ms of the next local midnight strictly after `ms`. */
  nextMidnight(ms: number): number {
    // +26 h then back to that day's midnight: right across 23 h and 25 h daylight-saving days.
    return this.midnightBefore(this.midnightBefore(ms) + 26 * HOUR_MS);
  }

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
