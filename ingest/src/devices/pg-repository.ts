/**
 * The device registry's tables on PostgreSQL (PARKOPS_DATABASE_URL), the twin of repository.ts,
 * passing the same behaviour suite, with the same columns, upserts and row mappings.
 *
 * Bindings are configuration: any process may change them (an admin on a standby), so those writes
 * are not fenced; each one NOTIFYs `parkops_devices` when it commits, and every other process reads
 * the bindings again (ha/cluster.ts). Counters, telemetry and unbound DevEUIs come from uplinks,
 * which only the leader takes: those writes are fenced like every other leader write.
 */
import { numbered, pgCode, pgOf, type PgClient, type PgDatabase, type PgModuleSchema } from '../db/pg.ts';
import type { Tx } from '../db/tx.ts';
import {
  bindingFromRow,
  COLUMNS,
  counterFromRow,
  DevEuiTaken,
  MAX_UNBOUND,
  telemetryFromRow,
  telemetryValues,
  unboundFromRow,
  UPSERT,
  type BindingChange,
  type BindingRecord,
  type BindingRow,
  type CounterRecord,
  type CounterRow,
  type DevicesRepository,
  type TelemetryRecord,
  type TelemetryRow,
  type UnboundRecord,
  type UnboundRow,
} from './repository.ts';

/** The channel a binding change is announced on. */
export const DEVICES_CHANNEL = 'parkops_devices';

export const PG_DEVICES_SCHEMA: PgModuleSchema = {
  module: 'devices',
  migrations: [
    {
      version: 1,
      description: 'bindings, unbound DevEUIs, uplink telemetry and counter totals',
      up: `
CREATE TABLE IF NOT EXISTS device_bindings (device_id TEXT PRIMARY KEY, dev_eui TEXT NOT NULL UNIQUE, codec TEXT NOT NULL, params JSONB NOT NULL, updated_at BIGINT NOT NULL, updated_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS device_unbound (dev_eui TEXT PRIMARY KEY, network TEXT NOT NULL, name TEXT, application_id TEXT, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, uplinks INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS device_unbound_last_seen ON device_unbound(last_seen);
CREATE TABLE IF NOT EXISTS device_telemetry (device_id TEXT PRIMARY KEY, dev_eui TEXT NOT NULL, last_uplink_at BIGINT NOT NULL, battery DOUBLE PRECISION, battery_mv INTEGER,
  rssi DOUBLE PRECISION, snr DOUBLE PRECISION, f_cnt BIGINT, problem TEXT);
CREATE TABLE IF NOT EXISTS device_counters (dev_eui TEXT NOT NULL, key TEXT NOT NULL, total_in BIGINT NOT NULL, total_out BIGINT NOT NULL, ts BIGINT NOT NULL, PRIMARY KEY (dev_eui, key));`,
    },
  ],
};

const SQL = {
  binding: numbered(UPSERT.binding),
  telemetry: numbered(UPSERT.telemetry),
  counter: numbered(UPSERT.counter),
  seenUnbound: `INSERT INTO device_unbound (${COLUMNS.unbound}) VALUES ($1, $2, $3, $4, $5, $5, 1)
    ON CONFLICT (dev_eui) DO UPDATE SET network = excluded.network, name = coalesce(excluded.name, device_unbound.name),
      application_id = coalesce(excluded.application_id, device_unbound.application_id), last_seen = greatest(device_unbound.last_seen, excluded.last_seen), uplinks = device_unbound.uplinks + 1`,
  trimUnbound: `DELETE FROM device_unbound WHERE dev_eui IN (SELECT dev_eui FROM device_unbound ORDER BY last_seen DESC OFFSET ${MAX_UNBOUND})`,
};

async function putCounters(c: PgClient, counters: readonly CounterRecord[]): Promise<void> {
  for (const x of counters) await c.query(SQL.counter, [x.devEui, x.key, x.in, x.out, x.ts]);
}

