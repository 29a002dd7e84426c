/**
 * The site's local clock for the simulators: day curves (commuters at 08:30, gym at lunch) are in the
 * site's time zone, while simulated time is epoch ms.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, SiteClock } from '@parkops/contract/site/local-time.ts';

export { DAY_MS, HOUR_MS, MINUTE_MS };

/** The site clock (contract/src/site/local-time.ts) with what the day curves need. Weekdays: Sunday 0. */
export class LocalTime extends SiteClock {
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
