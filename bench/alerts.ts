/**
 * Alert latency: with 5,000 msg/s of background readings through Mosquitto, the time
 * from the MQTT publish of a critical water level (both level sensors of a room) until the alert
 * arrives on `park/alerts/#` and on `/api/stream`. Each try uses its own flood room of a bench site
 * (a copy of the default site with 200+ rooms), so no try waits for an earlier alert to clear.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { deploymentBrokerSettings, startMosquitto } from '../test/harness/mosquitto.ts';
import { startParkOps } from '../test/harness/system.ts';
import { DEFAULT_SITE_PATH } from '@parkops/contract/site/index.ts';
import { readFileSync } from 'node:fs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function benchSite(rooms: number): string {
  const site = JSON.parse(readFileSync(DEFAULT_SITE_PATH, 'utf8')) as { flood: { rooms: Array<Record<string, unknown>> } };
  const template = site.flood.rooms[0]!;
  site.flood.rooms = Array.from({ length: rooms }, (_, i) => {
    const id = `r${String(i).padStart(3, '0')}`;
    return {
      ...template,
      id,
      name: `Bench room ${i}`,
      // Reporting intervals of a day: the bench rooms are silent until their try, and must not open
      // stale-sensor alerts meanwhile (noise on the very path being measured).
      levels: (template.levels as Array<Record<string, unknown>>).map((l) => ({ ...l, id: `${id}-${l.id}`, intervalSec: 86_400 })),
      pumps: (template.pumps as Array<Record<string, unknown>>).map((p) => ({ ...p, id: `${id}-${p.id}`, intervalSec: 86_400 })),
    };
  });
  // Room 0 keeps the default id so the background stream (which uses b1-power) still validates.
  site.flood.rooms[0] = template;
  const dir = mkdtempSync(join(tmpdir(), 'bench-site-'));
  const path = join(dir, 'site.json');
  writeFileSync(path, JSON.stringify(site));
  return path;
}

export interface LatencyResult {
  tries: number;
  mqtt: { p50: number; p95: number; p99: number; max: number };
  sse: { p50: number; p95: number; p99: number; max: number };
  backgroundRate: number;
}

export async function runAlertBench(opts: { quick: boolean; log: (s: string) => void }): Promise<LatencyResult> {
  const tries = opts.quick ? 40 : 220;
  const mosq = await startMosquitto({ extraConfig: deploymentBrokerSettings() });
  const sitePath = benchSite(tries + 1);
  const sys = await startParkOps({ env: { MQTT_URL: mosq.url, PARKOPS_SITE: sitePath, PARKOPS_NODE_RED: 'true' } });
  const load = spawn(TSX, [join(ROOT, 'bench', 'lib', 'load-publisher.ts'), mosq.url, '5000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sentLine = '';
  load.stdout.on('data', (b: Buffer) => (sentLine = b.toString().trim().split('\n').pop() ?? sentLine));
  const cookie = await sys.adminCookie();
  const sub = mqtt.connect(mosq.url, { protocolVersion: 4, clientId: 'bench-alert-sub', clean: true });
  const dev = mqtt.connect(mosq.url, { protocolVersion: 4, clientId: 'bench-alert-dev', clean: true });
  await Promise.all([new Promise((r) => sub.once('connect', r)), new Promise((r) => dev.once('connect', r))]);
  const mqttSeen = new Map<string, number>();
  const sseSeen = new Map<string, number>();
  sub.on('message', (topic, payload) => {
    if (payload.length === 0) return;
    try {
      const a = JSON.parse(payload.toString()) as { subject?: string; severity?: string };
      const room = /^flood\/(r\d{3})\//.exec(a.subject ?? '')?.[1];
      if (room && a.severity === 'critical' && !mqttSeen.has(room)) mqttSeen.set(room, performance.now());
    } catch {
      // not an alert object
    }
  });
  await sub.subscribeAsync('park/alerts/#', { qos: 1 });
  const ac = new AbortController();
  const sse = await fetch(`${sys.baseUrl}/api/stream`, { headers: { cookie }, signal: ac.signal });
  void (async () => {
    const reader = sse.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let idx;
      while ((idx = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        if (!frame.includes('event: alert')) continue;
        const data = /data: (.*)/.exec(frame)?.[1];
        if (!data) continue;
        const a = JSON.parse(data) as { subject?: string; severity?: string };
        const room = /^flood\/(r\d{3})\//.exec(a.subject ?? '')?.[1];
        if (room && a.severity === 'critical' && !sseSeen.has(room)) sseSeen.set(room, performance.now());
      }
    }
  })();
  await sleep(3000); // background load settles
  const mqttLat: number[] = [];
  const sseLat: number[] = [];
  const loadStart = Number(/sent (\d+)/.exec(sentLine)?.[1] ?? 0);
  const tStart = Date.now();
  for (let i = 1; i <= tries; i++) {
    const room = `r${String(i).padStart(3, '0')}`;
    const t0 = performance.now();
    dev.publish(`park/flood/${room}/levels/${room}-L1`, JSON.stringify({ mm: 820 }), { qos: 1 });
    dev.publish(`park/flood/${room}/levels/${room}-L2`, JSON.stringify({ mm: 815 }), { qos: 1 });
    const deadline = Date.now() + 5000;
    while ((!mqttSeen.has(room) || !sseSeen.has(room)) && Date.now() < deadline) await sleep(1);
    if (mqttSeen.has(room)) mqttLat.push(mqttSeen.get(room)! - t0);
    if (sseSeen.has(room)) sseLat.push(sseSeen.get(room)! - t0);
    await sleep(20);
  }
  const loadEnd = Number(/sent (\d+)/.exec(sentLine)?.[1] ?? 0);
  const backgroundRate = Math.round((loadEnd - loadStart) / ((Date.now() - tStart) / 1000));
  ac.abort();
  load.kill();
  await sub.endAsync();
  await dev.endAsync();
  await sys.stop();
  await mosq.stop();
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const r = (v: number) => Math.round(v * 10) / 10;
    return { p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
  };
  if (mqttLat.length < tries) opts.log(`  alerts: only ${mqttLat.length} of ${tries} alerts arrived on MQTT, ${sseLat.length} on SSE`);
  return { tries: mqttLat.length, mqtt: stats(mqttLat), sse: stats(sseLat), backgroundRate };
}
