/**
 * A CPU profile of ParkOps draining a queued stream from Mosquitto (what limits the ingest rate), with
 * the broker limits of the shipped mosquitto.conf.
 * Usage: tsx bench/profile-ingest.ts [messages] [connections]  -> prints the top functions by self
 * time, then the inclusive time of the ingest's stages.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deploymentBrokerSettings, startMosquitto } from '../test/harness/mosquitto.ts';
import { freePort } from '../test/harness/ports.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { publishAll } from './lib/publish.ts';
import { siteStream } from './lib/stream.ts';

const n = Number(process.argv[2] ?? 60_000);
const connections = process.argv[3] ?? '4';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mosq = await startMosquitto({ extraConfig: deploymentBrokerSettings() });
const port = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), 'prof-data-'));
const profDir = mkdtempSync(join(tmpdir(), 'prof-'));
const env = { ...process.env, MQTT_URL: mosq.url, MQTT_CONNECTIONS: connections, PARKOPS_NODE_RED: 'false', PORT: String(port), HOST: '127.0.0.1', PARKOPS_DATA_DIR: dataDir, PARKOPS_ADMIN_PASSWORD: 'profile-password', LOG_LEVEL: 'warn' };
const run = (prof: boolean) => spawn(process.execPath, [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), '--import', 'tsx', 'ingest/src/main.ts'], { env, stdio: 'inherit' });
const count = async () => {
  try {
    const m = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return [...m.matchAll(/^parkops_messages_accepted_total\{kind="\w+"\} (\d+)/gm)].reduce((s, x) => s + Number(x[1]), 0);
  } catch {
    return -1;
  }
};
let child = run(false);
while ((await count()) < 0) await sleep(100);
await sleep(500);
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
await publishAll(mosq.url, siteStream(loadSite(), n));
child = run(true);
let t0 = 0;
for (;;) {
  const c = await count();
  if (c > 0 && t0 === 0) t0 = Date.now();
  if (c >= n) break;
  await sleep(20);
}
console.log(`drained ${n} in ${Date.now() - t0} ms: ${Math.round(n / ((Date.now() - t0) / 1000))} msg/s`);
child.kill('SIGINT');
await new Promise((r) => child.on('exit', r));
await mosq.stop();
const file = readdirSync(profDir).map((f) => join(profDir, f))[0]!;
const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>; samples: number[]; timeDeltas: number[] };
const dt = new Map<number, number>();
p.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const self = new Map<string, number>();
let total = 0;
for (const node of p.nodes) {
  const t = dt.get(node.id) ?? 0;
  total += t;
  const cf = node.callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + t);
}
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`);

// Inclusive time of the ingest's stages (a function and everything it called), outermost frame only.
const STAGES: Array<[string, RegExp]> = [
  ['socket data: frame + decode MQTT packets (subscriber pump)', /^pump mqtt\/ingest-subscriber/],
  ['ingest batch (decode, commit, acks, events)', /^process src\/ingest\.ts/],
  ['  payload decode and validation', /^decodeMessage contract\/decode/],
  ['  SQLite transaction (store, live state, rollups)', /^sqliteTransaction /],
  ['  alert engine (reading.accepted)', /^onReading alerts\/alert-engine/],
  ['  SSE and Node-RED (readings.accepted)', /^(\(anonymous\) api\/stream|\(anonymous\) nodered\/bridge)/],
  ['  metrics per batch', /^countBatch src\/ingest/],
  ['PUBACK writes (subscriber flushAcks)', /^flushAcks mqtt\/ingest-subscriber/],
  ['garbage collector', /^\(garbage collector\)/],
];
const byId = new Map(p.nodes.map((nd) => [nd.id, nd]));
const keyOf = (id: number): string => {
  const cf = byId.get(id)!.callFrame;
  return `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber}`;
};
const inclusive = (id: number): number => (dt.get(id) ?? 0) + (byId.get(id)!.children ?? []).reduce((s, c) => s + inclusive(c), 0);
const stageTotals = new Map<string, number>();
const walk = (id: number, inside: Set<string>): void => {
  const k = keyOf(id);
  const entered: string[] = [];
  for (const [label, re] of STAGES) {
    if (re.test(k) && !inside.has(label)) {
      stageTotals.set(label, (stageTotals.get(label) ?? 0) + inclusive(id));
      entered.push(label);
    }
  }
  for (const l of entered) inside.add(l);
  for (const c of byId.get(id)!.children ?? []) walk(c, inside);
  for (const l of entered) inside.delete(l);
};
walk(p.nodes[0]!.id, new Set());
console.log('\ninclusive time by stage:');
for (const [label] of STAGES) console.log(`${(((stageTotals.get(label) ?? 0) / total) * 100).toFixed(1).padStart(5)} %  ${label}`);
