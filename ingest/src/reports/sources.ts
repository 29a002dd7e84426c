/**
 * Where the report builder gets its data; each store gives its own (`TimeSeriesStore.reportSource`).
 * The SQLite source is the SQLite store's: it reads that store's 15-minute rollups, sessions table and
 * a few indexed lookups, and only the SQLite store constructs it. The generic source works on any
 * TimeSeriesStore (the InfluxDB store) through `usage()`, `series()`, `sessions()` and `readings()`, at
 * 15-minute resolution.
 */
import { combineLevels } from '../flood/room-judge.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import type { Db } from '../store/db.ts';
import type { TimeSeriesStore } from '../store/types.ts';
import { QUARTER_MS } from './local-time.ts';
import { groupRows, sumRows, type RollupRow, type Rollups } from './rollups.ts';
import { bucketRows } from './sqlite-usage.ts';
import type { LocalTime } from './local-time.ts';
import type { Every } from './types.ts';
import { parseSubject, Subjects } from '@parkops/contract/subjects.ts';

export interface SessionRow {
  id: number | string;
  entry: number;
  /** null while the car is still inside (or its exit scan was missed) */
  exit: number | null;
}

export interface BayActivity {
  bayId: string;
  zone: string;
  /** newest reading before `to`, or null when the bay never reported */
  last: { ts: number; occupied: boolean } | null;
  /** when the current state began, as far back as the look-back reaches; null when no reading */
  since: number | null;
}

export interface ReportSource {
  /** Quarter-hour rows of a rollup key in [from, to), oldest first (see rollups.ts for the columns). */
  quarters(key: string, from: number, to: number): Promise<RollupRow[]>;
  /** The quarter rows of [from, to) summed into one (peak the highest); null when there are none. */
  totals(key: string, from: number, to: number): Promise<RollupRow | null>;
  /** The quarter rows of [from, to) summed per local bucket of `every`, oldest first, buckets without rows left out; a row's start is never before `from`. */
  buckets(key: string, from: number, to: number, every: Every): Promise<RollupRow[]>;
  /** Sessions whose entry lies in [from, to). */
  sessions(from: number, to: number): Promise<SessionRow[]>;
  /** Details for overstays. */
  sessionDetails(ids: (number | string)[], all: SessionRow[]): Promise<Map<number | string, { pass: string; gateIn: string }>>;
  /** Gate scans per bucket given by `bounds` (starts plus final end). */
  gateCounts(bounds: number[]): Promise<{ entries: number[]; exits: number[] }>;
  /** Per bay: newest state before `to` and how long it has held (looking back at most `lookBackMs`). */
  bayActivity(bayIds: string[], to: number, lookBackMs: number): Promise<BayActivity[]>;
}

