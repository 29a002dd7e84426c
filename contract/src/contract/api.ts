/**
 * HTTP API shapes (docs/api.md; served as OpenAPI at /api/openapi.json). Each response shape is a zod
 * schema (`XSchema`) with its type of the same name (`X`), so the OpenAPI document is generated from
 * the very shapes the code and the dashboard are typed with. Times are ISO 8601 UTC strings.
 * Fields marked "extension" are ParkOps additions beyond the base contract; clients ignore fields
 * they do not know.
 */
import { z } from 'zod';
import type { ChannelSummary } from './notifications.ts';

export { ROLES, USER_ROLES, roleAtLeast, type Role, type UserRole } from './roles.ts';

/** An instant as the API writes it: ISO 8601 in UTC (`Date.prototype.toISOString`). */
export const isoTime = () => z.iso.datetime({ offset: false });

/** Every error the API answers: a message for people and, where the dashboard translates it, a stable code. */
export const ErrorResponseSchema = z
  .looseObject({
    error: z.string().describe('what was wrong, in English, naming the field or setting'),
    code: z.string().optional().describe('extension: a stable code (e.g. auth.locked) the dashboard translates'),
    params: z.record(z.string(), z.unknown()).optional().describe('extension: values for the translated message'),
  })
  .meta({ id: 'Error' });
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** What would carry an alert outside the dashboard now (the zod-free `ChannelSummary` of notifications.ts). */
export const ChannelSummarySchema = z
  .object({
    channels: z.number().int(),
    webhook: z.boolean(),
    robots: z.array(z.string()),
    escalationContacts: z.number().int(),
    /** push subscriptions of responders and above */
    pushSubscriptions: z.number().int(),
    /** the Node-RED flows route the settings webhook */
    flows: z.boolean(),
  })
  .meta({ id: 'ChannelSummary' }) satisfies z.ZodType<ChannelSummary>;

export const HealthResponseSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    mqtt: z.string(),
    store: z.string(),
    /**
     * extension: why degraded, and warnings that do not degrade (no notification channel configured:
     * the status stays ok), and the outbox in InfluxDB mode
     */
    problems: z.array(z.string()).optional(),
    outbox: z.object({ depth: z.number().int(), oldestAgeSec: z.number().nullable() }).optional(),
    /** extension: what carries alerts outside the dashboard; `channels` 0 means nobody is told */
    notifications: ChannelSummarySchema.optional(),
    /** With PARKOPS_DATABASE_URL (docs/scale-out.md): whether this process is the leader or a standby. */
    role: z.enum(['leader', 'standby']).optional(),
  })
  .meta({ id: 'Health' });
export type HealthResponse = z.infer<typeof HealthResponseSchema>;

export const GateScanViewSchema = z
  .object({
    gateId: z.string(),
    event: z.enum(['entry', 'exit']),
    pass: z.string(),
    ts: isoTime(),
  })
  .meta({ id: 'GateScan' });
export type GateScanView = z.infer<typeof GateScanViewSchema>;

export const BayViewSchema = z
  .object({
    id: z.string(),
    zone: z.string(),
    occupied: z.boolean().nullable(),
    /** when the bay last changed state */
    since: isoTime().nullable(),
    /** extension */
    lastSeen: isoTime().nullable(),
    battery: z.number().nullable(),
    stale: z.boolean(),
  })
  .meta({ id: 'Bay' });
export type BayView = z.infer<typeof BayViewSchema>;

export const ParkingResponseSchema = z
  .object({
    total: z.number().int(),
    occupied: z.number().int(),
    free: z.number().int(),
    zones: z.array(z.object({ id: z.string(), name: z.string(), nameZh: z.string().optional(), total: z.number().int(), occupied: z.number().int() })),
    bays: z.array(BayViewSchema),
    gates: z.array(z.object({ id: z.string(), name: z.string(), nameZh: z.string().optional(), direction: z.string(), lastScan: GateScanViewSchema.nullable() })),
    /** extension: the newest scans, newest first */
    recentScans: z.array(GateScanViewSchema),
  })
  .meta({ id: 'Parking' });
