/**
 * Model-based property test of flood safety (fast-check). Random histories of one room and its two
 * level sensors (readings near the thresholds, spikes, `offline` and `online`, silence, QoS 1
 * duplicates, back-fill out of order, and restarts of ParkOps on the same SQLite file with downtime)
 * run through the real pipeline: device payloads through Ingest (decoder, SQLite store, live state),
 * the bus, the real alert engine, and the API's flood view, all on vitest's fake clock.
 *
 * A small model, written apart from the judge, follows each sensor: its newest applied value, when a
 * message from it was last received, whether its last status said offline, and which (ts) readings the
 * store already holds. Checked after every message and every simulated second:
 *
 * 1. Safety: whenever every fresh sensor has read at or above a band's threshold (and at least one was
 *    fresh) for the band's hold time, that band's level alert, or a higher one, is open.
 * 2. Agreement: whenever the API view shows the room in a band, the engine's open flood.level alert is
 *    of that band, and when it shows normal, none is open.
 * 3. The API view's level and its sensors' freshness are the model's: the highest fresh sensor, fresh
 *    meaning heard within staleAfterSec of receipt and not offline since its last message.
 * 4. The combination rule: whenever the HIGHEST fresh sensor has been at or above a band for its hold
 *    time, that band's alert or a higher one is open (a stuck-low sensor hides nothing); and whenever
 *    every fresh sensor reads at or above critical, the critical alert is open at once.
 *
 * Runs: FLOOD_PROP_RUNS (default 30, about 6 s here; `npm run test:props` runs 2,000). A failure prints
 * the seed and the shrunk history; replay with FLOOD_PROP_SEED=<seed>.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { EventBus } from '../bus.ts';
import { Topics } from '@parkops/contract/topics.ts';
import { FloodView } from '../flood/flood-view.ts';
import { Ingest } from '../ingest.ts';
import { LiveState, SqliteLiveRepository } from '../live-state.ts';
import { SqliteTransactions } from '../db/tx.ts';
import { createLogger } from '../log.ts';
import { Metrics } from '../metrics.ts';
import { parseSite } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../store/db.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { AlertEngine } from './alert-engine.ts';
import { SqliteAlertRepository } from './alert-repository.ts';
import { SqliteIncidentRepository } from './incident-repository.ts';
import { BASE_TIME, testSiteFile } from './testing.ts';

const RUNS = Number(process.env.FLOOD_PROP_RUNS ?? 30);
const SEED = process.env.FLOOD_PROP_SEED === undefined ? undefined : Number(process.env.FLOOD_PROP_SEED);

const site = parseSite(testSiteFile());
const room = site.room('b1')!;
const SENSORS = ['L1', 'L2'] as const;
type Sensor = (typeof SENSORS)[number];
const THRESHOLDS = [room.bands.warnMm, room.bands.alarmMm, room.bands.criticalMm] as const;
const HOLD_MS = room.bands.holdSec * 1000;
const STALE_MS = room.levels[0]!.staleAfterSec * 1000;
const BAND_INDEX: Record<string, number> = { normal: 0, warning: 1, alarm: 2, critical: 3 };
/** Live state writes an unchanged heartbeat at most this often (live-state.ts); a restart resumes from it. */
const HEARTBEAT_PERSIST_MS = 60_000;
const topics = new Topics('park');
const log = createLogger('silent');

// ---- commands ---------------------------------------------------------------------------------

type Command =
  | { c: 'level'; sensor: Sensor; mm: number; backSec: number; gapSec: number }
  | { c: 'both'; mm: number; delta: number; gapSec: number }
  | { c: 'spike'; sensors: Sensor[]; mm: number; forSec: number }
  | { c: 'status'; device: Sensor; online: boolean; gapSec: number }
  | { c: 'duplicate' }
  | { c: 'wait'; sec: number }
  | { c: 'restart'; downSec: number };