export class SqliteReportSource implements ReportSource {
  private readonly bySubject = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly site: Site,
    private readonly rollups: Rollups,
    private readonly lt: LocalTime,
  ) {}

  async quarters(key: string, from: number, to: number): Promise<RollupRow[]> {
    this.rollups.refresh([key]);
    return this.rollups.rows(key, from, to);
  }

  async totals(key: string, from: number, to: number): Promise<RollupRow | null> {
    this.rollups.refresh([key]);
    return this.rollups.total(key, from, to);
  }

  async buckets(key: string, from: number, to: number, every: Every): Promise<RollupRow[]> {
    this.rollups.refresh([key]);
    return every === '15m' ? this.rollups.rows(key, from, to) : bucketRows(this.rollups, this.lt, key, from, to, every);
  }

  async sessions(from: number, to: number): Promise<SessionRow[]> {
    // Three single-column reads in index order: far cheaper than one row array per session.
    const col = (c: string): unknown[] => this.db.prepare(`SELECT ${c} FROM parking_sessions WHERE entry_at >= ? AND entry_at < ? ORDER BY entry_at, id`).pluck().all(from, to);
    const ids = col('id') as number[];
    const entries = col('entry_at') as number[];
    const exits = col('exit_at') as (number | null)[];
    const out = new Array<SessionRow>(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = { id: ids[i]!, entry: entries[i]!, exit: exits[i]! };
    return out;
  }

  async sessionDetails(ids: (number | string)[]): Promise<Map<number | string, { pass: string; gateIn: string }>> {
    const out = new Map<number | string, { pass: string; gateIn: string }>();
    const stmt = this.db.prepare('SELECT pass, gate_in FROM parking_sessions WHERE id = ?');
    for (const id of ids) {
      const r = stmt.get(id) as { pass: string; gate_in: string } | undefined;
      if (r) out.set(id, { pass: r.pass, gateIn: r.gate_in });
    }
    return out;
  }

  private sid(subject: string): number | undefined {
    let id = this.bySubject.get(subject);
    if (id === undefined) {
      id = (this.db.prepare('SELECT id FROM series WHERE subject = ?').pluck().get(subject) as number | undefined) ?? undefined;
      if (id !== undefined) this.bySubject.set(subject, id);
    }
    return id;
  }

  async gateCounts(bounds: number[]): Promise<{ entries: number[]; exits: number[] }> {
    const n = Math.max(0, bounds.length - 1);
    const entries = new Array<number>(n).fill(0);
    const exits = new Array<number>(n).fill(0);
    const stmt = this.db.prepare('SELECT event, count(*) AS c FROM gate_scans WHERE series_id = ? AND ts >= ? AND ts < ? GROUP BY event');
    for (const g of this.site.gates) {
      const sid = this.sid(`parking/gates/${g.id}`);
      if (sid === undefined) continue;
      for (let i = 0; i < n; i++) {
        for (const r of stmt.all(sid, bounds[i], bounds[i + 1]) as { event: string; c: number }[]) {
          if (r.event === 'entry') entries[i]! += r.c;
          else exits[i]! += r.c;
        }
      }
    }
    return { entries, exits };
  }

  async bayActivity(bayIds: string[], to: number, lookBackMs: number): Promise<BayActivity[]> {
    const last = this.db.prepare('SELECT ts, occupied FROM bay_readings WHERE series_id = ? AND ts < ? ORDER BY ts DESC LIMIT 1');
    const lastOther = this.db.prepare('SELECT ts FROM bay_readings WHERE series_id = ? AND ts < ? AND ts >= ? AND occupied != ? ORDER BY ts DESC LIMIT 1');
    const firstAfter = this.db.prepare('SELECT min(ts) FROM bay_readings WHERE series_id = ? AND ts > ? AND ts < ?').pluck();
    const out: BayActivity[] = [];
    for (const bayId of bayIds) {
      const zone = this.site.bay(bayId)?.zone ?? '';
      const sid = this.sid(`parking/bays/${bayId}`);
      const l = sid === undefined ? undefined : (last.get(sid, to) as { ts: number; occupied: number } | undefined);
      if (sid === undefined || !l) {
        out.push({ bayId, zone, last: null, since: null });
        continue;
      }
      const floor = to - lookBackMs;
      const other = lastOther.get(sid, to, floor, l.occupied) as { ts: number } | undefined;
      const since = (firstAfter.get(sid, other ? other.ts : floor - 1, to) as number | null) ?? l.ts;
      out.push({ bayId, zone, last: { ts: l.ts, occupied: l.occupied === 1 }, since });
    }
    return out;
  }
}

/**
 * Any store, through the TimeSeriesStore interface (the InfluxDB store). Quarter rows are rebuilt from
 * 15-minute usage and series points: `known` is the full quarter when the point has data, `sum` is
 * avg × quarter. Arrivals come from bay readings, pump starts from 15-minute `running` minima and
 * maxima are not available (0): the SQLite store is the exact one.
 */
export class StoreReportSource implements ReportSource {
  constructor(
    private readonly store: TimeSeriesStore,
    private readonly site: Site,
    private readonly lt: LocalTime,
  ) {}

  async buckets(key: string, from: number, to: number, every: Every): Promise<RollupRow[]> {
    const rows = await this.quarters(key, from, to);
    if (every === '15m') return rows;
    const bounds = this.lt.boundaries(from, to, every);
    bounds[0] = from;
    return groupRows(rows, bounds);
  }

