/**
 * Loads and indexes the site file. A bad file stops start-up with a message naming the field.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { siteSchema, type ParsedSite } from './schema.ts';

export { siteSchema } from './schema.ts';
export type { SiteFile, ParsedSite } from './schema.ts';

export const DEFAULT_SITE_PATH = fileURLToPath(new URL('./jining-innovation-valley.json', import.meta.url));

export type DeviceKind = 'bay' | 'gate' | 'level' | 'pump' | 'venue';

export interface Bay {
  id: string;
  zone: string;
  /** Position in its zone, 0-based: simulators fill low indexes of near zones first. */
  index: number;
}
export interface Zone {
  id: string;
  name: string;
  nameZh?: string | undefined;
  entranceRank: number;
  bays: Bay[];
}
export type Gate = ParsedSite['parking']['gates'][number];
type RawRoom = ParsedSite['flood']['rooms'][number];
export type LevelSensor = RawRoom['levels'][number] & { staleAfterSec: number };
export type Pump = RawRoom['pumps'][number] & { staleAfterSec: number };
/** A room's storm-mode settings with every number resolved (the alert rules apply them in storm mode). */
export interface StormSettings {
  enabled: boolean;
  riseWarnMmPerMin: number;
  riseWindowSec: number;
  holdSec: number;
  clearHoldSec: number;
  checklist: RawRoom['storm']['checklist'];
}
export type FloodRoom = Omit<RawRoom, 'levels' | 'pumps' | 'storm'> & { levels: LevelSensor[]; pumps: Pump[]; storm: StormSettings };
export type SiteLocation = NonNullable<ParsedSite['location']>;
export type CapSettings = ParsedSite['cap'];
export type Venue = ParsedSite['venues'][number] & { counterId: string; staleAfterSec: number };

export interface DeviceRef {
  kind: DeviceKind;
  id: string;
  /** The room of a level sensor or pump; the zone of a bay. */
  parent?: string;
  staleAfterSec?: number;
}

export class SiteError extends Error {}

export class Site {
  readonly id: string;
  readonly name: string;
  readonly nameZh: string | undefined;
  /** The language of alert messages and notifications (the dashboard uses each user's own). */
  readonly language: 'zh-CN' | 'en';
  readonly timezone: string;
  readonly zones: Zone[];
  readonly gates: Gate[];
  readonly rooms: FloodRoom[];
  readonly venues: Venue[];
  readonly parking: Omit<ParsedSite['parking'], 'zones' | 'gates'> & { bayStaleAfterSec: number };
  readonly notifications: ParsedSite['notifications'];
  readonly location: SiteLocation | undefined;
  readonly cap: CapSettings;
  readonly bays: Bay[];
  private readonly bayById = new Map<string, Bay>();
  private readonly gateById = new Map<string, Gate>();
  private readonly roomById = new Map<string, FloodRoom>();
  private readonly venueById = new Map<string, Venue>();
  private readonly deviceById = new Map<string, DeviceRef>();

  constructor(raw: ParsedSite) {
    this.id = raw.id;
    this.name = raw.name;
    this.nameZh = raw.nameZh;
    this.language = raw.language;
    this.timezone = raw.timezone;
    this.parking = {
      bayIntervalSec: raw.parking.bayIntervalSec,
      bayStaleAfterSec: raw.parking.bayStaleAfterSec ?? raw.parking.bayIntervalSec * 2.5,
      overstayHours: raw.parking.overstayHours,
      lowBatteryPct: raw.parking.lowBatteryPct,
    };
    this.notifications = raw.notifications;
    this.location = raw.location;
    this.cap = raw.cap;
    const seen = new Map<string, string>();
    const claim = (id: string, where: string): void => {
      const first = seen.get(id);
      if (first !== undefined) throw new SiteError(`${where}: id "${id}" is already used by ${first}; ids are unique across the site`);
      seen.set(id, where);
    };

    this.zones = raw.parking.zones.map((z, zi) => {
      claim(z.id, `parking.zones[${zi}]`);
      const ids = Array.isArray(z.bays)
        ? z.bays
        : Array.from({ length: z.bays.count }, (_, i) => `${(z.bays as { prefix: string }).prefix}${String((z.bays as { start: number }).start + i).padStart((z.bays as { digits: number }).digits, '0')}`);
      const bays = ids.map((id, index) => {
        claim(id, `parking.zones[${zi}].bays[${index}]`);
        const bay: Bay = { id, zone: z.id, index };
        this.bayById.set(id, bay);
        this.deviceById.set(id, { kind: 'bay', id, parent: z.id, staleAfterSec: this.parking.bayStaleAfterSec });
        return bay;
      });
      return { id: z.id, name: z.name, nameZh: z.nameZh, entranceRank: z.entranceRank, bays };
    });
    this.bays = this.zones.flatMap((z) => z.bays);

    this.gates = raw.parking.gates.map((g, gi) => {
      claim(g.id, `parking.gates[${gi}]`);
      this.gateById.set(g.id, g);
      this.deviceById.set(g.id, { kind: 'gate', id: g.id });
      return g;
    });

    this.rooms = raw.flood.rooms.map((r, ri) => {
      const at = `flood.rooms[${ri}]`;
      claim(r.id, at);
      const b = r.bands;
      if (!(b.warnMm < b.alarmMm && b.alarmMm < b.criticalMm && b.criticalMm <= b.floorMm)) {
        throw new SiteError(`${at}.bands: thresholds must rise warnMm < alarmMm < criticalMm <= floorMm (got ${b.warnMm}, ${b.alarmMm}, ${b.criticalMm}, ${b.floorMm})`);
      }
      const levels = r.levels.map((l, li) => {
        claim(l.id, `${at}.levels[${li}]`);
        const s = { ...l, staleAfterSec: l.staleAfterSec ?? l.intervalSec * 3 };
        this.deviceById.set(l.id, { kind: 'level', id: l.id, parent: r.id, staleAfterSec: s.staleAfterSec });
        return s;
      });
      const pumps = r.pumps.map((p, pi) => {
        claim(p.id, `${at}.pumps[${pi}]`);
        if (!(p.stopMm < p.startMm)) throw new SiteError(`${at}.pumps[${pi}]: stopMm (${p.stopMm}) must be below startMm (${p.startMm})`);
        if (!(p.ampsMin < p.ampsMax)) throw new SiteError(`${at}.pumps[${pi}]: ampsMin must be below ampsMax`);
        const s = { ...p, staleAfterSec: p.staleAfterSec ?? p.intervalSec * 3 };
        this.deviceById.set(p.id, { kind: 'pump', id: p.id, parent: r.id, staleAfterSec: s.staleAfterSec });
        return s;
      });
      const room: FloodRoom = { ...r, levels, pumps, storm: resolveStorm(r, at) };
      this.roomById.set(r.id, room);
      return room;
    });

    this.venues = raw.venues.map((v, vi) => {
      claim(v.id, `venues[${vi}]`);
      const counterId = v.counterId ?? `${v.id}-counter`;
      claim(counterId, `venues[${vi}].counterId`);
      const venue: Venue = { ...v, counterId, staleAfterSec: v.staleAfterSec ?? v.intervalSec * 5 };
      this.venueById.set(v.id, venue);
      const ref: DeviceRef = { kind: 'venue', id: v.id, staleAfterSec: venue.staleAfterSec };
      this.deviceById.set(v.id, ref);
      this.deviceById.set(counterId, ref);
      return venue;
    });
  }

