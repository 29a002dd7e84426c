/**
 * Tables of the device registry: bindings (DevEUI -> ParkOps device + codec), DevEUIs heard without a
 * binding, per-device telemetry from uplinks (battery, RSSI, SNR) and the running totals of counting
 * codecs. Nothing else reads these tables; the registry keeps all of them in memory as well and
 * writes through this repository. Times are epoch ms.
 */
import type { UplinkNetwork } from '@parkops/contract/topics.ts';
import type { Db } from '../store/db.ts';
import { migrateDatabase, type ModuleSchema } from '../db/migrations.ts';
import { sqliteOf, type Awaitable, type Tx } from '../db/tx.ts';
import type { CounterState } from './codecs/index.ts';

export interface BindingRecord {
  deviceId: string;
  /** 16 upper-case hex digits */
  devEui: string;
  codec: string;
  params: Record<string, unknown>;
  updatedAt: number;
  updatedBy: string;
}

export interface UnboundRecord {
  devEui: string;
  network: UplinkNetwork;
  name?: string | undefined;
  applicationId?: string | undefined;
  firstSeen: number;
  lastSeen: number;
  uplinks: number;
}

export interface TelemetryRecord {
  deviceId: string;
  devEui: string;
  /** the newest uplink's time */
  lastUplinkAt: number;
  battery?: number | undefined;
  batteryMv?: number | undefined;
  rssi?: number | undefined;
  snr?: number | undefined;
  fCnt?: number | undefined;
  problem?: string | undefined;
}

export interface CounterRecord extends CounterState {
  devEui: string;
  key: string;
}

/** A binding to write, with the DevEUI the device had before (its counters start again). */
export interface BindingChange {
  record: BindingRecord;
  previousDevEui?: string | undefined;
}

/** A write would bind a DevEUI that another device holds (another process bound it a moment earlier). */
export class DevEuiTaken extends Error {
  constructor(cause: unknown) {
    super('a DevEUI in this change is bound to another device', { cause });
  }
}

