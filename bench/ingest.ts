/**
 * Ingest rate: QoS 1 through a real Mosquitto on loopback, the same 200,000-reading stream, mixed as
 * a real site sends it, for
 *   (a) ParkOps on SQLite (ack after durable commit), one connection (the default) and a `$share`
 *       group of 4, with synchronous=FULL (the default) and NORMAL,
 *   (b) ParkOps on InfluxDB through the durable outbox,
 *   (c) the limit: a no-op MQTT.js subscriber that acknowledges at once,
 *   (d) the usual alternative: Node-RED `mqtt in` -> JSON -> function -> node-red-contrib-influxdb out,
 *   (e) the embedded broker: devices publishing straight into ParkOps' aedes (commit inside
 *       `authorizePublish`, before the PUBACK) against the same aedes with no ingest.
 * Mosquitto runs with the deployment's max_inflight_messages and queue settings (root mosquitto.conf).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { startInfluxd } from '../test/harness/influxd.ts';
import { deploymentBrokerSettings, startMosquitto, type MosquittoServer } from '../test/harness/mosquitto.ts';
import { freePort } from '../test/harness/ports.ts';
import { startParkOps } from '../test/harness/system.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { publishAll } from './lib/publish.ts';
import { siteStream } from './lib/stream.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

export interface IngestResult {
  name: string;
  messages: number;
  ms: number;
  rate: number;
  note?: string;
}

/** The better of `runs` measurements of one setup, with every figure kept for the detail column. */
function best(runs: IngestResult[]): IngestResult {
  const top = runs.reduce((a, b) => (b.rate > a.rate ? b : a));
  const note = runs.length > 1 ? `best of ${runs.length}: ${runs.map((r) => r.rate.toLocaleString('en-US')).join(', ')} msg/s` : undefined;
  return { ...top, ...(note || top.note ? { note: [top.note, note].filter(Boolean).join('; ') } : {}) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function acceptedCount(baseUrl: string): Promise<number> {
  const m = await (await fetch(`${baseUrl}/metrics`)).text();
  return [...m.matchAll(/^parkops_messages_accepted_total\{kind="\w+"\} (\d+)/gm)].reduce((s, x) => s + Number(x[1]), 0);
}

async function influxCount(url: string, db: string, query: string): Promise<number> {
  const res = await fetch(`${url}/query?db=${db}&q=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { results: Array<{ series?: Array<{ values: unknown[][] }> }> };
  let n = 0;
  for (const s of body.results[0]?.series ?? []) for (const v of s.values) n += Number(v[1] ?? 0);
  return n;
}

async function childOutput(args: string[], until: RegExp): Promise<{ match: RegExpExecArray; kill(): void }> {
  const child = spawn(TSX, [join(ROOT, 'bench', 'lib', 'noop-subscriber.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const deadline = Date.now() + 600_000;
  while (!until.test(out)) {
    if (child.exitCode !== null && !until.test(out)) throw new Error(`no-op subscriber exited: ${out}`);
    if (Date.now() > deadline) throw new Error('no-op subscriber timed out');
    await sleep(10);
  }
  return { match: until.exec(out)!, kill: () => child.kill() };
}

/**
 * Ends the persistent sessions a run made (a clean-session CONNECT with the same client id discards
 * them [MQTT-3.1.2-6]). Otherwise every later run's stream is queued for them too, and the broker
 * carries millions of copies that slow every later row (and its persistence autosave).
 */
async function forgetSessions(url: string, clientIds: string[]): Promise<void> {
  for (const clientId of clientIds) {
    const c = mqtt.connect(url, { clientId, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    await c.endAsync();
  }
}

/**
 * (c) the limit, measured as ParkOps is: the stream waits in the broker for a persistent session,
 * then the subscriber connects and drains it. Rate = messages / (first to last message). Queuing first
 * keeps the publisher (on the same two cores) from setting the pace of both.
 */
async function noop(mosq: MosquittoServer, n: number, connections: number, startTs: number): Promise<IngestResult> {
  const site = loadSite();
  await childOutput([mosq.url, 'prepare', String(connections)], /prepared/);
  await publishAll(mosq.url, siteStream(site, n, { startTs }));
  const { match } = await childOutput([mosq.url, 'drain', String(connections), String(n)], /done (\d+) (\d+)/);
  await forgetSessions(
    mosq.url,
    Array.from({ length: connections }, (_, i) => `bench-noop-${connections}-${i}`),
  );
  const ms = Number(match[2]) - Number(match[1]);
  return { name: `(c) no-op subscriber, ${connections} connection${connections > 1 ? 's' : ''}`, messages: n, ms, rate: Math.round(n / (ms / 1000)) };
}

/** (a) and (b): ParkOps as `npm start` runs it, against the external Mosquitto, draining the same queued stream. */
async function parkops(
  mosq: MosquittoServer,
  n: number,
  store: 'sqlite' | 'influxdb',
  startTs: number,
  connections: number,
  opts: { influx?: { url: string; database: string }; sync?: 'normal' | 'full' } = {},
): Promise<IngestResult[]> {
  const site = loadSite();
  const { influx, sync = 'full' } = opts;
  const env: Record<string, string> = {
    MQTT_URL: mosq.url,
    PARKOPS_NODE_RED: 'false',
    MQTT_CLIENT_ID: `bench-${store}-${connections}-${sync}`,
    MQTT_CONNECTIONS: String(connections),
    PARKOPS_STORE: store,
    PARKOPS_SQLITE_SYNC: sync,
  };
  if (influx) Object.assign(env, { INFLUX_URL: influx.url, INFLUX_DATABASE: influx.database });
  const sys = await startParkOps({ env });
  try {
    // First start made the persistent sessions; stop, queue the stream, start and time the drain.
    sys.child.kill('SIGTERM');
    while (sys.child.exitCode === null && sys.child.signalCode === null) await sleep(20);
    await publishAll(mosq.url, siteStream(site, n, { startTs }));
    let tFirst = 0;
    let tLast = 0;
    const restarting = sys.restart();
    for (;;) {
      const count = await acceptedCount(sys.baseUrl).catch(() => 0);
      if (count > 0 && tFirst === 0) tFirst = Date.now();
      if (count >= n) {
        tLast = Date.now();
        break;
      }
      // Each poll renders /metrics inside ParkOps; every 20 ms costs it about 1% and bounds the timing error alike.
      await sleep(20);
    }
    await restarting;
    const ms = tLast - tFirst;
    const label = store === 'sqlite' ? '(a) ParkOps on SQLite' : '(b) ParkOps on InfluxDB, outbox has taken all';
    const syncNote = sync === 'full' ? '' : ', synchronous=NORMAL';
    const results: IngestResult[] = [{ name: `${label}, ${connections} connection${connections > 1 ? 's' : ''}${syncNote}`, messages: n, ms, rate: Math.round(n / (ms / 1000)) }];
    if (influx) {
      while ((await influxReadings(influx.url, influx.database, startTs)) < n) await sleep(50);
      const ms2 = Date.now() - tFirst;
      results.push({ name: `(b) ParkOps on InfluxDB, InfluxDB has all`, messages: n, ms: ms2, rate: Math.round(n / (ms2 / 1000)) });
    }
    return results;
  } finally {
    await sys.stop();
    const id = env.MQTT_CLIENT_ID!;
    await forgetSessions(mosq.url, [id, ...Array.from({ length: connections - 1 }, (_, i) => `${id}-${i + 1}`)]);
  }
}

/** Points ParkOps wrote at or after `since` across its measurements (one point per reading). */
async function influxReadings(url: string, db: string, since: number): Promise<number> {
  const res = await fetch(`${url}/query?db=${db}&q=${encodeURIComponent('SHOW MEASUREMENTS')}`);
  const body = (await res.json()) as { results: Array<{ series?: Array<{ values: string[][] }> }> };
  const names = (body.results[0]?.series?.[0]?.values ?? []).map((v) => v[0]!);
  let total = 0;
  for (const m of names) {
    const fields = await fetch(`${url}/query?db=${db}&q=${encodeURIComponent(`SHOW FIELD KEYS FROM "${m}"`)}`);
    const fb = (await fields.json()) as { results: Array<{ series?: Array<{ values: string[][] }> }> };
    const first = fb.results[0]?.series?.[0]?.values?.[0]?.[0];
    if (!first) continue;
    total += await influxCount(url, db, `SELECT count("${first}") FROM "${m}" WHERE time >= ${since}ms`);
  }
  return total;
}

/** (d) the usual alternative: a Node-RED flow writing each message to InfluxDB. */
async function nodeRedFlow(mosq: MosquittoServer, n: number, influx: { url: string; database: string }, startTs: number): Promise<IngestResult> {
  const site = loadSite();
  const dir = mkdtempSync(join(tmpdir(), 'bench-nodered-'));
  const port = await freePort();
  const influxPort = new URL(influx.url).port;
  const broker = new URL(mosq.url);
  const flows = [
    { id: 'f0a1', type: 'tab', label: 'bench' },
    { id: 'c0b1', type: 'mqtt-broker', name: 'mosquitto', broker: broker.hostname, port: broker.port, clientid: 'bench-nodered', usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
    { id: 'n0i1', type: 'mqtt in', z: 'f0a1', name: '', topic: 'park/#', qos: '1', datatype: 'utf8', broker: 'c0b1', nl: false, rap: false, inputs: 0, wires: [['n0j1']] },
    { id: 'n0j1', type: 'json', z: 'f0a1', property: 'payload', action: 'obj', pretty: false, wires: [['n0f1']] },
    {
      id: 'n0f1',
      type: 'function',
      z: 'f0a1',
      // Tags keep readings of different devices apart; `time` is the device time.
      func: "const p = msg.payload; if (typeof p !== 'object' || p === null) return null; const fields = { ...p }; fields.time = new Date(p.ts ?? Date.now()); msg.measurement = 'nodered_readings'; msg.payload = [fields, { topic: msg.topic }]; return msg;",
      outputs: 1,
      wires: [['n0o1']],
    },
    { id: 'c0i1', type: 'influxdb', hostname: '127.0.0.1', port: influxPort, protocol: 'http', database: influx.database, name: 'bench influxdb', usetls: false, influxdbVersion: '1.x' },
    { id: 'n0o1', type: 'influxdb out', z: 'f0a1', influxdb: 'c0i1', name: '', measurement: 'nodered_readings', precision: 'ms', retentionPolicy: '', wires: [] },
  ];
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows));
  writeFileSync(join(dir, 'settings.cjs'), `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', userDir: ${JSON.stringify(dir)}, logging: { console: { level: 'info' } }, diagnostics: { enabled: false }, editorTheme: { tours: false } };`);
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'node_modules', 'node-red', 'red.js'), '-s', join(dir, 'settings.cjs'), '-u', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  try {
    // The contrib node is found through the project's node_modules (nodesDir would work too).
    const deadline = Date.now() + 60_000;
    while (!/Started flows/.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`Node-RED did not start:\n${out.slice(-2000)}`);
      await sleep(100);
    }
    await sleep(1000); // the mqtt in node subscribes after the flows start
    const t0 = Date.now();
    await publishAll(mosq.url, siteStream(site, n, { startTs }));
    const limit = Date.now() + 300_000;
    let got = 0;
    while ((got = await influxCount(influx.url, influx.database, `SELECT count("ts") FROM nodered_readings WHERE time >= ${startTs}ms`)) < n) {
      if (Date.now() > limit) break;
      await sleep(200);
    }
    const ms = Date.now() - t0;
    return { name: '(d) Node-RED mqtt in -> json -> function -> influxdb out', messages: got, ms, rate: Math.round(got / (ms / 1000)), note: got < n ? `only ${got} of ${n} arrived within 5 minutes` : undefined };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * (e) the embedded broker. Devices publish straight into the broker, so there is no queue to drain:
 * four device connections publish the stream (each capped at 500 in flight), and the rate is
 * messages / (first publish to last PUBACK). With ParkOps the PUBACK waits for the commit; bare aedes
 * (bench/lib/bare-aedes.ts, same aedes, nothing behind `authorizePublish`) acknowledges at once.
 */
async function embedded(n: number, startTs: number, withIngest: boolean): Promise<IngestResult> {
  const site = loadSite();
  const devices = 4;
  const stream = siteStream(site, n, { startTs });
  const shares = Array.from({ length: devices }, (_, d) => stream.filter((_, i) => i % devices === d));
  let url: string;
  let stop: () => Promise<void>;
  let sys: Awaited<ReturnType<typeof startParkOps>> | undefined;
  if (withIngest) {
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false' } });
    url = sys.mqttUrl;
    stop = () => sys!.stop();
  } else {
    const port = await freePort();
    const child = spawn(TSX, [join(ROOT, 'bench', 'lib', 'bare-aedes.ts'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`bare aedes exited (${code})`)));
    });
    url = `mqtt://127.0.0.1:${port}`;
    stop = async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    };
  }
  try {
    const t0 = performance.now();
    await Promise.all(shares.map((msgs, d) => publishAll(url, msgs, { inFlight: 500, clientId: `bench-embedded-${d}` })));
    const ms = performance.now() - t0;
    if (sys) {
      const stored = await acceptedCount(sys.baseUrl);
      if (stored < n) throw new Error(`ParkOps acknowledged ${n} but counted ${stored} accepted`);
    }
    const name = withIngest ? `(e) ParkOps, embedded broker, ${devices} device connections` : `(e0) bare aedes, no ingest, ${devices} device connections`;
    return { name, messages: n, ms: Math.round(ms), rate: Math.round(n / (ms / 1000)) };
  } finally {
    await stop();
  }
}