  async quarters(key: string, from: number, to: number): Promise<RollupRow[]> {
    const range = { from, to };
    const target = parseSubject(key);
    if (target?.kind === 'parking' || target?.kind === 'zone' || target?.kind === 'venue') {
      const pts = await this.store.usage(key, range, '15m');
      let inByQuarter = new Map<number, number>();
      if (target.kind === 'venue') {
        const readings = (await this.store.readings(Subjects.venueCounts(target.venueId), range, 500_000));
        inByQuarter = new Map();
        for (const r of readings) if (r.kind === 'venue') inByQuarter.set(Math.floor(r.ts / QUARTER_MS) * QUARTER_MS, (inByQuarter.get(Math.floor(r.ts / QUARTER_MS) * QUARTER_MS) ?? 0) + r.in);
      }
      const rows: RollupRow[] = [];
      for (const p of pts) {
        const t = Date.parse(p.t);
        const n = inByQuarter.get(t) ?? 0;
        if (p.avg === null && n === 0) continue;
        rows.push([t, p.avg === null ? 0 : QUARTER_MS, (p.avg ?? 0) * QUARTER_MS, p.max, p.max === null ? null : t, n, 0, 0, 0]);
      }
      return rows;
    }
    if (target?.kind === 'room-level') {
      // The room's level per quarter: its sensors' quarters combined by the room judge's rule (at
      // quarter resolution, like everything this source gives).
      const room = this.site.room(target.roomId);
      if (!room) return [];
      const bySensor = await Promise.all(room.levels.map((l) => this.quarters(Subjects.level(room.id, l.id), from, to)));
      const byT = new Map<number, RollupRow[]>();
      for (const rows of bySensor) for (const r of rows) byT.set(r[0], [...(byT.get(r[0]) ?? []), r]);
      return [...byT.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([t, rows]): RollupRow => {
          const peak = combineLevels(rows.map((r) => r[3] ?? 0)) ?? 0;
          const avg = combineLevels(rows.map((r) => r[2] / QUARTER_MS)) ?? 0;
          const any = (i: number): number => (rows.some((r) => r[i]! > 0) ? QUARTER_MS : 0);
          return [t, QUARTER_MS, avg * QUARTER_MS, peak, t, 0, any(6), any(7), any(8)];
        });
    }
    if (target?.kind === 'pump' || target?.kind === 'level') {
      const field = target.kind === 'pump' ? 'running' : 'mm';
      const pts = await this.store.series(key, field, range, QUARTER_MS);
      const room = this.site.room(target.roomId);
      const b = room?.bands;
      return pts.map((p): RollupRow => {
        const above = (mm: number | undefined): number => (b && mm !== undefined && p.max >= mm ? QUARTER_MS : 0);
        const starts = field === 'running' && p.min === 0 && p.max === 1 ? 1 : 0;
        return [p.t, QUARTER_MS, p.avg * QUARTER_MS, p.max, p.t, starts, field === 'mm' ? above(b?.warnMm) : 0, field === 'mm' ? above(b?.alarmMm) : 0, field === 'mm' ? above(b?.criticalMm) : 0];
      });
    }
    return [];
  }

  async totals(key: string, from: number, to: number): Promise<RollupRow | null> {
    return sumRows(await this.quarters(key, from, to), from);
  }

  async sessions(from: number, to: number): Promise<SessionRow[]> {
    const list = await this.store.sessions({ from, to });
    const out: SessionRow[] = [];
    list.forEach((s, i) => {
      const entry = Date.parse(s.entryAt);
      if (entry < from || entry >= to) return;
      out.push({ id: i, entry, exit: s.exitAt ? Date.parse(s.exitAt) : null });
    });
    this.last = list;
    return out;
  }

  private last: Awaited<ReturnType<TimeSeriesStore['sessions']>> = [];

  async sessionDetails(ids: (number | string)[]): Promise<Map<number | string, { pass: string; gateIn: string }>> {
    const out = new Map<number | string, { pass: string; gateIn: string }>();
    for (const id of ids) {
      const s = this.last[id as number];
      if (s) out.set(id, { pass: s.pass, gateIn: s.gateIn });
    }
    return out;
  }

  async gateCounts(bounds: number[]): Promise<{ entries: number[]; exits: number[] }> {
    const n = Math.max(0, bounds.length - 1);
    const entries = new Array<number>(n).fill(0);
    const exits = new Array<number>(n).fill(0);
    if (n === 0) return { entries, exits };
    for (const g of this.site.gates) {
      const readings = await this.store.readings(`parking/gates/${g.id}`, { from: bounds[0]!, to: bounds[n]! }, 1_000_000);
      let i = 0;
      for (const r of readings) {
        if (r.kind !== 'gate') continue;
        while (i < n && r.ts >= bounds[i + 1]!) i++;
        if (i >= n) break;
        if (r.event === 'entry') entries[i]!++;
        else exits[i]!++;
      }
    }
    return { entries, exits };
  }

  async bayActivity(bayIds: string[], to: number, lookBackMs: number): Promise<BayActivity[]> {
    const out: BayActivity[] = [];
    for (const bayId of bayIds) {
      const zone = this.site.bay(bayId)?.zone ?? '';
      const readings = (await this.store.readings(`parking/bays/${bayId}`, { from: to - lookBackMs, to }, 100_000)).filter((r) => r.kind === 'bay');
      const l = readings[readings.length - 1];
      if (!l || l.kind !== 'bay') {
        out.push({ bayId, zone, last: null, since: null });
        continue;
      }
      let since = readings[0]!.ts;
      for (let i = readings.length - 1; i > 0; i--) {
        const prev = readings[i - 1]!;
        if (prev.kind === 'bay' && prev.occupied !== l.occupied) {
          since = readings[i]!.ts;
          break;
        }
      }
      out.push({ bayId, zone, last: { ts: l.ts, occupied: l.occupied }, since });
    }
    return out;
  }
}

