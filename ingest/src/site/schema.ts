/**
 * The site file: one validated description of a park's lot, gates, flood rooms and venues.
 * Every alert threshold and device interval lives here, per room or device, with defaults.
 */
import { z } from 'zod';
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
  /** Expected reporting interval; silent for `staleAfterSec` means stale (default 3 × interval). */
  intervalSec: seconds.default(10),
  staleAfterSec: seconds.optional(),
  /** Polled over Modbus TCP instead of publishing over MQTT (modbus-schema.ts). */
  modbus: levelModbus.optional(),
}).superRefine(pollFitsInterval);

const pump = z.object({
  id,
  name: z.string().min(1),
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

const floodRoom = z.object({
  id,
  name: z.string().min(1),
  nameZh: z.string().optional(),
  building: z.string().optional(),
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

export const siteSchema = z.object({
  id,
  name: z.string().min(1),
  nameZh: z.string().optional(),
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