/** Levels near the thresholds and their deadbands, and anything between. */
const mmArb = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(100, 274, 276, 299, 300, 301, 474, 476, 499, 500, 501, 674, 676, 699, 700, 701, 720, 805, 900));
const sensorArb = fc.constantFrom<Sensor>('L1', 'L2');
const gapArb = fc.integer({ min: 0, max: 12 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ c: fc.constant('level' as const), sensor: sensorArb, mm: mmArb, backSec: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 120 }) }), gapSec: gapArb }) },
  { weight: 6, arbitrary: fc.record({ c: fc.constant('both' as const), mm: mmArb, delta: fc.integer({ min: -30, max: 30 }), gapSec: gapArb }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constant('spike' as const), sensors: fc.constantFrom<Sensor[]>(['L1'], ['L2'], ['L1', 'L2']), mm: mmArb, forSec: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constant('status' as const), device: sensorArb, online: fc.boolean(), gapSec: gapArb }) },
  { weight: 1, arbitrary: fc.constant({ c: 'duplicate' as const }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constant('wait' as const), sec: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constant('restart' as const), downSec: fc.integer({ min: 0, max: 20 }) }) },
);

// ---- the model -------------------------------------------------------------------------------

interface SensorModel {
  /** newest applied value and its ts; what live state's `latest` table holds (restored on restart) */
  value: number | null;
  appliedTs: number | null;
  changedAt: number | null;
  persisted: { ts: number; changedAt: number } | null;
  heardAt: number | null;
  silentFrom: number;
  offline: boolean;
  lastStatusAt: number | null;
  /** ts of every stored reading: the store keeps (subject, ts) once */
  stored: Set<number>;
}

class Model {
  readonly sensors = new Map<Sensor, SensorModel>();
  /** per band 1..3: since when "every fresh sensor at or above its threshold" has held, sampled */
  readonly since: (number | null)[] = [null, null, null];
  /** per band 1..3: since when the highest fresh sensor has been at or above it (staying above threshold - deadband) */
  readonly anySince: (number | null)[] = [null, null, null];

  constructor(start: number) {
    for (const s of SENSORS) this.sensors.set(s, { value: null, appliedTs: null, changedAt: null, persisted: null, heardAt: null, silentFrom: start, offline: false, lastStatusAt: null, stored: new Set() });
  }

  /** A level reading: 'duplicate' (ignored), 'backfill' (proof of life only) or 'applied'. */
  level(s: Sensor, mm: number, ts: number, now: number): void {
    const m = this.sensors.get(s)!;
    if (m.stored.has(ts)) return;
    m.stored.add(ts);
    m.heardAt = now;
    m.silentFrom = now;
    m.offline = false;
    if (m.appliedTs !== null && ts <= m.appliedTs) return;
    const changed = m.value !== mm;
    m.changedAt = changed || m.appliedTs === null ? ts : m.changedAt;
    m.value = mm;
    m.appliedTs = ts;
    if (!m.persisted || m.persisted.changedAt !== m.changedAt || ts - m.persisted.ts >= HEARTBEAT_PERSIST_MS) m.persisted = { ts, changedAt: m.changedAt! };
  }

  status(s: Sensor, online: boolean, now: number): void {
    const m = this.sensors.get(s)!;
    // Status messages carry no device time: ordered (and stored once) by their receipt time.
    if (m.lastStatusAt !== null && now <= m.lastStatusAt) return;
    m.lastStatusAt = now;
    m.heardAt = now;
    m.silentFrom = now;
    m.offline = !online;
  }

  restart(downMs: number, now: number): void {
    for (const m of this.sensors.values()) {
      m.silentFrom = Math.min(now, m.silentFrom + downMs);
      // Live state comes back from its table: a heartbeat newer than the last write is forgotten there.
      if (m.persisted) m.appliedTs = m.persisted.ts;
    }
  }

  fresh(now: number): { id: Sensor; mm: number }[] {
    const out: { id: Sensor; mm: number }[] = [];
    for (const [id, m] of this.sensors) if (m.value !== null && m.heardAt !== null && !m.offline && now - m.silentFrom <= STALE_MS) out.push({ id, mm: m.value });
    return out;
  }