export async function runIngestBench(opts: { quick: boolean; log: (s: string) => void }): Promise<{ results: IngestResult[]; ratios: Array<{ name: string; value: number; goal?: string }>; maxInflight: number }> {
  const n = opts.quick ? 20_000 : 200_000;
  // Node-RED writes one HTTP request per message (about 100-200/s here): 10,000 give a steady rate.
  const nodeRedN = opts.quick ? 2_000 : 10_000;
  const mosq = await startMosquitto({ extraConfig: deploymentBrokerSettings() });
  const influx = await startInfluxd();
  const results: IngestResult[] = [];
  // Distinct device times per run: a run never re-writes an earlier run's readings.
  let ts = Date.now() - 30 * n - 3_600_000;
  const next = (): number => (ts += 2 * n);
  const rounds = opts.quick ? 1 : 3;
  try {
    const run = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
      opts.log(`  ingest: ${what}...`);
      return f();
    };
    // The headline pair (one connection, synchronous=FULL: the defaults) and the synchronous=NORMAL
    // row, interleaved over rounds so a noisy neighbour hits all alike; each keeps its best round.
    const c1s: IngestResult[] = [];
    const a1s: IngestResult[] = [];
    const ans: IngestResult[] = [];
    for (let r = 1; r <= rounds; r++) {
      c1s.push(await run(`no-op subscriber, 1 connection (round ${r})`, () => noop(mosq, n, 1, next())));
      a1s.push((await run(`ParkOps on SQLite, 1 connection (round ${r})`, () => parkops(mosq, n, 'sqlite', next(), 1)))[0]!);
      ans.push((await run(`ParkOps on SQLite, 1 connection, synchronous=NORMAL (round ${r})`, () => parkops(mosq, n, 'sqlite', next(), 1, { sync: 'normal' })))[0]!);
    }
    const c1 = best(c1s);
    const a1 = best(a1s);
    const an = best(ans);
    results.push(c1, a1, an);
    const c4 = await run('no-op subscriber, 4 connections', () => noop(mosq, n, 4, next()));
    results.push(c4);
    const a4 = await run('ParkOps on SQLite, 4 connections', () => parkops(mosq, n, 'sqlite', next(), 4));
    results.push(...a4);
    let b: IngestResult[] = [];
    try {
      b = await run('ParkOps on InfluxDB, 1 connection', () => parkops(mosq, n, 'influxdb', next(), 1, { influx }));
      results.push(...b);
    } catch (err) {
      opts.log(`  ingest: ParkOps on InfluxDB could not run: ${(err as Error).message.split('\n')[0]}`);
    }
    const d = await run('Node-RED flow', () => nodeRedFlow(mosq, nodeRedN, influx, next()));
    results.push(d);
    const e0s: IngestResult[] = [];
    const es: IngestResult[] = [];
    for (let r = 1; r <= rounds; r++) {
      e0s.push(await run(`bare aedes (round ${r})`, () => embedded(n, next(), false)));
      es.push(await run(`ParkOps, embedded broker (round ${r})`, () => embedded(n, next(), true)));
    }
    const e0 = best(e0s);
    const e = best(es);
    results.push(e0, e);
    const ratios: Array<{ name: string; value: number; goal?: string }> = [
      { name: 'a/c (SQLite vs no-op, 1 connection each, the default)', value: a1.rate / c1.rate, goal: '>= 0.5' },
      // PARKOPS_SQLITE_SYNC defaults to full because this stayed at 0.9 or above (docs/reliability.md).
      { name: 'a/a (synchronous=FULL, the default, vs NORMAL, 1 connection)', value: a1.rate / an.rate, goal: '>= 0.9' },
      { name: 'a/c ($share group of 4 each)', value: a4[0]!.rate / c4.rate },
      { name: 'e/e0 (ParkOps embedded broker vs bare aedes)', value: e.rate / e0.rate },
    ];
    if (b.length > 0) {
      ratios.push({ name: 'b/c (InfluxDB via outbox, outbox has all, vs no-op)', value: b[0]!.rate / c1.rate });
      ratios.push({ name: 'b/d (InfluxDB has all: ParkOps vs Node-RED flow)', value: b[b.length - 1]!.rate / d.rate, goal: '>= 5' });
    }
    return { results, ratios, maxInflight: Number(/max_inflight_messages (\d+)/.exec(deploymentBrokerSettings())?.[1]) };
  } finally {
    await mosq.stop();
    await influx.destroy();
  }
}
