/**
 * InfluxDB time-series store, for deployments with PARKOPS_STORE=influxdb.
 *
 * Speaks the v1 HTTP API only: line protocol on `/write`, InfluxQL on `/query`. That API is what
 * every InfluxDB users run serves: 1.x natively (Debian ships 1.6.7, which has no /api/v2), 2.x
 * through its compatibility layer (every bucket has a virtual DBRP mapping since 2.4), 3 Core
 * natively (it has no Flux). From `@influxdata/influxdb-client` it uses `Point` (line protocol and
 * escaping) and its HTTP transport; not its WriteApi, which holds unsent points in memory only and
 * drops them on non-retryable errors: writes go through the durable SQLite outbox (outbox.ts).
 *
 * Schema: one measurement per reading kind; tags are the ids from the topic (low cardinality, fixed
 * by the site file), everything a device reports is a field. A point's identity in InfluxDB is
 * measurement + tag set + time, which here is exactly the reading's subject + ts, so a re-sent
 * reading overwrites itself (the outbox may re-send after a timeout or a partial write) and is
 * stored once. Booleans are stored as integers 0/1 so `mean()` gives an occupied/running share.
 *
 *   parking_bay,bay=B1,zone=A   occupied=1i,battery=87          (ms)
 *   parking_gate,gate=G1        event="entry",pass="Q123"       (pass is a field: unbounded values)
 *   flood_level,room=R,sensor=L mm=12.5
 *   flood_pump,room=R,pump=P    running=1i,amps=3.2
 *   venue_count,venue=V         in=3i,out=1i,occupancy=40i
 *   device_status,device=D      online=1i
 *
 * Accounts, alerts, live state and the outbox stay in the embedded SQLite database. This store owns
 * `influx_seen_ts` (schema module `influx_store`); the outbox owns its own tables (outbox.ts).
 */
import { influxUsage } from '../reports/influx-usage.ts';
import { HttpError, InfluxDB, Point, setLogger, type Transport } from '@influxdata/influxdb-client';
import type { ParkingSession, Reading, UsagePoint } from '@parkops/contract/index.ts';
import { Topics, type DeviceTopic } from '@parkops/contract/topics.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import type { Db } from './db.ts';
import { describeInfluxError, InfluxOutbox, SqliteOutboxRepository, type OutboxOptions } from './outbox.ts';
import { MAX_OPEN_SESSION_MS, toSession } from './sqlite-store.ts';
import type { Every, OutboxMetrics, ReadingsParticipant, SeriesPoint, StoreHealth, TimeRange, TimeSeriesStore } from './types.ts';
import { migrateDatabase, type ModuleSchema } from '../db/migrations.ts';
import { SqliteTransactions, sqliteOf, type Awaitable, type Tx } from '../db/tx.ts';
import type { LocalTime } from '../reports/local-time.ts';
import { StoreReportSource, type ReportSource } from '../reports/sources.ts';

export interface StoreLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface InfluxStoreOptions {
  db: Db;
  site: Site;
  /** INFLUX_URL, e.g. http://influxdb:8086 */
  url: string;
  /** INFLUX_DATABASE: the 1.x database, or the 2.x/3.x bucket/database */
  database: string;
  /** INFLUX_TOKEN: an API token, or `user:password` for 1.x with authentication on */
  token?: string | undefined;
  log?: StoreLog;
  /** Outbox tuning (batch size, gzip, retry delays); see outbox.ts. */
  outbox?: Pick<OutboxOptions, 'batchSize' | 'gzip' | 'lingerMs' | 'minRetryDelayMs' | 'maxRetryDelayMs' | 'timeoutMs'>;
  /** Redelivery detection remembers the keys of readings up to this much older than the newest one. Default 3 days. */
  dedupeWindowMs?: number;
  /** The outbox is "behind" (health degraded) when its oldest line is older than this. */
  degradedAfterSec?: number;
}

/**
 * Keys of recently written readings, to answer write() === false for a redelivery. Keyed (ts,
 * subject) without rowid: ingest appends near the end of one b-tree (measured 48k inserts/s against
 * 14k for a (subject, ts) unique index on a rowid table), and pruning old keys is a range delete.
 */
