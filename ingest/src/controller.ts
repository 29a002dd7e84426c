/**
 * Starts the modules in order and stops them in reverse (STYLE.md; zigbee2mqtt lib/controller.ts).
 * Storage and state first, then the alert engine, then HTTP, then MQTT last so no message arrives
 * before everything that handles it is ready.
 */
import type { HealthResponse, StreamSnapshot } from '@parkops/contract/index.ts';
import { roleAtLeast, Topics, UplinkTopics } from '@parkops/contract/index.ts';
import { EventBus } from './bus.ts';
import type { Config } from './config.ts';
import { Ingest } from './ingest.ts';
import { LiveState, SqliteLiveRepository } from './live-state.ts';
import type { Logger } from './log.ts';
import { Metrics, Gauge } from './metrics.ts';
import type { Module, Publisher } from './module.ts';
import { MqttClientLink } from './mqtt/client-link.ts';
import { EmbeddedBroker } from './mqtt/embedded-broker.ts';
import { HttpServer } from './api/server.ts';
import { caught } from './api/async-routes.ts';
import { FloodView } from './flood/flood-view.ts';
import { liveRoutes } from './api/live-routes.ts';
import { StreamHub } from './api/stream.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from './store/db.ts';
import { SqliteStore } from './store/sqlite-store.ts';
import type { TimeSeriesStore } from './store/types.ts';
import { AuthMiddleware, AuthService, authRouter, EditorGate, SqliteAuthRepository } from './auth/index.ts';
import { AlertEngine, alertsRouter, SqliteAlertRepository, SqliteIncidentRepository } from './alerts/index.ts';
import { NO_CHANNEL_HINT, Notifier, NOTIFY_CHANGES } from './notify/index.ts';
import { robotChannels } from './notify/channels/index.ts';
import { pushRouter } from './notify/push-routes.ts';
import { setUpWebPush } from './notify/web-push.ts';
import { Reports, reportsRouter } from './reports/index.ts';
import { loadBrokerAuth } from './mqtt/broker-auth.ts';
import { FeedPoller, SqliteWarningRepository, WarningService, warningsRouter } from './warnings/index.ts';
import { DeviceRegistry } from './devices/registry.ts';
import { contactRoutes, SqliteStormRepository, StormService, stormRouter, stormSourceOf } from './storm/index.ts';
import { devicesRouter } from './devices/routes.ts';
import { SqliteDevicesRepository } from './devices/repository.ts';
import { PgDevicesRepository, PG_DEVICES_SCHEMA } from './devices/pg-repository.ts';
import { PgAuthRepository, PG_AUTH_SCHEMA } from './auth/pg-repository.ts';
import { migrateDatabase } from './db/migrations.ts';
import { SCHEMAS } from './db/schemas.ts';
import { RetentionService, retentionTasks } from './retention/retention-service.ts';
import { SqliteOutboxRepository } from './store/outbox.ts';
import { markRunning, runningParkOps } from './ops/data-lock.ts';
import { StorageStats } from './ops/storage-stats.ts';
import { opsRouter } from './ops/routes.ts';
import { SqliteTransactions, type TransactionRunner } from './db/tx.ts';
import { migratePg, openPool, PgDatabase, PgTransactions, type Fence } from './db/pg.ts';
import { PgStore, PG_TIMESERIES_SCHEMA } from './store/pg-store.ts';
import { PgLiveRepository, PG_LIVE_SCHEMA } from './live-state-pg.ts';
import { PgAlertRepository, PgIncidentRepository, PG_ALERTS_SCHEMA } from './alerts/pg-repositories.ts';
import { LeaderElection, PG_LEADER_SCHEMA, type Role } from './ha/leader.ts';
import { ClusterLink, PG_CLUSTER_SCHEMA } from './ha/cluster.ts';

