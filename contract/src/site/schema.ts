/**
 * The site file: one validated description of a park's lot, gates, flood rooms and venues.
 * Every alert threshold and device interval lives here, per room or device, with defaults.
 */
import { z } from 'zod';
import { CAP_CATEGORIES, CAP_SEVERITIES } from '../contract/cap.ts';
import { ID_PATTERN } from '../contract/topics.ts';
import { levelModbus, pollFitsInterval, pumpModbus } from './modbus-schema.ts';

const id = z.string().regex(ID_PATTERN, 'ids must match [A-Za-z0-9_-]{1,64}');
const seconds = z.number().finite().positive();

/** Bays of a zone: listed one by one, or generated as `{prefix}{start..start+count-1}` zero-padded to `digits`. */
const bayList = z.union([
  z.array(id).min(1),
  z.object({
    prefix: z.string().regex(/^[A-Za-z0-9_-]*$/),
    count: z.number().int().positive().max(10000),
    start: z.number().int().min(0).default(1),
    digits: z.number().int().min(1).max(6).default(3),
  }),
]);

const zone = z.object({
  id,
  name: z.string().min(1),
  nameZh: z.string().optional(),
  bays: bayList,
  /** 1 = nearest an entrance; drivers fill low ranks first. */
  entranceRank: z.number().int().min(1).default(1),
});

const gate = z.object({
  id,
  name: z.string().min(1),
  nameZh: z.string().optional(),
  direction: z.enum(['entry', 'exit', 'both']),
});

const levelBands = z.object({
  warnMm: z.number(),
  alarmMm: z.number(),
  criticalMm: z.number(),
  /** Level of the room floor above the pit floor: the time-to-threshold estimate counts down to it. */
  floorMm: z.number(),
  /** A band clears only once the level is this far below its threshold (hysteresis). */
  deadbandMm: z.number().min(0).default(20),
  /** A warning or alarm band must hold this long before it fires, and its clearing this long before it resolves. */
  holdSec: seconds.default(30),
  clearHoldSec: seconds.default(120),
});

const levelSensor = z.object({
  id,
  name: z.string().min(1),
  nameZh: z.string().min(1).optional(),
  /** Expected reporting interval; silent for `staleAfterSec` means stale (default 3 × interval). */
  intervalSec: seconds.default(10),
  staleAfterSec: seconds.optional(),
  /** Polled over Modbus TCP instead of publishing over MQTT (modbus-schema.ts). */
  modbus: levelModbus.optional(),
}).superRefine(pollFitsInterval);

const pump = z.object({
  id,
  name: z.string().min(1),
  nameZh: z.string().min(1).optional(),
  role: z.enum(['duty', 'standby']),
  startMm: z.number(),
  stopMm: z.number(),
  capacityLpm: z.number().positive(),
  /** Normal running current band; outside it while running means dry running (low) or a jam (high). */
  ampsMin: z.number().min(0),
  ampsMax: z.number().positive(),
  intervalSec: seconds.default(30),
  staleAfterSec: seconds.optional(),
  /** Polled over Modbus TCP from its control panel instead of publishing over MQTT (modbus-schema.ts). */
  modbus: pumpModbus.optional(),
}).superRefine(pollFitsInterval);

/**
 * What the readiness checklist checks before the rain (docs/warnings.md). The alert rules evaluate
 * them against live data once storm mode is wired into them; `manual` items are ticked by people.
 */
export const CHECKLIST_CHECKS = ['pump-ran-recently', 'standby-pump-starts', 'sensors-fresh', 'contacts-reachable', 'manual'] as const;

const checklistItem = z.object({
  id,
  text: z.string().min(1),
  textZh: z.string().min(1).optional(),
  check: z.enum(CHECKLIST_CHECKS).default('manual'),
  /** pump-ran-recently: a pump idle longer than this (default 7 days) is flagged before the rain */
  maxIdleDays: z.number().positive().optional(),
});

export const DEFAULT_CHECKLIST: z.output<typeof checklistItem>[] = [
  { id: 'pumps-tested', text: 'Every pump has run in the last 7 days', textZh: '所有水泵近7天内运行过', check: 'pump-ran-recently', maxIdleDays: 7 },
  { id: 'standby-starts', text: 'The standby pump starts on a test run', textZh: '备用泵试运行能启动', check: 'standby-pump-starts' },
  { id: 'sensors-fresh', text: 'Every level sensor is reporting', textZh: '所有液位传感器在线上报', check: 'sensors-fresh' },
  { id: 'contacts-reachable', text: 'The on-call team and escalation contacts are reachable', textZh: '值班人员和升级联系人可联系', check: 'contacts-reachable' },
];

/**
 * A room in storm mode (a relevant rainstorm or flood warning in force): tighter rise threshold and
 * shorter hold times, and the readiness checklist. Unset numbers default from the room's normal
 * rules (half the rise rate, a third of the hold; see Site), and set ones may only be tighter.
 */