const SCHEMA = `
DROP TABLE IF EXISTS influx_seen;
CREATE TABLE IF NOT EXISTS influx_seen_ts (ts INTEGER NOT NULL, subject TEXT NOT NULL, PRIMARY KEY (ts, subject)) WITHOUT ROWID;
`;

/** The redelivery keys' migrations (db/migrations.ts); version 2 replaced the first table of keys. */
export const INFLUX_STORE_SCHEMA: ModuleSchema = { module: 'influx_store', migrations: [{ version: 2, description: 'keys of recent readings, (ts, subject) without rowid', up: SCHEMA }] };

/** Keys of recent readings (ts, subject): how the InfluxDB store knows a redelivery. */
export interface SeenKeysRepository {
  /** Inside the ingest transaction: records the key; false when it was already there. */
  readonly participant: { firstTime(tx: Tx, ts: number, subject: string): Awaitable<boolean> };
  /** The newest key's time, or null. */
  newest(): Promise<number | null>;
  /** Deletes up to `max` keys older than `before`; resolves to how many. */
  prune(before: number, max: number): Promise<number>;
}

export class SqliteSeenKeys implements SeenKeysRepository {
  private readonly stmts;

  constructor(db: Db) {
    migrateDatabase(db, [INFLUX_STORE_SCHEMA]);
    this.stmts = {
      seen: db.prepare('INSERT OR IGNORE INTO influx_seen_ts (ts, subject) VALUES (?, ?)'),
      prune: db.prepare('DELETE FROM influx_seen_ts WHERE (ts, subject) IN (SELECT ts, subject FROM influx_seen_ts WHERE ts < ? ORDER BY ts LIMIT ?)'),
      maxSeen: db.prepare('SELECT max(ts) AS m FROM influx_seen_ts'),
    };
  }

  readonly participant = {
    firstTime: (tx: Tx, ts: number, subject: string): boolean => {
      sqliteOf(tx);
      return this.stmts.seen.run(ts, subject).changes === 1;
    },
  };

  async newest(): Promise<number | null> {
    return (this.stmts.maxSeen.get() as { m: number | null }).m;
  }

  async prune(before: number, max: number): Promise<number> {
    return this.stmts.prune.run(before, max).changes;
  }
}

const MEASUREMENT: Record<Reading['kind'], string> = {
  bay: 'parking_bay',
  gate: 'parking_gate',
  level: 'flood_level',
  pump: 'flood_pump',
  venue: 'venue_count',
  status: 'device_status',
};
/** A field every point of the measurement has (for counts). */
const REQUIRED_FIELD: Record<Reading['kind'], string> = { bay: 'occupied', gate: 'event', level: 'mm', pump: 'running', venue: 'in', status: 'online' };
const SERIES_FIELD = {
  mm: ['level', 'mm'],
  amps: ['pump', 'amps'],
  running: ['pump', 'running'],
  occupancy: ['venue', 'occupancy'],
  occupied: ['bay', 'occupied'],
} as const satisfies Record<string, readonly [Reading['kind'], string]>;

/** Timestamps are epoch milliseconds, written with `precision=ms`. */
const MS_TIME = { convertTime: (t: string | number | Date | undefined) => (t === undefined ? undefined : String(t)) };

export function toLine(r: Reading): string {
  const p = new Point(MEASUREMENT[r.kind]);
  switch (r.kind) {
    case 'bay':
      p.tag('bay', r.bayId).tag('zone', r.zoneId).intField('occupied', r.occupied ? 1 : 0);
      if (r.battery !== undefined) p.floatField('battery', r.battery);
      break;
    case 'gate':
      p.tag('gate', r.gateId).stringField('event', r.event).stringField('pass', r.pass);
      break;
    case 'level':
      p.tag('room', r.roomId).tag('sensor', r.sensorId).floatField('mm', r.mm);
      break;
    case 'pump':
      p.tag('room', r.roomId).tag('pump', r.pumpId).intField('running', r.running ? 1 : 0);
      if (r.amps !== undefined) p.floatField('amps', r.amps);
      break;
    case 'venue':
      p.tag('venue', r.venueId).intField('in', r.in).intField('out', r.out);
      if (r.occupancy !== undefined) p.intField('occupancy', r.occupancy);
      break;
    case 'status':
      p.tag('device', r.deviceId).intField('online', r.online ? 1 : 0);
      break;
  }
  const line = p.timestamp(r.ts).toLineProtocol(MS_TIME);
  // Cannot happen for a decoded reading (every kind has a field), but a line-less write must not pass silently.
  if (line === undefined) throw new Error(`influx store: reading of ${r.subject} has no fields`);
  return line;
}