export class Controller {
  readonly bus: EventBus;
  readonly metrics = new Metrics();
  readonly topics: Topics;
  readonly db: Db;
  readonly transactions: TransactionRunner;
  live!: LiveState;
  /** PARKOPS_DATABASE_URL: the shared database, this process's part in the leader election, and the link to the others. */
  readonly pg: PgDatabase | null = null;
  election: LeaderElection | null = null;
  cluster: ClusterLink | null = null;
  /** Called when this process lost the leader lease and stopped acting (main.ts exits, a supervisor restarts it as a standby). */
  onDeposed: (why: string) => void = () => undefined;
  private leaderModules: Module[] = [];
  store!: TimeSeriesStore;
  ingest!: Ingest;
  http!: HttpServer;
  mqtt!: MqttClientLink | EmbeddedBroker;
  auth!: AuthService;
  guard!: AuthMiddleware;
  alerts!: AlertEngine;
  notifier!: Notifier;
  reports!: Reports;
  flood!: FloodView;
  warnings!: WarningService;
  devices!: DeviceRegistry;
  retention!: RetentionService;
  storage!: StorageStats;
  storm!: StormService;
  /** The network servers' broker, when LORAWAN_MQTT_URL names one apart from ParkOps' own. */
  lorawan: MqttClientLink | null = null;
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
  /** Removes `<data>/parkops.pid` (a restore refuses while it names a live ParkOps). */
  private releasePid: () => void = () => undefined;

  constructor(
    readonly config: Config,
    readonly site: Site,
    readonly log: Logger,
  ) {
    this.bus = new EventBus(log);
    this.topics = new Topics(config.MQTT_TOPIC_PREFIX);
    this.db = openDatabase(config.dataDir, { synchronous: config.PARKOPS_SQLITE_SYNC });
    if (config.PARKOPS_DATABASE_URL) {
      // The fence asks the election (made in start()): until then, and on a standby, nothing leader-only is written.
      const fence: Fence = { current: () => this.election?.current() ?? null };
      this.pg = new PgDatabase(openPool(config.PARKOPS_DATABASE_URL, { applicationName: `parkops-${process.pid}` }), fence);
      this.transactions = new PgTransactions(this.pg);
    } else {
      this.transactions = new SqliteTransactions(this.db);
    }
  }

  private async run(m: Module): Promise<void> {
    const t0 = performance.now();
    await m.start();
    this.started.push(m);
    this.log.debug({ module: m.name, ms: Math.round(performance.now() - t0) }, 'module started');
  }

