/**
 * The alert engine's words: every alert's `message` is rendered here from the structured details its
 * rule reports, in the site's language (site file `language`: zh-CN for the bundled site). The
 * renderer itself (both languages) is ingest/src/text/alert-text.ts, which the notifications and the
 * dashboard use too; rules never format text themselves.
 */
import type { AlertDetails } from '@parkops/contract/api.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import { AlertText, LocalTime, type NameSource, type TextLang } from '../text/index.ts';

export type { AlertDetails } from '@parkops/contract/api.ts';

/** The site file's names for the text renderers. */
export function siteNames(site: Pick<Site, 'room' | 'zone' | 'venue'>): NameSource {
  return {
    room: (id) => site.room(id),
    device: (roomId, id) => {
      const room = site.room(roomId);
      return room?.levels.find((l) => l.id === id) ?? room?.pumps.find((p) => p.id === id);
    },
    zone: (id) => site.zone(id),
    venue: (id) => site.venue(id),
  };
}

/** Local wall-clock text in the site's time zone (English), relative to `now`: kept for the incident timeline's details. */
export class LocalTimeText {
  private readonly t: LocalTime;
  constructor(readonly timezone: string, lang: TextLang = 'en') {
    this.t = new LocalTime(lang, timezone);
  }
  /** "05:15:20" on the same local day as `now`, else "1 Dec 21:15". */
  at(iso: string, now: number): string {
    return this.t.at(iso, now);
  }
}

export class AlertMessages {
  readonly text: AlertText;
  private readonly apiClock: LocalTime;

  constructor(site: Site, lang: TextLang = site.language) {
    this.text = new AlertText(lang, site.timezone, siteNames(site));
    this.apiClock = new LocalTime('en', site.timezone);
  }

  /** A site-local time for API error messages, which are English (the dashboard words them from their code). */
  localTime(ms: number, now: number): string {
    return this.apiClock.at(ms, now);
  }

  render(d: AlertDetails, now: number): string {
    return this.text.message(d, now);
  }
}
