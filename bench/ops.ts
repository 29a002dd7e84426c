/**
 * Operations benchmark (retention, backups, size): `npm run bench -- --only=ops`.
 *
 * 1. Size after two simulated years, retention on (PARKOPS_RETENTION_DAYS=400) against off. The
 *    stream is the default site's, at the per-series rates the simulator sends (measured from one
 *    simulated day), written straight into the SQLite store with its rollup marks (the ingest
 *    transaction's store participant), rollups refreshed every simulated week as the Reports module
 *    does, and on the "on" database the retention service itself pruning every simulated week.
 *    Two full years of the full site are 85 M readings per database, too long for a benchmark, so
 *    the site is scaled: see SCALE below (the same for both databases); the full-site figures are
 *    projected from the bytes per reading and per rollup row measured here (dbstat).
 * 2. Ingest rate while pruning runs against without: the real Ingest pipeline (decode, one
 *    transaction per batch, live state, rollup marks) on the two-year database without retention,
 *    fed the same mixed site stream with 100 messages in flight (as MQTT's inflight window), first
 *    alone, then while the retention service (its defaults) removes the 330 days past retention.
 * 3. Backup time for one year of data: the `npm run backup` path (one-step online backup from a
 *    connection of its own) and the admin page's path (2,000 pages per step), against a plain file
 *    copy of the same (checkpointed, idle) file.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topics, type Reading } from '@parkops/contract';
import { loadSite, type Site } from '@parkops/contract/site';
import { createSimulation } from '@parkops/simulators';
import { openDatabase, type Db } from '../ingest/src/store/db.ts';
import { SqliteStore } from '../ingest/src/store/sqlite-store.ts';
import { SqliteTransactions } from '../ingest/src/db/tx.ts';
import { migrateDatabase } from '../ingest/src/db/migrations.ts';
import { SCHEMAS } from '../ingest/src/db/schemas.ts';
import { createLogger } from '../ingest/src/log.ts';
import { RetentionService, daysBefore } from '../ingest/src/retention/retention-service.ts';
import { backupDataFolder, backupTo } from '../ingest/src/ops/backup.ts';
import { openPipeline } from '../ingest/src/reports/testing.ts';
import { siteStream } from './lib/stream.ts';

const DAY = 86_400_000;

/** What the benchmark keeps of the default site (every kept device at its real rate). */
export const SCALE = { bays: 10, levels: 1, pumps: 1, venues: 1, gatesIn: 1, gatesOut: 1 } as const;

export interface OpsRow {
  name: string;
  value: string;
  note: string;
}

interface SeriesPlan {
  kind: 'bay' | 'level' | 'pump' | 'venue' | 'gate';
  subject: string;
  id: string;
  /** mean interval between readings, ms */
  everyMs: number;
  zone?: string;
  roomId?: string;
  direction?: 'entry' | 'exit';
}

/** Readings per day per series of each kind, from one simulated day of the full default site. */
function measuredRates(site: Site): { perSeries: Record<string, number>; perDay: Record<string, number>; seriesCount: Record<string, number> } {
  const start = Date.parse('2025-03-03T00:00:00Z');
  const sim = createSimulation({ site, seed: 1, startAt: start, realNow: () => start + 3 * DAY });
  sim.advance(DAY); // past the start-up burst
  const topics = new Map<string, Set<string>>();
  const perDay: Record<string, number> = {};
  for (const m of sim.advance(DAY)) {
    if (m.bad || m.kind === 'status') continue;
    perDay[m.kind] = (perDay[m.kind] ?? 0) + 1;
    if (!topics.has(m.kind)) topics.set(m.kind, new Set());
    topics.get(m.kind)!.add(m.topic);
  }
  const perSeries: Record<string, number> = {};
  const seriesCount: Record<string, number> = {};
  for (const [k, set] of topics) {
    perSeries[k] = perDay[k]! / set.size;
    seriesCount[k] = set.size;
  }
  return { perSeries, perDay, seriesCount };
}