  async start(): Promise<void> {
    const { config, site, log, bus, metrics, topics, db } = this;
    const other = runningParkOps(config.dataDir);
    if (other !== null) log.warn({ pid: other, dataDir: config.dataDir }, 'another ParkOps process seems to run on this data folder');
    this.releasePid = markRunning(config.dataDir);
    // Before anything reads or writes (and before any repository is made: a repository opened on its
    // own migrates its own module): every module's schema at the version this code knows, in one
    // transaction, or a refusal that changed nothing (a database from a newer ParkOps).
    migrateDatabase(db, SCHEMAS, { complete: true, log, where: db.name });
    const pgdb = this.pg;
    if (pgdb) await migratePg(pgdb.pool, [PG_LEADER_SCHEMA, PG_TIMESERIES_SCHEMA, PG_LIVE_SCHEMA, PG_ALERTS_SCHEMA, PG_CLUSTER_SCHEMA, PG_DEVICES_SCHEMA, PG_AUTH_SCHEMA], { log, where: 'PARKOPS_DATABASE_URL' });
    const live = (this.live = new LiveState(pgdb ? new PgLiveRepository(pgdb) : new SqliteLiveRepository(db), site));
    this.store = config.PARKOPS_STORE === 'influxdb' ? await this.influxStore() : pgdb ? new PgStore(pgdb, site) : new SqliteStore(db, site);
    await this.run({ name: 'store', start: () => this.store.start(), stop: () => this.store.stop() });
    if ((await this.store.outboxMetrics()) !== null) {
      const outbox = async () => (await this.store.outboxMetrics())!;
      metrics.add(new Gauge('parkops_outbox_depth', 'Readings in the InfluxDB outbox, not yet accepted by InfluxDB', async () => (await outbox()).depth));
      metrics.add(new Gauge('parkops_outbox_oldest_age_seconds', 'Age of the oldest reading waiting in the outbox (0 when empty)', async () => (await outbox()).oldestAgeSec ?? 0));
      metrics.add(new Gauge('parkops_outbox_sent_total', 'Lines InfluxDB accepted from the outbox since start', async () => (await outbox()).sentTotal));
      metrics.add(new Gauge('parkops_outbox_rejected_total', 'Lines InfluxDB rejected as invalid since start (set aside with the reason)', async () => (await outbox()).rejectedTotal));
      metrics.add(new Gauge('parkops_outbox_rejected_held', 'Rejected lines held aside', async () => (await outbox()).rejectedHeld));
      metrics.add(new Gauge('parkops_outbox_failing', 'The last send to InfluxDB failed (1) or not (0)', async () => ((await outbox()).lastError === null ? 0 : 1)));
    }
    await live.load();

    if (config.PARKOPS_TEST_CRASH_AFTER_COMMIT !== undefined) log.warn({ after: config.PARKOPS_TEST_CRASH_AFTER_COMMIT }, 'PARKOPS_TEST_CRASH_AFTER_COMMIT is set: this process will SIGKILL itself after that many commits (test only)');
    this.ingest = new Ingest({ transactions: this.transactions, store: this.store, live, bus, topics, site, metrics, log, crashAfterCommit: config.PARKOPS_TEST_CRASH_AFTER_COMMIT });
    const authRepo = pgdb ? new PgAuthRepository(pgdb) : new SqliteAuthRepository(db);
    this.auth = new AuthService({ repo: authRepo, config, log });
    await this.run(this.auth);
    const guard = (this.guard = new AuthMiddleware(this.auth));
    this.reports = new Reports({
      store: this.store,
      site,
      log,
      simulated: config.PARKOPS_SIMULATE,
      pdfFont: config.PARKOPS_PDF_FONT,
      // The alert engine starts after the reports; the PDF asks it only when one is requested.
      floodIncidents: async (from, to) => (this.alerts ? await this.alerts.incidents({ from, to }) : []),
    });
    await this.run(this.reports);
    // Before the alert engine: storm mode (warnings.stormMode, the storm.* events) is there for its rules.
    this.warnings = new WarningService({ repo: new SqliteWarningRepository(db), site, bus, log, metrics, topics, publisher: this.publisher });
    await this.run(this.warnings);
    // The incident timeline reads notification attempts from the Notifier (made below, before the engine starts).
    const notifications = { forAlerts: (ids: string[]) => this.notifier.forAlerts(ids) };
    const alertRepo = pgdb ? new PgAlertRepository(pgdb) : new SqliteAlertRepository(db);
    const incidentRepo = pgdb ? new PgIncidentRepository(pgdb) : new SqliteIncidentRepository(db);
    this.alerts = new AlertEngine({
      repo: alertRepo,
      incidents: incidentRepo,
      notifications,
      bus,
      site,
      topics,
      publisher: this.publisher,
      log,
      audit: (e) => this.auth.audit(e),
      stormMode: (roomId, now) => this.warnings.stormMode(roomId, now),
    });
    // Channels beyond the settings webhook: group robots and Web Push (notify/channels/).
    // A subscription's owner is a user, or `token:<name>` for one stored with an API token.
    const roleOf = (owner: string) => this.auth.roleOf(owner);
    const push = setUpWebPush({ db, config, site, log, roleOf });
    const channels = [...robotChannels(config, site, NOTIFY_CHANGES), ...(push.channel ? [push.channel] : [])];
    this.notifier = new Notifier({ db, bus, config, log, site, channels });
    const flood = (this.flood = new FloodView(live, site, this.alerts, (roomId) => this.warnings.stormMode(roomId), (roomId) => this.storm?.view(roomId)));
    this.storm = new StormService({
      site,
      bus,
      log,
      repo: new SqliteStormRepository(db),
      warnings: stormSourceOf(this.warnings),
      alerts: this.alerts,
      rooms: flood,
      store: this.store,
      contacts: contactRoutes({
        webhook: config.PARKOPS_WEBHOOK_URL !== undefined,
        channels: channels.map((c) => c.name),
        pushSubscriptions: async () => (await push.repo.all()).length,
        escalationContacts: site.notifications.escalationContacts.length,
        recent: () => this.notifier.recent(1000),
      }),
      audit: (e) => this.auth.audit(e),
    });

    this.http = new HttpServer({ host: config.HOST, port: config.PORT, log, metrics, health: () => this.health(), trustProxy: config.PARKOPS_TRUST_PROXY });
    const stream = new StreamHub({
      bus,
      live,
      flood,
      metrics,
      snapshot: () => this.snapshot(),
      stillAllowed: async (req) => {
        const user = await this.auth.identify({ authorization: req.headers.authorization }, guard.sessionIdOf(req));
        return user !== undefined && roleAtLeast(user.role, 'viewer');
      },
    });
    await this.run(stream);
    this.http.useApi(guard.authenticate(), guard.csrf());
    this.http.useApi(authRouter(this.auth, guard));
    this.http.useApi(liveRoutes({ live, flood, store: this.store, site, guard }));
    this.http.useApi(warningsRouter(this.warnings, guard));
    this.http.useApi(stormRouter(this.storm, guard, log));
    this.http.useApi(alertsRouter(this.alerts, guard, site));
    this.http.useApi(reportsRouter(this.reports, guard));
    // LoRaWAN network servers (docs/api.md, LoRaWAN): the registry translates uplinks for ingest.
    const uplinkTopics = new UplinkTopics({ chirpstack: config.LORAWAN_CHIRPSTACK_TOPIC, tts: config.LORAWAN_TTS_TOPIC });
    this.devices = new DeviceRegistry({ repository: pgdb ? new PgDevicesRepository(pgdb) : new SqliteDevicesRepository(db), shared: pgdb !== null, site, topics, uplinkTopics, live, flood, log, audit: (e) => this.auth.audit(e) });
    await this.run(this.devices);
    this.ingest.translator = this.devices;
    this.http.useApi(devicesRouter(this.devices, guard));
    this.http.app.use('/api/notifications', caught(guard.requireRole('viewer')), this.notifier.router());
    this.http.useApi(pushRouter({ channel: push.channel, offReason: push.offReason, repo: push.repo, guard, log, queue: (d) => this.notifier.queueChannel('webpush', '', 'test', d), changed: () => void this.notifier.refreshSummary() }));
    this.http.app.get('/api/stream', caught(guard.requireRole('viewer')), caught(stream.handler));
    // On PostgreSQL the notifier runs on the leader only (startCluster).
    if (!pgdb) await this.run(this.notifier);
    // Retention (docs/operations.md): every owner prunes its own rows, in small slices, in the background.
    this.retention = new RetentionService({
      tasks: retentionTasks({
        days: { readings: config.PARKOPS_RETENTION_DAYS, events: config.PARKOPS_RETENTION_EVENTS_DAYS, notifyBodies: config.PARKOPS_RETENTION_NOTIFY_BODY_DAYS },
        readings: this.store.retention(),
        // The SQLite owners (retention runs only on SQLite, below); repositories hold no state of their own.
        incidents: new SqliteIncidentRepository(db),
        alerts: new SqliteAlertRepository(db),
        auth: authRepo,
        notifications: this.notifier,
        outbox: new SqliteOutboxRepository(db),
      }),
      log,
      metrics,
    });
    // Retention prunes the SQLite owners' rows; on PostgreSQL the time series drops whole monthly
    // partitions instead (docs/scale-out.md) and the other PostgreSQL tables are not pruned yet.
    if (!pgdb) await this.run(this.retention);
    // What the database costs (/metrics, the admin page) and backups from the admin page.
    const days = { readingsDays: config.PARKOPS_RETENTION_DAYS, eventsDays: config.PARKOPS_RETENTION_EVENTS_DAYS, notifyBodyDays: config.PARKOPS_RETENTION_NOTIFY_BODY_DAYS };
    this.storage = new StorageStats({ dataDir: config.dataDir, retention: this.store.retention(), days, log, metrics });
    await this.run(this.storage);
    this.http.useApi(opsRouter({ db, dataDir: config.dataDir, stats: this.storage, guard, audit: (e) => this.auth.audit(e), log }));
    if (config.PARKOPS_NODE_RED && !pgdb) await this.startNodeRed();
    await this.run(this.http);
    if (config.PARKOPS_CAP_FEED_URL) {
      await this.run(new FeedPoller({ url: config.PARKOPS_CAP_FEED_URL, intervalMs: config.PARKOPS_CAP_FEED_INTERVAL_SEC * 1000, warnings: this.warnings, log: log.child({ module: 'cap-feed' }), metrics }));
    }

    const onMessage = (topic: string, payload: Buffer, receivedAt: number, ack: (err?: Error) => void, replayed?: boolean): void => {
      // Warnings (CAP XML) on ParkOps' own topic go to the warnings module; everything else is device input.
      if (topics.isWarning(topic)) return this.onWarningMessage(topic, payload, receivedAt, ack);
      this.ingest.enqueue(topic, payload, receivedAt, ack, replayed);
    };
    // Uplinks come on ParkOps' broker unless LORAWAN_MQTT_URL names the network server's.
    const uplinksHere = config.LORAWAN_MQTT_URL === undefined;
    this.mqtt = config.MQTT_URL
      ? new MqttClientLink({
          url: config.MQTT_URL,
          clientId: config.MQTT_CLIENT_ID,
          topics,
          bus,
          log,
          onMessage,
          window: config.MQTT_INGEST_WINDOW,
          connections: config.MQTT_CONNECTIONS,
          filters: [topics.deviceSubscription, ...(uplinksHere ? uplinkTopics.subscriptions : [])],
        })
      : new EmbeddedBroker({
          port: config.MQTT_PORT,
          host: config.MQTT_BIND,
          topics,
          bus,
          log,
          onMessage,
          auth: config.MQTT_PASSWORD_FILE ? loadBrokerAuth(config.MQTT_PASSWORD_FILE, config.MQTT_ACL_FILE) : undefined,
          accepts: uplinksHere ? (topic) => uplinkTopics.parse(topic) !== null : undefined,
        });
    // The network servers' broker (LORAWAN_MQTT_URL), when it is not ParkOps' own: taken like the device broker (on the leader only).
    if (config.LORAWAN_MQTT_URL !== undefined && uplinkTopics.subscriptions.length > 0) {
      this.lorawan = new MqttClientLink({
        name: 'mqtt-lorawan',
        setting: 'LORAWAN_MQTT_URL',
        url: config.LORAWAN_MQTT_URL,
        clientId: config.LORAWAN_MQTT_CLIENT_ID,
        topics,
        bus,
        log: log.child({ link: 'lorawan' }),
        onMessage,
        filters: uplinkTopics.subscriptions,
        announce: false,
      });
    }
    this.ingest.publisher = this.publisher;
    if (pgdb) {
      await this.startCluster(pgdb);
      log.info({ site: site.name, store: this.store.kind, role: this.role() }, 'ParkOps started (one of several processes on PostgreSQL)');
      return;
    }
    // The alert engine starts before messages flow; what it republishes at start waits for MQTT.
    await this.run(this.alerts);
    // After the engine (it raises the storm-mode alert there) and before messages flow.
    await this.run(this.storm);
    await this.run(this.mqtt);
    this.mqttReady = true;
    for (const send of this.beforeMqtt.splice(0)) send();
    if (this.lorawan) await this.run(this.lorawan);
    metrics.add(new Gauge('parkops_mqtt_connected', 'MQTT link up (1) or down (0)', () => (this.mqtt.connected ? 1 : 0)));

    if (config.PARKOPS_SIMULATE) await this.startSimulators();
    // After the simulators: their Modbus server (for a site whose devices poll 127.0.0.1) is up by now.
    if (site.rooms.some((r) => r.levels.some((l) => l.modbus) || r.pumps.some((p) => p.modbus))) await this.startModbus();
    log.info({ site: site.name, store: this.store.kind, mqtt: this.mqtt.describe() }, 'ParkOps started');
  }

