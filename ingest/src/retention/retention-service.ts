/**
 * Retention: one background service that removes what is past its keeping time, through each owner's
 * own prune method (raw readings through the store, alerts and incidents through theirs, the audit
 * log and sessions through auth's, notification bodies and attempts through the notifier's, rejected
 * outbox lines through the outbox's). The service knows no tables: a task is a cutoff and a prune call.
 *
 * Ingest shares the event loop (and, on SQLite, the connection) with pruning, so pruning runs in small
 * slices (at most `sliceRows` rows per call, one short transaction each) with a pause between slices
 * that keeps pruning to at most `maxShare` of the time: ingest runs between slices. The steady state
 * needs little (a day's readings a day); the cap matters for a backlog (retention switched on over
 * years of data). The figures are in docs/benchmarks.md ("Retention, backups and size").
 */
import type { Logger } from '../log.ts';
import { Counter, Gauge, type Metrics } from '../metrics.ts';
import type { Module } from '../module.ts';

export interface RetentionTask {
  /** What it prunes (a label in metrics and logs): `readings`, `alerts`, `audit`, ... */
  what: string;
  /** The cutoff for a run at `now` (epoch ms): rows older go; null when this task keeps everything. */
  cutoff(now: number): number | null;
  /** Deletes at most `limit` rows older than `cutoffMs`; resolves to how many (0: nothing more now). */
  prune(cutoffMs: number, limit: number): Promise<number>;
}

export interface RetentionOptions {
  tasks: readonly RetentionTask[];
  log: Logger;
  metrics?: Metrics;
  /** Between runs. Default one hour. */
  intervalMs?: number;
  /** The first run, after start. Default one minute (start-up and the rollup catch-up come first). */
  firstRunAfterMs?: number;
  /** Rows per slice. Default 1,000. */
  sliceRows?: number;
  /** Shortest pause between slices, ms. Default 5. */
  pauseMs?: number;
  /**
   * The largest share of the time pruning may take: after a slice of s ms the pause is at least
   * s × (1 − share) / share. Default 0.2. With 2,000-row slices and only the 5 ms pause, ingest ran at
   * 0.51× its rate while a backlog was pruned (docs/benchmarks.md); the cap bounds that.
   */
  maxShare?: number;
  now?: () => number;
}

const DAY_MS = 86_400_000;

/** A cutoff `days` before now; null for 0 (keep for good). */
export const daysBefore =
  (days: number) =>
  (now: number): number | null =>
    days > 0 ? now - days * DAY_MS : null;

export class RetentionService implements Module {
  readonly name = 'retention';
  private readonly opts: Required<Omit<RetentionOptions, 'metrics'>>;
  private readonly pruned: Counter | null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<Record<string, number>> | null = null;
  private stopped = true;
  private lastRunAt: number | null = null;
  /** Set by stop(): a run in progress ends after its current slice. */
  private abort = false;