  isStale(s: Sensor, now: number): boolean {
    const m = this.sensors.get(s)!;
    return m.offline || now - m.silentFrom > STALE_MS;
  }

  sample(now: number): void {
    const fresh = this.fresh(now);
    const top = fresh.length > 0 ? Math.max(...fresh.map((f) => f.mm)) : null;
    THRESHOLDS.forEach((thr, i) => {
      const holds = fresh.length > 0 && fresh.every((f) => f.mm >= thr);
      if (!holds) this.since[i] = null;
      else this.since[i] ??= now;
      // Strictly at or above the threshold all along (the judge also keeps a hold through a dip that
      // stays within the deadband; the model claims only the plain case).
      if (top === null || top < thr) this.anySince[i] = null;
      else this.anySince[i] ??= now;
    });
  }
}

// ---- the system under test -------------------------------------------------------------------

class System {
  db!: Db;
  engine!: AlertEngine;
  ingest!: Ingest;
  view!: FloodView;
  private store!: SqliteStore;
  private lastMessage: { topic: string; payload: string } | null = null;

  constructor(readonly dir: string) {}

  async start(): Promise<void> {
    this.db = openDatabase(this.dir);
    const bus = new EventBus(log);
    this.store = new SqliteStore(this.db, site);
    await this.store.start();
    const live = new LiveState(new SqliteLiveRepository(this.db), site);
    await live.load();
    this.ingest = new Ingest({ transactions: new SqliteTransactions(this.db), store: this.store, live, bus, topics, site, metrics: new Metrics(), log });
    this.engine = new AlertEngine({ repo: new SqliteAlertRepository(this.db), incidents: new SqliteIncidentRepository(this.db), bus, site, topics, log, publisher: { publish: async () => undefined } });
    await this.engine.start();
    this.view = new FloodView(live, site, this.engine);
  }

  async stop(): Promise<void> {
    await this.engine.stop();
    await this.store.stop();
    this.db.close();
  }

  send(topic: string, payload: string): void {
    this.lastMessage = { topic, payload };
    const r = this.ingest.handle(topic, Buffer.from(payload), Date.now());
    if (r === 'rejected' || r === 'ignored') throw new Error(`the pipeline refused ${topic} ${payload}: ${r}`);
  }

  resend(): { topic: string; payload: string } | null {
    if (!this.lastMessage) return null;
    this.send(this.lastMessage.topic, this.lastMessage.payload);
    return this.lastMessage;
  }
}

// ---- the run ---------------------------------------------------------------------------------

function check(sys: System, model: Model, now: number): void {
  model.sample(now);
  const view = sys.view.room('b1')!;
  const open = sys.engine.active().filter((a) => a.rule === 'flood.level' && a.state !== 'resolved');
  expect(open.length).toBeLessThanOrEqual(1);
  const alertBand = open[0]?.details?.rule === 'flood.level' ? BAND_INDEX[open[0].details.band]! : 0;

  // 3. The view's level and freshness are the model's.
  const fresh = model.fresh(now);
  if (fresh.length === 0) expect(view.level).toBeNull();
  else expect(view.level?.mm).toBe(Math.max(...fresh.map((f) => f.mm)));
  for (const l of view.levels) expect([l.id, l.stale]).toEqual([l.id, model.isStale(l.id as Sensor, now)]);

  // 2. The API's band is the open alert's band.
  expect(alertBand).toBe(BAND_INDEX[view.band]);

  // 1. Every fresh sensor at or above a band for its hold time: that band's alert or a higher one.
  model.since.forEach((since, i) => {
    if (since !== null && now - since >= HOLD_MS + 1000) expect(alertBand, `band ${i + 1} held by every fresh sensor since ${new Date(since).toISOString()}`).toBeGreaterThanOrEqual(i + 1);
  });
  // 4. The highest fresh sensor at or above a band for its hold time; every fresh sensor at critical: at once.
  model.anySince.forEach((since, i) => {
    if (since !== null && now - since >= HOLD_MS + 1000) expect(alertBand, `band ${i + 1} held by the highest sensor since ${new Date(since).toISOString()}`).toBeGreaterThanOrEqual(i + 1);
  });
  if (fresh.length > 0 && fresh.every((f) => f.mm >= room.bands.criticalMm)) expect(alertBand, 'every fresh sensor at critical').toBe(3);
}