/** InfluxQL string literal (tag values). */
const lit = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
/** InfluxQL identifier. */
const ident = (s: string) => `"${s.replace(/"/g, '\\"')}"`;
const timeRange = (r: TimeRange) => `time >= ${Math.floor(r.from)}ms AND time < ${Math.floor(r.to)}ms`;

/** Where-clause on the tags that identify one subject's series. */
function tagsOf(t: DeviceTopic): Array<[string, string]> {
  switch (t.kind) {
    case 'bay':
      return [['bay', t.bayId]];
    case 'gate':
      return [['gate', t.gateId]];
    case 'level':
      return [['room', t.roomId], ['sensor', t.sensorId]];
    case 'pump':
      return [['room', t.roomId], ['pump', t.pumpId]];
    case 'venue':
      return [['venue', t.venueId]];
    case 'status':
      return [['device', t.deviceId]];
  }
}

interface QuerySeries {
  name: string;
  columns: string[];
  values: unknown[][];
}
interface QueryResult {
  results?: Array<{ statement_id?: number; series?: QuerySeries[]; error?: string }>;
  error?: string;
}

export class InfluxStartError extends Error {}

export class InfluxStore implements TimeSeriesStore {
  readonly kind = 'influxdb' as const;
  readonly outbox: InfluxOutbox;
  private readonly seen: SeenKeysRepository;
  private readonly transactions: SqliteTransactions;
  private readonly transport: Transport;
  private readonly headers: Record<string, string>;
  private readonly topics = new Topics('s');
  private readonly opts: InfluxStoreOptions;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(opts: InfluxStoreOptions) {
    this.opts = opts;
    const url = opts.url.replace(/\/+$/, '');
    // 30 s per request: a 5,000-line batch to a busy server can take longer than the client's 10 s default.
    this.transport = new InfluxDB({ url, timeout: 30_000 }).transport;
    this.headers = authHeaders(opts.token);
    if (opts.log) routeClientLog(opts.log);
    this.seen = new SqliteSeenKeys(opts.db);
    this.transactions = new SqliteTransactions(opts.db);
    const params = new URLSearchParams({ db: opts.database, precision: 'ms' });
    const isLoopback = /^https?:\/\/(127\.|localhost[:/]|\[::1\])/.test(`${url}/`);
    this.outbox = new InfluxOutbox({
      repo: new SqliteOutboxRepository(opts.db),
      transport: this.transport,
      writePath: `/write?${params.toString()}`,
      headers: this.headers,
      // gzip only pays where bandwidth is scarcer than CPU (ENVIRONMENT.md: slower on loopback).
      gzip: opts.outbox?.gzip ?? !isLoopback,
      ...opts.outbox,
      ...(opts.log ? { log: opts.log } : {}),
    });
  }

