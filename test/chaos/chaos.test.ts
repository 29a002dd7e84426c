/**
 * Chaos: a numbered stream of QoS 1 bay readings (reading i has ts = base + i, so the
 * total is known exactly) goes through Mosquitto, started with the project's mosquitto.conf
 * (persistence, max_queued_messages 500000, accounts and ACL), into ParkOps. While it runs, a seeded
 * random schedule injects:
 *   - SIGKILL of the ParkOps process, three times, each followed by a restart;
 *   - one graceful Mosquitto restart (the persistent sessions and their queues survive it);
 *   - a full disk under the SQLite file (its data folder sits on a small tmpfs that is filled to the
 *     last byte for 8 s, then freed): commits fail, messages stay unacknowledged and are redelivered;
 *   - with PARKOPS_STORE=influxdb, InfluxDB stopped for 10 s (readings wait in the SQLite outbox).
 * Afterwards every reading the publisher had acknowledged from the broker is stored exactly once, in
 * SQLite or in InfluxDB. Alerts open before each kill (a flood alert acknowledged, a venue alert
 * firing) are open after the restart, with the same id, state and severity.
 *
 * Bounded for CI (about a minute per store mode). CHAOS_LONG=1 runs a longer stream with the faults three times over;
 * CHAOS_SEED=<n> replays a schedule (the seed is printed, and named in every failure).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site/index.ts';
import { startInfluxd, type InfluxdServer } from '../harness/influxd.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { connect, eventually } from '../support/mqtt.ts';
import {
  compareStored,
  influxBayIndexes,
  metricSum,
  numberedStream,
  prng,
  ranges,
  scrapeMetrics,
  sleep,
  smallDisk,
  startProjectMosquitto,
  storedBayIndexes,
  type ProjectMosquitto,
  type SmallDisk,
} from './support.ts';

const LONG = process.env.CHAOS_LONG === '1';
const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TOTAL = LONG ? 60_000 : 10_000;
const RATE = LONG ? 400 : 250; // msg/s: the stream outlasts the faults, whatever the schedule
const ROUNDS = LONG ? 3 : 1;
const DISK_FULL_MS = 8_000;
const INFLUX_DOWN_MS = 10_000;

type Fault = 'kill-ingest' | 'restart-mosquitto' | 'disk-full' | 'stop-influxdb';
type StoreMode = 'sqlite' | 'influxdb';

interface AlertView {
  id: string;
  rule: string;
  subject: string;
  state: string;
  severity: string;
}

const site = loadSite();
const bays = site.bays.map((b) => b.id);
const room = site.rooms[0]!;

describe.each<StoreMode>(['sqlite', 'influxdb'])('chaos: PARKOPS_STORE=%s through Mosquitto', (mode) => {
  let mosq: ProjectMosquitto | undefined;
  let sys: ParkOpsProcess | undefined;
  let disk: SmallDisk | undefined;
  let influx: InfluxdServer | undefined;
  afterAll(async () => {
    disk?.free();
    await sys?.stop();
    await mosq?.stop();
    await influx?.destroy();
    disk?.remove();
  });

  it(`stores every acknowledged reading exactly once through ingest kills, a broker restart, a full disk${mode === 'influxdb' ? ' and an InfluxDB outage' : ''} (seed ${SEED})`, async (ctx) => {
    ctx.onTestFailed(() => {
      const c = sys?.child;
      console.log(`ParkOps ${c && (c.exitCode !== null || c.signalCode !== null) ? `exited (${c.exitCode ?? c.signalCode})` : 'running'}; its last output:\n${sys?.output().slice(-6000)}`);
    });
    const log: string[] = [];
    const note = (s: string): void => {
      log.push(`${new Date().toISOString().slice(11, 23)} ${s}`);
    };
    const context = (): string => `seed ${SEED} (replay with CHAOS_SEED=${SEED})\n${log.join('\n')}`;

    disk = smallDisk(96);
    mosq = await startProjectMosquitto();
    // One connection, not the default $share group of 4: Mosquitto 2.0.11 restores a shared
    // subscription from persistence in a state that delivers nothing, so a broker restart loses
    // acknowledged readings (shared-subscription.test.ts shows it; reported in docs/reliability.md).
    const connections = process.env.CHAOS_MQTT_CONNECTIONS ?? '1';
    if (mode === 'influxdb') influx = await startInfluxd();
    const storeEnv: Record<string, string> = influx ? { PARKOPS_STORE: 'influxdb', INFLUX_URL: influx.url, INFLUX_DATABASE: influx.database } : {};
    sys = await startParkOps({ dataDir: disk.dir, env: { MQTT_URL: mosq.urlFor('parkops-ingest'), PARKOPS_NODE_RED: 'false', MQTT_CONNECTIONS: connections, ...storeEnv } });
    let api: Api = await adminApi(sys);

    // The schedule: each round's faults shuffled, at random points of the stream, one at a time.
    const rnd = prng(SEED);
    const faults: Array<{ at: number; fault: Fault }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const kinds: Fault[] = ['kill-ingest', 'kill-ingest', 'kill-ingest', 'restart-mosquitto', 'disk-full', ...(mode === 'influxdb' ? (['stop-influxdb'] as const) : [])];
      const lo = round / ROUNDS;
      for (const fault of kinds) faults.push({ at: Math.floor(TOTAL * (lo + (0.05 + 0.7 * rnd()) / ROUNDS)), fault });
    }
    faults.sort((a, b) => a.at - b.at);
    note(`MQTT_CONNECTIONS=${connections}`);
    note(`schedule: ${faults.map((f) => `${f.fault}@${f.at}`).join(', ')}`);
    if (disk.unavailable) note(`disk-full cannot be injected here: ${disk.unavailable}`);

    // Flood levels at the critical band on both sensors of a room, kept fresh while the stream runs:
    // the engine opens a flood.level alert per sensor at once; one is acknowledged, one left firing.
    const flood = await connect(mosq.urlFor('flood-devices'), { clientId: 'chaos-flood', clean: false, reconnectPeriod: 100 });
    const critical = room.bands.criticalMm + 100;
    const publishLevels = (): void => {
      for (const l of room.levels) flood.publish(`park/flood/${room.id}/levels/${l.id}`, JSON.stringify({ mm: critical, ts: Date.now() }), { qos: 1 });
    };
    publishLevels();
    const levelTicker = setInterval(publishLevels, 5_000);
    // A venue over its safe capacity: a warning left firing (the level alert gets acknowledged).
    const venue = site.venues[0]!;
    const counter = await connect(mosq.urlFor('venue-devices'), { clientId: 'chaos-venue' });
    await counter.publishAsync(`park/venues/${venue.id}/counts`, JSON.stringify({ in: venue.capacity + 10, out: 0, ts: Date.now() }), { qos: 1 });
    await counter.endAsync();

    const alertsAvailable = (await api.get('/api/alerts')).status !== 404;
    // Alerts of this room that stay as they are while the level stays critical and the pumps silent.
    const tracked = async (): Promise<AlertView[]> => {
      let res = await api.get<AlertView[]>('/api/alerts?state=active');
      if (res.status === 401) {
        api = await adminApi(sys!);
        res = await api.get<AlertView[]>('/api/alerts?state=active');
      }
      if (res.status !== 200) throw new Error(`GET /api/alerts answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body
        .filter((a) => (a.rule === 'flood.level' && a.subject.startsWith(`flood/${room.id}/`)) || (a.rule === 'venue.over-capacity' && a.subject === `venues/${venue.id}`))
        .map(({ id, rule, subject, state, severity }) => ({ id, rule, subject, state, severity }))
        .sort((a, b) => a.id.localeCompare(b.id));
    };
    if (alertsAvailable) {
      const level = await eventually(async () => (await tracked()).find((a) => a.rule === 'flood.level'), 20_000, 'a flood.level alert');
      await eventually(async () => (await tracked()).some((a) => a.rule === 'venue.over-capacity'), 20_000, 'a venue.over-capacity alert');
      const ack = await api.post(`/api/alerts/${encodeURIComponent(level.id)}/ack`, { note: 'chaos test' });
      expect(ack.status, JSON.stringify(ack.body)).toBe(200);
      note(`alerts: ${level.id} (${level.rule}, ${level.severity}) opened and acknowledged; a venue.over-capacity alert left firing`);
    } else {
      note('alerts: GET /api/alerts answered 404 (the alert engine is not wired into this build): alert survival not checked');
    }
    /** Every alert open before a kill is open after the restart, with the same id, state and severity. */
    const sameAfterRestart = (before: AlertView[], after: AlertView[]): string[] =>
      before.filter((b) => !after.some((a) => a.id === b.id && a.state === b.state && a.severity === b.severity)).map((b) => `${b.id} ${b.rule} ${b.state}/${b.severity}`);

    const base = Date.now() - 6 * 3_600_000;
    const stream = await numberedStream({
      url: mosq.urlFor('parking-devices'),
      clientId: 'chaos-publisher',
      total: TOTAL,
      rate: RATE,
      message: (i) => ({ topic: `park/parking/bays/${bays[i % bays.length]}`, payload: JSON.stringify({ occupied: i % 3 === 0, ts: base + i }) }),
    });

    const alertChecks: string[] = [];
    const injected: Record<Fault, number> = { 'kill-ingest': 0, 'restart-mosquitto': 0, 'disk-full': 0, 'stop-influxdb': 0 };
    let storeErrorsSeen = 0;
    for (const { at, fault } of faults) {
      while (stream.sent() < at) await Promise.race([sleep(20), stream.done]);
      const progress = `sent ${stream.sent()}, acked ${stream.acked.size}`;
      switch (fault) {
        case 'kill-ingest': {
          const before = alertsAvailable ? await tracked() : [];
          await sys.kill();
          note(`SIGKILL ParkOps (${progress})`);
          await sys.restart();
          note(`ParkOps restarted (pid ${sys.child.pid})`);
          if (process.env.CHAOS_DEBUG) note((await fetch(`${sys.baseUrl}/api/health`).then((r) => r.text())) + sys.output().slice(-2000));
          if (alertsAvailable) {
            const after = await tracked();
            expect(sameAfterRestart(before, after), `alerts open before kill ${injected['kill-ingest'] + 1} and not the same after it\n${context()}`).toEqual([]);
            alertChecks.push(`kill ${injected['kill-ingest'] + 1}: ${before.length} open alerts (${before.map((a) => a.state).join(', ')}) unchanged`);
          }
          break;
        }
        case 'restart-mosquitto':
          await mosq.broker.restart();
          note(`Mosquitto restarted gracefully (${progress})`);
          break;
        case 'stop-influxdb': {
          await influx!.stop();
          note(`InfluxDB stopped (${progress})`);
          await sleep(INFLUX_DOWN_MS);
          await influx!.start();
          note(`InfluxDB started again after ${INFLUX_DOWN_MS / 1000} s (sent ${stream.sent()}, acked ${stream.acked.size})`);
          break;
        }
        case 'disk-full': {
          if (disk.unavailable) {
            note(`disk-full skipped: ${disk.unavailable}`);
            continue;
          }
          const errorsBefore = metricSum(await scrapeMetrics(sys.baseUrl), 'parkops_store_errors_total');
          const bytes = disk.fill();
          note(`disk full: ${Math.round(bytes / 1048576)} MiB filler (${progress})`);
          await sleep(DISK_FULL_MS);
          const errorsDuring = metricSum(await scrapeMetrics(sys.baseUrl), 'parkops_store_errors_total') - errorsBefore;
          storeErrorsSeen += errorsDuring;
          disk.free();
          // SQLite reuses the WAL after a checkpoint and the free pages of drained outbox rows, so a full
          // disk does not always make a commit fail within the window: then it is noted, not counted.
          note(`disk freed after ${DISK_FULL_MS / 1000} s; ${errorsDuring} failed commits meanwhile (${`sent ${stream.sent()}, acked ${stream.acked.size}`})${errorsDuring === 0 ? ': the database found room in its WAL and free pages, so the fault did not bite this time' : ''}`);
          if (errorsDuring === 0) continue;
          break;
        }
      }
      injected[fault]++;
    }

    await stream.done;
    note(`publisher: all ${TOTAL} readings acknowledged by the broker`);
    clearInterval(levelTicker);
    await Promise.all([stream.close(), flood.endAsync()]);

    // Readings queued in Mosquitto while ParkOps was down or failing arrive over the next seconds.
    // In InfluxDB mode they then drain from the outbox.
    const dir = sys.dataDir;
    const storedNow = (): Promise<Map<number, number>> | Map<number, number> => (influx ? influxBayIndexes(influx.url, influx.database, base, TOTAL) : storedBayIndexes(dir, base, TOTAL));
    await eventually(async () => (await storedNow()).size >= stream.acked.size, 90_000, `all ${stream.acked.size} acknowledged readings stored\n${context()}`).catch(() => undefined);
    const stored = await storedNow();
    const { missing, duplicated } = compareStored(stream.acked, stored);
    const metrics = await scrapeMetrics(sys.baseUrl);
    note(
      `result: ${stream.acked.size} acknowledged, ${stored.size} stored, ${missing.length} missing, ${duplicated.length} duplicated; ` +
        `${metricSum(metrics, 'parkops_messages_duplicate_total')} redeliveries recognised as duplicates since the last restart, ${storeErrorsSeen} failed commits under a full disk`,
    );
    console.log(
      `chaos (PARKOPS_STORE=${mode}, Mosquitto) seed ${SEED}: injected ${injected['kill-ingest']}× SIGKILL, ${injected['restart-mosquitto']}× Mosquitto restart, ${injected['disk-full']}× disk full, ${injected['stop-influxdb']}× InfluxDB stopped ${INFLUX_DOWN_MS / 1000} s` +
        `${alertChecks.length > 0 ? `; ${alertChecks.join('; ')}` : ''}\n${log.join('\n')}`,
    );
    expect(
      { missing: ranges(missing), duplicated: duplicated.map(([i, n]) => `${i}×${n}`).slice(0, 30) },
      `acknowledged readings missing or stored more than once (by index i, ts = base + i)\n${context()}`,
    ).toEqual({ missing: '', duplicated: [] });
    expect(injected['kill-ingest']).toBe(3 * ROUNDS);
    expect(injected['restart-mosquitto']).toBe(ROUNDS);
    expect(injected['stop-influxdb']).toBe(mode === 'influxdb' ? ROUNDS : 0);
    // The last fault may have been a Mosquitto restart: the MQTT link can still be reconnecting (1 s
    // reconnect period, then the session resumes). Health must recover within a bound; a health that
    // never recovers is the failure.
    let lastHealth = '';
    const { baseUrl } = sys;
    const recovered = await eventually(
      async () => {
        const res = await fetch(`${baseUrl}/api/health`);
        lastHealth = `${res.status} ${await res.text()}`;
        return res.status === 200;
      },
      30_000,
      'health to recover',
    ).catch(() => false);
    expect(recovered, `/api/health did not recover within 30 s after the last fault: ${lastHealth}\n${context()}`).toBe(true);
  });
});
