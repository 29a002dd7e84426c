/**
 * The time-series store interface. The SQLite store (the embedded default) and the InfluxDB store
 * (deployments) both implement it and pass the same behaviour suite (test/integration/store-suite.ts);
 * a PostgreSQL store will too.
 *
 * Writes are durable when they resolve: ingest writes readings through `participant` inside its batch
 * transaction and acknowledges the MQTT messages after the commit, so an acknowledged reading is never
 * only in memory. (In InfluxDB mode the durable step is the local outbox; a forwarder ships it.)
 *
 * Nothing outside a store looks at what kind it is: what differs (an outbox, exact rollups for the
 * reports) is a capability here, null where the store has none.
 */
import type { Reading, ParkingSession, UsagePoint } from '@parkops/contract/index.ts';
import type { Awaitable, Tx } from '../db/tx.ts';
import type { LocalTime } from '../reports/local-time.ts';
import type { ReportSource } from '../reports/sources.ts';

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
  /** Things an operator should fix that do not stop the store (e.g. a retention policy that disagrees with the setting). */
  problems?: string[];
  outbox?: { depth: number; oldestAgeSec: number | null; rejected: number };
}

/** The outbox's figures, for /metrics and health (InfluxDB mode). */
export interface OutboxMetrics {
  /** lines waiting in the outbox */
  depth: number;
  /** age of the oldest waiting line, seconds; null when empty */
  oldestAgeSec: number | null;
  /** lines InfluxDB accepted since start */
  sentTotal: number;
  /** lines InfluxDB rejected as invalid since start (a counter) */
  rejectedTotal: number;
  /** lines set aside now (persists across restarts) */
  rejectedHeld: number;
  /** the last failure to deliver, cleared by the next successful request */
  lastError: string | null;
}

/** The store's part of the ingest transaction. */
export interface ReadingsParticipant {
  /**
   * Records one reading inside the caller's transaction. Returns false when the same reading (same
   * subject and ts) was already stored, so QoS 1 redeliveries are stored once.
   */
  write(tx: Tx, reading: Reading): Awaitable<boolean>;
}

/** Keeping a store's report rollups up to date (the SQLite store's 15-minute rollups). */
export interface RollupMaintenance {
  /** Quarter-hour marks waiting to be rolled up. */
  pending(): Promise<number>;
  /** Rolls up what is dirty, at most `maxMarks` marks per key; resolves to the marks consumed. */
  refresh(opts?: { maxMarks?: number }): Promise<number>;
}

/** Removing raw readings past their retention (a store whose server does it itself has none). */
export interface RawRetention {
  /**
   * Deletes at most `limit` raw readings older than `cutoffMs`, never one a rollup still has to be
   * built from (a quarter marked dirty, and the readings its recompute looks back at). Resolves to
   * the rows deleted; 0 when nothing more can go now.
   */
  pruneBefore(cutoffMs: number, limit: number): Promise<number>;
  /** Time of the oldest raw reading kept (epoch ms), null when there is none. */
  oldest(): Promise<number | null>;
}

export interface TimeSeriesStore {
  /** For logs and the health text only; nothing branches on it. */
  readonly kind: 'sqlite' | 'influxdb' | 'postgresql';
  /** Opens files or checks the server; throws a clear error when it cannot. */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly participant: ReadingsParticipant;
  /** Durably records one reading in a transaction of its own; false for a reading already stored. */
  write(reading: Reading): Promise<boolean>;
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
  health(): Promise<StoreHealth>;
  /** The outbox's figures; null for a store without one. */
  outboxMetrics(): Promise<OutboxMetrics | null>;
  /** Where the report builder reads: exact rollups where the store keeps them, else rebuilt from the queries above. */
  reportSource(lt: LocalTime): ReportSource;
  /** The rollups to keep up to date in the background; null for a store without them. */
  rollups(): RollupMaintenance | null;
  /** Pruning raw readings; null where the server applies retention itself (InfluxDB's retention policy). */
  retention(): RawRetention | null;
}