  /** Checks the server, the credentials and the database (creating it on 1.x when allowed), then starts forwarding. */
  async start(): Promise<void> {
    const { url, database } = this.opts;
    try {
      // A SELECT, not SHOW MEASUREMENTS: 1.6 answers the latter without error for a missing database.
      await this.query(`SELECT ${ident(REQUIRED_FIELD.bay)} FROM ${ident(MEASUREMENT.bay)} LIMIT 1`);
    } catch (err) {
      const msg = describeInfluxError(err);
      if (/database not found/i.test(msg)) {
        try {
          await this.query(`CREATE DATABASE ${ident(database)}`, 'POST');
          this.opts.log?.info({ url, database }, 'influx store: created the database');
        } catch (err2) {
          throw new InfluxStartError(`InfluxDB at ${url}: database "${database}" (INFLUX_DATABASE) does not exist and could not be created (${describeInfluxError(err2)}); create it, or the bucket on 2.x/3.x`);
        }
      } else if (err instanceof HttpError && (err.statusCode === 401 || err.statusCode === 403)) {
        throw new InfluxStartError(`InfluxDB at ${url} refused the credentials (HTTP ${err.statusCode}): check INFLUX_TOKEN (an API token, or user:password for InfluxDB 1.x)`);
      } else if (err instanceof HttpError) {
        throw new InfluxStartError(`InfluxDB at ${url} answered the v1 query API with ${msg}: check INFLUX_URL`);
      } else {
        throw new InfluxStartError(`InfluxDB at ${url} is unreachable (${msg}): check INFLUX_URL and that the server runs`);
      }
    }
    this.outbox.start();
    await this.pruneSeen();
    this.pruneTimer = setInterval(() => void this.pruneSeen(), 10 * 60_000);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    await this.outbox.stop();
  }

  /**
   * Queues the reading's line in the outbox. Returns false for a redelivery: the (subject, ts) key
   * was written before and is within `dedupeWindowMs` of the newest reading. A duplicate of an older
   * reading is queued again, and InfluxDB overwrites the point with itself: still stored once.
   */
  readonly participant: ReadingsParticipant = {
    write: (tx, reading) => {
      const line = toLine(reading);
      const seen = this.seen.participant.firstTime(tx, reading.ts, reading.subject);
      const queue = (first: boolean): Awaitable<boolean> => {
        if (!first) return false;
        const queued = this.outbox.participant.enqueue(tx, [line]);
        return queued instanceof Promise ? queued.then(() => true) : true;
      };
      return seen instanceof Promise ? seen.then(queue) : queue(seen);
    },
  };

  async write(reading: Reading): Promise<boolean> {
    const p = this.participant;
    return this.transactions.run(function* (tx) {
      return (yield p.write(tx, reading)) as boolean;
    });
  }

  /** Resolves once every queued line reached InfluxDB (or was set aside). For tests and shutdown drains. */
  drained(timeoutMs?: number): Promise<void> {
    return this.outbox.drained(timeoutMs);
  }

  metrics(): Promise<OutboxMetrics> {
    return this.outbox.metrics();
  }

  outboxMetrics(): Promise<OutboxMetrics> {
    return this.outbox.metrics();
  }

  reportSource(lt: LocalTime): ReportSource {
    return new StoreReportSource(this, this.opts.site, lt);
  }

  /** InfluxDB aggregates at query time: nothing to roll up here. */
  rollups(): null {
    return null;
  }

  async readings(subject: string, range: TimeRange, limit = 100_000): Promise<Reading[]> {
    const t = this.parseSubject(subject);
    if (!t) return [];
    const where = tagsOf(t).map(([k, v]) => `${ident(k)} = ${lit(v)}`);
    const q = `SELECT * FROM ${ident(MEASUREMENT[t.kind])} WHERE ${[...where, timeRange(range)].join(' AND ')} ORDER BY time ASC LIMIT ${Math.max(1, Math.floor(limit))}`;
    const rows = rowsOf(await this.query(q));
    return rows.map((row) => fromRow(t, subject, row, this.opts.site));
  }

  async series(subject: string, field: keyof typeof SERIES_FIELD, range: TimeRange, bucketMs: number): Promise<SeriesPoint[]> {
    const t = this.parseSubject(subject);
    const [kind, column] = SERIES_FIELD[field];
    if (!t || t.kind !== kind) return [];
    const f = ident(column);
    const where = tagsOf(t).map(([k, v]) => `${ident(k)} = ${lit(v)}`);
    // fill(none): buckets without data are absent (honest gaps), as the interface asks.
    const q = `SELECT mean(${f}) AS avg, min(${f}) AS min, max(${f}) AS max, last(${f}) AS last, count(${f}) AS count FROM ${ident(MEASUREMENT[kind])} WHERE ${[...where, timeRange(range)].join(' AND ')} GROUP BY time(${Math.floor(bucketMs)}ms) fill(none)`;
    return rowsOf(await this.query(q)).map((r) => ({ t: Number(r.time), avg: Number(r.avg), min: Number(r.min), max: Number(r.max), last: Number(r.last), count: Number(r.count) }));
  }

