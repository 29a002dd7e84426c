/**
 * Response shapes of the report routes (docs/reports.md). The dashboard imports these types from
 * `@parkops/ingest/reports/types.ts`; `UsageResponse` itself lives in the contract module.
 * Times are ISO 8601 UTC strings; `date` is a local date (YYYY-MM-DD) and `hour` a local hour in the
 * site's time zone. `null` is an honest gap (no data), never zero.
 */
export type Every = '15m' | '1h' | '1d';

export interface Point {
  t: string;
  avg: number | null;
  max: number | null;
}

export interface Heatmap {
  /** Mon..Sun */
  weekdays: string[];
  /** 0..23 */
  hours: number[];
  /** [weekday][hour] */
  avg: (number | null)[][];
  max: (number | null)[][];
}

export interface HeatmapReport extends Heatmap {
  subject: string;
  from: string;
  to: string;
  timezone: string;
}

export interface ParkingSummary {
  /** time-weighted occupied share over the range, 0..1 */
  avg: number | null;
  /** highest instantaneous share, and when */
  peak: { share: number; at: string } | null;
  /** share of bay-time with a known state, 0..1 */
  coverage: number;
  /** gate sessions that started in the range */
  sessions: number;
  /** sessions per bay per day */
  turnover: number | null;
  avgDwellMin: number | null;
  medianDwellMin: number | null;
  overstays: number;
}

export interface ParkingDay {
  date: string;
  avg: number | null;
  max: number | null;
  peakAt: string | null;
  sessions: number;
  turnover: number | null;
  avgDwellMin: number | null;
  medianDwellMin: number | null;
  overstays: number;
  entries: number;
  exits: number;
  sensorArrivals: number;
  driftPct: number | null;
  drift: boolean;
}

export interface Overstay {
  pass: string;
  gateIn: string;
  entryAt: string;
  exitAt: string | null;
  hours: number;
  open: boolean;
}

export interface ParkingReport {
  kind: 'parking';
  from: string;
  to: string;
  timezone: string;
  zone: string | null;
  bays: number;
  every: Every;
  occupancy: Point[];
  summary: ParkingSummary;
  byHour: { hour: number; avg: number | null; max: number | null }[];
  heatmap: Heatmap;
  days: ParkingDay[];
  zones: { id: string; name: string; bays: number; avg: number | null; max: number | null; peakAt: string | null }[];
  overstays: { limitHours: number; count: number; items: Overstay[] };
  crossCheck: {
    entries: number;
    exits: number;
    sensorArrivals: number;
    driftPct: number | null;
    drift: boolean;
    stuckBays: { bayId: string; zone: string; occupied: boolean; since: string; hours: number }[];
    silentBays: { bayId: string; zone: string; lastSeen: string | null }[];
  };
  previous: { from: string; to: string; summary: ParkingSummary };
  change: { avg: number | null; peak: number | null; sessions: number | null; turnover: number | null; avgDwellMin: number | null; overstays: number | null };
}

export interface VenueSummary {
  visitors: number;
  visitorsPerDay: number | null;
  avg: number | null;
  peak: { people: number; at: string; ofCapacity: number } | null;
  coverage: number;
}

export interface VenueReport {
  id: string;
  name: string;
  capacity: number;
  areaM2: number;
  occupancy: Point[];
  summary: VenueSummary;
  days: { date: string; visitors: number; avg: number | null; max: number | null; peakAt: string | null }[];
  byHour: { hour: number; avg: number | null; max: number | null; visitors: number }[];
  busiestHours: { hour: number; avg: number }[];
  heatmap: Heatmap;
  previous: { from: string; to: string; summary: VenueSummary };
  change: { visitors: number | null; avg: number | null; peak: number | null };
}

export interface VenuesReport {
  kind: 'venues';
  from: string;
  to: string;
  timezone: string;
  every: Every;
  venues: VenueReport[];
}

export interface BandMinutes {
  warn: number;
  alarm: number;
  critical: number;
}

export interface FloodSummary {
  runHours: number;
  starts: number;
  maxLevelMm: number | null;
  maxLevelAt: string | null;
  aboveMin: BandMinutes;
}

export interface FloodRoomReport {
  id: string;
  name: string;
  bands: { warnMm: number; alarmMm: number; criticalMm: number };
  summary: FloodSummary;
  days: { date: string; maxLevelMm: number | null; maxLevelAt: string | null; aboveMin: BandMinutes; pumps: { id: string; runHours: number; starts: number }[] }[];
  levels: { id: string; name: string; maxMm: number | null; at: string | null; avgMm: number | null; aboveMin: BandMinutes }[];
  pumps: { id: string; name: string; role: 'duty' | 'standby'; runHours: number; starts: number; startsPerDay: number | null }[];
  previous: { from: string; to: string; summary: FloodSummary };
  change: { runHours: number | null; starts: number | null; maxLevelMm: number | null };
}

export interface FloodReport {
  kind: 'flood';
  from: string;
  to: string;
  timezone: string;
  rooms: FloodRoomReport[];
}