export type ParkingResponse = z.infer<typeof ParkingResponseSchema>;

export const ParkingSessionSchema = z
  .object({
    pass: z.string(),
    gateIn: z.string(),
    entryAt: isoTime(),
    gateOut: z.string().optional(),
    exitAt: isoTime().optional(),
    minutes: z.number().optional(),
  })
  .meta({ id: 'ParkingSession' });
export type ParkingSession = z.infer<typeof ParkingSessionSchema>;

export const LevelViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    /** extension: the site file's Chinese name */
    nameZh: z.string().optional(),
    mm: z.number().nullable(),
    ts: isoTime().nullable(),
    /** extension: when the value last changed, apart from when it was last seen */
    changedAt: isoTime().nullable(),
    /** as the alert engine judges it: offline (and nothing since) or silent past its staleAfterSec, counted from receipt */
    stale: z.boolean(),
    /** null until a status message arrived; a reading after `offline` makes it true again */
    online: z.boolean().nullable(),
    /** extension: when ParkOps last received any message from it */
    lastSeen: isoTime().nullable().optional(),
  })
  .meta({ id: 'LevelSensor' });
export type LevelView = z.infer<typeof LevelViewSchema>;

export const PumpViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    /** extension: the site file's Chinese name */
    nameZh: z.string().optional(),
    role: z.enum(['duty', 'standby']),
    running: z.boolean().nullable(),
    amps: z.number().nullable(),
    ts: isoTime().nullable(),
    changedAt: isoTime().nullable(),
    stale: z.boolean(),
    online: z.boolean().nullable(),
    /** extension: when ParkOps last received any message from it */
    lastSeen: isoTime().nullable().optional(),
  })
  .meta({ id: 'Pump' });
export type PumpView = z.infer<typeof PumpViewSchema>;

export const FLOOD_BANDS = ['normal', 'warning', 'alarm', 'critical'] as const;
export const FloodBandSchema = z.enum(FLOOD_BANDS);
export type FloodBand = z.infer<typeof FloodBandSchema>;

/** The room's level and band exactly as the alert engine judges them. */
export const FloodLevelViewSchema = z
  .object({
    /** mm above the sump-pit floor: the highest fresh level sensor */
    mm: z.number(),
    band: FloodBandSchema,
    /** device time of the reading that gives the level */
    ts: isoTime(),
    /** extension: the fresh sensors that count, and the one that gives the level */
    sensors: z.array(z.string()),
    from: z.string(),
    /** extension: a band change waiting out its hold time, and when it happens if the level stays */
    pending: z.object({ band: FloodBandSchema, at: isoTime() }).optional(),
  })
  .meta({ id: 'FloodLevel' });
export type FloodLevelView = z.infer<typeof FloodLevelViewSchema>;

/** A CAP warning as an alert's details name it: enough to word it in either language without the warning list. */
export const StormWarningRefSchema = z
  .object({
    id: z.string(),
    sender: z.string(),
    event: z.string(),
    severity: z.string(),
    onset: isoTime().optional(),
    expires: isoTime().optional(),
    headline: z.string().optional(),
    /** each info block's language and texts (CMA publishes zh-CN and en) */
    texts: z.array(z.object({ language: z.string(), event: z.string(), headline: z.string().optional(), senderName: z.string().optional() })),
  })
  .meta({ id: 'StormWarningRef' });
export type StormWarningRef = z.infer<typeof StormWarningRefSchema>;

/**
 * The readiness checklist (docs/warnings.md, "The readiness checklist"). `ok`: checked from live data
 * (or ticked) and fine; `flagged`: checked and not fine, the findings say why; `unknown`: it could not
 * be checked (no data, nothing tried yet); `todo`: a manual item nobody ticked yet.
 */
