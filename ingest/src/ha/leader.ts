/**
 * One leader among the ParkOps processes on one PostgreSQL database (CONTRACT.md section 7).
 *
 * The lease is one row, `leader_lease(id = 1, holder, epoch, expires_at)`, taken and renewed with SQL
 * on the database's clock (`now()`), so the processes' own clocks never have to agree:
 * - take: insert the row, or overwrite it only when `expires_at < now()`; each takeover increments
 *   `epoch`;
 * - renew: push `expires_at` out by the lease, only while the row still names this holder and epoch
 *   and has not run out.
 *
 * Every leader-only write checks the holder and epoch inside its own transaction (db/pg.ts, fencing).
 *
 * Stepping down before the lease runs out: a renewal is counted from the moment it was *sent* (the
 * database's `now()` is at or after that), so the lease certainly lasts until `sentAt + leaseMs` by the
 * database's clock, give or take the clock rate. If no renewal succeeded for `leaseMs - marginMs`, the
 * leader gives up (`onLost`) while its lease is still running: it has stopped taking device messages
 * and sending notifications before any standby can take over. With a 10 s lease renewed every 2.5 s a
 * standby takes over at most 10 s + one attempt (2.5 s) after the leader died: inside 15 s.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Fence, PgDatabase, PgModuleSchema } from '../db/pg.ts';
import type { Logger } from '../log.ts';
import type { Module } from '../module.ts';

export const PG_LEADER_SCHEMA: PgModuleSchema = {
  module: 'leader',
  migrations: [{ version: 1, description: 'the leader lease', up: 'CREATE TABLE IF NOT EXISTS leader_lease (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, epoch BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL);' }],
};

export type Role = 'leader' | 'standby';

export interface LeaseTimes {
  leaseMs: number;
  renewMs: number;
  /** Give up this long before the lease would run out on the database's clock. */
  marginMs: number;
}
export const DEFAULT_LEASE: LeaseTimes = { leaseMs: 10_000, renewMs: 2_500, marginMs: 3_000 };

export class LeaderElection implements Module, Fence {
  readonly name = 'leader';
  readonly holder: string;
  private epoch: number | null = null;
  private lastRenewSentAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private watch: NodeJS.Timeout | null = null;
  private stopped = false;
  private busy = false;

  constructor(
    private readonly opts: {
      db: PgDatabase;
      log: Logger;
      times?: LeaseTimes;
      /** Called once this process won the lease (with the epoch); the leader's modules start here. */
      onElected: (epoch: number) => Promise<void>;
      /** Called once, when the lease is (or may be) lost: stop acting at once. */
      onLost: (why: string) => void;
      holder?: string;
    },
  ) {
    this.holder = opts.holder ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  get times(): LeaseTimes {
    return this.opts.times ?? DEFAULT_LEASE;
  }
  get role(): Role {
    return this.epoch === null ? 'standby' : 'leader';
  }
  get currentEpoch(): number | null {
    return this.epoch;
  }

  /** Fence: the holder and epoch while leader and the lease is believed valid; null otherwise. */
  current(): { holder: string; epoch: number } | null {
    if (this.epoch === null) return null;
    if (performance.now() - this.lastRenewSentAt > this.times.leaseMs - this.times.marginMs) return null;
    return { holder: this.holder, epoch: this.epoch };
  }

  async start(): Promise<void> {
    await this.attempt();
    this.schedule();
    this.watch = setInterval(() => this.watchdog(), 250);
    this.watch.unref();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.attempt().finally(() => this.schedule());
    }, this.times.renewMs);
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      if (this.epoch === null) await this.tryTake();
      else await this.renew();
    } finally {
      this.busy = false;
    }
  }

  private async tryTake(): Promise<void> {
    const sentAt = performance.now();
    let epoch: number | null;
    try {
      const r = await this.opts.db.query<{ epoch: number }>(
        `INSERT INTO leader_lease (id, holder, epoch, expires_at) VALUES (1, $1, 1, now() + $2 * interval '1 millisecond')
         ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, epoch = leader_lease.epoch + 1, expires_at = excluded.expires_at
         WHERE leader_lease.expires_at < now()
         RETURNING epoch`,
        [this.holder, this.times.leaseMs],
      );
      epoch = r.rows[0]?.epoch ?? null;
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'leader lease: could not reach the database');
      return;
    }
    if (epoch === null) return;
    this.epoch = epoch;
    this.lastRenewSentAt = sentAt;
    this.opts.log.info({ holder: this.holder, epoch }, 'leader lease taken: this process is the leader');
    try {
      await this.opts.onElected(epoch);
    } catch (err) {
      this.lose(`the leader's modules failed to start: ${(err as Error).message}`);
    }
  }

  private async renew(): Promise<void> {
    const sentAt = performance.now();
    try {
      const r = await this.opts.db.query(
        `UPDATE leader_lease SET expires_at = now() + $3 * interval '1 millisecond' WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at > now()`,
        [this.holder, this.epoch, this.times.leaseMs],
      );
      if (r.rowCount === 1) {
        this.lastRenewSentAt = sentAt;
        return;
      }
      this.lose('the lease was taken over or ran out');
    } catch (err) {
      if (performance.now() - this.lastRenewSentAt > this.times.leaseMs - this.times.marginMs) this.lose(`the lease could not be renewed in time: ${(err as Error).message}`);
      else this.opts.log.warn({ err: (err as Error).message }, 'leader lease: renewal failed, retrying');
    }
  }

  /** Checks the margin between attempts too: a renewal that hangs must not keep a leader acting. */
  watchdog(): void {
    if (this.epoch !== null && performance.now() - this.lastRenewSentAt > this.times.leaseMs - this.times.marginMs) this.lose('no renewal succeeded within the lease');
  }

  private lose(why: string): void {
    if (this.epoch === null) return;
    const epoch = this.epoch;
    this.epoch = null;
    this.opts.log.error({ holder: this.holder, epoch, why }, 'leader lease lost: this process stops acting as leader');
    this.opts.onLost(why);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    if (this.epoch !== null) {
      // A clean stop hands the lease on at once instead of making a standby wait for it to run out.
      const epoch = this.epoch;
      this.epoch = null;
      await this.opts.db.query('UPDATE leader_lease SET expires_at = now() - interval \'1 second\' WHERE id = 1 AND holder = $1 AND epoch = $2', [this.holder, epoch]).catch(() => undefined);
    }
  }
}