/** Storage of the registry. Kept free of SQLite specifics: a PostgreSQL implementation can follow. */
export interface DevicesRepository {
  /** The registry's part of the ingest transaction: what an uplink with a reading changes. */
  readonly participant: {
    putCounters(tx: Tx, counters: readonly CounterRecord[]): Awaitable<void>;
    putTelemetry(tx: Tx, t: TelemetryRecord): Awaitable<void>;
  };
  bindings(): Promise<BindingRecord[]>;
  /**
   * Writes bindings in one transaction. Per change: the counters of the previous DevEUI and of the new
   * one are deleted (a counter's baseline belongs to one device, codec and line), and the DevEUI leaves
   * the unbound list.
   */
  applyBindings(changes: readonly BindingChange[]): Promise<void>;
  /** Deletes a device's binding and its DevEUI's counters, in one transaction; false when there was none. */
  deleteBinding(deviceId: string, devEui: string): Promise<boolean>;
  /** Newest first, at most MAX_UNBOUND kept. */
  unbound(): Promise<UnboundRecord[]>;
  /** Counts an uplink from a DevEUI without a binding. */
  seenUnbound(u: Omit<UnboundRecord, 'firstSeen' | 'lastSeen' | 'uplinks'>, at: number): Promise<void>;
  telemetry(): Promise<TelemetryRecord[]>;
  counters(): Promise<CounterRecord[]>;
  /** What an uplink without a reading (device information) changes, in one transaction. */
  saveUplinkState(counters: readonly CounterRecord[], telemetry: TelemetryRecord | null): Promise<void>;
}

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS device_bindings (
  device_id TEXT PRIMARY KEY,
  dev_eui TEXT NOT NULL UNIQUE,
  codec TEXT NOT NULL,
  params TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS device_unbound (
  dev_eui TEXT PRIMARY KEY,
  network TEXT NOT NULL,
  name TEXT,
  application_id TEXT,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  uplinks INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS device_unbound_last_seen ON device_unbound(last_seen);
CREATE TABLE IF NOT EXISTS device_telemetry (
  device_id TEXT PRIMARY KEY,
  dev_eui TEXT NOT NULL,
  last_uplink_at INTEGER NOT NULL,
  battery REAL,
  battery_mv INTEGER,
  rssi REAL,
  snr REAL,
  f_cnt INTEGER,
  problem TEXT
);
CREATE TABLE IF NOT EXISTS device_counters (
  dev_eui TEXT NOT NULL,
  key TEXT NOT NULL,
  total_in INTEGER NOT NULL,
  total_out INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (dev_eui, key)
) WITHOUT ROWID;
`;

/** The registry's migrations (db/migrations.ts). */
export const DEVICES_SCHEMA: ModuleSchema = { module: 'devices', migrations: [{ version: 1, description: 'bindings, unbound DevEUIs, uplink telemetry and counter totals', up: SCHEMA_V1 }] };

/** DevEUIs heard without a binding, at most: a shared broker can carry a neighbour's whole network. */
export const MAX_UNBOUND = 2000;

const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** The tables' rows as both engines return them (`P`: params as the driver gives them: JSON text or an object). */
export interface BindingRow<P> {
  device_id: string;
  dev_eui: string;
  codec: string;
  params: P;
  updated_at: number;
  updated_by: string;
}
export interface UnboundRow {
  dev_eui: string;
  network: UplinkNetwork;
  name: string | null;
  application_id: string | null;
  first_seen: number;
  last_seen: number;
  uplinks: number;
}
export interface TelemetryRow {
  device_id: string;
  dev_eui: string;
  last_uplink_at: number;
  battery: number | null;
  battery_mv: number | null;
  rssi: number | null;
  snr: number | null;
  f_cnt: number | null;
  problem: string | null;
}
export interface CounterRow {
  dev_eui: string;
  key: string;
  total_in: number;
  total_out: number;
  ts: number;
}

/** The columns each query names, in the order of the rows above (one list for both engines). */
export const COLUMNS = {
  binding: 'device_id, dev_eui, codec, params, updated_at, updated_by',
  unbound: 'dev_eui, network, name, application_id, first_seen, last_seen, uplinks',
  telemetry: 'device_id, dev_eui, last_uplink_at, battery, battery_mv, rssi, snr, f_cnt, problem',
  counter: 'dev_eui, key, total_in, total_out, ts',
};

/** The upserts both engines run (`?` placeholders; PostgreSQL numbers them). */
export const UPSERT = {
  binding: `INSERT INTO device_bindings (${COLUMNS.binding}) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (device_id) DO UPDATE SET dev_eui = excluded.dev_eui, codec = excluded.codec, params = excluded.params, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  telemetry: `INSERT INTO device_telemetry (${COLUMNS.telemetry}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (device_id) DO UPDATE SET dev_eui = excluded.dev_eui, last_uplink_at = excluded.last_uplink_at, battery = excluded.battery, battery_mv = excluded.battery_mv,
      rssi = excluded.rssi, snr = excluded.snr, f_cnt = excluded.f_cnt, problem = excluded.problem`,
  counter: `INSERT INTO device_counters (${COLUMNS.counter}) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (dev_eui, key) DO UPDATE SET total_in = excluded.total_in, total_out = excluded.total_out, ts = excluded.ts`,
};


export const bindingFromRow = <P>(r: BindingRow<P>, params: (p: P) => Record<string, unknown>): BindingRecord => ({ deviceId: r.device_id, devEui: r.dev_eui, codec: r.codec, params: params(r.params), updatedAt: r.updated_at, updatedBy: r.updated_by });
export const unboundFromRow = (r: UnboundRow): UnboundRecord => ({ devEui: r.dev_eui, network: r.network, name: orUndefined(r.name), applicationId: orUndefined(r.application_id), firstSeen: r.first_seen, lastSeen: r.last_seen, uplinks: r.uplinks });
export const telemetryFromRow = (r: TelemetryRow): TelemetryRecord => ({
  deviceId: r.device_id,
  devEui: r.dev_eui,
  lastUplinkAt: r.last_uplink_at,
  battery: orUndefined(r.battery),
  batteryMv: orUndefined(r.battery_mv),
  rssi: orUndefined(r.rssi),
  snr: orUndefined(r.snr),
  fCnt: orUndefined(r.f_cnt),
  problem: orUndefined(r.problem),
});
export const counterFromRow = (r: CounterRow): CounterRecord => ({ devEui: r.dev_eui, key: r.key, in: r.total_in, out: r.total_out, ts: r.ts });
/** A telemetry record as the values of an insert, in COLUMNS.telemetry order. */
export const telemetryValues = (t: TelemetryRecord): unknown[] => [t.deviceId, t.devEui, t.lastUplinkAt, t.battery ?? null, t.batteryMv ?? null, t.rssi ?? null, t.snr ?? null, t.fCnt ?? null, t.problem ?? null];

export class SqliteDevicesRepository implements DevicesRepository {
  private readonly stmts: Record<'putBinding' | 'deleteBinding' | 'seenUnbound' | 'trimUnbound' | 'forgetUnbound' | 'putTelemetry' | 'putCounter' | 'deleteCounters', import('better-sqlite3').Statement>;

  private unboundWrites = 0;

  constructor(private readonly db: Db) {
    migrateDatabase(db, [DEVICES_SCHEMA]);
    const p = (sql: string) => this.db.prepare(sql);
    this.stmts = {
      putBinding: p(UPSERT.binding),
      deleteBinding: p('DELETE FROM device_bindings WHERE device_id = ?'),
      seenUnbound: p(
        'INSERT INTO device_unbound (dev_eui, network, name, application_id, first_seen, last_seen, uplinks) VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT(dev_eui) DO UPDATE SET network = excluded.network, name = coalesce(excluded.name, name), application_id = coalesce(excluded.application_id, application_id), last_seen = max(last_seen, excluded.last_seen), uplinks = uplinks + 1',
      ),
      trimUnbound: p(`DELETE FROM device_unbound WHERE dev_eui IN (SELECT dev_eui FROM device_unbound ORDER BY last_seen DESC LIMIT -1 OFFSET ${MAX_UNBOUND})`),
      forgetUnbound: p('DELETE FROM device_unbound WHERE dev_eui = ?'),
      putTelemetry: p(UPSERT.telemetry),
      putCounter: p(UPSERT.counter),
      deleteCounters: p('DELETE FROM device_counters WHERE dev_eui = ?'),
    };
  }

  readonly participant = {
    putCounters: (tx: Tx, counters: readonly CounterRecord[]): void => {
      sqliteOf(tx);
      for (const c of counters) this.putCounter(c);
    },
    putTelemetry: (tx: Tx, t: TelemetryRecord): void => {
      sqliteOf(tx);
      this.putTelemetry(t);
    },
  };

  async applyBindings(changes: readonly BindingChange[]): Promise<void> {
    try {
      this.write(changes);
    } catch (err) {
      throw (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' ? new DevEuiTaken(err) : err;
    }
  }

  private write(changes: readonly BindingChange[]): void {
    this.db.transaction(() => {
      for (const { record, previousDevEui } of changes) {
        if (previousDevEui !== undefined) this.stmts.deleteCounters.run(previousDevEui);
        this.stmts.deleteCounters.run(record.devEui);
        this.stmts.putBinding.run(record.deviceId, record.devEui, record.codec, JSON.stringify(record.params), record.updatedAt, record.updatedBy);
        this.stmts.forgetUnbound.run(record.devEui);
      }
    })();
  }

  async deleteBinding(deviceId: string, devEui: string): Promise<boolean> {
    return this.db.transaction(() => {
      const n = this.stmts.deleteBinding.run(deviceId).changes;
      this.stmts.deleteCounters.run(devEui);
      return n > 0;
    })();
  }

  async saveUplinkState(counters: readonly CounterRecord[], telemetry: TelemetryRecord | null): Promise<void> {
    this.db.transaction(() => {
      for (const c of counters) this.putCounter(c);
      if (telemetry) this.putTelemetry(telemetry);
    })();
  }

  async bindings(): Promise<BindingRecord[]> {
    const rows = this.db.prepare(`SELECT ${COLUMNS.binding} FROM device_bindings ORDER BY device_id`).all() as BindingRow<string>[];
    return rows.map((r) => bindingFromRow(r, (p) => JSON.parse(p) as Record<string, unknown>));
  }

  async unbound(): Promise<UnboundRecord[]> {
    return (this.db.prepare(`SELECT ${COLUMNS.unbound} FROM device_unbound ORDER BY last_seen DESC, dev_eui`).all() as UnboundRow[]).map(unboundFromRow);
  }

  async seenUnbound(u: Omit<UnboundRecord, 'firstSeen' | 'lastSeen' | 'uplinks'>, at: number): Promise<void> {
    this.stmts.seenUnbound.run(u.devEui, u.network, u.name ?? null, u.applicationId ?? null, at, at);
    if (++this.unboundWrites % 100 === 0) this.stmts.trimUnbound.run();
  }

  async telemetry(): Promise<TelemetryRecord[]> {
    return (this.db.prepare(`SELECT ${COLUMNS.telemetry} FROM device_telemetry`).all() as TelemetryRow[]).map(telemetryFromRow);
  }

  private putTelemetry(t: TelemetryRecord): void {
    this.stmts.putTelemetry.run(...telemetryValues(t));
  }

  async counters(): Promise<CounterRecord[]> {
    return (this.db.prepare(`SELECT ${COLUMNS.counter} FROM device_counters`).all() as CounterRow[]).map(counterFromRow);
  }

  private putCounter(c: CounterRecord): void {
    this.stmts.putCounter.run(c.devEui, c.key, c.in, c.out, c.ts);
  }
}