function plan(site: Site, perSeries: Record<string, number>): SeriesPlan[] {
  const topics = new Topics('park');
  const sub = (t: string) => t.slice('park/'.length);
  const out: SeriesPlan[] = [];
  const every = (k: string) => DAY / perSeries[k]!;
  site.bays.forEach((b, i) => {
    if (i % SCALE.bays === 0) out.push({ kind: 'bay', subject: sub(topics.bay(b.id)), id: b.id, zone: b.zone, everyMs: every('bay') });
  });
  const room = site.rooms[0]!;
  for (const l of room.levels.slice(0, SCALE.levels)) out.push({ kind: 'level', subject: sub(topics.level(room.id, l.id)), id: l.id, roomId: room.id, everyMs: every('level') });
  for (const p of room.pumps.slice(0, SCALE.pumps)) out.push({ kind: 'pump', subject: sub(topics.pump(room.id, p.id)), id: p.id, roomId: room.id, everyMs: every('pump') });
  for (const v of site.venues.slice(0, SCALE.venues)) out.push({ kind: 'venue', subject: sub(topics.venue(v.id)), id: v.id, everyMs: every('venue') });
  const gin = site.gates.filter((g) => g.direction !== 'exit').slice(0, SCALE.gatesIn);
  const gout = site.gates.filter((g) => g.direction === 'exit').slice(0, SCALE.gatesOut);
  for (const g of [...gin, ...gout]) out.push({ kind: 'gate', subject: sub(topics.gate(g.id)), id: g.id, direction: g.direction === 'exit' ? 'exit' : 'entry', everyMs: every('gate') });
  return out;
}

/** A deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One day of readings of the planned series, in time order. */
function day(plans: SeriesPlan[], from: number, rand: () => number, state: Map<string, number>): Reading[] {
  const out: Reading[] = [];
  let pass = state.get('pass') ?? 0;
  for (const p of plans) {
    let t = from + rand() * p.everyMs;
    while (t < from + DAY) {
      const ts = Math.floor(t);
      const v = state.get(p.subject) ?? 0;
      switch (p.kind) {
        case 'bay': {
          const occ = rand() < 0.15 ? 1 - v : v;
          state.set(p.subject, occ);
          out.push({ kind: 'bay', subject: p.subject, ts, bayId: p.id, zoneId: p.zone!, occupied: occ === 1, battery: Math.round((60 + rand() * 40) * 10) / 10 });
          break;
        }
        case 'level': {
          const mm = Math.max(20, Math.min(600, (v || 120) + (rand() - 0.5) * 8));
          state.set(p.subject, mm);
          out.push({ kind: 'level', subject: p.subject, ts, roomId: p.roomId!, sensorId: p.id, mm: Math.round(mm * 10) / 10 });
          break;
        }
        case 'pump': {
          const running = rand() < 0.03;
          out.push({ kind: 'pump', subject: p.subject, ts, roomId: p.roomId!, pumpId: p.id, running, amps: running ? Math.round(40 + rand() * 20) / 10 : 0 });
          break;
        }
        case 'venue': {
          const inn = Math.floor(rand() * 20);
          const outn = Math.floor(rand() * 20);
          const occ = Math.max(0, v + inn - outn);
          state.set(p.subject, occ);
          out.push({ kind: 'venue', subject: p.subject, ts, venueId: p.id, in: inn, out: outn, occupancy: occ });
          break;
        }
        case 'gate':
          // Entries take new passes; exits take the oldest passes still in.
          if (p.direction === 'entry') out.push({ kind: 'gate', subject: p.subject, ts, gateId: p.id, event: 'entry', pass: `P${++pass}` });
          else out.push({ kind: 'gate', subject: p.subject, ts, gateId: p.id, event: 'exit', pass: `P${Math.max(1, pass - 40)}` });
          break;
      }
      t += p.everyMs * (0.9 + rand() * 0.2);
    }
  }
  state.set('pass', pass);
  return out.sort((a, b) => a.ts - b.ts);
}

interface Opened {
  dir: string;
  db: Db;
  store: SqliteStore;
  write(list: Reading[]): void;
  close(): void;
}

