/**
 * Starts the modules in order and stops them in reverse (STYLE.md; zigbee2mqtt lib/controller.ts).
 * Storage and state first, then the alert engine, then HTTP, then MQTT last so no message arrives
 * before everything that handles it is ready.
 */
import type { HealthResponse, StreamSnapshot } from './contract/index.ts';
import { roleAtLeast, Topics } from './contract/index.ts';
import { EventBus } from './bus.ts';
import type { Config } from './config.ts';
import { Ingest } from './ingest.ts';
import { LiveState } from './live-state.ts';
import type { Logger } from './log.ts';
import { Metrics, Gauge } from './metrics.ts';
import type { Module, Publisher } from './module.ts';
import { MqttClientLink } from './mqtt/client-link.ts';
import { EmbeddedBroker } from './mqtt/embedded-broker.ts';
import { HttpServer } from './api/server.ts';
import { liveRoutes } from './api/live-routes.ts';
import { StreamHub } from './api/stream.ts';
import type { Site } from './site/index.ts';
import { openDatabase, type Db } from './store/db.ts';
import { SqliteStore } from './store/sqlite-store.ts';
import type { TimeSeriesStore } from './store/types.ts';
import { AuthService } from './auth/index.ts';
import { AlertEngine, alertsRouter } from './alerts/index.ts';
import { Notifier } from './notify/index.ts';
import { Reports, reportsRouter } from './reports/index.ts';
import { loadBrokerAuth } from './mqtt/broker-auth.ts';

export class Controller {
  readonly bus: EventBus;
  readonly metrics = new Metrics();
  readonly topics: Topics;
  readonly db: Db;
  readonly live: LiveState;
  store!: TimeSeriesStore;
  ingest!: Ingest;
  http!: HttpServer;
  mqtt!: MqttClientLink | EmbeddedBroker;
  auth!: AuthService;
  alerts!: AlertEngine;
  notifier!: Notifier;
  reports!: Reports;
  private mqttReady = false;
  private readonly beforeMqtt: Array<() => void> = [];
  /** Publishes through whichever MQTT link runs; what modules publish before it is up waits for it. */
  private readonly publisher: Publisher = {
    publish: (topic, payload, opts) => {
      if (this.mqttReady) return this.mqtt.publish(topic, payload, opts);
      return new Promise<void>((resolve, reject) => this.beforeMqtt.push(() => void this.mqtt.publish(topic, payload, opts).then(resolve, reject)));
    },
  };
  private readonly started: Module[] = [];
  private stopping = false;

  constructor(
    readonly config: Config,
    readonly site: Site,
    readonly log: Logger,
  ) {
    this.bus = new EventBus(log);
    this.topics = new Topics(config.MQTT_TOPIC_PREFIX);
    this.db = openDatabase(config.dataDir, { synchronous: config.PARKOPS_SQLITE_SYNC });
    this.live = new LiveState(this.db, site);
  }

  private async run(m: Module): Promise<void> {
    const t0 = performance.now();
    await m.start();
    this.started.push(m);
    this.log.debug({ module: m.name, ms: Math.round(performance.now() - t0) }, 'module started');
  }

  async start(): Promise<void> {
    const { config, site, log, bus, metrics, topics, db, live } = this;
    this.store = config.PARKOPS_STORE === 'influxdb' ? await this.influxStore() : new SqliteStore(db, site);
    await this.run({ name: 'store', start: () => this.store.start(), stop: () => this.store.stop() });
    const outbox = (this.store as { metrics?: () => { depth: number; oldestAgeSec: number | null; sentTotal: number; rejectedTotal: number; rejectedHeld: number; lastError: string | null } }).metrics?.bind(this.store);
    if (outbox) {
      metrics.add(new Gauge('parkops_outbox_depth', 'Readings in the InfluxDB outbox, not yet accepted by InfluxDB', () => outbox().depth));
      metrics.add(new Gauge('parkops_outbox_oldest_age_seconds', 'Age of the oldest reading waiting in the outbox (0 when empty)', () => outbox().oldestAgeSec ?? 0));
      metrics.add(new Gauge('parkops_outbox_sent_total', 'Lines InfluxDB accepted from the outbox since start', () => outbox().sentTotal));
      metrics.add(new Gauge('parkops_outbox_rejected_total', 'Lines InfluxDB rejected as invalid since start (set aside with the reason)', () => outbox().rejectedTotal));
      metrics.add(new Gauge('parkops_outbox_rejected_held', 'Rejected lines held aside', () => outbox().rejectedHeld));
      metrics.add(new Gauge('parkops_outbox_failing', 'The last send to InfluxDB failed (1) or not (0)', () => (outbox().lastError === null ? 0 : 1)));
    }
    live.load();

    if (config.PARKOPS_TEST_CRASH_AFTER_COMMIT !== undefined) log.warn({ after: config.PARKOPS_TEST_CRASH_AFTER_COMMIT }, 'PARKOPS_TEST_CRASH_AFTER_COMMIT is set: this process will SIGKILL itself after that many commits (test only)');
    this.ingest = new Ingest({ db, store: this.store, live, bus, topics, site, metrics, log, crashAfterCommit: config.PARKOPS_TEST_CRASH_AFTER_COMMIT });
    this.auth = new AuthService({ db, config, log });
    await this.run(this.auth);
    const guard = this.auth;
    this.reports = new Reports({ db, store: this.store, site, log, ingest: this.ingest });
    await this.run(this.reports);
    this.alerts = new AlertEngine({ db, bus, site, topics, publisher: this.publisher, log, audit: (e) => this.auth.audit(e) });
    this.notifier = new Notifier({ db, bus, config, log, site });

    this.http = new HttpServer({ host: config.HOST, port: config.PORT, log, metrics, health: () => this.health(), trustProxy: config.PARKOPS_TRUST_PROXY });
    const stream = new StreamHub({
      bus,
      live,
      metrics,
      snapshot: () => this.snapshot(),
      stillAllowed: (req) => {
        const user = this.auth.identify({ cookie: req.headers.cookie, authorization: req.headers.authorization });
        return user !== undefined && roleAtLeast(user.role, 'viewer');
      },
    });
    await this.run(stream);
    this.http.useApi(this.auth.authenticate(), this.auth.csrf());
    this.http.useApi(this.auth.router());
    this.http.useApi(liveRoutes({ live, store: this.store, site, guard }));
    this.http.useApi(alertsRouter(this.alerts, guard));
    this.http.useApi(reportsRouter(this.reports, guard));
    this.http.app.use('/api/notifications', guard.requireRole('viewer'), this.notifier.router());
    this.http.app.get('/api/stream', guard.requireRole('viewer'), stream.handler);
    await this.run(this.notifier);
    if (config.PARKOPS_NODE_RED) await this.startNodeRed();
    await this.run(this.http);

    const onMessage = (topic: string, payload: Buffer, receivedAt: number, ack: (err?: Error) => void): void => {
      this.ingest.enqueue(topic, payload, receivedAt, ack);
    };
    this.mqtt = config.MQTT_URL
      ? new MqttClientLink({ url: config.MQTT_URL, clientId: config.MQTT_CLIENT_ID, topics, bus, log, onMessage, window: config.MQTT_INGEST_WINDOW, connections: config.MQTT_CONNECTIONS })
      : new EmbeddedBroker({
          port: config.MQTT_PORT,
          host: config.MQTT_BIND,
          topics,
          bus,
          log,
          onMessage,
          auth: config.MQTT_PASSWORD_FILE ? loadBrokerAuth(config.MQTT_PASSWORD_FILE, config.MQTT_ACL_FILE) : undefined,
        });
    this.ingest.publisher = this.publisher;
    // The alert engine starts before messages flow; what it republishes at start waits for MQTT.
    await this.run(this.alerts);
    await this.run(this.mqtt);
    this.mqttReady = true;
    for (const send of this.beforeMqtt.splice(0)) send();
    metrics.add(new Gauge('parkops_mqtt_connected', 'MQTT link up (1) or down (0)', () => (this.mqtt.connected ? 1 : 0)));

    if (config.PARKOPS_SIMULATE) await this.startSimulators();
    log.info({ site: site.name, store: this.store.kind, mqtt: this.mqtt.describe() }, 'ParkOps started');
  }