  role(): Role | undefined {
    return this.election?.role;
  }

  /**
   * Several processes on PostgreSQL: every process serves HTTP and follows the database; the one that
   * wins the lease (ha/leader.ts) also runs the alert engine and notifications and, last, connects to
   * the broker with the fixed client id and a persistent session (clean=false), so it takes over the
   * session and every message the previous leader had not acknowledged. A leader that loses the lease
   * stops those at once and `onDeposed` ends the process; it comes back (restarted) as a standby.
   */
  private async startCluster(pgdb: PgDatabase): Promise<void> {
    const { config, log } = this;
    this.alerts.ackForwarder = (id, by, note) => this.cluster!.requestAck(id, by, note);
    this.cluster = new ClusterLink({
      url: config.PARKOPS_DATABASE_URL!,
      db: pgdb,
      bus: this.bus,
      log: log.child({ module: 'cluster' }),
      role: () => this.election?.role ?? 'standby',
      followAlerts: () => this.alerts.follow(),
      followLive: () => this.live.load(),
      // The leader translates uplinks: only the bindings (its counters may be ahead of the stored ones).
      followDevices: () => (this.election?.role === 'leader' ? this.devices.followBindings() : this.devices.reload()),
      applyAck: async (id, by, note) => {
        const alert = await this.alerts.acknowledge(id, by, note);
        // Stored, not just applied in memory (a fenced write may have been refused).
        const stored = await this.alerts.get(id);
        if (!stored?.ackedAt) throw new Error('the acknowledgement could not be stored');
        return alert;
      },
    });
    await this.run(this.cluster);
    this.election = new LeaderElection({
      db: pgdb,
      log: log.child({ module: 'leader' }),
      onElected: async (epoch) => {
        const t0 = performance.now();
        this.alerts.ackForwarder = null;
        await this.live.load();
        // Before uplinks flow: the counter totals and telemetry the previous leader stored.
        await this.devices.reload();
        // The storm service raises its storm-mode alert through the engine: leader-only like the engine.
        for (const m of [this.alerts, this.storm, this.notifier, this.mqtt, ...(this.lorawan ? [this.lorawan] : [])] as Module[]) {
          await m.start();
          this.leaderModules.push(m);
        }
        this.mqttReady = true;
        for (const send of this.beforeMqtt.splice(0)) send();
        this.cluster?.elected();
        if (config.PARKOPS_NODE_RED) await this.startNodeRed();
        if (config.PARKOPS_SIMULATE) await this.startSimulators();
        if (this.site.rooms.some((r) => r.levels.some((l) => l.modbus) || r.pumps.some((p) => p.modbus))) await this.startModbus();
        log.info({ epoch, ms: Math.round(performance.now() - t0) }, 'leader: alert engine, notifications and the device broker started');
      },
      onLost: (why) => {
        // Stop taking device messages first (their PUBACKs stop with the connection), then the rest.
        // Each stop is bounded: a module waiting on the database (which may be what is gone) must not
        // keep this process acting. MQTT goes first, so no PUBACK leaves after this point.
        const modules = this.leaderModules.splice(0).reverse();
        const bounded = (m: Module, ms: number): Promise<void> =>
          Promise.race([m.stop().catch((err: unknown) => log.error({ module: m.name, err }, 'module failed to stop after the lease was lost')), new Promise<void>((r) => setTimeout(r, ms).unref())]);
        void (async () => {
          for (const m of modules) await bounded(m, m === this.mqtt ? 1000 : 500);
          this.onDeposed(why);
        })();
      },
    });
    await this.run(this.election);
  }

