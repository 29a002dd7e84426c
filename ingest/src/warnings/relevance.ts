/**
 * What a CAP warning means for the site (docs/api.md, official warnings; docs/warnings.md):
 *
 * - an info block **covers the site** when one of its areas has a polygon or circle that contains
 *   the site's location, or a geocode the site file lists (valueName compared without case);
 * - the warning is **relevant** when any block covers the site;
 * - it is a **storm warning** when a covering block is a rainstorm or flood warning by the site
 *   file's list (category, and event name or eventCode), at least `minSeverity` (Unknown counts),
 *   and neither urgency Past ("responsive action is no longer required") nor certainty Unlikely;
 * - it **can be in force** only as an Actual Alert or Update: Test, Exercise, System and Draft
 *   messages are stored and listed but never in force, nor are Cancel, Ack and Error;
 * - its window runs from the earliest `onset` (else `effective`, else `sent`) to the latest
 *   `expires` of the blocks that count (the storm blocks of a storm warning, else the covering
 *   ones); a block without `expires` lasts the site's `defaultDurationHours`.
 */
import type { CapNamedValue, CapSeverity } from '@parkops/contract/cap.ts';
import { CAP_SEVERITIES } from '@parkops/contract/cap.ts';
import type { CapSettings, SiteLocation } from '@parkops/contract/site/index.ts';
import type { CapAlert, CapArea, CapInfo } from './cap.ts';
import { circleContains, polygonContains } from './geo.ts';

export interface SiteArea {
  location: SiteLocation | undefined;
  cap: CapSettings;
}

export interface Judgement {
  relevant: boolean;
  storm: boolean;
  /** per info block: does it cover the site */
  covers: boolean[];
  /** the block to show first: a covering storm block, else a covering block, else the first; -1 without blocks */
  primary: number;
  /** epoch ms; null when the warning can never be in force */
  from: number | null;
  until: number | null;
}

const HOUR_MS = 3_600_000;

function sameCode(a: CapNamedValue, b: CapNamedValue): boolean {
  return a.valueName.trim().toLowerCase() === b.valueName.trim().toLowerCase() && a.value.trim() === b.value.trim();
}

export function areaCoversSite(area: CapArea, site: SiteArea): boolean {
  const loc = site.location;
  if (loc) {
    if (area.polygons.some((p) => polygonContains(p, loc.lat, loc.lon))) return true;
    if (area.circles.some((c) => circleContains(c, loc.lat, loc.lon))) return true;
  }
  return area.geocodes.some((g) => site.cap.geocodes.some((mine) => sameCode(g, mine)));
}

const severityRank = (s: CapSeverity): number => CAP_SEVERITIES.indexOf(s);

export function isStormInfo(info: CapInfo, site: SiteArea): boolean {
  const ev = site.cap.stormEvents;
  if (!info.categories.some((c) => ev.categories.includes(c))) return false;
  const name = info.event.toLowerCase();
  const named = ev.names.some((n) => name.includes(n.toLowerCase())) || info.eventCodes.some((code) => ev.eventCodes.some((mine) => sameCode(code, mine)));
  if (!named) return false;
  if (info.severity !== 'Unknown' && severityRank(info.severity) > severityRank(site.cap.minSeverity)) return false;
  return info.urgency !== 'Past' && info.certainty !== 'Unlikely';
}

export function judge(alert: CapAlert, site: SiteArea): Judgement {
  const covers = alert.infos.map((i) => i.areas.some((a) => areaCoversSite(a, site)));
  const storms = alert.infos.map((i, n) => covers[n]! && isStormInfo(i, site));
  const relevant = covers.some(Boolean);
  const storm = storms.some(Boolean);
  const primary = alert.infos.length === 0 ? -1 : [storms.indexOf(true), covers.indexOf(true), 0].find((i) => i >= 0)!;
  const canBeInForce = alert.status === 'Actual' && (alert.msgType === 'Alert' || alert.msgType === 'Update') && relevant;
  let from: number | null = null;
  let until: number | null = null;
  if (canBeInForce) {
    const counted = alert.infos.filter((_, n) => (storm ? storms[n] : covers[n]));
    for (const i of counted) {
      const start = i.onset ?? i.effective ?? alert.sent;
      const end = i.expires ?? start + site.cap.defaultDurationHours * HOUR_MS;
      from = from === null ? start : Math.min(from, start);
      until = until === null ? end : Math.max(until, end);
    }
  }
  return { relevant, storm, covers, primary, from, until };
}

/** In force at `now`: within its window, and no Update or Cancel has superseded it. */
export function inForceAt(w: { from: number | null; until: number | null; supersededBy?: string | null }, now: number): boolean {
  return w.from !== null && w.until !== null && !w.supersededBy && w.from <= now && now < w.until;
}
