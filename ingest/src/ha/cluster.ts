/**
 * What the ParkOps processes on one PostgreSQL database tell each other (CONTRACT.md section 7):
 *
 * - the leader NOTIFYs `parkops_alerts` after each stored alert change and `parkops_live` (at most
 *   every 250 ms) after ingest commits; standbys LISTEN, read the stored rows again (live state, the
 *   active alerts) and forward the alert changes to their own `/api/stream` clients. A standby also
 *   reads again every 5 s, in case a notification was missed while its LISTEN connection was down.
 * - a binding changed on any process NOTIFYs `parkops_devices` as it commits (devices/pg-repository.ts);
 *   every process reads the bindings again (a standby, every 5 s as well, with the uplink telemetry).
 * - an acknowledgement made on a standby is forwarded, not applied there: the standby stores a
 *   request in `ack_requests` and NOTIFYs `parkops_acks`; the leader's alert engine applies it (its
 *   write fenced like every other) and stores the result, which the standby returns to the person.
 *   Only one engine ever changes alerts, so an acknowledgement can never race the rules. A failover
 *   while a request waits is covered: the new leader takes the requests nobody answered.
 */
import pg from 'pg';
import type { Alert } from '@parkops/contract/api.ts';
import type { EventBus } from '../bus.ts';
import type { Logger } from '../log.ts';
import type { Module } from '../module.ts';
import type { PgDatabase, PgModuleSchema } from '../db/pg.ts';
import { AlertNotAckable, AlertNotFound } from '../alerts/alert-engine.ts';
import type { Role } from './leader.ts';
import { DEVICES_CHANNEL } from '../devices/pg-repository.ts';

/** Who acknowledged an alert first: what a standby needs to answer a second acknowledgement with 409. */
interface NotAckable {
  by: string;
  at: string;
  resolved: boolean;
}
export const PG_CLUSTER_SCHEMA: PgModuleSchema = {
  module: 'cluster',
  migrations: [
    {
      version: 1,
      description: 'acknowledgements forwarded from standbys to the leader',
      up: `CREATE TABLE IF NOT EXISTS ack_requests (id BIGSERIAL PRIMARY KEY, alert_id TEXT NOT NULL, username TEXT NOT NULL, ip TEXT, note TEXT,
  requested_at TIMESTAMPTZ NOT NULL DEFAULT now(), done_at TIMESTAMPTZ, result JSONB, error TEXT, error_kind TEXT);
CREATE INDEX IF NOT EXISTS ack_requests_pending ON ack_requests (id) WHERE done_at IS NULL;`,
    },
  ],
};

/** How long a standby waits for the leader to answer a forwarded acknowledgement (covers a failover). */
const ACK_WAIT_MS = 20_000;
/** Requests older than this are not applied any more (the person was told it timed out). */
const ACK_STALE_SEC = 20;

export class ClusterLink implements Module {
  readonly name = 'cluster';
  private listener: pg.Client | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  private liveTimer: NodeJS.Timeout | null = null;
  private offs: Array<() => void> = [];
  private processing = false;

  constructor(
    private readonly opts: {
      url: string;
      db: PgDatabase;
      bus: EventBus;
      log: Logger;
      role: () => Role;
      /** Standby: read the active alerts again; returns the changed ones (forwarded to SSE clients). */
      followAlerts: () => Promise<Alert[]>;
      /** Standby: read live state again. */
      followLive: () => Promise<void>;
      /** Any role: read the device bindings again (another process changed them). */
      followDevices: () => Promise<void>;
      /** Leader: apply an acknowledgement; resolves to the stored, acknowledged alert. */
      applyAck: (alertId: string, by: { username: string; ip?: string | undefined }, note: string | undefined) => Promise<Alert>;
    },
  ) {}

  async start(): Promise<void> {
    const { bus } = this.opts;
    this.offs.push(
      bus.on('alert.changed', ({ alert }) => {
        if (this.opts.role() === 'leader') this.notify('parkops_alerts', alert.id);
      }),
      bus.on('reading.accepted', ({ applied }) => {
        if (!applied || this.opts.role() !== 'leader' || this.liveTimer) return;
        this.liveTimer = setTimeout(() => {
          this.liveTimer = null;
          this.notify('parkops_live', '');
        }, 250);
        this.liveTimer.unref();
      }),
    );
    await this.listen();
    this.poll = setInterval(() => {
      if (this.opts.role() === 'standby') {
        void this.followAlerts();
        void this.opts.followLive().catch(() => undefined);
        void this.followDevices();
      } else void this.processAcks();
    }, this.opts.role() === 'standby' ? 5000 : 1000);
    this.poll.unref();
  }

  /** Called when this process became the leader: answer the requests that wait. */
  elected(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = setInterval(() => void this.processAcks(), 1000);
    this.poll.unref();
    void this.processAcks();
  }