  /** Lines for the person who started ParkOps (printed by main.ts): what to set up next. */
  startupNotes(): string[] {
    const notice = this.notifier?.startupNotice();
    return notice ? [notice] : [];
  }

  /** `{prefix}/warnings/{source}`: a bad source is rejected like a bad device topic, a good one handed to the warnings module. */
  private onWarningMessage(topic: string, payload: Buffer, receivedAt: number, ack: (err?: Error) => void): void {
    const parsed = this.topics.parse(topic);
    if (parsed.kind !== 'warning') {
      // Ingest rejects it with the reason (unknown_topic) on park/rejected.
      this.ingest.enqueue(topic, payload, receivedAt, ack);
      return;
    }
    this.warnings.receiveMqtt(topic, payload, receivedAt, ack);
  }

  private async influxStore(): Promise<TimeSeriesStore> {
    const { InfluxStore } = await import('./store/influx-store.ts');
    const { config, site, db, log } = this;
    return new InfluxStore({ db, site, url: config.INFLUX_URL!, database: config.INFLUX_DATABASE!, token: config.INFLUX_TOKEN, retentionDays: config.PARKOPS_RETENTION_DAYS, log: log.child({ module: 'influx' }) });
  }

  /** Node-RED is loaded only when enabled: it adds about 50 MB and a second to start. */
  private async startNodeRed(): Promise<void> {
    const { NodeRedModule, ADMIN_ROOT } = await import('./nodered/index.ts');
    const { config, log, bus, site } = this;
    const gate = new EditorGate(this.auth, { editorRoot: ADMIN_ROOT });
    const nodeRed = new NodeRedModule({
      app: this.http.app,
      server: this.http.server,
      config,
      log,
      bus,
      site,
      notifier: this.notifier,
      alerts: this.alerts,
      editorGate: gate.handler(),
      editorAuth: gate.ports(),
    });
    await this.run(nodeRed);
  }

