/**
 * The site's local clock, shared by the reports (local days and hours) and the simulators (day curves):
 * epoch ms in, the site's time zone out. Intl is slow (microseconds a call), so the zone offset is
 * looked up once per UTC hour and cached; that keeps zones with daylight saving right to the hour.
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export class SiteClock {
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
      // About five years of hours; a long back-fill starts the cache again rather than growing it.
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
}