  private async influxStore(): Promise<TimeSeriesStore> {
    const { InfluxStore } = await import('./store/influx-store.ts');
    const { config, site, db, log } = this;
    return new InfluxStore({ db, site, url: config.INFLUX_URL!, database: config.INFLUX_DATABASE!, token: config.INFLUX_TOKEN, log: log.child({ module: 'influx' }) });
  }

  /** Node-RED is loaded only when enabled: it adds about 50 MB and a second to start. */
  private async startNodeRed(): Promise<void> {
    const { NodeRedModule } = await import('./nodered/index.ts');
    const { config, log, bus, site } = this;
    const nodeRed = new NodeRedModule({
      app: this.http.app,
      server: this.http.server,
      config,
      log,
      bus,
      site,
      notifier: this.notifier,
      alerts: this.alerts,
      verifyAdmin: (u, p) => this.auth.verifyPassword(u, p),
      userRole: (u) => this.auth.userRole(u),
      editorGate: this.auth.editorGate(),
    });
    await this.run(nodeRed);
  }

  private async startSimulators(): Promise<void> {
    const { config, site, log } = this;
    const url = config.MQTT_URL ?? `mqtt://127.0.0.1:${(this.mqtt as EmbeddedBroker).address.port}`;
    const sim = (await import('@parkops/simulators')) as { startSimulators: (o: object) => Promise<{ stop(): Promise<void> }> };
    const running = await sim.startSimulators({
      mqttUrl: url,
      site,
      prefix: config.MQTT_TOPIC_PREFIX,
      seed: config.PARKOPS_SIM_SEED,
      speed: config.PARKOPS_SIM_SPEED,
      scenarios: config.PARKOPS_SIM_SCENARIOS?.split(',').map((s) => s.trim()).filter(Boolean),
      log: (obj: object, msg: string) => log.info({ module: 'simulators', ...obj }, msg),
    });
    this.started.push({ name: 'simulators', start: async () => undefined, stop: () => running.stop() });
  }

  health(): HealthResponse {
    const store = this.store?.health() ?? { ok: false, detail: 'starting' };
    const mqttOk = this.mqtt?.connected ?? false;
    const problems: string[] = [];
    if (!mqttOk) problems.push(`mqtt: ${this.mqtt?.describe() ?? 'starting'}`);
    if (!store.ok) problems.push(`store: ${store.detail}`);
    const h: HealthResponse = { status: problems.length === 0 ? 'ok' : 'degraded', mqtt: this.mqtt?.describe() ?? 'starting', store: store.detail };
    if (problems.length > 0) h.problems = problems;
    if (store.outbox) h.outbox = { depth: store.outbox.depth, oldestAgeSec: store.outbox.oldestAgeSec };
    return h;
  }

  snapshot(): StreamSnapshot {
    const now = Date.now();
    return { parking: this.live.parking(now), flood: this.live.flood(now), venues: this.live.venuesView(now), alerts: this.alerts.list({ state: 'active' }), serverTime: new Date(now).toISOString() };
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const m of this.started.reverse()) {
      try {
        await m.stop();
      } catch (err) {
        this.log.error({ module: m.name, err }, 'module failed to stop cleanly');
      }
    }
    this.db.close();
  }
}