  /**
   * Pairs gate scans into sessions at read time, as the SQLite store pairs them at write time: an
   * entry opens a session for its pass, an exit closes the latest open one. Scans are read from
   * MAX_OPEN_SESSION_MS before `from` (a session open longer is treated as a missed exit scan) to
   * the same span after `to` (to find the exits of sessions open at `to`).
   */
  async sessions(range: TimeRange): Promise<ParkingSession[]> {
    const q = `SELECT "event", "pass", "gate" FROM ${ident(MEASUREMENT.gate)} WHERE ${timeRange({ from: range.from - MAX_OPEN_SESSION_MS, to: range.to + MAX_OPEN_SESSION_MS })} ORDER BY time ASC`;
    const scans = rowsOf(await this.query(q));
    type S = { pass: string; gate_in: string; entry_at: number; gate_out: string | null; exit_at: number | null };
    const all: S[] = [];
    const open = new Map<string, S[]>();
    for (const s of scans) {
      const pass = String(s.pass);
      const ts = Number(s.time);
      const gate = typeof s.gate === 'string' ? s.gate : '';
      if (s.event === 'entry') {
        const session: S = { pass, gate_in: gate, entry_at: ts, gate_out: null, exit_at: null };
        all.push(session);
        const stack = open.get(pass);
        if (stack) stack.push(session);
        else open.set(pass, [session]);
      } else if (s.event === 'exit') {
        // An exit with no open entry (a missed entry scan) pairs with nothing.
        const session = open.get(pass)?.pop();
        if (session) {
          session.gate_out = gate;
          session.exit_at = ts;
        }
      }
    }
    return all
      .filter((s) => s.entry_at < range.to && ((s.exit_at !== null && s.exit_at >= range.from) || (s.exit_at === null && s.entry_at >= range.from - MAX_OPEN_SESSION_MS)))
      .map(toSession);
  }

  /** Utilisation for GET /api/usage: InfluxQL built by reports/influx-usage.ts. */
  async usage(subject: string, range: TimeRange, every: Every): Promise<UsagePoint[]> {
    return influxUsage((q) => this.query(q), this.opts.site, subject, range, every);
  }

  async counts(): Promise<Record<Reading['kind'], number>> {
    const kinds = Object.keys(MEASUREMENT) as Reading['kind'][];
    const q = kinds.map((k) => `SELECT count(${ident(REQUIRED_FIELD[k])}) AS n FROM ${ident(MEASUREMENT[k])}`).join('; ');
    const res = await this.query(q);
    const out = {} as Record<Reading['kind'], number>;
    kinds.forEach((k, i) => {
      const s = res.results?.[i]?.series?.[0];
      const col = s?.columns.indexOf('n') ?? -1;
      out[k] = s && col >= 0 ? Number(s.values[0]?.[col] ?? 0) : 0;
    });
    return out;
  }

  async health(): Promise<StoreHealth> {
    const m = await this.outbox.metrics();
    const degradedAfter = this.opts.degradedAfterSec ?? 60;
    const backlog = `outbox ${m.depth}${m.oldestAgeSec !== null ? `, oldest ${Math.round(m.oldestAgeSec)} s` : ''}${m.rejectedHeld > 0 ? `, ${m.rejectedHeld} rejected lines set aside` : ''}`;
    const outbox = { depth: m.depth, oldestAgeSec: m.oldestAgeSec, rejected: m.rejectedHeld };
    if (m.lastError !== null) return { ok: false, detail: `influxdb unreachable or refusing writes: ${m.lastError} (${backlog})`, outbox };
    if (m.oldestAgeSec !== null && m.oldestAgeSec > degradedAfter) return { ok: false, detail: `influxdb behind (${backlog})`, outbox };
    return { ok: true, detail: `influxdb (${backlog})`, outbox };
  }

