/**
 * HTTP API shapes (CONTRACT.md sections 3 and 4). Times are ISO 8601 UTC strings.
 * The dashboard imports these types; fields marked "extension" are additions the contract allows.
 */

/**
 * Roles, each including the ones before it, except `feed`: a token role for official warning feeds
 * that may only post warnings (CONTRACT.md section 8). It sits first so that every `viewer` route
 * refuses it; the warnings route lets it in by name.
 */
export const ROLES = ['feed', 'viewer', 'responder', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** People's roles: `feed` is for tokens only. */
export const USER_ROLES = ['viewer', 'responder', 'manager', 'admin'] as const satisfies readonly Role[];
export type UserRole = (typeof USER_ROLES)[number];
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export interface HealthResponse {
  status: 'ok' | 'degraded';
  mqtt: string;
  store: string;
  /** extension: why degraded, and the outbox in InfluxDB mode */
  problems?: string[];
  outbox?: { depth: number; oldestAgeSec: number | null };
  /** With PARKOPS_DATABASE_URL (CONTRACT.md section 7): whether this process is the leader. */
  role?: 'leader' | 'standby';
}

export interface BayView {
  id: string;
  zone: string;
  occupied: boolean | null;
  /** when the bay last changed state */
  since: string | null;
  /** extension */
  lastSeen: string | null;
  battery: number | null;
  stale: boolean;
}
export interface ParkingResponse {
  total: number;
  occupied: number;
  free: number;
  zones: { id: string; name: string; nameZh?: string | undefined; total: number; occupied: number }[];
  bays: BayView[];
  gates: { id: string; name: string; nameZh?: string | undefined; direction: string; lastScan: GateScanView | null }[];
  /** extension: the newest scans, newest first */
  recentScans: GateScanView[];
}
export interface GateScanView {
  gateId: string;
  event: 'entry' | 'exit';
  pass: string;
  ts: string;
}
export interface ParkingSession {
  pass: string;
  gateIn: string;
  entryAt: string;
  gateOut?: string;
  exitAt?: string;
  minutes?: number;
}
export interface LevelView {
  id: string;
  name: string;
  mm: number | null;
  ts: string | null;
  /** extension: when the value last changed, apart from when it was last seen */
  changedAt: string | null;
  /** as the alert engine judges it: offline (and nothing since) or silent past its staleAfterSec, counted from receipt */
  stale: boolean;
  /** null until a status message arrived; a reading after `offline` makes it true again */
  online: boolean | null;
  /** extension: when ParkOps last received any message from it */
  lastSeen?: string | null;
}
export interface PumpView {
  id: string;
  name: string;
  role: 'duty' | 'standby';
  running: boolean | null;
  amps: number | null;
  ts: string | null;
  changedAt: string | null;
  stale: boolean;
  online: boolean | null;
  /** extension: when ParkOps last received any message from it */
  lastSeen?: string | null;
}
export type FloodBand = 'normal' | 'warning' | 'alarm' | 'critical';
/** The room's level and band exactly as the alert engine judges them (CONTRACT.md section 3). */
export interface FloodLevelView {
  /** mm above the sump-pit floor: the highest fresh level sensor */
  mm: number;
  band: FloodBand;
  /** device time of the reading that gives the level */
  ts: string;
  /** extension: the fresh sensors that count, and the one that gives the level */
  sensors: string[];
  from: string;
  /** extension: a band change waiting out its hold time, and when it happens if the level stays */
  pending?: { band: FloodBand; at: string };
}
export interface FloodRoomView {
  id: string;
  name: string;
  nameZh?: string | undefined;
  thresholds: { warnMm: number; alarmMm: number; criticalMm: number; floorMm: number };
  /** null when no level sensor is fresh */
  level: FloodLevelView | null;
  /** extension: the judged band, also while no sensor is fresh (it is held) */
  band: FloodBand;
  levels: LevelView[];
  pumps: PumpView[];
  /** true while a relevant rainstorm or flood warning is in force for this room (docs/warnings.md) */
  stormMode: boolean;
}
export interface FloodResponse {
  rooms: FloodRoomView[];
}
export interface VenueView {
  id: string;
  name: string;
  nameZh?: string | undefined;
  capacity: number;
  areaM2: number;
  occupancy: number;
  ts: string | null;
  stale: boolean;
}

export type AlertSeverity = 'info' | 'warning' | 'critical';
export type AlertState = 'firing' | 'acknowledged' | 'resolved';
/** CONTRACT.md section 4. */
export interface Alert {
  id: string;
  rule: string;
  severity: AlertSeverity;
  state: AlertState;
  subject: string;
  message: string;
  value?: number;
  startedAt: string;
  ackedAt?: string;
  ackedBy?: string;
  ackNote?: string;
  resolvedAt?: string;
  /** extension: flood alerts carry a time-to-threshold estimate in minutes, and the threshold's name */
  etaMin?: number;
  etaTarget?: string;
  /** extension */
  updatedAt?: string;
  room?: string;
  /** extension: what the rule found, structured (values, thresholds, times, device and room ids), so a client can word it in its own language */
  details?: AlertDetails;
}

/** extension: the structured findings behind an alert's `message`, one shape per rule. Times are ISO 8601 UTC. */
export type AlertDetails =
  | {
      rule: 'flood.level';
      room: string;
      band: 'warning' | 'alarm' | 'critical';
      thresholdMm: number;
      /** the room's level; null while no level sensor is fresh (the band is held) */
      levelMm: number | null;
      /** the level is back at or below threshold - deadband: when it clears if it stays there */
      clearing?: { belowMm: number; at: string };
      rateMmPerMin?: number;
      pumpsOutpace?: boolean;
    }
  | {
      rule: 'flood.rise';
      room: string;
      rateMmPerMin: number;
      windowMin: number;
      warnMmPerMin: number;
      levelMm: number | null;
      /** the rise has stopped: since when, and when the alert clears if it stays so */
      stopped?: { since: string; clearsAt: string };
      pumpsOutpace?: boolean;
    }
  | { rule: 'flood.sensors-disagree'; room: string; diffMm: number; high: { sensor: string; mm: number }; low: { sensor: string; mm: number }; allowedMm: number }
  | { rule: 'pump.failed-start'; room: string; pump: string; role: 'duty' | 'standby'; startMm: number; since: string; running: false | null; graceSec: number }
  | { rule: 'pump.no-effect'; room: string; pump: string; role: 'duty' | 'standby'; rateMmPerMin: number; afterMin: number }
  | { rule: 'pump.current'; room: string; pump: string; role: 'duty' | 'standby'; kind: 'dry' | 'jam'; amps: number; ampsMin: number; ampsMax: number }
  | { rule: 'pump.short-cycling'; room: string; pump: string; role: 'duty' | 'standby'; starts: number; maxPerHour: number }
  | { rule: 'device.stale'; room: string; device: string; kind: 'level' | 'pump'; why: 'offline' | 'silent' | 'never'; since: string; expectedSec: number; blind: boolean }
  | { rule: 'parking.full'; zone: string | null; occupied: number; total: number }
  | { rule: 'venue.over-capacity'; venue: string; people: number; capacity: number }
  | { rule: 'parking.low-battery'; zone: string; bays: string[]; listed: number; belowPct: number };

export interface UsagePoint {
  t: string;
  avg: number | null;
  max: number | null;
}
export interface UsageResponse {
  subject: string;
  every: '15m' | '1h' | '1d';
  points: UsagePoint[];
  /** extension */
  timezone?: string;
}

/** One info block of a warning, in its language (CMA publishes zh-CN and en blocks). */
export interface WarningInfoView {
  language: string;
  category: string[];
  event: string;
  urgency: string;
  severity: string;
  certainty: string;
  effective?: string;
  onset?: string;
  expires?: string;
  senderName?: string;
  headline?: string;
  description?: string;
  instruction?: string;
  web?: string;
  eventCodes: { valueName: string; value: string }[];
  areaDesc: string;
  /** this block's areas cover the site */
  coversSite: boolean;
}

/**
 * A CAP warning as GET /api/warnings lists it (CONTRACT.md section 8). The top-level event, severity,
 * times and texts are those of the info block that matters for the site (a covering rainstorm or
 * flood block first); `infos` has every block, e.g. zh-CN and en.
 */
export interface WarningView {
  id: string;
  sender: string;
  event: string;
  severity: string;
  urgency: string;
  onset?: string;
  expires?: string;
  headline?: string;
  relevant: boolean;
  inForce: boolean;
  /** extensions */
  identifier: string;
  sent: string;
  status: string;
  msgType: string;
  scope: string;
  certainty: string;
  effective?: string;
  areaDesc: string;
  description?: string;
  instruction?: string;
  language: string;
  /** a rainstorm or flood warning (by the site file's event list) whose area covers the site */
  storm: boolean;
  /** when it is (or was) in force for the site: null when it never is (not relevant, a test, a cancel) */
  inForceFrom: string | null;
  inForceUntil: string | null;
  references: { sender: string; identifier: string; sent: string }[];
  /** the Update or Cancel that ended it */
  supersededBy?: string;
  receivedAt: string;
  via: 'http' | 'mqtt' | 'feed';
  infos: WarningInfoView[];
}

export interface PostWarningResponse {
  id: string;
  relevant: boolean;
  /** extensions */
  inForce: boolean;
  storm: boolean;
  /** the same sender and identifier was stored before: nothing changed */
  duplicate: boolean;
}

/** Server-Sent Events on /api/stream: `snapshot` first, then these deltas. */
export interface StreamSnapshot {
  parking: ParkingResponse;
  flood: FloodResponse;
  venues: VenueView[];
  alerts: Alert[];
  serverTime: string;
  /** extension: warnings in force for the site */
  warnings?: WarningView[];
}
export interface StreamEvents {
  snapshot: StreamSnapshot;
  bay: BayView;
  gate: GateScanView;
  level: { room: string } & LevelView;
  pump: { room: string } & PumpView;
  venue: VenueView;
  alert: Alert;
  /** extension: a warning arrived or changed (in force, superseded) */
  warning: WarningView;
  /** extension: a room went into or out of storm mode */
  storm: { room: string; stormMode: boolean };
  /** extension: the room's judged level changed (a reading, a band change after its hold, a sensor going stale) */
  room: RoomEvent;
}
export interface RoomEvent {
  room: string;
  level: FloodLevelView | null;
  band: FloodBand;
}

// ---- Devices behind LoRaWAN network servers (CONTRACT.md section 6) ----

export type DeviceKindName = 'bay' | 'gate' | 'level' | 'pump' | 'venue';

export interface BindingView {
  /** extension: the ParkOps device the binding belongs to */
  deviceId: string;
  /** 16 upper-case hex digits */
  devEui: string;
  codec: string;
  params: Record<string, unknown>;
  /** extension */
  updatedAt: string;
  /** extension: who made it; in the admin answers only (PUT), not in the viewers' device list */
  updatedBy?: string;
}

export interface DeviceView {
  id: string;
  kind: DeviceKindName;
  name: string;
  /** extension */
  nameZh?: string;
  /** extension: the zone of a bay, the flood room of a level sensor or pump */
  parent?: string;
  /** the newest of its last reading and its last uplink */
  lastSeen?: string;
  /** percent */
  battery?: number;
  /** extension: battery voltage, for devices that report volts instead of percent */
  batteryMv?: number;
  /** dBm and dB of the best gateway on the last uplink */
  rssi?: number;
  snr?: number;
  binding?: BindingView;
  /** extension: no fresh reading within the device's staleness window (gates: never) */
  stale: boolean;
  /** extension: battery below the site's lowBatteryPct (devices that report only volts: false) */
  lowBattery: boolean;
  /** extension: what the device's last uplink reported about its own measurement */
  problem?: string;
}

export interface UnboundDeviceView {
  devEui: string;
  network: 'chirpstack' | 'tts';
  name?: string;
  /** extension */
  applicationId?: string;
  firstSeen: string;
  lastSeen: string;
  uplinks: number;
}

export interface CodecView {
  name: string;
  kinds: DeviceKindName[];
  description: string;
  paramsExample?: Record<string, unknown>;
}

export interface BindingsImportResult {
  dryRun: boolean;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
}