async function run(commands: Command[]): Promise<void> {
  vi.useFakeTimers({ now: BASE_TIME });
  const dir = mkdtempSync(join(tmpdir(), 'parkops-flood-prop-'));
  const sys = new System(dir);
  let running = false;
  try {
    await sys.start();
    running = true;
    const model = new Model(Date.now());
    const second = (): void => {
      vi.advanceTimersByTime(1000);
      check(sys, model, Date.now());
    };
    const wait = (sec: number): void => {
      for (let i = 0; i < sec; i++) second();
    };
    const level = (s: Sensor, mm: number, backSec = 0): void => {
      const now = Date.now();
      const ts = now - backSec * 1000;
      sys.send(topics.level('b1', s), JSON.stringify({ mm, ts }));
      model.level(s, mm, ts, now);
      check(sys, model, now);
    };
    for (const cmd of commands) {
      switch (cmd.c) {
        case 'level':
          wait(cmd.gapSec);
          level(cmd.sensor, cmd.mm, cmd.backSec);
          break;
        case 'both':
          wait(cmd.gapSec);
          level('L1', cmd.mm);
          level('L2', Math.max(0, cmd.mm + cmd.delta));
          break;
        case 'spike': {
          const before = cmd.sensors.map((s) => model.sensors.get(s)!.value ?? 100);
          wait(1);
          for (const s of cmd.sensors) level(s, cmd.mm);
          wait(cmd.forSec);
          cmd.sensors.forEach((s, i) => level(s, before[i]!));
          break;
        }
        case 'status': {
          wait(cmd.gapSec);
          const now = Date.now();
          sys.send(topics.deviceStatus(cmd.device), cmd.online ? 'online' : 'offline');
          model.status(cmd.device, cmd.online, now);
          check(sys, model, now);
          break;
        }
        case 'duplicate': {
          const m = sys.resend();
          if (m) {
            const parsed = topics.parse(m.topic);
            const now = Date.now();
            if (parsed.kind === 'level') model.level(parsed.sensorId as Sensor, (JSON.parse(m.payload) as { mm: number }).mm, (JSON.parse(m.payload) as { ts: number }).ts, now);
            else if (parsed.kind === 'status') model.status(parsed.deviceId as Sensor, m.payload === 'online', now);
            check(sys, model, now);
          }
          break;
        }
        case 'wait':
          wait(cmd.sec);
          break;
        case 'restart': {
          await sys.stop();
          running = false;
          vi.advanceTimersByTime(cmd.downSec * 1000);
          await sys.start();
          running = true;
          model.restart(cmd.downSec * 1000, Date.now());
          check(sys, model, Date.now());
          break;
        }
      }
    }
    wait(HOLD_MS / 1000 + 2);
  } finally {
    if (running) await sys.stop();
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('flood safety, model-based', () => {
  it(
    'random histories of a room and its two sensors: held bands alarm, the API and the engine agree',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb, { minLength: 5, maxLength: 60 }), async (commands) => run(commands)),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
    },
    Math.max(60_000, RUNS * 2_000),
  );

  it('a fixed history, the reported bug: both sensors offline, then 800 and 805 mm', async () => {
    // One fixed history, the one from the report: both offline, then 800 and 805 mm for a minute.
    await run([
      { c: 'both', mm: 100, delta: 4, gapSec: 0 },
      { c: 'status', device: 'L1', online: false, gapSec: 1 },
      { c: 'status', device: 'L2', online: false, gapSec: 0 },
      { c: 'both', mm: 800, delta: 5, gapSec: 2 },
      { c: 'wait', sec: 40 },
      { c: 'both', mm: 800, delta: 5, gapSec: 0 },
    ]);
  });
});
