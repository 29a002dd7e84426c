/**
 * Live state: the newest known value of every device, rebuilt from the `latest` table on start so a
 * restart shows the same picture. A reading older than the current state of its subject is stored
 * (back-fill) but never rolls live state back (docs/api.md, devices to ParkOps).
 *
 * `plan()` works out a reading's effect without touching memory; ingest applies it with `commit()`,
 * which returns an undo step, and persists the batch's plans with `persistBatch()` inside the same
 * transaction as the readings: if the transaction fails, ingest undoes the batch, so memory never runs
 * ahead of what is stored.
 *
 * Storage goes through `LiveRepository` (owner of `latest` and `recent_gate_scans`).
 */
import type { BayView, GateScanView, ParkingResponse, Reading, VenueView } from '@parkops/contract/index.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import type { Db } from './store/db.ts';
import { parseSubject } from '@parkops/contract/subjects.ts';
import { migrateDatabase, type ModuleSchema } from './db/migrations.ts';
import { sqliteOf, type Awaitable, type Tx } from './db/tx.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS latest (subject TEXT PRIMARY KEY, kind TEXT NOT NULL, ts INTEGER NOT NULL, changed_at INTEGER NOT NULL, seen_at INTEGER NOT NULL, data TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recent_gate_scans (id INTEGER PRIMARY KEY, gate_id TEXT NOT NULL, event TEXT NOT NULL, pass TEXT NOT NULL, ts INTEGER NOT NULL);
`;

/** Live state's migrations (db/migrations.ts). */
export const LIVE_SCHEMA: ModuleSchema = { module: 'live', migrations: [{ version: 1, description: 'newest state per subject and recent gate scans', up: SCHEMA }] };

const RECENT_SCANS = 50;
const HEARTBEAT_PERSIST_MS = 60_000;

/** The newest state of one subject as stored. */
export interface LatestRow {
  subject: string;
  kind: Reading['kind'];
  /** reading time, epoch ms */
  ts: number;
  changedAt: number;
  seenAt: number;
  data: unknown;
}

export interface GateScanRow {
  gateId: string;
  event: 'entry' | 'exit';
  pass: string;
  ts: number;
}

/** Storage of live state. */
export interface LiveRepository {
  /** Live state's part of the ingest transaction. */
  readonly participant: {
    /** Inserts or replaces the rows, one per subject. */
    putLatest(tx: Tx, rows: readonly LatestRow[]): Awaitable<void>;
    /** Appends gate scans, oldest first; keeps at least the newest `keep`. */
    addScans(tx: Tx, scans: readonly GateScanRow[], keep: number): Awaitable<void>;
  };
  /** Every stored subject, and the newest `scans` gate scans, newest first. */
  load(scans: number): Promise<{ latest: LatestRow[]; scans: GateScanRow[] }>;
}

export class SqliteLiveRepository implements LiveRepository {
  private readonly stmts;
  private scanInserts = 0;

  constructor(private readonly db: Db) {
    migrateDatabase(db, [LIVE_SCHEMA]);
    this.stmts = {
      upsert: db.prepare(
        'INSERT INTO latest (subject, kind, ts, changed_at, seen_at, data) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(subject) DO UPDATE SET ts = excluded.ts, changed_at = excluded.changed_at, seen_at = excluded.seen_at, data = excluded.data',
      ),
      scan: db.prepare('INSERT INTO recent_gate_scans (gate_id, event, pass, ts) VALUES (?, ?, ?, ?)'),
      // A few times the number shown, so a trim now and then is enough.
      trim: db.prepare('DELETE FROM recent_gate_scans WHERE id <= (SELECT max(id) FROM recent_gate_scans) - ?'),
    };
  }

  readonly participant = {
    putLatest: (tx: Tx, rows: readonly LatestRow[]): void => {
      sqliteOf(tx);
      for (const r of rows) this.stmts.upsert.run(r.subject, r.kind, r.ts, r.changedAt, r.seenAt, JSON.stringify(r.data));
    },
    addScans: (tx: Tx, scans: readonly GateScanRow[], keep: number): void => {
      sqliteOf(tx);
      for (const g of scans) {
        this.stmts.scan.run(g.gateId, g.event, g.pass, g.ts);
        if (++this.scanInserts % keep === 0) this.stmts.trim.run(keep * 4);
      }
    },
  };

  async load(scans: number): Promise<{ latest: LatestRow[]; scans: GateScanRow[] }> {
    const rows = this.db.prepare('SELECT subject, kind, ts, changed_at, seen_at, data FROM latest').all() as Array<{
      subject: string;
      kind: Reading['kind'];
      ts: number;
      changed_at: number;
      seen_at: number;
      data: string;
    }>;
    const recent = this.db.prepare('SELECT gate_id, event, pass, ts FROM recent_gate_scans ORDER BY ts DESC, id DESC LIMIT ?').all(scans) as Array<{ gate_id: string; event: 'entry' | 'exit'; pass: string; ts: number }>;
    return {
      latest: rows.map((r) => ({ subject: r.subject, kind: r.kind, ts: r.ts, changedAt: r.changed_at, seenAt: r.seen_at, data: JSON.parse(r.data) as unknown })),
      scans: recent.map((r) => ({ gateId: r.gate_id, event: r.event, pass: r.pass, ts: r.ts })),
    };
  }
}

interface Entry<T> {
  /** reading time of the newest value, epoch ms */
  ts: number;
  /** when the value last changed (kept apart from last seen: an unchanged value still reported is not stale) */
  changedAt: number;
  /** server time of receipt */
  seenAt: number;
  data: T;
}
type BayData = { occupied: boolean; battery: number | null };
type LevelData = { mm: number };
type PumpData = { running: boolean; amps: number | null };
type VenueData = { occupancy: number; in: number; out: number };
type StatusData = { online: boolean };

export interface Plan {
  reading: Reading;
  applies: boolean;
  entry?: Entry<unknown>;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export class LiveState {
  private readonly bays = new Map<string, Entry<BayData>>();
  private readonly levels = new Map<string, Entry<LevelData>>();
  private readonly pumps = new Map<string, Entry<PumpData>>();
  private readonly venues = new Map<string, Entry<VenueData>>();
  private readonly status = new Map<string, Entry<StatusData>>();
  private readonly gates = new Map<string, Entry<GateScanView>>();
  private recentScans: GateScanView[] = [];
  /** What the `latest` table holds per subject (its ts and changedAt), to skip heartbeat rewrites. */
  private readonly persistedAt = new Map<string, { ts: number; changedAt: number }>();

  constructor(
    private readonly repo: LiveRepository,
    private readonly site: Site,
  ) {}

  async load(): Promise<void> {
    const { latest, scans } = await this.repo.load(RECENT_SCANS);
    for (const row of latest) {
      const entry: Entry<unknown> = { ts: row.ts, changedAt: row.changedAt, seenAt: row.seenAt, data: row.data };
      this.mapFor(row.kind).set(keyOfSubject(row.subject), entry as Entry<never>);
      this.persistedAt.set(`${row.kind}:${row.subject}`, { ts: row.ts, changedAt: row.changedAt });
    }
    this.recentScans = scans.map((r) => ({ gateId: r.gateId, event: r.event, pass: r.pass, ts: iso(r.ts)! }));
  }

  private mapFor(kind: Reading['kind']): Map<string, Entry<never>> {
    switch (kind) {
      case 'bay':
        return this.bays as Map<string, Entry<never>>;
      case 'level':
        return this.levels as Map<string, Entry<never>>;
      case 'pump':
        return this.pumps as Map<string, Entry<never>>;
      case 'venue':
        return this.venues as Map<string, Entry<never>>;
      case 'status':
        return this.status as Map<string, Entry<never>>;
      case 'gate':
        return this.gates as Map<string, Entry<never>>;
    }
  }

  /**
   * Works out what a reading changes, without changing anything. Sets `reading.occupancy` on venue
   * readings (people present after it) so the store keeps it with the counts.
   *
   * `replayed`: a retained message the broker sent because ParkOps subscribed, not because the device
   * published it now (MQTT 3.1.1 sets RETAIN only on those, [MQTT-3.3.1-8], [MQTT-3.3.1-9]). A replayed status is as old
   * as the device's last status change, which ParkOps already saw if it knows the device; a retained
   * `offline` replayed on every restart must not mark a device offline that has reported since.
   */
  plan(r: Reading, receivedAt: number, replayed = false): Plan {
    const key = keyOf(r);
    const current = this.mapFor(r.kind).get(key) as Entry<unknown> | undefined;
    if (replayed && r.kind === 'status' && this.knows(r.deviceId)) return { reading: r, applies: false };
    // Status messages carry no device time: they are ordered by receipt.
    const ts = r.ts;
    if (current && ts <= current.ts && r.kind === 'venue') {
      // Counts are people through the door since the counter's previous message: an older message
      // (out of order, or back-filled) still moved people, so it still changes occupancy.
      const prev = current.data as VenueData;
      const occupancy = Math.max(0, prev.occupancy + r.in - r.out);
      r.occupancy = occupancy;
      return { reading: r, applies: true, entry: { ...current, changedAt: occupancy !== prev.occupancy ? receivedAt : current.changedAt, data: { ...prev, occupancy } } };
    }
    if (current && ts <= current.ts && r.kind !== 'gate') return { reading: r, applies: false };
    let data: unknown;
    let changed = true;
    switch (r.kind) {
      case 'bay': {
        const prev = current?.data as BayData | undefined;
        data = { occupied: r.occupied, battery: r.battery ?? prev?.battery ?? null } satisfies BayData;
        changed = prev?.occupied !== r.occupied;
        break;
      }
      case 'level':
        data = { mm: r.mm } satisfies LevelData;
        changed = (current?.data as LevelData | undefined)?.mm !== r.mm;
        break;
      case 'pump': {
        const prev = current?.data as PumpData | undefined;
        data = { running: r.running, amps: r.amps ?? null } satisfies PumpData;
        changed = prev?.running !== r.running || prev?.amps !== (r.amps ?? null);
        break;
      }
      case 'venue': {
        const prev = (current?.data as VenueData | undefined)?.occupancy ?? 0;
        // Counters drift; occupancy never goes below zero (docs/api.md, devices to ParkOps counts are deltas).
        const occupancy = Math.max(0, prev + r.in - r.out);
        r.occupancy = occupancy;
        data = { occupancy, in: r.in, out: r.out } satisfies VenueData;
        changed = occupancy !== prev;
        break;
      }
      case 'status':
        data = { online: r.online } satisfies StatusData;
        changed = (current?.data as StatusData | undefined)?.online !== r.online;
        break;
      case 'gate':
        data = { gateId: r.gateId, event: r.event, pass: r.pass, ts: iso(r.ts)! } satisfies GateScanView;
        if (current && ts <= current.ts) {
          // An older scan is history, not news: keep it for sessions but not as the gate's last scan.
          return { reading: r, applies: false };
        }
        break;
    }
    const entry: Entry<unknown> = { ts, changedAt: changed || !current ? ts : current.changedAt, seenAt: receivedAt, data };
    return { reading: r, applies: true, entry };
  }

  /**
   * Live state's part of the ingest transaction: writes a committed batch's new state, after the
   * batch's readings. One row per subject, from its last plan in the batch (each plan is made against
   * memory holding the earlier ones, so the last one carries the subject's final state), and every
   * gate scan in order.
   * A heartbeat that changes nothing but the time is written at most once a minute per device: after a
   * crash its last-seen time may be up to a minute early, far inside every staleness threshold, and
   * the busiest traffic (bay heartbeats) costs one statement instead of two.
   */
  persistBatch(tx: Tx, plans: readonly Plan[]): Awaitable<void> {
    const last = new Map<string, Plan>();
    const scans: GateScanRow[] = [];
    for (const p of plans) {
      if (!p.applies || !p.entry) continue;
      last.set(p.reading.subject, p);
      const r = p.reading;
      if (r.kind === 'gate') scans.push({ gateId: r.gateId, event: r.event, pass: r.pass, ts: r.ts });
    }
    const rows: LatestRow[] = [];
    for (const p of last.values()) {
      const r = p.reading;
      const entry = p.entry!;
      const key = `${r.kind}:${r.subject}`;
      const prev = this.persistedAt.get(key);
      if (prev !== undefined && entry.changedAt === prev.changedAt && entry.ts - prev.ts < HEARTBEAT_PERSIST_MS) continue;
      this.persistedAt.set(key, { ts: entry.ts, changedAt: entry.changedAt });
      rows.push({ subject: r.subject, kind: r.kind, ts: entry.ts, changedAt: entry.changedAt, seenAt: entry.seenAt, data: entry.data });
    }
    const put = rows.length > 0 ? this.repo.participant.putLatest(tx, rows) : undefined;
    if (scans.length === 0) return put;
    if (put instanceof Promise) return put.then(() => this.repo.participant.addScans(tx, scans, RECENT_SCANS));
    return this.repo.participant.addScans(tx, scans, RECENT_SCANS);
  }

  /** After a failed transaction: forget what was thought persisted, so the next readings write it again. */
  forgetPersisted(): void {
    this.persistedAt.clear();
  }

  /** Applies a plan to memory; returns the step that undoes it. */
  commit(p: Plan): () => void {
    if (!p.applies || !p.entry) return () => {};
    const map = this.mapFor(p.reading.kind);
    const key = keyOf(p.reading);
    const previous = map.get(key);
    map.set(key, p.entry as Entry<never>);
    const scans = this.recentScans;
    if (p.reading.kind === 'gate') {
      this.recentScans = [p.entry.data as GateScanView, ...scans].slice(0, RECENT_SCANS);
    }
    return () => {
      if (previous) map.set(key, previous);
      else map.delete(key);
      this.recentScans = scans;
    };
  }

  /** ParkOps has a status or a reading of this device. */
  private knows(deviceId: string): boolean {
    if (this.status.has(deviceId)) return true;
    const d = this.site.device(deviceId);
    switch (d?.kind) {
      case 'bay':
        return this.bays.has(d.id);
      case 'gate':
        return this.gates.has(d.id);
      case 'level':
        return this.levels.has(`${d.parent}/${d.id}`);
      case 'pump':
        return this.pumps.has(`${d.parent}/${d.id}`);
      case 'venue':
        return this.venues.has(d.id);
      case undefined:
        return false;
    }
  }

  // ---- views for the API and the stream -------------------------------------------------------

  /**
   * Offline: the device's last status said so and no reading arrived after it. A reading is proof of
   * life; an `offline` (often a Last Will) only stands until the device's next message.
   */
  private offline(deviceId: string, readingSeenAt: number | undefined): boolean {
    const s = this.status.get(deviceId);
    return s !== undefined && !s.data.online && (readingSeenAt === undefined || s.seenAt >= readingSeenAt);
  }

  /** Staleness counts from when ParkOps received the newest reading, not from the device's clock. */
  bayView(bayId: string, now: number): BayView | null {
    const bay = this.site.bay(bayId);
    if (!bay) return null;
    const e = this.bays.get(bayId);
    const stale = !e || now - e.seenAt > this.site.parking.bayStaleAfterSec * 1000 || this.offline(bayId, e.seenAt);
    return { id: bayId, zone: bay.zone, occupied: e ? e.data.occupied : null, since: iso(e?.changedAt), lastSeen: iso(e?.seenAt), battery: e?.data.battery ?? null, stale };
  }

  parking(now: number): ParkingResponse {
    const bays: BayView[] = [];
    const zones = this.site.zones.map((z) => {
      let occupied = 0;
      for (const b of z.bays) {
        const v = this.bayView(b.id, now)!;
        if (v.occupied === true) occupied++;
        bays.push(v);
      }
      return { id: z.id, name: z.name, nameZh: z.nameZh, total: z.bays.length, occupied };
    });
    const total = bays.length;
    const occupied = zones.reduce((n, z) => n + z.occupied, 0);
    return {
      total,
      occupied,
      free: total - occupied,
      zones,
      bays,
      gates: this.site.gates.map((g) => ({ id: g.id, name: g.name, nameZh: g.nameZh, direction: g.direction, lastScan: this.gates.get(g.id)?.data ?? null })),
      recentScans: [...this.recentScans],
    };
  }

  /**
   * The newest value of a level sensor, raw: whether it is fresh is the alert engine's judgement
   * (flood/flood-view.ts puts the two together).
   */
  levelValue(roomId: string, sensorId: string): { mm: number; ts: number; changedAt: number } | undefined {
    const e = this.levels.get(`${roomId}/${sensorId}`);
    return e ? { mm: e.data.mm, ts: e.ts, changedAt: e.changedAt } : undefined;
  }

  /** The newest state of a pump, raw (see levelValue). */
  pumpValue(roomId: string, pumpId: string): { running: boolean; amps: number | null; ts: number; changedAt: number } | undefined {
    const e = this.pumps.get(`${roomId}/${pumpId}`);
    return e ? { running: e.data.running, amps: e.data.amps, ts: e.ts, changedAt: e.changedAt } : undefined;
  }

  venueView(venueId: string, now: number): VenueView | null {
    const v = this.site.venue(venueId);
    if (!v) return null;
    const e = this.venues.get(venueId);
    const offline = this.offline(v.counterId, e?.seenAt) || this.offline(v.id, e?.seenAt);
    return { id: v.id, name: v.name, nameZh: v.nameZh, capacity: v.capacity, areaM2: v.areaM2, occupancy: e?.data.occupancy ?? 0, ts: iso(e?.ts), stale: !e || now - e.seenAt > v.staleAfterSec * 1000 || offline };
  }

  venuesView(now: number): VenueView[] {
    return this.site.venues.map((v) => this.venueView(v.id, now)!);
  }
}

function keyOf(r: Reading): string {
  switch (r.kind) {
    case 'bay':
      return r.bayId;
    case 'gate':
      return r.gateId;
    case 'level':
      return `${r.roomId}/${r.sensorId}`;
    case 'pump':
      return `${r.roomId}/${r.pumpId}`;
    case 'venue':
      return r.venueId;
    case 'status':
      return r.deviceId;
  }
}

/** Map key from a stored subject (topic without prefix). */
function keyOfSubject(subject: string): string {
  const s = parseSubject(subject);
  switch (s?.kind) {
    case 'bay':
      return s.bayId;
    case 'gate':
      return s.gateId;
    case 'level':
      return `${s.roomId}/${s.sensorId}`;
    case 'pump':
      return `${s.roomId}/${s.pumpId}`;
    case 'venue-counts':
      return s.venueId;
    case 'device-status':
      return s.deviceId;
    default:
      return subject;
  }
}