  /** Loaded only when the site file has Modbus devices. */
  private async startModbus(): Promise<void> {
    const { ModbusModule } = await import('./modbus/index.ts');
    const { config, site, log, topics, metrics } = this;
    await this.run(new ModbusModule({ site, topics, sink: this.ingest, log, metrics, timeoutMs: config.PARKOPS_MODBUS_TIMEOUT_MS, retryMaxMs: config.PARKOPS_MODBUS_RETRY_MAX_SEC * 1000 }));
  }

  private async startSimulators(): Promise<void> {
    const { config, site, log } = this;
    const url = config.MQTT_URL ?? `mqtt://127.0.0.1:${(this.mqtt as EmbeddedBroker).address.port}`;
    const sim = (await import('@parkops/simulators')) as {
      startSimulators: (o: object) => Promise<{ stop(): Promise<void> }>;
      demoPlan: (s: Site) => Array<{ deviceId: string; devEui: string; codec: string; params: Record<string, unknown> }>;
    };
    // PARKOPS_SIM_LORAWAN=chirpstack: part of the park speaks as a ChirpStack network server; the
    // bindings it needs are made here, where none exist yet (docs/devices.md).
    let lorawan: { plan: ReturnType<typeof sim.demoPlan>; mqttUrl: string | undefined } | undefined;
    if (config.PARKOPS_SIM_LORAWAN === 'chirpstack') {
      const plan = sim.demoPlan(site);
      const seeded = await this.devices.seedBindings('simulator', plan);
      log.info({ module: 'simulators', devices: plan.length, bindingsCreated: seeded }, 'simulated LoRaWAN devices speak as ChirpStack v4');
      lorawan = { plan, mqttUrl: config.LORAWAN_MQTT_URL };
    }
    const running = await sim.startSimulators({
      lorawan,
      mqttUrl: url,
      site,
      prefix: config.MQTT_TOPIC_PREFIX,
      seed: config.PARKOPS_SIM_SEED,
      speed: config.PARKOPS_SIM_SPEED,
      // Faster than real time only makes sense from the past: catch up to now at that speed, then live.
      from: config.PARKOPS_SIM_SPEED > 1 ? Date.now() - config.PARKOPS_SIM_CATCH_UP_HOURS * 3_600_000 : undefined,
      scenarios: config.PARKOPS_SIM_SCENARIOS?.split(',').map((s) => s.trim()).filter(Boolean),
      log: (obj: object, msg: string) => log.info({ module: 'simulators', ...obj }, msg),
    });
    this.started.push({ name: 'simulators', start: async () => undefined, stop: () => running.stop() });
  }

