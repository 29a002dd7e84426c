/**
 * Formatting of ages, durations and numbers. Pure functions over a translator so that the same code
 * serves both languages and can be unit-tested without a browser.
 */
import type { MessageKey } from './i18n/messages.ts';
import { site } from './site.svelte.ts';

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** Age of a timestamp, relative to `nowMs`, in the largest fitting unit. */
export function formatAge(t: Translate, iso: string | null | undefined, nowMs: number): string {
  if (!iso) return t('age.never');
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return t('age.never');
  const sec = Math.max(0, Math.round((nowMs - then) / 1000));
  if (sec < 5) return t('age.now');
  if (sec < 60) return t('age.seconds', { n: sec });
  const min = Math.floor(sec / 60);
  if (min < 60) return t('age.minutes', { n: min });
  const h = Math.floor(min / 60);
  if (h < 48) return t('age.hours', { n: h });
  return t('age.days', { n: Math.floor(h / 24) });
}

/** "last seen N min ago" for a stale device. */
export function formatLastSeen(t: Translate, iso: string | null | undefined, nowMs: number): string {
  if (!iso) return t('stale.neverSeen');
  return t('stale.lastSeen', { age: formatAge(t, iso, nowMs) });
}

/** A duration in minutes as "2 h 05 min" / "2 小时 05 分". */
export function formatDuration(t: Translate, minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined || !Number.isFinite(minutes)) return '–';
  const m = Math.round(minutes);
  if (m < 60) return t('duration.minutes', { m });
  return t('duration.hoursMinutes', { h: Math.floor(m / 60), m: String(m % 60).padStart(2, '0') });
}

/** Seconds older than which a value counts as aged on screen (shown dimmer), independent of device staleness. */
export function isOld(iso: string | null | undefined, nowMs: number, maxAgeMs: number): boolean {
  if (!iso) return true;
  const then = Date.parse(iso);
  return Number.isNaN(then) || nowMs - then > maxAgeMs;
}

/** A time for people: in the site's time zone once the snapshot said it (site.svelte.ts), 24-hour. */
export function formatTime(lang: string, iso: string | null | undefined, withDate = false, withSeconds = false, timeZone: string | undefined = site.timezone): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  const zone = timeZone ? { timeZone } : {};
  return d.toLocaleString(lang, withDate
    ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(withSeconds ? { second: '2-digit' } : {}), ...zone }
    : { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', ...zone });
}

export function formatNumber(lang: string, n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return n.toLocaleString(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function formatPercent(lang: string, share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '–';
  return (share).toLocaleString(lang, { style: 'percent', maximumFractionDigits: 0 });
}

/** 24-hour clock "HH:mm" for chart axes, in both languages. */
export function formatClock(lang: string, ms: number): string {
  return new Date(ms).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(site.timezone ? { timeZone: site.timezone } : {}) });
}

/** A time zone as people name it in `lang` ("China Standard Time", "中国标准时间"), not its IANA id. */
export function zoneLabel(lang: string, timeZone: string, at: number = Date.now()): string {
  try {
    return new Intl.DateTimeFormat(lang, { timeZone, timeZoneName: 'long' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
  } catch {
    return timeZone;
  }
}