export class PgDevicesRepository implements DevicesRepository {
  private unboundWrites = 0;

  constructor(private readonly db: PgDatabase) {}

  readonly participant = {
    putCounters: (tx: Tx, counters: readonly CounterRecord[]): Promise<void> => putCounters(pgOf(tx), counters),
    putTelemetry: async (tx: Tx, t: TelemetryRecord): Promise<void> => void (await pgOf(tx).query(SQL.telemetry, telemetryValues(t))),
  };

  async applyBindings(changes: readonly BindingChange[]): Promise<void> {
    await this.write(changes).catch((err: unknown) => {
      throw pgCode(err) === '23505' ? new DevEuiTaken(err) : err;
    });
  }

  private async write(changes: readonly BindingChange[]): Promise<void> {
    await this.db.transaction(
      'device bindings',
      async (c) => {
        for (const { record: r, previousDevEui } of changes) {
          await c.query('DELETE FROM device_counters WHERE dev_eui = ANY($1)', [previousDevEui === undefined ? [r.devEui] : [previousDevEui, r.devEui]]);
          await c.query(SQL.binding, [r.deviceId, r.devEui, r.codec, JSON.stringify(r.params), r.updatedAt, r.updatedBy]);
          await c.query('DELETE FROM device_unbound WHERE dev_eui = $1', [r.devEui]);
        }
        await c.query('SELECT pg_notify($1, $2)', [DEVICES_CHANNEL, 'bindings']);
      },
      { fenced: false },
    );
  }

  async deleteBinding(deviceId: string, devEui: string): Promise<boolean> {
    return this.db.transaction(
      `device binding ${deviceId}`,
      async (c) => {
        const n = (await c.query('DELETE FROM device_bindings WHERE device_id = $1', [deviceId])).rowCount ?? 0;
        await c.query('DELETE FROM device_counters WHERE dev_eui = $1', [devEui]);
        if (n > 0) await c.query('SELECT pg_notify($1, $2)', [DEVICES_CHANNEL, 'bindings']);
        return n > 0;
      },
      { fenced: false },
    );
  }

  async saveUplinkState(counters: readonly CounterRecord[], telemetry: TelemetryRecord | null): Promise<void> {
    await this.db.transaction('uplink state', async (c) => {
      await putCounters(c, counters);
      if (telemetry) await c.query(SQL.telemetry, telemetryValues(telemetry));
    });
  }

  async seenUnbound(u: Omit<UnboundRecord, 'firstSeen' | 'lastSeen' | 'uplinks'>, at: number): Promise<void> {
    await this.db.transaction('unbound DevEUI', async (c) => {
      await c.query(SQL.seenUnbound, [u.devEui, u.network, u.name ?? null, u.applicationId ?? null, at]);
      if (++this.unboundWrites % 100 === 0) await c.query(SQL.trimUnbound);
    });
  }

  async bindings(): Promise<BindingRecord[]> {
    const rows = (await this.db.query<BindingRow<Record<string, unknown>>>(`SELECT ${COLUMNS.binding} FROM device_bindings ORDER BY device_id COLLATE "C"`)).rows;
    return rows.map((r) => bindingFromRow(r, (p) => p));
  }

  async unbound(): Promise<UnboundRecord[]> {
    return (await this.db.query<UnboundRow>(`SELECT ${COLUMNS.unbound} FROM device_unbound ORDER BY last_seen DESC, dev_eui COLLATE "C"`)).rows.map(unboundFromRow);
  }

  async telemetry(): Promise<TelemetryRecord[]> {
    return (await this.db.query<TelemetryRow>(`SELECT ${COLUMNS.telemetry} FROM device_telemetry`)).rows.map(telemetryFromRow);
  }

  async counters(): Promise<CounterRecord[]> {
    return (await this.db.query<CounterRow>(`SELECT ${COLUMNS.counter} FROM device_counters`)).rows.map(counterFromRow);
  }
}