  /** Runs InfluxQL on `/query` (GET for reads, POST for statements that change the server). */
  private async query(q: string, method: 'GET' | 'POST' = 'GET'): Promise<QueryResult> {
    const params = new URLSearchParams({ db: this.opts.database, epoch: 'ms', q });
    const res = (await this.transport.request(`/query?${params.toString()}`, '', { method, headers: this.headers })) as QueryResult | undefined;
    const error = res?.error ?? res?.results?.find((r) => r.error)?.error;
    if (error) throw new Error(`InfluxQL: ${error}`);
    return res ?? {};
  }

  private parseSubject(subject: string): DeviceTopic | undefined {
    const t = this.topics.parse(`s/${subject}`);
    switch (t.kind) {
      case 'bay':
      case 'gate':
      case 'level':
      case 'pump':
      case 'venue':
      case 'status':
        return t;
      default:
        return undefined;
    }
  }

  private async pruneSeen(): Promise<void> {
    try {
      const max = await this.seen.newest();
      if (max === null) return;
      const before = max - (this.opts.dedupeWindowMs ?? 3 * 86_400_000);
      // Chunks of 20,000 keep each delete short on the ingest thread.
      for (let i = 0; i < 50; i++) {
        if ((await this.seen.prune(before, 20_000)) < 20_000) break;
      }
    } catch (err) {
      this.opts.log?.error({ err: describeInfluxError(err) }, 'influx store: pruning the redelivery keys failed; will retry');
    }
  }
}

/** `user:password` (InfluxDB 1.x) goes as Basic auth: 1.6 does not know the `Token` scheme. */
export function authHeaders(token: string | undefined): Record<string, string> {
  if (!token) return {};
  const colon = token.indexOf(':');
  if (colon > 0) return { authorization: `Basic ${Buffer.from(token).toString('base64')}` };
  return { authorization: `Token ${token}` };
}

/** The client logs failed requests with console.error even when the caller handles them. */
function routeClientLog(log: StoreLog): void {
  setLogger({
    error: (message: string, err?: unknown) => log.error({ err: err === undefined ? undefined : describeInfluxError(err) }, `influxdb-client: ${message}`),
    warn: (message: string, err?: unknown) => log.warn({ err: err === undefined ? undefined : describeInfluxError(err) }, `influxdb-client: ${message}`),
  });
}

function rowsOf(res: QueryResult): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const s of res.results?.[0]?.series ?? []) {
    for (const v of s.values) {
      const row: Record<string, unknown> = {};
      s.columns.forEach((c, i) => (row[c] = v[i]));
      out.push(row);
    }
  }
  return out;
}

const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

function fromRow(t: DeviceTopic, subject: string, row: Record<string, unknown>, site: Site): Reading {
  const ts = Number(row.time);
  switch (t.kind) {
    case 'bay':
      return { kind: 'bay', subject, ts, bayId: t.bayId, zoneId: (row.zone as string | null) ?? site.bay(t.bayId)?.zone ?? '', occupied: Number(row.occupied) === 1, battery: num(row.battery) };
    case 'gate':
      return { kind: 'gate', subject, ts, gateId: t.gateId, event: row.event as 'entry' | 'exit', pass: String(row.pass) };
    case 'level':
      return { kind: 'level', subject, ts, roomId: t.roomId, sensorId: t.sensorId, mm: Number(row.mm) };
    case 'pump':
      return { kind: 'pump', subject, ts, roomId: t.roomId, pumpId: t.pumpId, running: Number(row.running) === 1, amps: num(row.amps) };
    case 'venue':
      return { kind: 'venue', subject, ts, venueId: t.venueId, in: Number(row.in), out: Number(row.out), occupancy: num(row.occupancy) };
    case 'status':
      return { kind: 'status', subject, ts, deviceId: t.deviceId, online: Number(row.online) === 1 };
  }
}