export const CHECKLIST_STATES = ['ok', 'flagged', 'unknown', 'todo'] as const;
export type ChecklistState = (typeof CHECKLIST_STATES)[number];
export const CHECKLIST_CHECKS = ['pump-ran-recently', 'standby-pump-starts', 'sensors-fresh', 'contacts-reachable', 'manual'] as const;
export type ChecklistCheckName = (typeof CHECKLIST_CHECKS)[number];

/** What a check found, one entry per pump, sensor or route; times ISO 8601 UTC. The dashboard words these. */
export const ChecklistFindingSchema = z
  .discriminatedUnion('code', [
    z.object({ code: z.literal('pump-running'), pump: z.string() }),
    z.object({ code: z.literal('pump-ran'), pump: z.string(), lastRunAt: isoTime(), idleDays: z.number(), maxIdleDays: z.number() }),
    z.object({ code: z.literal('pump-idle'), pump: z.string(), lastRunAt: isoTime().nullable(), idleDays: z.number().nullable(), maxIdleDays: z.number(), lookbackDays: z.number() }),
    z.object({ code: z.literal('standby-started'), pump: z.string(), startedAt: isoTime(), amps: z.number().nullable(), ampsMin: z.number(), ampsMax: z.number() }),
    z.object({ code: z.literal('standby-current'), pump: z.string(), startedAt: isoTime(), amps: z.number(), ampsMin: z.number(), ampsMax: z.number() }),
    z.object({ code: z.literal('standby-no-current'), pump: z.string(), startedAt: isoTime() }),
    z.object({ code: z.literal('standby-not-started'), pump: z.string(), lookbackDays: z.number() }),
    z.object({ code: z.literal('standby-alert'), pump: z.string(), rule: z.string() }),
    z.object({ code: z.literal('no-standby') }),
    z.object({ code: z.literal('sensor-fresh'), sensor: z.string(), lastSeen: isoTime().nullable() }),
    z.object({ code: z.literal('sensor-stale'), sensor: z.string(), lastSeen: isoTime().nullable() }),
    z.object({ code: z.literal('route-ok'), channel: z.string(), at: isoTime() }),
    z.object({ code: z.literal('route-failed'), channel: z.string(), at: isoTime(), error: z.string().nullable() }),
    z.object({ code: z.literal('route-untried'), channel: z.string() }),
    z.object({ code: z.literal('no-route') }),
    z.object({ code: z.literal('ticked'), by: z.string(), at: isoTime(), note: z.string().optional() }),
    z.object({ code: z.literal('unticked'), by: z.string(), at: isoTime(), note: z.string().optional() }),
    z.object({ code: z.literal('not-ticked') }),
    z.object({ code: z.literal('no-data'), reason: z.string() }),
  ])
  .meta({ id: 'ChecklistFinding' });
export type ChecklistFinding = z.infer<typeof ChecklistFindingSchema>;

export const ChecklistItemViewSchema = z
  .object({
    id: z.string(),
    text: z.string(),
    textZh: z.string().optional(),
    check: z.enum(CHECKLIST_CHECKS),
    state: z.enum(CHECKLIST_STATES),
    findings: z.array(ChecklistFindingSchema),
    /** since when the item has been in this state */
    since: isoTime(),
    /** when it was last evaluated */
    checkedAt: isoTime(),
  })
  .meta({ id: 'ChecklistItem' });
export type ChecklistItemView = z.infer<typeof ChecklistItemViewSchema>;

const stormRules = () => z.object({ riseWarnMmPerMin: z.number(), riseWindowSec: z.number(), holdSec: z.number(), clearHoldSec: z.number() });
export const RoomStormViewSchema = z
  .object({
    /** storm mode is on (the same as the room's stormMode) */
    mode: z.boolean(),
    /** when storm mode began */
    since: isoTime().optional(),
    /** the newest storm warning in force */
    warning: StormWarningRefSchema.optional(),
    /** the numbers the room's rules use now: its storm settings while storm mode is on, else the normal ones */
    rules: stormRules(),
    /** the storm settings, for "in storm mode the rules would be" */
    stormRules: stormRules(),
    /** evaluated also outside storm mode, so a pump idle too long is flagged before the rain */
    checklist: z.array(ChecklistItemViewSchema),
  })
  .meta({ id: 'RoomStorm' });