  private notify(channel: string, payload: string): void {
    this.opts.db.query('SELECT pg_notify($1, $2)', [channel, payload]).catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message, channel }, 'cluster: notify failed'));
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.opts.url, application_name: 'parkops-listen', connectionTimeoutMillis: 3000 });
    const again = (): void => {
      if (this.listener === client) this.listener = null;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.stopped || this.retry) return;
      this.retry = setTimeout(() => {
        this.retry = null;
        void this.listen();
      }, 1000);
      this.retry.unref();
    };
    client.on('error', again);
    client.on('end', again);
    client.on('notification', (n) => {
      const role = this.opts.role();
      if (n.channel === 'parkops_alerts' && role === 'standby') void this.followAlerts();
      else if (n.channel === 'parkops_live' && role === 'standby') void this.opts.followLive().catch(() => undefined);
      else if (n.channel === 'parkops_acks' && role === 'leader') void this.processAcks();
      else if (n.channel === DEVICES_CHANNEL) void this.followDevices();
    });
    try {
      await client.connect();
      await client.query(`LISTEN parkops_alerts; LISTEN parkops_live; LISTEN parkops_acks; LISTEN ${DEVICES_CHANNEL}`);
      this.listener = client;
      // Anything missed while not listening.
      void this.followDevices();
      if (this.opts.role() === 'standby') {
        void this.followAlerts();
        void this.opts.followLive().catch(() => undefined);
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'cluster: LISTEN connection failed; retrying');
      again();
    }
  }

  private async followDevices(): Promise<void> {
    try {
      await this.opts.followDevices();
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'cluster: could not read the device bindings again');
    }
  }

  private async followAlerts(): Promise<void> {
    try {
      for (const alert of await this.opts.followAlerts()) this.opts.bus.emit('alert.changed', { alert, change: 'updated' });
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'cluster: reading the alerts again failed');
    }
  }

  /** Standby: forwards an acknowledgement to the leader and waits for its answer. */
  async requestAck(alertId: string, by: { username: string; ip?: string | undefined }, note: string | undefined): Promise<Alert> {
    const { db } = this.opts;
    const row = (await db.query<{ id: number }>('INSERT INTO ack_requests (alert_id, username, ip, note) VALUES ($1, $2, $3, $4) RETURNING id', [alertId, by.username, by.ip ?? null, note ?? null])).rows[0]!;
    this.notify('parkops_acks', String(row.id));
    const deadline = Date.now() + ACK_WAIT_MS;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const r = (await db.query<{ done_at: Date | null; result: unknown; error: string | null; error_kind: string | null }>('SELECT done_at, result, error, error_kind FROM ack_requests WHERE id = $1', [row.id])).rows[0];
      if (!r || r.done_at === null) continue;
      if (r.error_kind === 'not-found') throw new AlertNotFound(r.error ?? `no alert with id "${alertId}"`);
      if (r.error_kind === 'not-ackable') {
        // `result` then holds who acknowledged it first, for the client's 409.
        const first = (r.result ?? {}) as Partial<NotAckable>;
        throw new AlertNotAckable(r.error ?? `alert ${alertId} cannot be acknowledged`, first.by ?? '', first.at ?? '', first.resolved ?? false);
      }
      if (r.result) return r.result as Alert;
      throw new Error(r.error ?? 'the acknowledgement failed');
    }
    // Not answered: withdraw it, so a leader elected later does not apply an acknowledgement the person was told failed.
    await db.query("UPDATE ack_requests SET done_at = now(), error = 'timed out' WHERE id = $1 AND done_at IS NULL", [row.id]);
    throw new Error('the leader did not answer the acknowledgement in time; try again');
  }

  /** Leader: applies waiting acknowledgements, one at a time, oldest first. */
  private async processAcks(): Promise<void> {
    if (this.processing || this.opts.role() !== 'leader') return;
    this.processing = true;
    try {
      const { db } = this.opts;
      const rows = (await db.query<{ id: number; alert_id: string; username: string; ip: string | null; note: string | null }>(`SELECT id, alert_id, username, ip, note FROM ack_requests WHERE done_at IS NULL AND requested_at > now() - $1 * interval '1 second' ORDER BY id LIMIT 50`, [ACK_STALE_SEC])).rows;
      for (const r of rows) {
        let result: Alert | NotAckable | null = null;
        let error: string | null = null;
        let kind: string | null = null;
        try {
          result = await this.opts.applyAck(r.alert_id, { username: r.username, ip: r.ip ?? undefined }, r.note ?? undefined);
        } catch (err) {
          error = (err as Error).message;
          kind = err instanceof AlertNotFound ? 'not-found' : err instanceof AlertNotAckable ? 'not-ackable' : 'failed';
          if (err instanceof AlertNotAckable) result = { by: err.by, at: err.at, resolved: err.resolved };
        }
        await db.transaction('an acknowledgement result', async (c) => {
          await c.query('UPDATE ack_requests SET done_at = now(), result = $2, error = $3, error_kind = $4 WHERE id = $1 AND done_at IS NULL', [r.id, result === null ? null : JSON.stringify(result), error, kind]);
        });
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'cluster: applying forwarded acknowledgements failed');
    } finally {
      this.processing = false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
    for (const t of [this.retry, this.liveTimer]) if (t) clearTimeout(t);
    if (this.poll) clearInterval(this.poll);
    const l = this.listener;
    this.listener = null;
    if (l) {
      l.removeAllListeners('end');
      await l.end().catch(() => undefined);
    }
  }
}
