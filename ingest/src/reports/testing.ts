/**
 * Test and benchmark support: the real pipeline (SQLite file, store with its rollups, live state,
 * Ingest, Reports module) and, on request, the report router behind the real AuthService on a
 * loopback port. Used by test/integration/reports-*.test.ts; nothing here is mocked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { apiNotFound, errorHandler } from '../api/http-errors.ts';
import { AuthMiddleware, AuthService, SqliteAuthRepository } from '../auth/index.ts';
import { EventBus } from '../bus.ts';
import { loadConfig } from '../config.ts';
import { ROLES, Topics, type Role } from '@parkops/contract/index.ts';
import { Ingest, type HandleResult } from '../ingest.ts';
import { LiveState, SqliteLiveRepository } from '../live-state.ts';
import { SqliteTransactions } from '../db/tx.ts';
import { createLogger } from '../log.ts';
import { Metrics } from '../metrics.ts';
import { loadSite, type Site } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../store/db.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { TimeSeriesStore } from '../store/types.ts';
import { Reports, reportsRouter, type ReportsDeps } from './index.ts';

export interface Pipeline {
  dir: string;
  db: Db;
  site: Site;
  store: TimeSeriesStore;
  ingest: Ingest;
  reports: Reports;
  topics: Topics;
  /** Sends one device message through Ingest.handle (decode, store and rollup marks, live state). */
  send(topic: string, payload: object, receivedAt?: number): HandleResult;
  bay(bayId: string, occupied: boolean, ts: number): HandleResult;
  gate(gateId: string, event: 'entry' | 'exit', pass: string, ts: number): HandleResult;
  venue(venueId: string, counts: { in: number; out: number }, ts: number): HandleResult;
  pump(roomId: string, pumpId: string, running: boolean, ts: number): HandleResult;
  level(roomId: string, sensorId: string, mm: number, ts: number): HandleResult;
  close(opts?: { keep?: boolean }): Promise<void>;
}

