/**
 * Reports benchmark: back-fills the default site with the simulator engine (no MQTT, no
 * timers: `Simulation.advance`) straight into the SQLite store, marking rollups through the same hook
 * ingest runs, rolls them up, then times the 1-year hourly parking usage (goal < 300 ms), the 30-day
 * heatmap and the report pages' queries (median of several runs), and reports the database size.
 *
 *   npx tsx bench/reports.ts            # one year (about 40 M readings; several minutes)
 *   npx tsx bench/reports.ts --quick    # 4 days, well under a minute
 *   npx tsx bench/reports.ts --keep DIR # keep the database in DIR; a second run re-times it without a back-fill
 *   npm run bench -- --only=reports     # through bench/run.ts, which writes docs/benchmarks.md
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Topics, type Reading } from '@parkops/contract';
import { loadSite, type Site } from '@parkops/contract/site';
import { createSimulation } from '@parkops/simulators';
import { openDatabase } from '../ingest/src/store/db.ts';
import { SqliteStore } from '../ingest/src/store/sqlite-store.ts';
import { SqliteTransactions } from '../ingest/src/db/tx.ts';
import { ReportBuilder } from '../ingest/src/reports/builder.ts';
import { localTimeOf } from '../ingest/src/reports/sqlite-usage.ts';
import { MAX_SPAN_MS } from '../ingest/src/reports/usage.ts';
import { findCjkFont, monthlyData, monthlyPdf, monthRange, pdfContext, renderMonthlyPdf } from '../ingest/src/reports/monthly-pdf.ts';
import { renderInWorker } from '../ingest/src/reports/pdf-render.ts';

const DAY = 86_400_000;

export interface BenchRow {
  name: string;
  value: number | string;
  unit: string;
  note?: string;
}

/** A simulator message as the Reading ingest would store (the back-fill skips decode; the simulator's deliberately bad messages and status are left out). */
function toReading(topics: Topics, site: Site, topic: string, payload: string): Reading | null {
  const t = topics.parse(topic);
  const subject = topic.slice(topics.prefix.length + 1);
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return null;
  }
  const ts = typeof p.ts === 'number' ? p.ts : typeof p.ts === 'string' ? Date.parse(p.ts) : NaN;
  if (!Number.isFinite(ts)) return null;
  switch (t.kind) {
    case 'bay': {
      const bay = site.bay(t.bayId);
      if (!bay || typeof p.occupied !== 'boolean') return null;
      return { kind: 'bay', subject, ts, bayId: t.bayId, zoneId: bay.zone, occupied: p.occupied, battery: typeof p.battery === 'number' ? p.battery : undefined };
    }
    case 'gate':
      if (!site.gate(t.gateId) || (p.event !== 'entry' && p.event !== 'exit') || typeof p.pass !== 'string') return null;
      return { kind: 'gate', subject, ts, gateId: t.gateId, event: p.event, pass: p.pass };
    case 'level':
      if (!site.levelSensor(t.roomId, t.sensorId) || typeof p.mm !== 'number') return null;
      return { kind: 'level', subject, ts, roomId: t.roomId, sensorId: t.sensorId, mm: p.mm };
    case 'pump':
      if (!site.pump(t.roomId, t.pumpId) || typeof p.running !== 'boolean') return null;
      return { kind: 'pump', subject, ts, roomId: t.roomId, pumpId: t.pumpId, running: p.running, amps: typeof p.amps === 'number' ? p.amps : undefined };
    case 'venue':
      if (!site.venue(t.venueId) || typeof p.in !== 'number' || typeof p.out !== 'number') return null;
      return { kind: 'venue', subject, ts, venueId: t.venueId, in: p.in, out: p.out };
    default:
      return null;
  }
}