async function open(dir: string): Promise<Opened> {
  const db = openDatabase(dir);
  migrateDatabase(db, SCHEMAS, { complete: true });
  // Loading speed is not what this measures: no fsync while loading.
  db.pragma('synchronous = OFF');
  const store = new SqliteStore(db, loadSite());
  await store.start();
  const tx = new SqliteTransactions(db);
  return {
    dir,
    db,
    store,
    write(list) {
      for (let i = 0; i < list.length; i += 5000) {
        const chunk = list.slice(i, i + 5000);
        tx.run(function* (t) {
          for (const r of chunk) yield store.participant.write(t, r);
        });
      }
    },
    close() {
      db.close();
    },
  };
}

/** Bytes per table (with its indexes) from dbstat, after a checkpoint. */
function bytesByTable(db: Db): Map<string, number> {
  db.pragma('wal_checkpoint(TRUNCATE)');
  const owner = new Map((db.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')").all() as { name: string; tbl_name: string }[]).map((r) => [r.name, r.tbl_name]));
  const out = new Map<string, number>();
  for (const r of db.prepare('SELECT name, sum(pgsize) AS b FROM dbstat GROUP BY name').all() as { name: string; b: number }[]) {
    const t = owner.get(r.name) ?? r.name;
    out.set(t, (out.get(t) ?? 0) + r.b);
  }
  return out;
}

const fileMB = (dir: string): number => {
  const f = join(dir, 'parkops.db');
  return (statSync(f).size + (existsSync(`${f}-wal`) ? statSync(`${f}-wal`).size : 0)) / 1e6;
};
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const READING_TABLES = ['bay_readings', 'gate_scans', 'level_readings', 'pump_readings', 'venue_counts', 'device_status', 'series'];

export async function runOpsBench(opts: { quick: boolean; log?: (s: string) => void }): Promise<{ rows: OpsRow[]; notes: string[] }> {
  const log = opts.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  const site = loadSite();
  const rates = measuredRates(site);
  const plans = plan(site, rates.perSeries);
  const keepDays = opts.quick ? 20 : 400;
  const totalDays = opts.quick ? 40 : 730;
  const yearDay = opts.quick ? 30 : 365;
  const root = mkdtempSync(join(tmpdir(), 'parkops-bench-ops-'));
  const log0 = createLogger('silent');
  const rows: OpsRow[] = [];
  const notes: string[] = [];
  try {
    const end = Math.floor((Date.now() - 2 * DAY) / DAY) * DAY;
    const start = end - totalDays * DAY;
    const rand = rng(7);
    const state = new Map<string, number>();
    const off = await open(join(root, 'off'));
    let on: Opened | null = null;
    let retention: RetentionService | null = null;
    let simNow = start;
    let written = 0;
    let writeMs = 0;
    let pruneMs = 0;
    let backupRow: OpsRow[] = [];
    const t0 = performance.now();
    for (let d = 0; d < totalDays; d++) {
      const list = day(plans, start + d * DAY, rand, state);
      const tw = performance.now();
      off.write(list);
      on?.write(list);
      writeMs += performance.now() - tw;
      written += list.length;
      simNow = start + (d + 1) * DAY;
      if (d % 7 === 6 || d === totalDays - 1) {
        off.store.rollupIndex.refresh();
        if (on) {
          on.store.rollupIndex.refresh();
          const tp = performance.now();
          await retention!.runOnce();
          pruneMs += performance.now() - tp;
        }
      }
      if (d + 1 === yearDay) {
        // 3. backup time for one year of data (the same file three ways; idle, checkpointed).
        off.store.rollupIndex.refresh();
        off.db.pragma('wal_checkpoint(TRUNCATE)');
        const mb = fileMB(off.dir);
        const tc = performance.now();
        copyFileSync(join(off.dir, 'parkops.db'), join(root, 'copy.db'));
        const copyMs = performance.now() - tc;
        const cli = await backupDataFolder(off.dir, join(root, 'cli-backup.db'));
        const server = await backupTo(off.db, join(root, 'server-backup.db'), { dataDir: off.dir, pagesPerStep: 2000 });
        for (const f of ['copy.db', 'cli-backup.db', 'server-backup.db']) rmSync(join(root, f), { force: true });
        const readings = Object.values(await off.store.counts()).reduce((a, b) => a + b, 0);
        backupRow = [
          { name: `plain file copy of one year (${fmt(mb)} MB, ${fmt(readings)} readings; baseline)`, value: `${fmt(copyMs / 1000, 2)} s`, note: `${fmt(mb / (copyMs / 1000))} MB/s` },
          { name: '**`npm run backup` (one-step online backup, own connection)**', value: `**${fmt(cli.ms / 1000, 2)} s**`, note: `${fmt(cli.ms / copyMs, 2)}× the plain copy; ${fmt(mb / (cli.ms / 1000))} MB/s` },
          { name: 'admin page backup (2,000 pages per step, server connection)', value: `${fmt(server.ms / 1000, 2)} s`, note: `${fmt(server.ms / copyMs, 2)}× the plain copy` },
        ];
        log(`  ops: one year ${fmt(mb)} MB: copy ${fmt(copyMs)} ms, cli backup ${fmt(cli.ms)} ms, server backup ${fmt(server.ms)} ms`);
      }
      if (d + 1 === keepDays) {
        // Until here retention has nothing to prune: the "on" database starts as a copy of this one.
        off.store.rollupIndex.refresh();
        off.db.pragma('wal_checkpoint(TRUNCATE)');
        copyFileSync(join(off.dir, 'parkops.db'), join(root, 'on-parkops.db'));
        const { mkdirSync, renameSync } = await import('node:fs');
        mkdirSync(join(root, 'on'), { recursive: true });
        renameSync(join(root, 'on-parkops.db'), join(root, 'on', 'parkops.db'));
        on = await open(join(root, 'on'));
        const store = on.store;
        retention = new RetentionService({
          tasks: [{ what: 'readings', cutoff: daysBefore(keepDays), prune: (c, l) => store.retention().pruneBefore(c, l) }],
          log: log0,
          pauseMs: 0,
          // Loading is not what is timed here: prune at full speed between simulated weeks.
          maxShare: 1,
          sliceRows: 2000,
          now: () => simNow,
        });
      }
      if ((d + 1) % 60 === 0) log(`  ops: ${d + 1}/${totalDays} days, ${fmt(written)} readings per database`);
    }
    const loadS = (performance.now() - t0) / 1000;
    if (!on) throw new Error('the retention database was never made');

    const offBytes = bytesByTable(off.db);
    on.db.pragma('wal_checkpoint(TRUNCATE)');
    const offMB = fileMB(off.dir);
    const onMB = fileMB(on.dir);
    const freeOn = (on.db.pragma('freelist_count', { simple: true }) as number) * (on.db.pragma('page_size', { simple: true }) as number);
    const countsOff = await off.store.counts();
    const countsOn = await on.store.counts();
    const nOff = Object.values(countsOff).reduce((a, b) => a + b, 0);
    const nOn = Object.values(countsOn).reduce((a, b) => a + b, 0);
    const rollupRows = off.db.prepare('SELECT count(*) FROM report_rollup_15m').pluck().get() as number;
    const rawBytes = READING_TABLES.reduce((s, t) => s + (offBytes.get(t) ?? 0), 0);
    const TABLE_OF: Record<string, string> = { bay: 'bay_readings', gate: 'gate_scans', level: 'level_readings', pump: 'pump_readings', venue: 'venue_counts' };
    const perKind = (k: string): number => (offBytes.get(TABLE_OF[k]!) ?? 0) / Math.max(1, countsOff[k as Reading['kind']] ?? 0);
    const rollupBytes = (offBytes.get('report_rollup_15m') ?? 0) + (offBytes.get('report_dirty') ?? 0);
    const sessionBytes = offBytes.get('parking_sessions') ?? 0;
    const perReading = rawBytes / nOff;
    const perRollup = rollupBytes / rollupRows;
    const kept = plans.reduce<Record<string, number>>((m, p) => ((m[p.kind] = (m[p.kind] ?? 0) + 1), m), {});
    const scaleText = `${kept.bay} of ${site.bays.length} bays, ${kept.level} of ${rates.seriesCount.level} level sensors, ${kept.pump} of ${rates.seriesCount.pump} pumps, ${kept.venue} of ${rates.seriesCount.venue} venue counters, ${kept.gate} of ${rates.seriesCount.gate} gates`;
    rows.push(
      { name: `readings per database after ${totalDays} simulated days (retention off)`, value: fmt(nOff), note: `${scaleText}, each at its real rate (${fmt(written / totalDays)} readings/day); loaded in ${fmt(loadS)} s (writes ${fmt(writeMs / 1000)} s)` },
      { name: `database size after ${totalDays} days, retention off (baseline)`, value: `${fmt(offMB)} MB`, note: `${fmt(rollupRows)} rollup rows` },
      { name: `**database size after ${totalDays} days, retention on (${keepDays} days)**`, value: `**${fmt(onMB)} MB**`, note: `**${fmt(onMB / offMB, 2)}× the baseline**; ${fmt(nOn)} readings kept; ${fmt(freeOn / 1e6)} MB of it free pages that new readings reuse; pruning took ${fmt(pruneMs / 1000, 1)} s in all` },
    );
    // Full-site projection from the measured bytes (status messages, which are rare, left out).
    const fullPerDay = Object.entries(rates.perDay).reduce((s, [, n]) => s + n, 0);
    const gateShare = (rates.perDay.gate ?? 0) / fullPerDay;
    const keys = 1 + site.zones.length + site.venues.length + site.rooms.reduce((s, r) => s + r.levels.length + 1 + r.pumps.length, 0);
    const rollupPerYear = keys * 96 * 365;
    // Per kind: a bay row (with its battery) is not the size of a level row.
    const rawYearMB = Object.entries(rates.perDay).reduce((sum, [k, n]) => sum + n * 365 * perKind(k), 0) / 1e6;
    const rollYearMB = (rollupPerYear * perRollup) / 1e6;
    const sessionYearMB = ((sessionBytes / (totalDays / 365)) * (site.gates.length / Math.max(1, kept.gate!))) / 1e6;
    const offFull = (years: number) => years * (rawYearMB + rollYearMB + sessionYearMB);
    const onFull = (years: number) => Math.min(years, keepDays / 365) * rawYearMB * (1 - gateShare) + years * (rawYearMB * gateShare + rollYearMB + sessionYearMB);
    rows.push(
      { name: 'bytes per raw reading (measured, dbstat: reading tables / readings)', value: fmt(perReading, 1), note: `per kind: ${Object.keys(TABLE_OF).map((k) => `${k} ${fmt(perKind(k), 1)}`).join(', ')} (WITHOUT ROWID tables, key (series, ts))` },
      { name: 'bytes per 15-minute rollup row (measured)', value: fmt(perRollup, 1), note: `the full site has ${keys} rollup keys: ${fmt(rollupPerYear)} rows a year` },
      { name: 'full default site, projected: 2 years retention off', value: `${fmt(offFull(2) / 1000, 2)} GB`, note: `${fmt(fullPerDay)} readings/day (simulator rates); ${fmt(rawYearMB)} MB raw + ${fmt(rollYearMB)} MB rollups + ${fmt(sessionYearMB)} MB sessions a year` },
      { name: `**full default site, projected: 2 years retention on (${keepDays} days)**`, value: `**${fmt(onFull(2) / 1000, 2)} GB**`, note: `**${fmt(onFull(2) / offFull(2), 2)}×**; after 5 years ${fmt(onFull(5) / 1000, 2)} GB against ${fmt(offFull(5) / 1000, 2)} GB off` },
    );
    off.close();
    on.close();

    // 2. ingest rate while pruning, on the two-year database without retention (330 days to prune).
    const msgs = opts.quick ? 20_000 : 100_000;
    let prunedDuring = 0;
    // As in the server: one connection, the retention service beside Ingest on one event loop.
    const p = await openPipeline({ dir: join(root, 'off') });
    let rateWith = 0;
    let stillRunning = false;
    let rateWithout2 = 0;
    try {
      const store = p.store;
      const svc = new RetentionService({
        tasks: [{ what: 'readings', cutoff: () => end - keepDays * DAY, prune: async (c, l) => { const n = await store.retention()!.pruneBefore(c, l); prunedDuring += n; return n; } }],
        log: log0,
      });
      const stream = siteStream(p.site, msgs * 5, { startTs: Date.now() - msgs * 5 - 600_000 });
      const run = async (from: number, count: number): Promise<number> => {
        const t0 = performance.now();
        await new Promise<void>((resolve, reject) => {
          let next = from;
          let done = 0;
          const send = (): void => {
            const m = stream[next++]!;
            p.ingest.enqueue(m.topic, Buffer.from(m.payload), Date.now(), (err) => {
              if (err) return reject(err);
              if (++done === count) resolve();
              else if (next < from + count) send();
            });
          };
          for (let i = 0; i < 100; i++) send();
        });
        return count / ((performance.now() - t0) / 1000);
      };
      // Warm-up (statement caches, JIT, the pages ingest touches), then without / with, twice.
      await run(0, msgs / 2);
      const rounds: Array<{ without: number; with: number; pruned: number; windowS: number; stillRunning: boolean }> = [];
      for (let k = 0; k < 2; k++) {
        const base = msgs / 2 + k * 2 * msgs;
        const without = await run(base, msgs);
        let finished = false;
        const job = svc.runOnce().finally(() => (finished = true));
        const before = prunedDuring;
        const tw = performance.now();
        const withRate = await run(base + msgs, msgs);
        const windowS = (performance.now() - tw) / 1000;
        const stillRunning = !finished;
        await svc.stop();
        await job;
        rounds.push({ without, with: withRate, pruned: prunedDuring - before, windowS, stillRunning });
      }
      rateWithout2 = rounds.reduce((a, r) => a + r.without, 0) / rounds.length;
      rateWith = rounds.reduce((a, r) => a + r.with, 0) / rounds.length;
      stillRunning = rounds.every((r) => r.stillRunning);
      const prunedInWindow = rounds.reduce((a, r) => a + r.pruned, 0);
      const windowS = rounds.reduce((a, r) => a + r.windowS, 0);
      notes.push(`Ingest rounds (msg/s without / with pruning): ${rounds.map((r) => `${fmt(r.without)} / ${fmt(r.with)}`).join('; ')}.`);
      rows.push(
        { name: 'ingest without pruning (baseline; Ingest pipeline, 100 in flight, two-year database)', value: `${fmt(rateWithout2)} msg/s`, note: `mean of 2 rounds of ${fmt(msgs)} messages of the mixed site stream (bench/lib/stream.ts), each followed by the next ${fmt(msgs)} with the retention service started` },
        { name: '**ingest while retention prunes**', value: `**${fmt(rateWith)} msg/s**`, note: `**${fmt(rateWith / rateWithout2, 2)}× the baseline**; ${fmt(prunedInWindow)} readings pruned meanwhile (${fmt(prunedInWindow / windowS)} rows/s; the service's defaults: 1,000-row slices, pruning at most 20% of the time)${stillRunning ? ', pruning still going at the end of each round' : ', pruning FINISHED before the end of a round: that round covers only part of the window'}` },
      );
    } finally {
      await p.close({ keep: true });
    }
    rows.push(...backupRow);
    notes.push(
      `Scaled site: ${scaleText}; every kept device sends at the rate the simulator gives it (one simulated day of the full site measured first: ${Object.entries(rates.perSeries).map(([k, v]) => `${k} ${fmt(v)}/day`).join(', ')} per device). Writes at 5,000 readings per transaction with synchronous=OFF while loading; rollups refreshed and retention run every simulated week. Gate scans and parking sessions are kept for good (the parking report's source), rollups too. SQLite does not shrink the file when rows go: freed pages are reused by new readings, so the "on" size is its steady state (\`VACUUM\` would return them, at the cost of rewriting the file).`,
      '',
    );
    return { rows, notes };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runOpsBench({ quick: process.argv.includes('--quick') });
  for (const row of r.rows) process.stdout.write(`${row.name} | ${row.value} | ${row.note}\n`);
}
