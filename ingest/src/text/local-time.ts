/**
 * Times for people, in the site's time zone and the reader's language: never ISO UTC, never the
 * browser's own zone (a phone set to another zone still reads the park's clock). Browser-safe: the
 * dashboard renders with the same code.
 *
 * - `at`: the time of day when it is the same local day as `now` ("05:15:20"), else the date and the
 *   minute ("1 Dec 21:15" / "12月1日 21:15");
 * - `full`: always the date and the second, for messages read later (a chat robot, a phone).
 */
import type { TextLang } from './types.ts';

type Parts = { month: string; day: string; hour: string; minute: string; second: string; key: string };

export class LocalTime {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly monthShort: Intl.DateTimeFormat;

  constructor(
    readonly lang: TextLang,
    readonly timezone: string,
  ) {
    // Numeric parts put together by hand: Intl's zh-CN short date is "12/1", not "12月1日".
    this.fmt = new Intl.DateTimeFormat('en-US', { timeZone: timezone, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    this.monthShort = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, month: 'short' });
  }

  private parts(ms: number): Parts {
    const p: Record<string, string> = {};
    for (const part of this.fmt.formatToParts(ms)) if (part.type !== 'literal') p[part.type] = part.value;
    return { month: p.month ?? '', day: p.day ?? '', hour: p.hour ?? '', minute: p.minute ?? '', second: p.second ?? '', key: `${p.year}-${p.month}-${p.day}` };
  }

  private date(ms: number, p: Parts): string {
    return this.lang === 'zh-CN' ? `${p.month}月${p.day}日` : `${p.day} ${this.monthShort.format(ms)}`;
  }

  /** "05:15:20" on the same local day as `now`, else "1 Dec 21:15" / "12月1日 21:15". */
  at(time: string | number, now: number): string {
    const ms = typeof time === 'number' ? time : Date.parse(time);
    if (!Number.isFinite(ms)) return String(time);
    const p = this.parts(ms);
    if (p.key === this.parts(now).key) return `${p.hour}:${p.minute}:${p.second}`;
    return `${this.date(ms, p)} ${p.hour}:${p.minute}`;
  }

  /** "14 Jul 11:12:05" / "7月14日 11:12:05". */
  full(time: string | number): string {
    const ms = typeof time === 'number' ? time : Date.parse(time);
    if (!Number.isFinite(ms)) return String(time);
    const p = this.parts(ms);
    return `${this.date(ms, p)} ${p.hour}:${p.minute}:${p.second}`;
  }
}
