/**
 * HTTP API shapes (CONTRACT.md sections 3 and 4). Times are ISO 8601 UTC strings.
 * The dashboard imports these types; fields marked "extension" are additions the contract allows.
 */

export const ROLES = ['viewer', 'responder', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];
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
  stale: boolean;
  online: boolean | null;
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
}
export interface FloodRoomView {
  id: string;
  name: string;
  nameZh?: string | undefined;
  thresholds: { warnMm: number; alarmMm: number; criticalMm: number; floorMm: number };
  levels: LevelView[];
  pumps: PumpView[];
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
}

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

/** Server-Sent Events on /api/stream: `snapshot` first, then these deltas. */
export interface StreamSnapshot {
  parking: ParkingResponse;
  flood: FloodResponse;
  venues: VenueView[];
  alerts: Alert[];
  serverTime: string;
}
export interface StreamEvents {
  snapshot: StreamSnapshot;
  bay: BayView;
  gate: GateScanView;
  level: { room: string } & LevelView;
  pump: { room: string } & PumpView;
  venue: VenueView;
  alert: Alert;
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