export type RoomStormView = z.infer<typeof RoomStormViewSchema>;

export const FloodRoomViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    nameZh: z.string().optional(),
    thresholds: z.object({ warnMm: z.number(), alarmMm: z.number(), criticalMm: z.number(), floorMm: z.number() }),
    /** null when no level sensor is fresh */
    level: FloodLevelViewSchema.nullable(),
    /** extension: the judged band, also while no sensor is fresh (it is held) */
    band: FloodBandSchema,
    levels: z.array(LevelViewSchema),
    pumps: z.array(PumpViewSchema),
    /** true while a relevant rainstorm or flood warning is in force for this room (docs/warnings.md) */
    stormMode: z.boolean(),
    /** extension: storm mode's state, the rules it applies and the readiness checklist (docs/warnings.md) */
    storm: RoomStormViewSchema.optional(),
  })
  .meta({ id: 'FloodRoom' });
export type FloodRoomView = z.infer<typeof FloodRoomViewSchema>;

export const FloodResponseSchema = z.object({ rooms: z.array(FloodRoomViewSchema) }).meta({ id: 'Flood' });
export type FloodResponse = z.infer<typeof FloodResponseSchema>;

export const VenueViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    nameZh: z.string().optional(),
    capacity: z.number().int(),
    areaM2: z.number(),
    occupancy: z.number().int(),
    ts: isoTime().nullable(),
    stale: z.boolean(),
  })
  .meta({ id: 'Venue' });
