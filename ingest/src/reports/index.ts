/**
 * The Reports module (issue 8): keeps 15-minute rollups of the SQLite store up to date as readings
 * arrive, and answers `GET /api/usage` and `GET /api/reports/*` (docs/reports.md) through
 * `reportsRouter`, which the controller mounts at /api.
 *
 *   const reports = new Reports({ db, store, site, log, ingest });
 *   await reports.start();                       // registers the rollup hook, rolls up the tail
 *   http.useApi(reportsRouter(reports, guard));
 *
 * With the InfluxDB store the raw readings are not in SQLite: no hook, no rollups; usage comes from
 * `store.usage()` (InfluxQL GROUP BY time) and the reports are built from it and `store.sessions()`.
 */
import type { Ingest } from '../ingest.ts';
import type { Logger } from '../log.ts';
import type { Module } from '../module.ts';
import type { Site } from '../site/index.ts';
import type { Db } from '../store/db.ts';
import type { TimeSeriesStore } from '../store/types.ts';
import { ReportBuilder } from './builder.ts';
import { rollupsFor, type Rollups } from './rollups.ts';
import { localTimeOf } from './sqlite-usage.ts';

export { reportsRouter } from './routes.ts';
export { sqliteUsage } from './sqlite-usage.ts';

/** How often dirty quarters are rolled up between queries. */
export const REFRESH_EVERY_MS = 30_000;

export interface ReportsDeps {
  db: Db;
  store: TimeSeriesStore;
  site: Site;
  log: Logger;
  ingest: Ingest;
}

export class Reports implements Module {
  readonly name = 'reports';
  readonly site: Site;
  readonly store: TimeSeriesStore;
  /** null with the InfluxDB store */
  readonly rollups: Rollups | null;
  readonly builder: ReportBuilder;
  private timer: NodeJS.Timeout | null = null;
  private hooked = false;

  constructor(private readonly deps: ReportsDeps) {
    this.site = deps.site;
    this.store = deps.store;
    this.rollups = deps.store.kind === 'sqlite' ? rollupsFor(deps.db, deps.site) : null;
    this.builder = new ReportBuilder({ db: deps.db, store: deps.store, site: deps.site, rollups: this.rollups, lt: localTimeOf(deps.site) });
  }

  async start(): Promise<void> {
    const { rollups } = this;
    if (!rollups) return;
    rollups.init();
    if (!this.hooked) {
      this.deps.ingest.addTransactionHook(rollups.hook);
      this.hooked = true;
    }
    // The tail after a crash (or the whole history the first time): marks are as durable as readings.
    const t0 = performance.now();
    const consumed = rollups.refresh();
    if (consumed > 0) this.deps.log.info({ module: 'reports', quarters: consumed, ms: Math.round(performance.now() - t0) }, 'rollups brought up to date');
    this.timer = setInterval(() => this.refresh(), REFRESH_EVERY_MS);
    this.timer.unref();
  }

  /** Rolls up whatever is dirty; errors are logged, never thrown (a timer calls it). */
  refresh(): void {
    try {
      this.rollups?.refresh();
    } catch (err) {
      this.deps.log.error({ module: 'reports', err }, 'rollup refresh failed; will retry');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Whatever is still dirty is rolled up on the next start; nothing is lost.
  }
}
