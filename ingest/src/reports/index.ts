/**
 * The Reports module: answers `GET /api/usage` and `GET /api/reports/*` (docs/reports.md)
 * through `reportsRouter`, which the controller mounts at /api, and keeps the store's rollups up to
 * date in the background where it has them (the SQLite store's 15-minute rollups; a stored reading
 * marks its quarter in the ingest transaction, this module rolls the marks up).
 *
 *   const reports = new Reports({ store, site, log });
 *   await reports.start();                       // rolls up the tail left by the last run
 *   http.useApi(reportsRouter(reports, guard));
 *
 * A store without rollups (InfluxDB): usage comes from `store.usage()` (InfluxQL GROUP BY time) and
 * the reports are built from it and `store.sessions()` (the store's `reportSource`).
 */
import type { Logger } from '../log.ts';
import type { Module } from '../module.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import type { RollupMaintenance, TimeSeriesStore } from '../store/types.ts';
import { ReportBuilder } from './builder.ts';
import { localTimeOf } from './sqlite-usage.ts';
import type { FloodIncident } from './monthly-pdf.ts';
import { stopPdfWorkers } from './pdf-render.ts';

export { reportsRouter } from './routes.ts';
export { sqliteUsage } from './sqlite-usage.ts';

/** How often dirty quarters are rolled up between queries. */
export const REFRESH_EVERY_MS = 30_000;
/** Up to this many dirty quarter marks at start (a few days of every key) are rolled up before start returns. */
export const CATCH_UP_BLOCKING_MARKS = 5_000;
/** Marks per key per slice of the background catch-up: about a week of quarters, a second or so of work. */
export const CATCH_UP_SLICE_MARKS = 700;

export interface ReportsDeps {
  store: TimeSeriesStore;
  site: Site;
  log: Logger;
  /** true when ParkOps runs the device simulators itself (PARKOPS_SIMULATE): a fresh install is told how to back-fill history */
  simulated?: boolean;
  /** PARKOPS_PDF_FONT: the CJK font of the monthly PDF, when not one of the known system paths */
  pdfFont?: string | undefined;
  /** The alert engine's flood incidents overlapping [from, to) (epoch ms), for the monthly PDF. */
  floodIncidents?: (from: number, to: number) => Promise<FloodIncident[]>;
}

export class Reports implements Module {
  readonly name = 'reports';
  readonly site: Site;
  readonly store: TimeSeriesStore;
  /** null for a store without rollups */
  readonly rollups: RollupMaintenance | null;
  readonly builder: ReportBuilder;
  readonly simulated: boolean;
  readonly pdfFont: string | undefined;
  readonly floodIncidents: ((from: number, to: number) => Promise<FloodIncident[]>) | undefined;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: ReportsDeps) {
    this.site = deps.site;
    this.store = deps.store;
    this.simulated = deps.simulated ?? false;
    this.pdfFont = deps.pdfFont;
    this.floodIncidents = deps.floodIncidents;
    this.rollups = deps.store.rollups();
    this.builder = new ReportBuilder({ store: deps.store, site: deps.site, lt: localTimeOf(deps.site) });
  }

  async start(): Promise<void> {
    const { rollups } = this;
    if (!rollups) return;
    // The tail after a crash (or the whole history the first time): marks are as durable as readings.
    // A short tail is rolled up before start returns; a long history (rollups added to a store that
    // already holds months) in slices that yield to the event loop, so ingest and the API keep going.
    this.stopped = false;
    this.caughtUp = this.catchUp();
    const pending = await rollups.pending();
    if (pending <= CATCH_UP_BLOCKING_MARKS) await this.caughtUp;
    else this.deps.log.info({ module: 'reports', marks: pending }, 'rolling up the stored history in the background');
    this.timer = setInterval(() => void this.refresh(), REFRESH_EVERY_MS);
    this.timer.unref();
  }

  /** Resolves once the rollups have caught up with the readings stored before start. */
  caughtUp: Promise<void> = Promise.resolve();
  private stopped = false;
  private catchingUp = false;

  private async catchUp(): Promise<void> {
    const rollups = this.rollups;
    if (!rollups) return;
    const t0 = performance.now();
    let total = 0;
    this.catchingUp = true;
    try {
      for (;;) {
        if (this.stopped) return;
        const n = await rollups.refresh({ maxMarks: CATCH_UP_SLICE_MARKS });
        if (n === 0) break;
        total += n;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.deps.log.error({ module: 'reports', err }, 'rolling up the stored history failed; the periodic refresh retries');
      return;
    } finally {
      this.catchingUp = false;
    }
    if (total > 0) this.deps.log.info({ module: 'reports', quarters: total, ms: Math.round(performance.now() - t0) }, 'rollups brought up to date');
  }

  /** Rolls up what is dirty, a slice at a time; errors are logged, never thrown (a timer calls it). */
  async refresh(): Promise<void> {
    if (this.catchingUp) return;
    try {
      await this.rollups?.refresh({ maxMarks: CATCH_UP_SLICE_MARKS });
    } catch (err) {
      this.deps.log.error({ module: 'reports', err }, 'rollup refresh failed; will retry');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.caughtUp;
    await stopPdfWorkers();
    // Whatever is still dirty is rolled up on the next start; nothing is lost.
  }
}
