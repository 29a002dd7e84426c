/**
 * PostgreSQL time-series store (PARKOPS_DATABASE_URL without PARKOPS_STORE=influxdb). The same tables
 * as the SQLite store, with the same key (series_id, ts), so a redelivered reading hits the key and is
 * stored once (`ON CONFLICT DO NOTHING`).
 *
 * Every reading table is declaratively partitioned by RANGE on `ts` (epoch ms), one partition per UTC
 * month (`level_readings_2026_01` holds [2026-01-01, 2026-02-01)). Partitions are created ahead: at
 * start for the previous, current and next two months, then once a day; a reading for a month without
 * a partition (a back-fill from long ago) creates its month first, outside the ingest transaction, so
 * the transaction itself takes no DDL lock. There is no default partition: it would block creating a
 * month later. Retention drops whole months (`dropMonthsBefore`), which is instant and leaves no dead
 * rows to vacuum, instead of deleting rows.
 *
 * Reports: PostgreSQL keeps no rollups; usage is swept from the bay and venue readings at query time
 * (reports/query-usage.ts) and the report builder reads through the generic `StoreReportSource`.
 */
import type { ParkingSession, Reading, UsagePoint } from '@parkops/contract/index.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import type { Every, OutboxMetrics, ReadingsParticipant, SeriesPoint, StoreHealth, TimeRange, TimeSeriesStore } from './types.ts';
import { StoreReportSource, type ReportSource } from '../reports/sources.ts';
import type { LocalTime } from '../reports/local-time.ts';
import { parseSubject } from '@parkops/contract/subjects.ts';
import { pgOf, PgTransactions, type PgDatabase, type PgModuleSchema } from '../db/pg.ts';
import { MAX_OPEN_SESSION_MS, toReading, toSession } from './sqlite-store.ts';
import { queryUsage } from '../reports/query-usage.ts';