export type VenueView = z.infer<typeof VenueViewSchema>;

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export const ALERT_STATES = ['firing', 'acknowledged', 'resolved'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export type AlertState = (typeof ALERT_STATES)[number];

const pumpRole = z.enum(['duty', 'standby']);
/** extension: the structured findings behind an alert's `message`, one shape per rule. Times are ISO 8601 UTC. */
export const AlertDetailsSchema = z
  .discriminatedUnion('rule', [
    z.object({
      rule: z.literal('flood.level'),
      room: z.string(),
      band: z.enum(['warning', 'alarm', 'critical']),
      thresholdMm: z.number(),
      /** the room's level; null while no level sensor is fresh (the band is held) */
      levelMm: z.number().nullable(),
      /** the level is back at or below threshold - deadband: when it clears if it stays there */
      clearing: z.object({ belowMm: z.number(), at: isoTime() }).optional(),
      rateMmPerMin: z.number().optional(),
      pumpsOutpace: z.boolean().optional(),
    }),
    z.object({
      rule: z.literal('flood.rise'),
      room: z.string(),
      rateMmPerMin: z.number(),
      windowMin: z.number(),
      warnMmPerMin: z.number(),
      levelMm: z.number().nullable(),
      /** the rise has stopped: since when, and when the alert clears if it stays so */
      stopped: z.object({ since: isoTime(), clearsAt: isoTime() }).optional(),
      pumpsOutpace: z.boolean().optional(),
      /** the room is in storm mode: warnMmPerMin and windowMin are its storm settings */
      storm: z.literal(true).optional(),
    }),
    z.object({
      rule: z.literal('flood.storm-mode'),
      room: z.string(),
      /** when storm mode began */
      since: isoTime(),
      /** the newest storm warning in force (or, once ended, the one in force last) */
      warning: StormWarningRefSchema,
      /** how many storm warnings are in force */
      warnings: z.number().int(),
      /** the numbers the room's rules use in storm mode (docs/warnings.md) */
      rules: stormRules(),
      /** set when storm mode ended: when, and why (null when it ended while ParkOps was down) */
      ended: z.object({ at: isoTime(), reason: z.enum(['expired', 'cancelled', 'updated', 'disabled']).nullable() }).optional(),
    }),
    z.object({
      rule: z.literal('flood.sensors-disagree'),
      room: z.string(),
      diffMm: z.number(),
      high: z.object({ sensor: z.string(), mm: z.number() }),
      low: z.object({ sensor: z.string(), mm: z.number() }),
      allowedMm: z.number(),
    }),
    z.object({ rule: z.literal('pump.failed-start'), room: z.string(), pump: z.string(), role: pumpRole, startMm: z.number(), since: isoTime(), running: z.literal(false).nullable(), graceSec: z.number() }),
    z.object({ rule: z.literal('pump.no-effect'), room: z.string(), pump: z.string(), role: pumpRole, rateMmPerMin: z.number(), afterMin: z.number() }),
    z.object({ rule: z.literal('pump.current'), room: z.string(), pump: z.string(), role: pumpRole, kind: z.enum(['dry', 'jam']), amps: z.number(), ampsMin: z.number(), ampsMax: z.number() }),
    z.object({ rule: z.literal('pump.short-cycling'), room: z.string(), pump: z.string(), role: pumpRole, starts: z.number().int(), maxPerHour: z.number() }),
    z.object({
      rule: z.literal('device.stale'),
      room: z.string(),
      device: z.string(),
      kind: z.enum(['level', 'pump']),
      why: z.enum(['offline', 'silent', 'never']),
      since: isoTime(),
      expectedSec: z.number(),
      blind: z.boolean(),
    }),
    z.object({ rule: z.literal('parking.full'), zone: z.string().nullable(), occupied: z.number().int(), total: z.number().int() }),
    z.object({ rule: z.literal('venue.over-capacity'), venue: z.string(), people: z.number(), capacity: z.number() }),
    z.object({ rule: z.literal('parking.low-battery'), zone: z.string(), bays: z.array(z.string()), listed: z.number().int(), belowPct: z.number() }),
  ])
  .meta({ id: 'AlertDetails' });
export type AlertDetails = z.infer<typeof AlertDetailsSchema>;

/** The alert object (docs/api.md, "The alert object"). */
export const AlertSchema = z
  .object({
    id: z.string(),
    rule: z.string(),
    severity: z.enum(ALERT_SEVERITIES),
    state: z.enum(ALERT_STATES),
    subject: z.string().describe('what the alert is about, e.g. flood/b1-power/levels/L1'),
    message: z.string().describe("in the site's language"),
    value: z.number().optional(),
    startedAt: isoTime(),
    ackedAt: isoTime().optional(),
    ackedBy: z.string().optional(),
    ackNote: z.string().optional(),
    resolvedAt: isoTime().optional(),
    /** extension: flood alerts carry a time-to-threshold estimate in minutes, and the threshold's name */
    etaMin: z.number().optional(),
    etaTarget: z.string().optional(),
    /** extension */
    updatedAt: isoTime().optional(),
    room: z.string().optional(),
    /** extension: what the rule found, structured (values, thresholds, times, device and room ids), so a client can word it in its own language */
    details: AlertDetailsSchema.optional(),
  })
  .meta({ id: 'Alert' });
export type Alert = z.infer<typeof AlertSchema>;

export const USAGE_EVERIES = ['15m', '1h', '1d'] as const;
export const UsagePointSchema = z.object({ t: isoTime(), avg: z.number().nullable(), max: z.number().nullable() }).meta({ id: 'UsagePoint' });
export type UsagePoint = z.infer<typeof UsagePointSchema>;
export const UsageResponseSchema = z
  .object({
    subject: z.string(),
    every: z.enum(USAGE_EVERIES),
    points: z.array(UsagePointSchema),
    /** extension */
    timezone: z.string().optional(),
    from: isoTime().optional(),
    to: isoTime().optional(),
  })
  .meta({ id: 'Usage' });
export type UsageResponse = z.infer<typeof UsageResponseSchema>;

/** One info block of a warning, in its language (CMA publishes zh-CN and en blocks). */
export const WarningInfoViewSchema = z
  .object({
    language: z.string(),
    category: z.array(z.string()),
    event: z.string(),
    urgency: z.string(),
    severity: z.string(),
    certainty: z.string(),
    effective: isoTime().optional(),
    onset: isoTime().optional(),
    expires: isoTime().optional(),
    senderName: z.string().optional(),
    headline: z.string().optional(),
    description: z.string().optional(),
    instruction: z.string().optional(),
    web: z.string().optional(),
    eventCodes: z.array(z.object({ valueName: z.string(), value: z.string() })),
    areaDesc: z.string(),
    /** this block's areas cover the site */
    coversSite: z.boolean(),
  })
  .meta({ id: 'WarningInfo' });
export type WarningInfoView = z.infer<typeof WarningInfoViewSchema>;

/**
 * A CAP warning as GET /api/warnings lists it. The top-level event, severity, times and texts are
 * those of the info block that matters for the site (a covering rainstorm or flood block first);
 * `infos` has every block, e.g. zh-CN and en.
 */
export const WarningViewSchema = z
  .object({
    id: z.string(),
    sender: z.string(),
    event: z.string(),
    severity: z.string(),
    urgency: z.string(),
    onset: isoTime().optional(),
    expires: isoTime().optional(),
    headline: z.string().optional(),
    relevant: z.boolean(),
    inForce: z.boolean(),
    /** extensions */
    identifier: z.string(),
    sent: isoTime(),
    status: z.string(),
    msgType: z.string(),
    scope: z.string(),
    certainty: z.string(),
    effective: isoTime().optional(),
    areaDesc: z.string(),
    description: z.string().optional(),
    instruction: z.string().optional(),
    language: z.string(),
    /** a rainstorm or flood warning (by the site file's event list) whose area covers the site */
    storm: z.boolean(),
    /** when it is (or was) in force for the site: null when it never is (not relevant, a test, a cancel) */
    inForceFrom: isoTime().nullable(),
    inForceUntil: isoTime().nullable(),
    references: z.array(z.object({ sender: z.string(), identifier: z.string(), sent: isoTime() })),
    /** the Update or Cancel that ended it */
    supersededBy: z.string().optional(),
    receivedAt: isoTime(),
    via: z.enum(['http', 'mqtt', 'feed']),
    infos: z.array(WarningInfoViewSchema),
  })
  .meta({ id: 'Warning' });
export type WarningView = z.infer<typeof WarningViewSchema>;

export const PostWarningResponseSchema = z
  .object({
    id: z.string(),
    relevant: z.boolean(),
    /** extensions */
    inForce: z.boolean(),
    storm: z.boolean(),
    /** the same sender and identifier was stored before: nothing changed */
    duplicate: z.boolean(),
  })
  .meta({ id: 'PostWarningResult' });
export type PostWarningResponse = z.infer<typeof PostWarningResponseSchema>;

export const RoomEventSchema = z.object({ room: z.string(), level: FloodLevelViewSchema.nullable(), band: FloodBandSchema }).meta({ id: 'RoomEvent' });
export type RoomEvent = z.infer<typeof RoomEventSchema>;

/** Server-Sent Events on /api/stream: `snapshot` first, then these deltas. */
export const StreamSnapshotSchema = z
  .object({
    parking: ParkingResponseSchema,
    flood: FloodResponseSchema,
    venues: z.array(VenueViewSchema),
    alerts: z.array(AlertSchema),
    serverTime: isoTime(),
    /** extension: warnings in force for the site */
    warnings: z.array(WarningViewSchema).optional(),
    /** extension: the site's time zone (times for people are site-local) and the language of its messages */
    site: z.object({ timezone: z.string(), language: z.enum(['zh-CN', 'en']) }).optional(),
  })
  .meta({ id: 'StreamSnapshot' });
export type StreamSnapshot = z.infer<typeof StreamSnapshotSchema>;

/** The `data` of each event on /api/stream, by event name. */
export const StreamEventsSchema = z.object({
  snapshot: StreamSnapshotSchema,
  bay: BayViewSchema,
  gate: GateScanViewSchema,
  level: z.object({ room: z.string() }).and(LevelViewSchema),
  pump: z.object({ room: z.string() }).and(PumpViewSchema),
  venue: VenueViewSchema,
  alert: AlertSchema,
  /** extension: a warning arrived or changed (in force, superseded) */
  warning: WarningViewSchema,
  /** extension: a room went into or out of storm mode */
  storm: z.object({ room: z.string(), stormMode: z.boolean() }),
  /** extension: the room's judged level changed (a reading, a band change after its hold, a sensor going stale) */
  room: RoomEventSchema,
  /** extension: a room's storm view changed (storm mode, a checklist item's state or tick) */
  readiness: z.object({ room: z.string(), storm: RoomStormViewSchema }),
});
export type StreamEvents = z.infer<typeof StreamEventsSchema>;

// ---- Devices behind LoRaWAN network servers ----

export const DEVICE_KINDS = ['bay', 'gate', 'level', 'pump', 'venue'] as const;
export type DeviceKindName = (typeof DEVICE_KINDS)[number];

export const BindingViewSchema = z
  .object({
    /** extension: the ParkOps device the binding belongs to */
    deviceId: z.string(),
    /** 16 upper-case hex digits */
    devEui: z.string().regex(/^[0-9A-F]{16}$/),
    codec: z.string(),
    params: z.record(z.string(), z.unknown()),
    /** extension */
    updatedAt: isoTime(),
    /** extension: who made it; in the admin answers only (PUT), not in the viewers' device list */
    updatedBy: z.string().optional(),
  })
  .meta({ id: 'Binding' });
export type BindingView = z.infer<typeof BindingViewSchema>;

export const DeviceViewSchema = z
  .object({
    id: z.string(),
    kind: z.enum(DEVICE_KINDS),
    name: z.string(),
    /** extension */
    nameZh: z.string().optional(),
    /** extension: the zone of a bay, the flood room of a level sensor or pump */
    parent: z.string().optional(),
    /** the newest of its last reading and its last uplink */
    lastSeen: isoTime().optional(),
    /** percent */
    battery: z.number().optional(),
    /** extension: battery voltage, for devices that report volts instead of percent */
    batteryMv: z.number().optional(),
    /** dBm and dB of the best gateway on the last uplink */
    rssi: z.number().optional(),
    snr: z.number().optional(),
    binding: BindingViewSchema.optional(),
    /** extension: no fresh reading within the device's staleness window (gates: never) */
    stale: z.boolean(),
    /** extension: battery below the site's lowBatteryPct (devices that report only volts: false) */
    lowBattery: z.boolean(),
    /** extension: what the device's last uplink reported about its own measurement */
    problem: z.string().optional(),
  })
  .meta({ id: 'Device' });
export type DeviceView = z.infer<typeof DeviceViewSchema>;

export const UnboundDeviceViewSchema = z
  .object({
    devEui: z.string(),
    network: z.enum(['chirpstack', 'tts']),
    name: z.string().optional(),
    /** extension */
    applicationId: z.string().optional(),
    firstSeen: isoTime(),
    lastSeen: isoTime(),
    uplinks: z.number().int(),
  })
  .meta({ id: 'UnboundDevice' });
export type UnboundDeviceView = z.infer<typeof UnboundDeviceViewSchema>;

export const CodecViewSchema = z
  .object({
    name: z.string(),
    kinds: z.array(z.enum(DEVICE_KINDS)),
    description: z.string(),
    paramsExample: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'Codec' });
export type CodecView = z.infer<typeof CodecViewSchema>;

export const BindingsImportResultSchema = z
  .object({
    dryRun: z.boolean(),
    rows: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
  })
  .meta({ id: 'BindingsImportResult' });
export type BindingsImportResult = z.infer<typeof BindingsImportResultSchema>;
