/**
 * 15-minute rollups of the SQLite store's raw readings, kept up to date as readings arrive.
 *
 * The ingest transaction hook only marks the reading's quarter hour dirty (one `INSERT OR IGNORE` into a
 * tiny WITHOUT ROWID table), inside the same transaction as the reading: a SIGKILL loses both or neither,
 * so the rollups can always be brought back in line with the raw data. `refresh()` recomputes dirty
 * quarters from raw readings (the quarter and the following `gap` that a reading's state reaches into),
 * and runs every 30 s, on start, and before any query reads rollups. Recomputing from raw, instead of
 * adding deltas, keeps back-filled (out-of-order) readings and redeliveries exact.
 *
 * Rollup keys: `parking` and `parking/{zone}` (one sweep over all bays, dirty key `parking`),
 * `venues/{id}`, `flood/{room}/pumps/{id}`, `flood/{room}/levels/{id}`, and `flood/{room}/levels`: the
 * room's level, its sensors combined by the room judge's rule (the highest fresh one). Columns per key:
 * `known_ms` track-ms with a known value, `sum_ms` value × ms, `peak`/`peak_at` instantaneous maximum,
 * `n` arrivals (parking), `in` sum (venues) or starts (pumps), `a1..a3` ms at or above warn/alarm/critical
 * (levels); for venues `a1` is the people present at the end of the quarter (the running total carried on).
 * A quarter with neither known time nor counts has no row: an honest gap.
 *
 * Owner: these tables are an index of the SQLite time-series store's raw readings, recomputed from its
 * tables, so the SQLite store (store/sqlite-store.ts) creates the one `Rollups` of its database and
 * offers it through `TimeSeriesStore.reportSource()` and `rollups()`; nothing else opens them. The
 * marks are the rollups' part of the ingest transaction (`participant`).
 */
