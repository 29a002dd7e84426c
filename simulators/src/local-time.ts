/**
 * The site's local clock. Day curves (commuters at 08:30, gym at lunch) are in the site's time zone,
 * while simulated time is epoch ms. Intl is slow, so the zone offset is looked up once per UTC hour
 * and cached; that keeps zones with daylight saving right to the hour.
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export class LocalTime {
  readonly timezone: string;
  private readonly fmt: Intl.DateTimeFormat;
  private readonly offsetByHour = new Map<number, number>();

  constructor(timezone: string) {
    this.timezone = timezone;
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
      if (this.offsetByHour.size > 10_000) this.offsetByHour.clear();
      this.offsetByHour.set(hour, off);
    }
    return off;
  }

  /** Epoch ms of the local midnight at or before `ms`. */
  midnightBefore(ms: number): number {
    const local = ms + this.offsetMs(ms);
    const localMidnight = Math.floor(local / DAY_MS) * DAY_MS;
    let utc = localMidnight - this.offsetMs(ms);
    utc = localMidnight - this.offsetMs(utc);
    return utc > ms ? this.midnightBefore(ms - HOUR_MS) : utc;
  }

  /** Epoch ms of the next local midnight strictly after `ms`. */
  nextMidnight(ms: number): number {
    const today = this.midnightBefore(ms);
    // +26 h then back to that day's midnight: robust across 23 h and 25 h daylight-saving days.
    return this.midnightBefore(today + 26 * HOUR_MS);
  }

  /** Local hour of day as a fraction, 0 <= h < 24 (14.5 = 14:30). */
  hourOfDay(ms: number): number {
    const local = ms + this.offsetMs(ms);
    return (((local % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  }

  /** Local day of week, 0 = Sunday. */
  weekday(ms: number): number {
    const local = ms + this.offsetMs(ms);
    return (((Math.floor(local / DAY_MS) + 4) % 7) + 7) % 7;
  }

  /** Epoch ms of local `hour` (fractional) on the local day starting at `midnight`. */
  at(midnight: number, hour: number): number {
    const guess = midnight + hour * HOUR_MS;
    return guess + this.offsetMs(midnight) - this.offsetMs(guess);
  }

  /** ISO 8601 with the site's offset, e.g. 2026-07-21T08:00:00.000+08:00. */
  iso(ms: number): string {
    const off = this.offsetMs(ms);
    const body = new Date(ms + off).toISOString().slice(0, 23);
    const sign = off < 0 ? '-' : '+';
    const abs = Math.abs(off) / MINUTE_MS;
    const hh = String(Math.floor(abs / 60)).padStart(2, '0');
    const mm = String(abs % 60).padStart(2, '0');
    return `${body}${sign}${hh}:${mm}`;
  }
}
