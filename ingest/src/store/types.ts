/**
 * The time-series store interface. The SQLite store (the embedded default) and the InfluxDB store
 * (deployments) both implement it and pass the same behaviour suite (test/store-suite.ts).
 *
 * Writes are synchronous and durable on return: ingest acknowledges the MQTT message after `write`
 * returns, so an acknowledged reading is never only in memory. (In InfluxDB mode the durable step is
 * the local SQLite outbox; a forwarder ships it to InfluxDB.)
 */
import type { Reading, ParkingSession, UsagePoint } from '@parkops/contract/index.ts';

export type Every = '15m' | '1h' | '1d';
export const EVERY_MS: Record<Every, number> = { '15m': 15 * 60_000, '1h': 3_600_000, '1d': 86_400_000 };

export interface TimeRange {
  /** epoch ms, inclusive */
  from: number;
  /** epoch ms, exclusive */
  to: number;
}

/** An aggregated numeric series: one point per bucket that has data; buckets without data are absent (honest gaps). */
export interface SeriesPoint {
  /** bucket start, epoch ms */
  t: number;
  avg: number;
  min: number;
  max: number;
  last: number;
  count: number;
}

export interface StoreHealth {
  ok: boolean;
  /** e.g. "sqlite", "influxdb (outbox 0)", "influxdb unreachable: ..." */
  detail: string;
  outbox?: { depth: number; oldestAgeSec: number | null; rejected: number };
}

export interface TimeSeriesStore {
  readonly kind: 'sqlite' | 'influxdb';
  /** Opens files or checks the server; throws a clear error when it cannot. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Durably records one reading. Returns false when the same reading (same subject and ts) was
   * already stored, so QoS 1 redeliveries are stored once.
   */
  write(reading: Reading): boolean;
  /** Raw readings of one subject in a range, oldest first (for exports, the incident timeline and tests). */
  readings(subject: string, range: TimeRange, limit?: number): Promise<Reading[]>;
  /** Numeric series of one field of one subject, bucketed by `bucketMs` aligned to the epoch (UTC). */
  series(subject: string, field: 'mm' | 'amps' | 'running' | 'occupancy' | 'occupied', range: TimeRange, bucketMs: number): Promise<SeriesPoint[]>;
  /** Parking sessions paired from gate scans that overlap the range. */
  sessions(range: TimeRange): Promise<ParkingSession[]>;
  /**
   * Utilisation for `GET /api/usage`: `parking`, `parking/{zoneId}` or `venues/{venueId}`.
   * Parking: occupied share 0..1 (time-weighted avg, max); venues: people present. Buckets follow
   * the site's time zone for `1d`.
   */
  usage(subject: string, range: TimeRange, every: Every): Promise<UsagePoint[]>;
  /** Total readings stored, per kind (for tests, metrics and the benchmarks). */
  counts(): Promise<Record<Reading['kind'], number>>;
  health(): StoreHealth;
}