import { parseSubject, subject, Subjects, type Subject } from '@parkops/contract/subjects.ts';
import type { Reading } from '@parkops/contract/index.ts';
import { combineLevels } from '../flood/room-judge.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import type { Db } from '../store/db.ts';
import { sqliteOf, type Tx } from '../db/tx.ts';
import type { ModuleSchema } from '../db/migrations.ts';
import { DAY_MS, QUARTER_MS, quarter } from './local-time.ts';
import { FIELDS, F_A1, F_A2, F_A3, F_KNOWN, F_N, F_PEAK, F_PEAK_AT, F_SUM, StepSweep, type SweepSpec } from './step-sweep.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS report_rollup_15m (
  key TEXT NOT NULL, bucket INTEGER NOT NULL, known_ms INTEGER NOT NULL, sum_ms REAL NOT NULL,
  peak REAL, peak_at INTEGER, n INTEGER NOT NULL, a1 INTEGER NOT NULL, a2 INTEGER NOT NULL, a3 INTEGER NOT NULL,
  PRIMARY KEY (key, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS report_dirty (key TEXT NOT NULL, bucket INTEGER NOT NULL, PRIMARY KEY (key, bucket)) WITHOUT ROWID;
`;

/**
 * The rollups' migrations (db/migrations.ts). Version 2 added the rooms' combined level: the history
 * already stored must be rolled up for it. A migration only touches its own tables, so it leaves a
 * note in `report_backfill` and the rollups mark the history at start (`init`): everything when the
 * rollups are new (also rollups added to a store that already holds readings), the room levels when
 * they existed before.
 */
export const ROLLUPS_SCHEMA: ModuleSchema = {
  module: 'reports',
  migrations: [
    { version: 1, description: '15-minute report rollups and their dirty marks', up: SCHEMA },
    {
      version: 2,
      description: "rooms' combined level: roll up the stored history",
      up: (db) => {
        db.exec('CREATE TABLE IF NOT EXISTS report_backfill (what TEXT PRIMARY KEY)');
        const fresh = db.prepare('SELECT 1 FROM report_rollup_15m LIMIT 1').get() === undefined && db.prepare('SELECT 1 FROM report_dirty LIMIT 1').get() === undefined;
        db.prepare('INSERT OR IGNORE INTO report_backfill (what) VALUES (?)').run(fresh ? 'all' : 'room-levels');
      },
    },
  ],
};

/** One rollup row: [bucket, known_ms, sum_ms, peak, peak_at, n, a1, a2, a3] (raw arrays: fast to read). */
export type RollupRow = [number, number, number, number | null, number | null, number, number, number, number];
export const R_BUCKET = 0;
export const R_KNOWN = 1;
export const R_SUM = 2;
export const R_PEAK = 3;
export const R_PEAK_AT = 4;
export const R_N = 5;
export const R_A1 = 6;
export const R_A2 = 7;
export const R_A3 = 8;

interface KeyPlan {
  table: string;
  value: string;
  extra: string | null;
  /**
   * Venues: people present are worked out here, in time order, from the counts (max(0, previous + in -
   * out)), not taken from the stored `occupancy`, which ingest computes in arrival order. A back-filled
   * count therefore moves every later bucket: its recompute runs to the newest reading.
   */
  cumulative?: { out: string };
  sids: number[];
  groupKeys: string[];
  spec: SweepSpec;
  /** range chunk for one SQL read */
  chunkMs: number;
}

/**
 * The rollup keys a stored series feeds: a bay feeds `parking` (whose rollup also holds the zones), a
 * people counter its venue, a pump itself, a level sensor itself and its room's judged level.
 */
export function rollupKeysOf(series: Subject | null): string[] {
  switch (series?.kind) {
    case 'bay':
      return [Subjects.parking()];
    case 'venue-counts':
      return [Subjects.venue(series.venueId)];
    case 'pump':
      return [subject(series)];
    case 'level':
      return [subject(series), Subjects.roomLevel(series.roomId)];
    default:
      return [];
  }
}

export class Rollups {
  private mark!: import('better-sqlite3').Statement;
  private readRows!: import('better-sqlite3').Statement;
  private sumStmt!: import('better-sqlite3').Statement;
  private totalStmt!: import('better-sqlite3').Statement;
  private ready = false;

  constructor(
    private readonly db: Db,
    private readonly site: Site,
  ) {}

  /** Prepares the statements; marks the history a migration asked for (see ROLLUPS_SCHEMA). Tables must exist. */
  init(): void {
    if (this.ready) return;
    const notes = this.db.prepare('SELECT what FROM report_backfill').pluck().all() as string[];
    if (notes.length > 0) {
      this.db.transaction(() => {
        if (notes.includes('all')) this.markSeries(() => true);
        else if (notes.includes('room-levels')) this.markRoomLevels();
        this.db.prepare('DELETE FROM report_backfill').run();
      })();
    }
    this.mark = this.db.prepare('INSERT OR IGNORE INTO report_dirty (key, bucket) VALUES (?, ?)');
    this.readRows = this.db.prepare('SELECT bucket, known_ms, sum_ms, peak, peak_at, n, a1, a2, a3 FROM report_rollup_15m WHERE key = ? AND bucket >= ? AND bucket < ? ORDER BY bucket').raw(true);
    this.sumStmt = this.db
      .prepare(
        // JS numbers bind as REAL: the casts keep the division an integer one.
        `SELECT ((bucket + CAST(@off AS INTEGER)) / CAST(@step AS INTEGER)) * CAST(@step AS INTEGER) - CAST(@off AS INTEGER) AS t, sum(known_ms), sum(sum_ms), max(peak), peak_at, sum(n), sum(a1), sum(a2), sum(a3)
         FROM report_rollup_15m WHERE key = @key AND bucket >= @from AND bucket < @to GROUP BY 1 ORDER BY 1`,
      )
      .raw(true);
    // The only min/max aggregate is max(peak), so SQLite takes the bare peak_at from that row (rows
    // without known time have a null peak).
    this.totalStmt = this.db
      .prepare(
        `SELECT 0, sum(known_ms), sum(sum_ms), max(peak), peak_at, sum(n), sum(a1), sum(a2), sum(a3)
         FROM report_rollup_15m WHERE key = ? AND bucket >= ? AND bucket < ?`,
      )
      .raw(true);
    this.ready = true;
  }

  /** Marks every quarter that has raw readings dirty (the bench's back-fill, which bypasses ingest). */
  markHistory(): void {
    this.db.transaction(() => this.markSeries(() => true))();
  }

  /** Marks the quarters of every stored series dirty for the rollup keys `want` selects. */
  private markSeries(want: (key: string, series: Subject) => boolean): void {
    const has = (t: string): boolean => this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t) !== undefined;
    if (!has('series')) return;
    const q = QUARTER_MS;
    const tables = { bay: 'bay_readings', 'venue-counts': 'venue_counts', pump: 'pump_readings', level: 'level_readings' } as const;
    for (const row of this.db.prepare('SELECT id, subject FROM series').all() as { id: number; subject: string }[]) {
      const series = parseSubject(row.subject);
      if (series === null || !(series.kind in tables)) continue;
      const table = tables[series.kind as keyof typeof tables];
      if (!has(table)) continue;
      for (const key of rollupKeysOf(series)) {
        if (want(key, series)) this.db.prepare(`INSERT OR IGNORE INTO report_dirty (key, bucket) SELECT ?, (ts / ${q}) * ${q} FROM ${table} WHERE series_id = ? GROUP BY 2`).run(key, row.id);
      }
    }
  }

  /** The room-level keys only (added in the rollups' schema version 2, over the stored history). */
  private markRoomLevels(): void {
    this.markSeries((key) => parseSubject(key)?.kind === 'room-level');
  }

  /** The rollups' part of the ingest transaction: one small insert per stored reading. */
  readonly participant = {
    mark: (tx: Tx, reading: Reading): void => {
      sqliteOf(tx);
      this.markReading(reading);
    },
  };

  /** Marks the reading's quarter dirty; the caller holds the transaction the reading is written in. */
  markReading(reading: Reading): void {
    this.init();
    const q = quarter(reading.ts);
    for (const key of rollupKeysOf(parseSubject(reading.subject))) this.mark.run(key, q);
  }

  /** Number of dirty quarter marks waiting (for tests and metrics). */
  pending(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM report_dirty').get() as { n: number }).n;
  }

  /**
   * Recomputes the dirty quarters of `keys` (rollup keys like `parking/A` map to their dirty key
   * `parking`), or of every key. With `maxMarks`, at most that many marks per key, oldest first (a
   * long history is rolled up in slices; see Reports.start). Returns the number of marks consumed.
   */
  refresh(keys?: string[], opts: { maxMarks?: number } = {}): number {
    this.init();
    const dirtyKeys = keys ? [...new Set(keys.map((k) => (k.startsWith('parking') ? 'parking' : k)))] : (this.db.prepare('SELECT DISTINCT key FROM report_dirty').pluck().all() as string[]);
    const max = opts.maxMarks ?? Infinity;
    let consumed = 0;
    for (const key of dirtyKeys) {
      const found = this.db
        .prepare('SELECT bucket FROM report_dirty WHERE key = ? ORDER BY bucket LIMIT ?')
        .pluck()
        .all(key, Number.isFinite(max) ? max + 1 : -1) as number[];
      if (found.length === 0) continue;
      const buckets = found.length > max ? found.slice(0, max) : found;
      const next = found.length > max ? found[max]! : undefined;
      const last = buckets[buckets.length - 1]!;
      const plan = this.plan(key);
      if (plan) {
        const reach = Math.ceil(plan.spec.gapMs / QUARTER_MS) * QUARTER_MS + QUARTER_MS;
        if (plan.cumulative) {
          // A count moves every later bucket: one range from the first mark on, to the next slice or the newest reading.
          let r1 = last + reach;
          if (next !== undefined) r1 = Math.max(r1, next);
          else if (plan.sids.length > 0) {
            const newest = this.db.prepare(`SELECT max(ts) FROM ${plan.table} WHERE series_id IN (${plan.sids.join(',')})`).pluck().get() as number | null;
            if (newest !== null) r1 = Math.max(r1, quarter(newest) + reach);
          }
          this.recompute(plan, buckets[0]!, r1);
        } else {
          let r0 = buckets[0]!;
          let r1 = r0 + reach;
          for (const b of buckets) {
            if (b > r1) {
              this.recompute(plan, r0, r1);
              r0 = b;
            }
            r1 = b + reach;
          }
          this.recompute(plan, r0, r1);
        }
      }
      this.db.prepare('DELETE FROM report_dirty WHERE key = ? AND bucket <= ?').run(key, last);
      consumed += buckets.length;
    }
    return consumed;
  }

  /**
   * Sums of `key` per bucket of fixed length `stepMs` whose starts satisfy (start + offsetMs) % stepMs == 0,
   * over [from, to), aggregated in SQL (much less to carry into JS than quarter rows). Rows:
   * RollupRows with the bucket start; buckets without rows are left out.
   */
  sums(key: string, from: number, to: number, stepMs: number, offsetMs: number): RollupRow[] {
    this.init();
    // max(peak) is the only min/max aggregate, so SQLite takes the bare peak_at from the row holding it.
    return this.sumStmt.all({ key, from, to, step: stepMs, off: offsetMs }) as RollupRow[];
  }

  /** All rows of `key` in [from, to) summed into one (peak: the highest, with its time); null when there are none. */
  total(key: string, from: number, to: number): RollupRow | null {
    this.init();
    const r = this.totalStmt.get(key, from, to) as RollupRow | undefined;
    if (!r || r[1] === null || !(r[1] > 0 || r[5] > 0)) return null;
    r[0] = from;
    return r;
  }

  /** Rollup rows of `key` with bucket in [from, to), oldest first. Call `refresh` first for fresh figures. */
  rows(key: string, from: number, to: number): RollupRow[] {
    this.init();
    return this.readRows.all(key, from, to) as RollupRow[];
  }

  /** How a dirty key is recomputed, from the site and the series that exist. */
  private plan(key: string): KeyPlan | null {
    const site = this.site;
    const seriesOf = (kind: string): { id: number; subject: string }[] => this.db.prepare('SELECT id, subject FROM series WHERE kind = ? ORDER BY id').all(kind) as { id: number; subject: string }[];
    const target = parseSubject(key);
    if (target?.kind === 'parking') {
      const zones = site.zones.map((z) => z.id);
      const groupKeys = [key, ...zones.map((z) => Subjects.zone(z))];
      const sids: number[] = [];
      const trackGroups: number[][] = [];
      for (const s of seriesOf('bay')) {
        const series = parseSubject(s.subject);
        const bay = series?.kind === 'bay' ? site.bay(series.bayId) : undefined;
        if (!bay) continue;
        sids.push(s.id);
        trackGroups.push([0, 1 + zones.indexOf(bay.zone)]);
      }
      const spec: SweepSpec = { trackGroups, groups: groupKeys.length, gapMs: site.parking.bayStaleAfterSec * 1000, share: true, count: 'rises' };
      return { table: 'bay_readings', value: 'occupied', extra: null, sids, groupKeys, spec, chunkMs: DAY_MS };
    }
    if (target?.kind === 'venue') {
      const venue = site.venue(target.venueId);
      if (!venue) return null;
      const sids = seriesOf('venue')
        .filter((s) => s.subject === Subjects.venueCounts(venue.id))
        .map((s) => s.id);
      const spec: SweepSpec = { trackGroups: sids.map(() => [0]), groups: 1, gapMs: venue.staleAfterSec * 1000, share: false, count: 'x', keepLast: true };
      return { table: 'venue_counts', value: 'occupancy', extra: 'count_in', cumulative: { out: 'count_out' }, sids, groupKeys: [key], spec, chunkMs: 30 * DAY_MS };
    }
    if (target?.kind === 'room-level') {
      // The room's level: its sensors combined as the room judge combines them, each held for its
      // staleAfterSec (the sweep has one gap: the longest, when the sensors differ).
      const room = site.room(target.roomId);
      if (!room) return null;
      const subjects = new Set(room.levels.map((l) => Subjects.level(room.id, l.id)));
      const sids = seriesOf('level')
        .filter((s) => subjects.has(s.subject))
        .map((s) => s.id);
      const b = room.bands;
      const spec: SweepSpec = {
        trackGroups: sids.map(() => [0]),
        groups: 1,
        gapMs: Math.max(...room.levels.map((l) => l.staleAfterSec)) * 1000,
        share: false,
        count: 'none',
        bands: [b.warnMm, b.alarmMm, b.criticalMm],
        combine: combineLevels,
      };
      return { table: 'level_readings', value: 'mm', extra: null, sids, groupKeys: [key], spec, chunkMs: 7 * DAY_MS };
    }
    if (target?.kind === 'pump' || target?.kind === 'level') {
      const room = site.room(target.roomId);
      if (!room) return null;
      const kind = target.kind;
      const device = target.kind === 'pump' ? site.pump(room.id, target.pumpId) : site.levelSensor(room.id, target.sensorId);
      if (!device) return null;
      const sids = seriesOf(kind)
        .filter((s) => s.subject === key)
        .map((s) => s.id);
      const b = room.bands;
      const spec: SweepSpec = {
        trackGroups: sids.map(() => [0]),
        groups: 1,
        gapMs: device.staleAfterSec * 1000,
        share: false,
        count: kind === 'pump' ? 'rises' : 'none',
        bands: kind === 'level' ? [b.warnMm, b.alarmMm, b.criticalMm] : undefined,
      };
      return kind === 'pump'
        ? { table: 'pump_readings', value: 'running', extra: null, sids, groupKeys: [key], spec, chunkMs: 30 * DAY_MS }
        : { table: 'level_readings', value: 'mm', extra: null, sids, groupKeys: [key], spec, chunkMs: 7 * DAY_MS };
    }
    return null;
  }

  /** Recomputes [r0, r1) of one key from raw readings, in chunks, each chunk in one transaction. */
  private recompute(plan: KeyPlan, r0: number, r1: number): void {
    const { db } = this;
    const sweep = new StepSweep(plan.spec);
    const trackOf = new Map(plan.sids.map((sid, i) => [sid, i]));
    if (plan.cumulative) {
      // The running total at r0 is the end value of the newest earlier bucket (rolled up before this one).
      const lastTs = db.prepare(`SELECT max(ts) FROM ${plan.table} WHERE series_id = ? AND ts < ?`).pluck();
      const carried = (db.prepare('SELECT a1 FROM report_rollup_15m WHERE key = ? AND bucket < ? ORDER BY bucket DESC LIMIT 1').pluck().get(plan.groupKeys[0], r0) as number | undefined) ?? 0;
      plan.sids.forEach((sid, i) => {
        const ts = lastTs.get(sid, r0) as number | null;
        if (ts !== null) sweep.initial(i, ts, carried);
      });
    } else if (plan.sids.length > 0) {
      const before = db.prepare(`SELECT ts, ${plan.value} AS v FROM ${plan.table} WHERE series_id = ? AND ts < ? AND ${plan.value} IS NOT NULL ORDER BY ts DESC LIMIT 1`);
      const init: [number, number, number][] = [];
      plan.sids.forEach((sid, i) => {
        const row = before.get(sid, r0) as { ts: number; v: number } | undefined;
        if (row) init.push([i, row.ts, row.v]);
      });
      init.sort((a, b) => a[1] - b[1]);
      for (const [i, ts, v] of init) sweep.initial(i, ts, v);
    }
    sweep.begin(r0);
    const sidList = plan.sids.join(',') || '-1';
    const cumulative = plan.cumulative !== undefined;
    const read = db
      .prepare(
        `SELECT series_id, ts, ${plan.value}, ${plan.extra ?? '0'}, ${plan.cumulative?.out ?? '0'} FROM ${plan.table} WHERE series_id IN (${sidList}) AND ts >= ? AND ts < ?${cumulative ? '' : ` AND ${plan.value} IS NOT NULL`} ORDER BY ts`,
      )
      .raw(true);
    const del = db.prepare(`DELETE FROM report_rollup_15m WHERE key = ? AND bucket >= ? AND bucket < ?`);
    const ins = db.prepare('INSERT OR REPLACE INTO report_rollup_15m (key, bucket, known_ms, sum_ms, peak, peak_at, n, a1, a2, a3) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (let c0 = r0; c0 < r1; c0 += plan.chunkMs) {
      const c1 = Math.min(r1, c0 + plan.chunkMs);
      for (const row of read.iterate(c0, c1) as Iterable<[number, number, number | null, number, number]>) {
        const track = trackOf.get(row[0])!;
        // People present never go below zero (as ingest computes it).
        const v = cumulative ? Math.max(0, sweep.valueOf(track) + row[3] - row[4]) : row[2]!;
        sweep.reading(track, row[1], v, row[3]);
      }
      sweep.advanceTo(c1);
      const done = sweep.drainBefore(c1);
      db.transaction(() => {
        for (const k of plan.groupKeys) del.run(k, c0, c1);
        for (const [bucket, cells] of done) {
          for (let g = 0; g < plan.groupKeys.length; g++) {
            const o = g * FIELDS;
            const known = cells[o + F_KNOWN]!;
            const n = cells[o + F_N]!;
            if (known <= 0 && n === 0) continue;
            const hasPeak = known > 0;
            ins.run(
              plan.groupKeys[g],
              bucket,
              Math.round(known),
              cells[o + F_SUM]!,
              hasPeak ? cells[o + F_PEAK]! : null,
              hasPeak ? cells[o + F_PEAK_AT]! : null,
              n,
              Math.round(cells[o + F_A1]!),
              Math.round(cells[o + F_A2]!),
              Math.round(cells[o + F_A3]!),
            );
          }
        }
      })();
    }
  }
}

/** Quarter rows summed into one row starting at `t`; null when there are none. */
export function sumRows(rows: RollupRow[], t: number): RollupRow | null {
  if (rows.length === 0) return null;
  const out: RollupRow = [t, 0, 0, null, null, 0, 0, 0, 0];
  for (const r of rows) {
    out[1] += r[1];
    out[2] += r[2];
    if (r[3] !== null && r[1] > 0 && (out[3] === null || r[3] > out[3])) {
      out[3] = r[3];
      out[4] = r[4];
    }
    out[5] += r[5];
    out[6] += r[6];
    out[7] += r[7];
    out[8] += r[8];
  }
  return out;
}

/** Rows (oldest first) grouped into the buckets of `bounds` (starts plus end); a bucket's row starts at max(bound, first bound). */
export function groupRows(rows: RollupRow[], bounds: number[]): RollupRow[] {
  const out: RollupRow[] = [];
  let j = 0;
  for (let k = 0; k + 1 < bounds.length; k++) {
    while (j < rows.length && rows[j]![0] < bounds[k]!) j++;
    const start = j;
    while (j < rows.length && rows[j]![0] < bounds[k + 1]!) j++;
    const r = sumRows(rows.slice(start, j), bounds[k]!);
    if (r) out.push(r);
  }
  return out;
}