const READING_TABLES = ['bay_readings', 'gate_scans', 'level_readings', 'pump_readings', 'venue_counts', 'device_status'] as const;

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS series (id SERIAL PRIMARY KEY, subject TEXT NOT NULL UNIQUE, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bay_readings (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, occupied SMALLINT NOT NULL, battery DOUBLE PRECISION, PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS gate_scans (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, event TEXT NOT NULL, pass TEXT NOT NULL, PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS level_readings (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, mm DOUBLE PRECISION NOT NULL, PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS pump_readings (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, running SMALLINT NOT NULL, amps DOUBLE PRECISION, PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS venue_counts (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, count_in INTEGER NOT NULL, count_out INTEGER NOT NULL, occupancy INTEGER, PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS device_status (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, online SMALLINT NOT NULL, PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS parking_sessions (id BIGSERIAL PRIMARY KEY, pass TEXT NOT NULL, gate_in TEXT NOT NULL, entry_at BIGINT NOT NULL, gate_out TEXT, exit_at BIGINT);
CREATE INDEX IF NOT EXISTS parking_sessions_open ON parking_sessions (pass, entry_at) WHERE exit_at IS NULL;
CREATE INDEX IF NOT EXISTS parking_sessions_entry ON parking_sessions (entry_at);
CREATE INDEX IF NOT EXISTS parking_sessions_exit ON parking_sessions (exit_at);
`;

/** The time series' PostgreSQL migrations (db/pg.ts). */
export const PG_TIMESERIES_SCHEMA: PgModuleSchema = { module: 'timeseries', migrations: [{ version: 1, description: 'series, monthly-partitioned readings per kind and parking sessions', up: SCHEMA_V1 }] };

const TABLE: Record<Reading['kind'], (typeof READING_TABLES)[number]> = {
  bay: 'bay_readings',
  gate: 'gate_scans',
  level: 'level_readings',
  pump: 'pump_readings',
  venue: 'venue_counts',
  status: 'device_status',
};
const FIELD_COLUMN = { mm: ['level_readings', 'mm'], amps: ['pump_readings', 'amps'], running: ['pump_readings', 'running'], occupancy: ['venue_counts', 'occupancy'], occupied: ['bay_readings', 'occupied'] } as const;

/** Start of the UTC month holding `ms`, and the start of the month after. */
export function monthOf(ms: number): { from: number; to: number; name: string } {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return { from: Date.UTC(y, m, 1), to: Date.UTC(y, m + 1, 1), name: `${y}_${String(m + 1).padStart(2, '0')}` };
}

const DAY_MS = 86_400_000;

export class PgStore implements TimeSeriesStore {
  readonly kind = 'postgresql' as const;
  private readonly seriesIds = new Map<string, number>();
  private readonly months = new Set<number>();
  private readonly transactions: PgTransactions;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: PgDatabase,
    private readonly site: Site,
    private readonly clock: () => number = Date.now,
  ) {
    this.transactions = new PgTransactions(db);
  }

  async start(): Promise<void> {
    const rows = (await this.db.query('SELECT id, subject FROM series')).rows as { id: number; subject: string }[];
    for (const r of rows) this.seriesIds.set(r.subject, r.id);
    await this.ensureAhead();
    this.timer = setInterval(() => void this.ensureAhead().catch(() => undefined), DAY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The previous, current and next two months have partitions. */
  async ensureAhead(): Promise<void> {
    const now = this.clock();
    let t = monthOf(monthOf(now).from - 1).from;
    for (let i = 0; i < 4; i++) {
      await this.ensureMonth(t);
      t = monthOf(t).to;
    }
  }

  /** Creates the month's partition of every reading table (idempotent, safe against another process doing it at once). */
  async ensureMonth(ms: number): Promise<void> {
    const m = monthOf(ms);
    if (this.months.has(m.from)) return;
    for (const table of READING_TABLES) {
      try {
        await this.db.query(`CREATE TABLE IF NOT EXISTS ${table}_${m.name} PARTITION OF ${table} FOR VALUES FROM (${m.from}) TO (${m.to})`);
      } catch (err) {
        // Two processes creating the same partition at once: one wins, the other sees a duplicate.
        const code = (err as { code?: string }).code;
        if (code !== '42P07' && code !== '23505') throw err;
      }
    }
    this.months.add(m.from);
  }

  /**
   * Row-by-row retention does not apply here: raw readings go a whole month at a time
   * (`dropMonthsBefore`), which leaves no dead rows behind.
   */
  retention(): null {
    return null;
  }

  /** Retention: drops every whole month that ends at or before `before`; returns the partitions dropped. */
  async dropMonthsBefore(before: number): Promise<string[]> {
    const rows = (
      await this.db.query(
        `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relname = ANY($1)`,
        [READING_TABLES],
      )
    ).rows as { name: string; bound: string }[];
    const dropped: string[] = [];
    for (const r of rows) {
      const to = /TO \('?(-?\d+)'?\)/.exec(r.bound);
      if (to && Number(to[1]) <= before) {
        await this.db.query(`DROP TABLE IF EXISTS ${r.name}`);
        dropped.push(r.name);
      }
    }
    for (const m of [...this.months]) if (monthOf(m).to <= before) this.months.delete(m);
    return dropped.sort();
  }

  /** Partitions of one reading table, oldest first (for docs, tests and operators). */
  async partitions(table: (typeof READING_TABLES)[number] = 'level_readings'): Promise<string[]> {
    const rows = (await this.db.query('SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = $1 ORDER BY c.relname', [table])).rows as { name: string }[];
    return rows.map((r) => r.name);
  }

  readonly participant: ReadingsParticipant = {
    write: async (tx, r) => {
      const client = pgOf(tx);
      // A month without a partition yet (a back-fill): made outside this transaction (its own connection).
      if (!this.months.has(monthOf(r.ts).from)) await this.ensureMonth(r.ts);
      let sid = this.seriesIds.get(r.subject);
      if (sid === undefined) {
        // In its own statement, committed at once: a series id cached from a transaction that then
        // rolled back would point the next readings at a series row that does not exist. An unused
        // series row is harmless.
        const row = (await this.db.query('INSERT INTO series (subject, kind) VALUES ($1, $2) ON CONFLICT (subject) DO UPDATE SET kind = series.kind RETURNING id', [r.subject, r.kind])).rows[0] as { id: number };
        sid = row.id;
        this.seriesIds.set(r.subject, sid);
      }
      const ins = async (sql: string, params: unknown[]): Promise<boolean> => ((await client.query(sql, params)).rowCount ?? 0) === 1;
      switch (r.kind) {
        case 'bay':
          return ins('INSERT INTO bay_readings (series_id, ts, occupied, battery) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [sid, r.ts, r.occupied ? 1 : 0, r.battery ?? null]);
        case 'level':
          return ins('INSERT INTO level_readings (series_id, ts, mm) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [sid, r.ts, r.mm]);
        case 'pump':
          return ins('INSERT INTO pump_readings (series_id, ts, running, amps) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [sid, r.ts, r.running ? 1 : 0, r.amps ?? null]);
        case 'venue':
          return ins('INSERT INTO venue_counts (series_id, ts, count_in, count_out, occupancy) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [sid, r.ts, r.in, r.out, r.occupancy ?? null]);
        case 'status':
          return ins('INSERT INTO device_status (series_id, ts, online) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [sid, r.ts, r.online ? 1 : 0]);
        case 'gate': {
          if (!(await ins('INSERT INTO gate_scans (series_id, ts, event, pass) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [sid, r.ts, r.event, r.pass]))) return false;
          if (r.event === 'entry') {
            await client.query('INSERT INTO parking_sessions (pass, gate_in, entry_at) VALUES ($1, $2, $3)', [r.pass, r.gateId, r.ts]);
          } else {
            // An exit with no open entry (a missed entry scan) is kept as a gate scan but pairs with nothing.
            await client.query(
              'UPDATE parking_sessions SET gate_out = $1, exit_at = $2 WHERE id = (SELECT id FROM parking_sessions WHERE pass = $3 AND exit_at IS NULL AND entry_at <= $2 ORDER BY entry_at DESC LIMIT 1)',
              [r.gateId, r.ts, r.pass],
            );
          }
          return true;
        }
      }
    },
  };

  async write(r: Reading): Promise<boolean> {
    const p = this.participant;
    return this.transactions.run(function* (tx) {
      return (yield p.write(tx, r)) as boolean;
    });
  }

  private async sid(subject: string): Promise<{ id: number; kind: Reading['kind'] } | undefined> {
    const r = (await this.db.query('SELECT id, kind FROM series WHERE subject = $1', [subject])).rows[0] as { id: number; kind: Reading['kind'] } | undefined;
    return r;
  }

  async readings(subject: string, range: TimeRange, limit = 100_000): Promise<Reading[]> {
    const s = await this.sid(subject);
    if (!s) return [];
    const rows = (await this.db.query(`SELECT * FROM ${TABLE[s.kind]} WHERE series_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts LIMIT $4`, [s.id, range.from, range.to, limit])).rows as Record<string, number | string | null>[];
    const target = parseSubject(subject);
    return rows.map((row) => toReading(s.kind, subject, target, row, this.site));
  }

  async series(subject: string, field: keyof typeof FIELD_COLUMN, range: TimeRange, bucketMs: number): Promise<SeriesPoint[]> {
    const s = await this.sid(subject);
    if (!s) return [];
    const [table, column] = FIELD_COLUMN[field];
    if (TABLE[s.kind] !== table) return [];
    const b = Math.round(bucketMs);
    // floor division on BIGINT; the bucket's last value is the one with the greatest ts.
    const rows = (
      await this.db.query(
        `SELECT (ts / $1::bigint) * $1::bigint AS t, avg(${column})::float8 AS avg, min(${column})::float8 AS min, max(${column})::float8 AS max, count(${column})::int AS count,
                (array_agg(${column}::float8 ORDER BY ts DESC))[1] AS last
         FROM ${table} WHERE series_id = $2 AND ts >= $3 AND ts < $4 AND ${column} IS NOT NULL GROUP BY 1 ORDER BY 1`,
        [b, s.id, range.from, range.to],
      )
    ).rows as { t: number; avg: number; min: number; max: number; count: number; last: number }[];
    return rows.map((p) => ({ t: p.t, avg: p.avg, min: p.min, max: p.max, last: p.last, count: p.count }));
  }

  async sessions(range: TimeRange): Promise<ParkingSession[]> {
    const rows = (
      await this.db.query(
        `SELECT pass, gate_in, entry_at, gate_out, exit_at FROM parking_sessions
         WHERE entry_at < $2 AND (exit_at >= $1 OR (exit_at IS NULL AND entry_at >= $1::bigint - ${MAX_OPEN_SESSION_MS}))
         ORDER BY entry_at, id`,
        [range.from, range.to],
      )
    ).rows as { pass: string; gate_in: string; entry_at: number; gate_out: string | null; exit_at: number | null }[];
    return rows.map(toSession);
  }

  async usage(subject: string, range: TimeRange, every: Every): Promise<UsagePoint[]> {
    return queryUsage(this, this.site, subject, range, every);
  }

  async counts(): Promise<Record<Reading['kind'], number>> {
    const out = {} as Record<Reading['kind'], number>;
    for (const [kind, table] of Object.entries(TABLE) as [Reading['kind'], string][]) {
      out[kind] = ((await this.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0] as { n: number }).n;
    }
    return out;
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.db.query('SELECT 1');
      return { ok: true, detail: 'postgresql' };
    } catch (err) {
      return { ok: false, detail: `postgresql unreachable: ${(err as Error).message}` };
    }
  }

  async outboxMetrics(): Promise<OutboxMetrics | null> {
    return null;
  }

  reportSource(lt: LocalTime): ReportSource {
    return new StoreReportSource(this, this.site, lt);
  }

  rollups(): null {
    return null;
  }
}