/** `store` builds another store on the pipeline's database (the InfluxDB store, whose outbox lives there); default SQLite. */
export async function openPipeline(opts: { dir?: string; site?: Site; store?: (db: Db, site: Site) => TimeSeriesStore; reports?: Pick<ReportsDeps, 'simulated' | 'pdfFont' | 'floodIncidents'> } = {}): Promise<Pipeline> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'parkops-reports-'));
  const site = opts.site ?? loadSite();
  const log = createLogger('silent');
  const db = openDatabase(dir);
  const store = opts.store ? opts.store(db, site) : new SqliteStore(db, site);
  await store.start();
  const live = new LiveState(new SqliteLiveRepository(db), site);
  await live.load();
  const topics = new Topics('park');
  const ingest = new Ingest({ transactions: new SqliteTransactions(db), store, live, bus: new EventBus(log), topics, site, metrics: new Metrics(), log });
  const reports = new Reports({ store, site, log, ...opts.reports });
  await reports.start();
  await reports.caughtUp;
  const send = (topic: string, payload: object, receivedAt = Date.now()): HandleResult => ingest.handle(topic, Buffer.from(JSON.stringify(payload)), receivedAt);
  return {
    dir,
    db,
    site,
    store,
    ingest,
    reports,
    topics,
    send,
    bay: (id, occupied, ts) => send(topics.bay(id), { occupied, ts }),
    gate: (id, event, pass, ts) => send(topics.gate(id), { event, pass, ts }),
    venue: (id, c, ts) => send(topics.venue(id), { ...c, ts }),
    pump: (room, id, running, ts) => send(topics.pump(room, id), { running, amps: running ? 5 : 0, ts }),
    level: (room, id, mm, ts) => send(topics.level(room, id), { mm, ts }),
    async close(o = {}) {
      await reports.stop();
      await store.stop();
      db.close();
      if (!o.keep && opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ReportsHttp {
  base: string;
  /** Bearer token header of a fresh API token with this role. */
  auth(role: Role): Record<string, string>;
  close(): Promise<void>;
}

/** The report router behind the real AuthService (tokens), on a free loopback port. */
export async function serveReports(p: Pipeline): Promise<ReportsHttp> {
  const config = loadConfig({ PARKOPS_DATA_DIR: p.dir, PARKOPS_ADMIN_PASSWORD: 'reports-test-admin-1' }, { dotenv: false });
  const auth = new AuthService({ repo: new SqliteAuthRepository(p.db), config, log: createLogger('silent'), scryptParams: { ln: 10, r: 8, p: 1 } });
  await auth.start();
  const guard = new AuthMiddleware(auth);
  const tokens = new Map<Role, string>();
  for (const role of ROLES) tokens.set(role, (await auth.createToken('admin', '127.0.0.1', { name: `reports-${role}`, role })).token);
  const app = express();
  app.set('query parser', 'simple');
  app.use('/api', guard.authenticate());
  app.use('/api', reportsRouter(p.reports, guard));
  app.use('/api', apiNotFound);
  app.use('/api', errorHandler(createLogger('silent')));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    auth(role) {
      return { authorization: `Bearer ${tokens.get(role)!}` };
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await auth.stop();
    },
  };
}

/**
 * The known synthetic history of the report tests (all times Asia/Shanghai, UTC+8), five days
 * Mon 2026-11-16 .. Fri 2026-11-20:
 * - bay B-001 heartbeats every 10 min all day, occupied 08:00-12:00 (the only bay reporting);
 * - pass P1 enters 07:55 (north-in) and leaves 12:05 (south-out) every day: 250 min; P2 on day 1
 *   09:00-10:00 (60 min); P3 on day 2 18:00 to day 3 08:30 (870 min, an overstay past 12 h);
 * - gym counter every minute: 10 people in at 12:00, out at 13:00; on day 3 also 5 in at 18:00 and out
 *   at 18:30 (visitors 10 a day, 15 on day 3);
 * - pump b1-power/P1 heartbeats every 30 s from 02:00 to 05:00, running 03:00-03:20 (20 min, 1 start);
 * - level b1-power/L1 every 10 s from 02:50 to 03:30, 350 mm (above warn 300) 03:00-03:10, else 100 mm.
 * `order: 'reverse'` sends every message newest first (a back-fill), which must give the same figures.
 */
export const HISTORY_START = Date.parse('2026-11-16T00:00:00+08:00');
export const HISTORY_DAYS = 5;

export function writeKnownHistory(p: Pipeline, opts: { order?: 'forward' | 'reverse' } = {}): number {
  const msgs: [string, object][] = [];
  const at = (day: number, h: number, m = 0, s = 0): number => HISTORY_START + day * 86_400_000 + ((h * 60 + m) * 60 + s) * 1000;
  const t = p.topics;
  for (let d = 0; d < HISTORY_DAYS; d++) {
    for (let min = 0; min < 24 * 60; min += 10) {
      const ts = at(d, 0, min);
      msgs.push([t.bay('B-001'), { occupied: min >= 8 * 60 && min < 12 * 60, ts }]);
    }
    for (let min = 0; min < 24 * 60; min++) {
      const ts = at(d, 0, min);
      let c = { in: 0, out: 0 };
      if (min === 12 * 60) c = { in: 10, out: 0 };
      if (min === 13 * 60) c = { in: 0, out: 10 };
      if (d === 2 && min === 18 * 60) c = { in: 5, out: 0 };
      if (d === 2 && min === 18 * 60 + 30) c = { in: 0, out: 5 };
      msgs.push([t.venue('gym'), { ...c, ts }]);
    }
    for (let s = 2 * 3600; s < 5 * 3600; s += 30) {
      const running = s >= 3 * 3600 && s < 3 * 3600 + 20 * 60;
      msgs.push([t.pump('b1-power', 'P1'), { running, amps: running ? 5 : 0, ts: at(d, 0, 0, s) }]);
    }
    for (let s = 2 * 3600 + 50 * 60; s < 3 * 3600 + 30 * 60; s += 10) {
      msgs.push([t.level('b1-power', 'L1'), { mm: s >= 3 * 3600 && s < 3 * 3600 + 600 ? 350 : 100, ts: at(d, 0, 0, s) }]);
    }
    msgs.push([t.gate('north-in'), { event: 'entry', pass: 'P1', ts: at(d, 7, 55) }]);
    msgs.push([t.gate('south-out'), { event: 'exit', pass: 'P1', ts: at(d, 12, 5) }]);
  }
  msgs.push([t.gate('south-in'), { event: 'entry', pass: 'P2', ts: at(0, 9) }]);
  msgs.push([t.gate('north-out'), { event: 'exit', pass: 'P2', ts: at(0, 10) }]);
  msgs.push([t.gate('north-in'), { event: 'entry', pass: 'P3', ts: at(1, 18) }]);
  msgs.push([t.gate('north-out'), { event: 'exit', pass: 'P3', ts: at(2, 8, 30) }]);
  // Forward is time order; reverse is newest first (gates excepted: an exit needs its entry first).
  const tsOf = (m: [string, object]): number => (m[1] as { ts: number }).ts;
  msgs.sort((a, b) => tsOf(a) - tsOf(b));
  if (opts.order === 'reverse') {
    const gates = msgs.filter((m) => m[0].includes('/gates/'));
    const rest = msgs.filter((m) => !m[0].includes('/gates/')).reverse();
    msgs.splice(0, msgs.length, ...gates, ...rest);
  }
  for (const [topic, payload] of msgs) {
    const r = p.send(topic, payload);
    if (r !== 'accepted') throw new Error(`history message not accepted (${r}): ${topic} ${JSON.stringify(payload)}`);
  }
  return msgs.length;
}