  async health(): Promise<HealthResponse> {
    const store = this.store ? await this.store.health() : { ok: false, detail: 'starting' };
    const mqttOk = this.mqtt?.connected ?? false;
    const problems: string[] = [];
    if (!mqttOk) problems.push(`mqtt: ${this.mqtt?.describe() ?? 'starting'}`);
    if (!store.ok) problems.push(`store: ${store.detail}`);
    if (this.lorawan && !this.lorawan.connected) problems.push(`lorawan mqtt: ${this.lorawan.describe()}`);
    const role = this.election?.role;
    // A standby is not connected to the broker by design: the leader takes the device messages.
    if (role === 'standby' && !mqttOk) problems.splice(problems.findIndex((p) => p.startsWith('mqtt:')), 1);
    const mqttText = role === 'standby' ? 'standby (the leader takes the device messages)' : (this.mqtt?.describe() ?? 'starting');
    const h: HealthResponse = { status: problems.length === 0 ? 'ok' : 'degraded', mqtt: mqttText, store: store.detail };
    if (role !== undefined) h.role = role;
    // What an operator should fix but does not stop the store (a retention policy that disagrees with
    // the setting) is said, without degrading the status.
    for (const p of store.problems ?? []) problems.push(`store: ${p}`);
    // No channel is a warning, not an outage: the status stays ok (a load balancer must not drop a
    // working ParkOps), the problem line and `notifications.channels: 0` say it.
    if (this.notifier) {
      const n = this.notifier.channelSummary();
      h.notifications = n;
      if (n.channels === 0) problems.push(`notifications: ${NO_CHANNEL_HINT}`);
    }
    if (problems.length > 0) h.problems = problems;
    if (store.outbox) h.outbox = { depth: store.outbox.depth, oldestAgeSec: store.outbox.oldestAgeSec };
    return h;
  }

  async snapshot(): Promise<StreamSnapshot> {
    const warnings = await this.warnings.inForceNow();
    const now = Date.now();
    return {
      parking: this.live.parking(now),
      flood: this.flood.rooms(),
      venues: this.live.venuesView(now),
      alerts: this.alerts.active(),
      serverTime: new Date(now).toISOString(),
      warnings,
      site: { timezone: this.site.timezone, language: this.site.language },
    };
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // The leader's modules stop before the election hands the lease on (stop order: reverse of start).
    for (const m of [...this.leaderModules.splice(0).reverse(), ...this.started.reverse()]) {
      try {
        await m.stop();
      } catch (err) {
        this.log.error({ module: m.name, err }, 'module failed to stop cleanly');
      }
    }
    this.db.close();
    this.releasePid();
    await this.pg?.pool.end().catch(() => undefined);
  }
}