async function median(runs: number, f: () => Promise<unknown>): Promise<number> {
  await f(); // warm-up: statement preparation, JIT, page cache
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

/**
 * `keepDir`: keep the back-filled database in this folder, and reuse it when it is already there
 * (re-timing the queries without another back-fill).
 */
export async function runReportsBench(opts: { quick: boolean; log?: (s: string) => void; keepDir?: string }): Promise<{ rows: BenchRow[] }> {
  const log = opts.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  const days = opts.quick ? 4 : 365;
  const site = loadSite();
  const topics = new Topics('park');
  const reuse = opts.keepDir !== undefined && existsSync(join(opts.keepDir, 'parkops.db')) && existsSync(join(opts.keepDir, 'complete'));
  const dir = opts.keepDir ?? mkdtempSync(join(tmpdir(), 'parkops-bench-reports-'));
  mkdirSync(dir, { recursive: true });
  const db = openDatabase(dir);
  try {
    const store = new SqliteStore(db, site);
    await store.start();
    const rollups = store.rollupIndex;
    const transactions = new SqliteTransactions(db);

    // A fixed, whole-day year ending at a local midnight, so runs are comparable.
    const lt = localTimeOf(site);
    const end = lt.midnightBefore(Date.parse('2026-11-01T12:00:00Z'));
    const start = end - days * DAY;
    // Back-fill speed is not what this measures: no fsync while loading (the reports run after with NORMAL).
    db.pragma('synchronous = OFF');
    const sim = createSimulation({ site, seed: 1, startAt: start, realNow: () => end + 365 * DAY });

    let readings = reuse ? Object.values(await store.counts()).reduce((a, b) => a + b, 0) : 0;
    let simMs = 0;
    let writeMs = 0;
    const batch: Reading[] = [];
    // The store's part of the ingest transaction: the reading, and its quarter marked for the rollups.
    const write = (list: Reading[]): void =>
      transactions.run(function* (tx) {
        for (const r of list) yield store.participant.write(tx, r);
      });
    const flush = (): void => {
      const t0 = performance.now();
      write(batch);
      writeMs += performance.now() - t0;
      readings += batch.length;
      batch.length = 0;
    };
    for (let d = 0; d < (reuse ? 0 : days); d++) {
      const t0 = performance.now();
      const msgs = sim.advance(DAY);
      simMs += performance.now() - t0;
      for (const m of msgs) {
        if (m.bad || m.kind === 'status') continue;
        const r = toReading(topics, site, m.topic, m.payload);
        if (r) batch.push(r);
        if (batch.length >= 5000) flush();
      }
      if (d % 30 === 29) log(`  reports: ${d + 1}/${days} days, ${readings.toLocaleString('en-US')} readings`);
    }
    flush();
    const marks = rollups.pending();

    const tRoll = performance.now();
    rollups.refresh();
    const rollMs = performance.now() - tRoll;
    const rollupRows = (db.prepare('SELECT count(*) AS n FROM report_rollup_15m').get() as { n: number }).n;

    // Hook cost alone, then the store write alone, on the readings of the day after the back-fill.
    const hookSample: Reading[] = [];
    const next = createSimulation({ site, seed: 2, startAt: end, realNow: () => end + 365 * DAY });
    for (const m of next.advance(DAY)) {
      if (m.bad || m.kind === 'status') continue;
      const r = toReading(topics, site, m.topic, m.payload);
      if (r) hookSample.push(r);
    }
    const hookOnly = db.transaction((list: Reading[]) => {
      for (const r of list) rollups.markReading(r);
    });
    const tHook = performance.now();
    for (let i = 0; i < hookSample.length; i += 5000) hookOnly(hookSample.slice(i, i + 5000));
    const hookUs = ((performance.now() - tHook) * 1000) / Math.max(1, hookSample.length);
    const writeOnly = (list: Reading[]): void =>
      transactions.run(function* (tx) {
        for (const r of list) yield store.participant.write(tx, r);
      });
    const tWrite = performance.now();
    for (let i = 0; i < hookSample.length; i += 5000) writeOnly(hookSample.slice(i, i + 5000));
    const writeUs = ((performance.now() - tWrite) * 1000) / Math.max(1, hookSample.length);
    rollups.refresh();
    if (opts.keepDir) writeFileSync(join(dir, 'complete'), new Date().toISOString());

    db.pragma('synchronous = NORMAL');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const file = join(dir, 'parkops.db');
    const sizeMB = (statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0)) / 1e6;

    const builder = new ReportBuilder({ store, site, lt });
    const year = { from: start, to: end };
    const month = { from: end - 30 * DAY, to: end };
    const runs = opts.quick ? 5 : 7;
    const usageYear = await median(runs, async () => JSON.stringify(await store.usage('parking', year, '1h')));
    const usageZoneYear = await median(runs, async () => JSON.stringify(await store.usage('parking/C', year, '1h')));
    const heatmap30 = await median(runs, async () => JSON.stringify(await builder.heatmap('parking', month)));
    const parking30 = await median(runs, async () => JSON.stringify(await builder.parking(month, { every: '1h' })));
    const parkingYear = await median(runs, async () => JSON.stringify(await builder.parking(year, { every: '1h' })));
    const venuesYear = await median(runs, async () => JSON.stringify(await builder.venues(year, { every: '1d' })));
    const floodYear = await median(runs, async () => JSON.stringify(await builder.flood(year, {})));
    // The caps per bucket (usage.ts MAX_SPAN_MS) are what the rollups serve at about the cost of the
    // year at hourly resolution: timed here at each cap.
    const cap15 = { from: end - MAX_SPAN_MS['15m'], to: end };
    const capDay = { from: end - MAX_SPAN_MS['1d'], to: end };
    const usage15Cap = await median(runs, async () => JSON.stringify(await store.usage('parking', cap15, '15m')));
    const usageDayCap = await median(runs, async () => JSON.stringify(await store.usage('parking', capDay, '1d')));
    const parking15Cap = await median(runs, async () => JSON.stringify(await builder.parking(cap15, { every: '15m' })));
    const parkingYearDaily = await median(runs, async () => JSON.stringify(await builder.parking(year, { every: '1d' })));
    // The monthly PDF of the last whole month of the back-fill (its figures, tables and the CJK font subset).
    const lastMonth = monthRange(lt, lt.date(end - DAY).slice(0, 7), end);
    if (typeof lastMonth === 'string') throw new Error(lastMonth);
    let pdfBytes = 0;
    const source = { site, builder, floodIncidents: undefined, pdfFont: undefined };
    const pdf = await median(opts.quick ? 3 : 5, async () => (pdfBytes = (await monthlyPdf(source, lastMonth, 'zh-CN')).length));
    // What a download costs the event loop that carries MQTT and the alerts: its longest stall while one
    // PDF is made, rendered in the worker thread (as served) against rendered on the event loop itself.
    const font = findCjkFont();
    if (typeof font === 'string') throw new Error(font);
    const stall = async (f: () => Promise<unknown>): Promise<number> => {
      let last = performance.now();
      let worst = 0;
      const tick = setInterval(() => {
        const t = performance.now();
        worst = Math.max(worst, t - last);
        last = t;
      }, 1);
      await f();
      clearInterval(tick);
      return Math.max(worst, performance.now() - last);
    };
    const job = { ctx: pdfContext(site), month: lastMonth, lang: 'zh-CN' as const, font, data: await monthlyData(source, lastMonth), now: end };
    const stallWorker = await median(3, () => stall(() => renderInWorker(job)));
    const stallInline = await median(3, () => stall(() => renderMonthlyPdf(job)));
    const stallData = await median(3, () => stall(() => monthlyData(source, lastMonth)));
    const points = (await store.usage('parking', year, '1h')).length;
    const rep = await builder.parking(year, { every: '1h' });

    const span = `${days} days`;
    const rows: BenchRow[] = [
      reuse
        ? { name: `readings in the reused database (${span}, simulator seed 1)`, value: readings, unit: 'readings', note: `back-filled by an earlier run with --keep ${dir}` }
        : { name: `readings back-filled (${span}, simulator seed 1)`, value: readings, unit: 'readings', note: `simulator ${round(simMs / 1000)} s; store writes with the rollup hook ${round(writeMs / 1000)} s (${Math.round(readings / (writeMs / 1000)).toLocaleString('en-US')} readings/s, 5,000 per transaction, synchronous=OFF while loading)` },
      { name: 'rollup hook per reading (INSERT OR IGNORE of the dirty quarter)', value: round(hookUs, 2), unit: 'µs', note: `vs ${round(writeUs, 2)} µs for the store write of the same reading, its mark included (one simulated day, 5,000 per transaction${reuse ? '; already stored by an earlier run: primary-key hits' : ''})` },
      { name: reuse ? 'rollups built from raw (reused database: not measured in this run)' : `rollups built from raw (${marks.toLocaleString('en-US')} dirty quarter marks)`, value: round(rollMs / 1000, 1), unit: 's', note: `${rollupRows.toLocaleString('en-US')} rollup rows; also what a report over raw data would cost without rollups` },
      { name: `database size after ${span}`, value: round(sizeMB, 0), unit: 'MB', note: 'parkops.db after a WAL checkpoint' },
      { name: `**GET /api/usage parking, 1h, ${span} (goal < 300 ms)**`, value: round(usageYear, 1), unit: 'ms', note: `${points.toLocaleString('en-US')} points incl. JSON; median of ${runs}; ${usageYear < 300 ? 'goal met' : 'goal missed'}` },
      { name: `GET /api/usage parking/C, 1h, ${span}`, value: round(usageZoneYear, 1), unit: 'ms', note: `median of ${runs}` },
      { name: 'heatmap hour x weekday, parking, 30 days', value: round(heatmap30, 1), unit: 'ms', note: `median of ${runs}` },
      { name: 'parking report, 30 days (page: occupancy, days, sessions, dwell, zones, cross-check, previous period)', value: round(parking30, 1), unit: 'ms', note: `median of ${runs}` },
      { name: `parking report, ${span}, hourly series`, value: round(parkingYear, 1), unit: 'ms', note: `median of ${runs}; ${rep.summary.sessions.toLocaleString('en-US')} sessions, avg occupancy ${rep.summary.avg}, peak ${rep.summary.peak?.share ?? 'n/a'}` },
      { name: `GET /api/usage parking, 15m, at its cap (${Math.round(MAX_SPAN_MS['15m'] / DAY)} days)`, value: round(usage15Cap, 1), unit: 'ms', note: `${Math.round(MAX_SPAN_MS['15m'] / 900_000).toLocaleString('en-US')} points incl. JSON; ${round(usage15Cap / usageYear, 2)}x the 1h year; median of ${runs}` },
      { name: `GET /api/usage parking, 1d, at its cap (${Math.round(MAX_SPAN_MS['1d'] / DAY)} days; ${span} of data)`, value: round(usageDayCap, 1), unit: 'ms', note: `${round(usageDayCap / usageYear, 2)}x the 1h year; median of ${runs}` },
      { name: `parking report, 15m series, at the 15m cap (${Math.round(MAX_SPAN_MS['15m'] / DAY)} days)`, value: round(parking15Cap, 1), unit: 'ms', note: `${round(parking15Cap / parkingYear, 2)}x the hourly ${span} report; median of ${runs}` },
      { name: `parking report, ${span}, daily series`, value: round(parkingYearDaily, 1), unit: 'ms', note: `median of ${runs}` },
      { name: `monthly PDF (zh-CN), ${lastMonth.month}`, value: round(pdf, 1), unit: 'ms', note: `${Math.round(pdfBytes / 1024)} KB with the Noto Sans CJK subset; ${round(pdf / parking30, 2)}x the 30-day parking report; median of ${opts.quick ? 3 : 5}` },
      { name: 'event loop\'s longest stall while a monthly PDF renders (in the worker thread, as served)', value: round(stallWorker, 1), unit: 'ms', note: `vs ${round(stallInline, 1)} ms rendered on the event loop itself: ${round(stallWorker / stallInline, 2)}x. Reading the month's figures beforehand (SQLite, as every report page does) stalls it ${round(stallData, 1)} ms; median of 3` },
      { name: `venues report, ${span}, daily series`, value: round(venuesYear, 1), unit: 'ms', note: `median of ${runs}` },
      { name: `flood report, ${span}`, value: round(floodYear, 1), unit: 'ms', note: `median of ${runs}` },
    ];
    for (const r of rows) log(`  ${r.name}: ${r.value} ${r.unit}${r.note ? ` (${r.note})` : ''}`);
    return { rows };
  } finally {
    db.close();
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const keep = process.argv.indexOf('--keep');
  const t0 = Date.now();
  await runReportsBench({ quick, ...(keep >= 0 && process.argv[keep + 1] ? { keepDir: process.argv[keep + 1]! } : {}) });
  process.stdout.write(`reports bench (${quick ? 'quick' : 'full'}) took ${Math.round((Date.now() - t0) / 1000)} s\n`);
}