  bay(id: string): Bay | undefined {
    return this.bayById.get(id);
  }
  gate(id: string): Gate | undefined {
    return this.gateById.get(id);
  }
  room(id: string): FloodRoom | undefined {
    return this.roomById.get(id);
  }
  venue(id: string): Venue | undefined {
    return this.venueById.get(id);
  }
  zone(id: string): Zone | undefined {
    return this.zones.find((z) => z.id === id);
  }
  /** A device by the id used in `park/devices/{deviceId}/status`; a venue answers to its own id and its counter's. */
  device(id: string): DeviceRef | undefined {
    return this.deviceById.get(id);
  }
  levelSensor(roomId: string, sensorId: string): LevelSensor | undefined {
    return this.roomById.get(roomId)?.levels.find((l) => l.id === sensorId);
  }
  pump(roomId: string, pumpId: string): Pump | undefined {
    return this.roomById.get(roomId)?.pumps.find((p) => p.id === pumpId);
  }
}

/**
 * Storm-mode numbers: unset ones default to half the normal rise rate, a third of the normal hold
 * (at least 5 s) and the normal clear hold. Set ones must be tighter than normal, never looser:
 * storm mode exists to raise the alarm sooner.
 */
function resolveStorm(r: RawRoom, at: string): StormSettings {
  const s = r.storm;
  const storm: StormSettings = {
    enabled: s.enabled,
    riseWarnMmPerMin: s.riseWarnMmPerMin ?? r.rules.riseWarnMmPerMin / 2,
    riseWindowSec: s.riseWindowSec ?? r.rules.riseWindowSec,
    holdSec: s.holdSec ?? Math.min(r.bands.holdSec, Math.max(5, r.bands.holdSec / 3)),
    clearHoldSec: s.clearHoldSec ?? r.bands.clearHoldSec,
    checklist: s.checklist,
  };
  if (storm.riseWarnMmPerMin > r.rules.riseWarnMmPerMin) {
    throw new SiteError(`${at}.storm.riseWarnMmPerMin: must not be above the normal rules.riseWarnMmPerMin (${r.rules.riseWarnMmPerMin}); storm mode only tightens`);
  }
  if (storm.holdSec > r.bands.holdSec) throw new SiteError(`${at}.storm.holdSec: must not be above the normal bands.holdSec (${r.bands.holdSec}); storm mode only shortens holds`);
  const ids = new Set<string>();
  for (const [i, item] of storm.checklist.entries()) {
    if (ids.has(item.id)) throw new SiteError(`${at}.storm.checklist[${i}]: id "${item.id}" is used twice`);
    ids.add(item.id);
  }
  return storm;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
  return `${path || '(top level)'}: ${issue.message}`;
}

/** Parses a site object; throws SiteError naming the first bad fields. */
export function parseSite(raw: unknown): Site {
  const parsed = siteSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SiteError(parsed.error.issues.slice(0, 5).map(formatIssue).join('; '));
  }
  return new Site(parsed.data);
}

export function loadSite(path: string = DEFAULT_SITE_PATH): Site {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SiteError(`cannot read site file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SiteError(`site file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseSite(raw);
  } catch (err) {
    if (err instanceof SiteError) throw new SiteError(`site file ${path}: ${err.message}`);
    throw err;
  }
}