const stormSettings = z.object({
  enabled: z.boolean().default(true),
  riseWarnMmPerMin: z.number().positive().optional(),
  riseWindowSec: seconds.optional(),
  holdSec: seconds.optional(),
  clearHoldSec: seconds.optional(),
  checklist: z.array(checklistItem).default(DEFAULT_CHECKLIST),
});

const floodRoom = z.object({
  id,
  name: z.string().min(1),
  nameZh: z.string().optional(),
  building: z.string().optional(),
  buildingZh: z.string().min(1).optional(),
  bands: levelBands,
  /** Sump pit: plan area in m² gives mm of level per litre (1 L over 1 m² = 1 mm). */
  pit: z.object({ areaM2: z.number().positive(), depthMm: z.number().positive() }),
  levels: z.array(levelSensor).min(1),
  pumps: z.array(pump),
  rules: z
    .object({
      riseWindowSec: seconds.default(300),
      riseWarnMmPerMin: z.number().positive().default(10),
      pumpStartGraceSec: seconds.default(60),
      pumpNoEffectMin: z.number().positive().default(5),
      maxStartsPerHour: z.number().int().positive().default(12),
      sensorDisagreeMm: z.number().positive().default(80),
      sensorDisagreeMin: z.number().positive().default(5),
      ackExpiresMin: z.number().positive().default(30),
      escalateAfterMin: z.number().positive().default(10),
    })
    .prefault({}),
  storm: stormSettings.prefault({}),
});

const venue = z.object({
  id,
  name: z.string().min(1),
  nameZh: z.string().optional(),
  kind: z.enum(['indoor', 'outdoor']),
  areaM2: z.number().positive(),
  capacity: z.number().int().positive(),
  /** People counter's device id, for `park/devices/{id}/status`. */
  counterId: id.optional(),
  intervalSec: seconds.default(60),
  staleAfterSec: seconds.optional(),
});

const namedValue = z.object({ valueName: z.string().trim().min(1), value: z.string().trim().min(1) });

/**
 * Which CAP warnings are rainstorm or flood warnings: an info block whose category is listed and
 * whose event name contains one of `names` (case-insensitive), or that carries a listed eventCode.
 * The defaults cover English and Chinese names: 暴雨 rainstorm, 洪水/洪涝 flood, 内涝 waterlogging,
 * 山洪 flash flood.
 */
export const DEFAULT_STORM_EVENT_NAMES = ['rainstorm', 'heavy rain', 'torrential rain', 'flood', 'waterlogging', '暴雨', '洪水', '洪涝', '内涝', '山洪'];

const capSettings = z.object({
  /** Geocodes (valueName/value) that name the site's area: a warning area listing one covers the site. */
  geocodes: z.array(namedValue).default([]),
  stormEvents: z
    .object({
      categories: z.array(z.enum(CAP_CATEGORIES)).min(1).default(['Met', 'Geo']),
      names: z.array(z.string().trim().min(1)).default(DEFAULT_STORM_EVENT_NAMES),
      eventCodes: z.array(namedValue).default([]),
    })
    .prefault({}),
  /** The least severe warning that puts rooms into storm mode; Unknown severity always does. */
  minSeverity: z.enum(CAP_SEVERITIES.filter((s) => s !== 'Unknown') as ['Extreme', 'Severe', 'Moderate', 'Minor']).default('Minor'),
  /** CAP leaves a warning without `expires` to the recipient's policy: in force this long from its start. */
  defaultDurationHours: z.number().positive().max(24 * 14).default(24),
});

export const siteSchema = z.object({
  id,
  name: z.string().min(1),
  nameZh: z.string().optional(),
  /**
   * The language of the text ParkOps writes for everyone at once: each alert's `message` and the
   * notifications (robots, phones). The dashboard shows each user their own language.
   */
  language: z.enum(['zh-CN', 'en'], { message: 'must be zh-CN or en' }).default('en'),
  timezone: z.string().refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Asia/Shanghai'),
  parking: z.object({
    zones: z.array(zone).min(1),
    gates: z.array(gate).min(1),
    bayIntervalSec: seconds.default(600),
    bayStaleAfterSec: seconds.optional(),
    overstayHours: z.number().positive().default(12),
    lowBatteryPct: z.number().min(0).max(100).default(15),
  }),
  /** The site's location (WGS 84), for CAP warning polygons and circles. */
  location: z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }).optional(),
  cap: capSettings.prefault({}),
  flood: z.object({ rooms: z.array(floodRoom) }),
  venues: z.array(venue),
  notifications: z
    .object({
      escalationContacts: z.array(z.string()).default([]),
    })
    .prefault({}),
});

export type SiteFile = z.input<typeof siteSchema>;
export type ParsedSite = z.output<typeof siteSchema>;
