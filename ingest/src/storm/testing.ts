/**
 * Test world of the storm module: the real pipeline on one SQLite file and vitest's fake clock:
 * device payloads through Ingest (decoder, SQLite store, live state), the bus, the alert engine, the
 * warnings module (CAP received as the HTTP route hands it on), the flood view and the storm module.
 * Not used by production code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, type AlertChanged, type StormReadiness } from '../bus.ts';
import { Topics } from '@parkops/contract/topics.ts';
import { FloodView } from '../flood/flood-view.ts';
import { Ingest } from '../ingest.ts';
import { LiveState, SqliteLiveRepository } from '../live-state.ts';
import { SqliteTransactions } from '../db/tx.ts';
import { createLogger } from '../log.ts';
import { Metrics } from '../metrics.ts';
import { loadSite, type Site } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../store/db.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { AlertEngine } from '../alerts/alert-engine.ts';
import { SqliteAlertRepository } from '../alerts/alert-repository.ts';
import { SqliteIncidentRepository } from '../alerts/incident-repository.ts';
import { SqliteWarningRepository, WarningService } from '../warnings/index.ts';
import type { ContactRoute } from './checklist.ts';
import { SqliteStormRepository } from './repository.ts';
import { StormService, type StormAuditEntry } from './storm-service.ts';
import { stormSourceOf } from './index.ts';

const log = createLogger('silent');
export const ROOM = 'b1-power';

export class StormWorld {
  db!: Db;
  bus!: EventBus;
  store!: SqliteStore;
  live!: LiveState;
  ingest!: Ingest;
  warnings!: WarningService;
  engine!: AlertEngine;
  flood!: FloodView;
  storm!: StormService;
  readonly topics = new Topics('park');
  readonly changes: AlertChanged[] = [];
  readonly readiness: StormReadiness[] = [];
  readonly audits: StormAuditEntry[] = [];
  /** What contacts-reachable sees; tests set it. */
  routes: ContactRoute[] = [];
  private running = false;

  constructor(
    readonly dir: string = mkdtempSync(join(tmpdir(), 'parkops-storm-')),
    readonly site: Site = loadSite(),
  ) {}

  async start(): Promise<this> {
    this.db = openDatabase(this.dir);
    this.bus = new EventBus(log);
    this.bus.on('alert.changed', (e) => void this.changes.push(e));
    this.bus.on('storm.readiness', (e) => void this.readiness.push(e));
    this.store = new SqliteStore(this.db, this.site);
    await this.store.start();
    this.live = new LiveState(new SqliteLiveRepository(this.db), this.site);
    await this.live.load();
    this.ingest = new Ingest({ transactions: new SqliteTransactions(this.db), store: this.store, live: this.live, bus: this.bus, topics: this.topics, site: this.site, metrics: new Metrics(), log });
    this.warnings = new WarningService({ repo: new SqliteWarningRepository(this.db), site: this.site, bus: this.bus, log });
    await this.warnings.start();
    const warnings = this.warnings;
    this.engine = new AlertEngine({ repo: new SqliteAlertRepository(this.db), incidents: new SqliteIncidentRepository(this.db), bus: this.bus, site: this.site, topics: this.topics, log, publisher: { publish: async () => undefined }, stormMode: (r, now) => warnings.stormMode(r, now) });
    this.flood = new FloodView(this.live, this.site, this.engine, (r) => warnings.stormMode(r), (r) => this.storm?.view(r));
    this.storm = new StormService({
      site: this.site,
      bus: this.bus,
      log,
      repo: new SqliteStormRepository(this.db),
      warnings: stormSourceOf(this.warnings),
      alerts: this.engine,
      rooms: this.flood,
      store: this.store,
      contacts: { routes: async () => this.routes },
      audit: (e) => void this.audits.push(e),
    });
    await this.engine.start();
    await this.storm.start();
    this.running = true;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.storm.stop();
    await this.engine.stop();
    await this.warnings.stop();
    await this.store.stop();
    this.db.close();
  }

  /**
   * Resolves once the storm module's work and the alert engine's writes have settled: the engine
   * announces a change (`alert.changed`, so `changes`) once it is stored, and the storm module's own
   * work may queue more of them.
   */
  async settled(): Promise<void> {
    await this.storm.settled();
    await this.engine.settled();
    await this.storm.settled();
    await this.engine.settled();
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  send(topic: string, payload: string): void {
    const r = this.ingest.handle(topic, Buffer.from(payload), Date.now());
    if (r === 'rejected' || r === 'ignored') throw new Error(`the pipeline refused ${topic} ${payload}: ${r}`);
  }
  level(sensor: string, mm: number, ts = Date.now()): void {
    this.send(this.topics.level(ROOM, sensor), JSON.stringify({ mm, ts }));
  }
  pump(pump: string, running: boolean, amps: number, ts = Date.now()): void {
    this.send(this.topics.pump(ROOM, pump), JSON.stringify({ running, amps, ts }));
  }
  async warning(xml: string): Promise<void> {
    const r = await this.warnings.receive(xml, { via: 'http', origin: 'token:test' });
    if (!r.ok) throw new Error(r.reason);
  }

  /** The room's open incident's timeline, or [] without one. */
  async timeline(): Promise<{ kind: string; detail?: string; rule?: string }[]> {
    const inc = (await this.engine.incidents({ room: ROOM })).find((i) => i.state === 'open');
    return inc ? ((await this.engine.incident(inc.id))?.timeline ?? []) : [];
  }
}