  constructor(o: RetentionOptions) {
    this.opts = {
      tasks: o.tasks,
      log: o.log,
      intervalMs: o.intervalMs ?? 3_600_000,
      firstRunAfterMs: o.firstRunAfterMs ?? 60_000,
      sliceRows: o.sliceRows ?? 1_000,
      pauseMs: o.pauseMs ?? 5,
      maxShare: o.maxShare ?? 0.2,
      now: o.now ?? Date.now,
    };
    this.pruned = o.metrics ? o.metrics.add(new Counter('parkops_retention_pruned_total', 'Rows removed by retention since start, by what', ['what'])) : null;
    o.metrics?.add(new Gauge('parkops_retention_last_run_seconds', 'When retention last finished a run (unix seconds; 0: not yet)', () => (this.lastRunAt === null ? 0 : Math.round(this.lastRunAt / 1000))));
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.schedule(this.opts.firstRunAfterMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runOnce()
        .catch((err: unknown) => this.opts.log.error({ module: 'retention', err }, 'retention run failed; the next run retries'))
        .finally(() => this.schedule(this.opts.intervalMs));
    }, ms);
    this.timer.unref();
  }

  /**
   * One run over every task, slice by slice, until each has nothing more to remove (or the service
   * stops). Resolves to the rows removed per task. A run already going is joined, not doubled.
   */
  runOnce(): Promise<Record<string, number>> {
    if (this.running) return this.running;
    this.abort = false;
    this.running = this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<Record<string, number>> {
    const { tasks, sliceRows, pauseMs, maxShare, log, now } = this.opts;
    const out: Record<string, number> = {};
    const t0 = performance.now();
    for (const task of tasks) {
      if (this.abort) break;
      const cutoff = task.cutoff(now());
      if (cutoff === null) continue;
      let total = 0;
      try {
        for (;;) {
          const ts = performance.now();
          const n = await task.prune(cutoff, sliceRows);
          const sliceMs = performance.now() - ts;
          total += n;
          if (n > 0) this.pruned?.inc({ what: task.what }, n);
          if (n === 0 || this.abort) break;
          await pause(maxShare >= 1 ? pauseMs : Math.max(pauseMs, (sliceMs * (1 - maxShare)) / maxShare));
        }
      } catch (err) {
        // One owner failing must not keep the others from pruning.
        log.error({ module: 'retention', what: task.what, err }, 'pruning failed; the next run retries');
      }
      out[task.what] = total;
    }
    this.lastRunAt = now();
    const removed = Object.entries(out).filter(([, n]) => n > 0);
    if (removed.length > 0) log.info({ module: 'retention', removed: Object.fromEntries(removed), ms: Math.round(performance.now() - t0) }, 'retention removed old rows');
    return out;
  }
}

/** setImmediate for 0, else a short timer: ingest's callbacks run in between either way. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}

/** The owners' prune methods, as ParkOps' retention settings apply them (wired by the controller). */
export interface RetentionOwners {
  days: { readings: number; events: number; notifyBodies: number };
  /** The store's raw readings; null where the server keeps its own retention (InfluxDB). */
  readings: { pruneBefore(cutoffMs: number, limit: number): Promise<number> } | null;
  incidents: { pruneBefore(cutoffMs: number, limit: number): Promise<number>; attachedAlerts(ids: readonly string[]): Promise<ReadonlySet<string>> };
  alerts: { pruneBefore(cutoffMs: number, limit: number, inUse: (ids: string[]) => Promise<ReadonlySet<string>>): Promise<number> };
  auth: { pruneAuditBefore(cutoffMs: number, limit: number): Promise<number>; pruneExpiredSessions(nowMs: number, limit: number): Promise<number> };
  notifications: { pruneBodiesBefore(cutoffMs: number, limit: number): Promise<number>; pruneBefore(cutoffMs: number, limit: number): Promise<number> };
  outbox: { pruneRejectedBefore(cutoffMs: number, limit: number): Promise<number> };
}

export function retentionTasks(o: RetentionOwners): RetentionTask[] {
  const { days } = o;
  const tasks: RetentionTask[] = [];
  if (o.readings) {
    const r = o.readings;
    tasks.push({ what: 'readings', cutoff: daysBefore(days.readings), prune: (c, l) => r.pruneBefore(c, l) });
  }
  tasks.push(
    // Incidents before alerts: an alert still attached to a kept incident stays.
    { what: 'incidents', cutoff: daysBefore(days.events), prune: (c, l) => o.incidents.pruneBefore(c, l) },
    { what: 'alerts', cutoff: daysBefore(days.events), prune: (c, l) => o.alerts.pruneBefore(c, l, (ids) => o.incidents.attachedAlerts(ids)) },
    { what: 'audit', cutoff: daysBefore(days.events), prune: (c, l) => o.auth.pruneAuditBefore(c, l) },
    { what: 'notifications', cutoff: daysBefore(days.events), prune: (c, l) => o.notifications.pruneBefore(c, l) },
    { what: 'notification_bodies', cutoff: daysBefore(days.notifyBodies), prune: (c, l) => o.notifications.pruneBodiesBefore(c, l) },
    { what: 'sessions', cutoff: (now) => now, prune: (c, l) => o.auth.pruneExpiredSessions(c, l) },
    { what: 'outbox_rejected', cutoff: daysBefore(days.readings), prune: (c, l) => o.outbox.pruneRejectedBefore(c, l) },
  );
  return tasks;
}
