/**
 * Critical reading to phone push: the time from the MQTT publish of a critical water level (both level
 * sensors of a room) to the Web Push request leaving ParkOps, seen as its arrival at a local push
 * service on loopback (test/integration/push-service.ts, which also verifies and decrypts every push,
 * so only real pushes count). Baseline in the same run: the alert's arrival on `park/alerts/#`, the
 * path that needs no notifier, encryption or HTTP. Each try uses its own flood room (bench site), so
 * every try opens a new alert; a steady background stream of site readings runs throughout.
 *
 *   node --import tsx bench/push.ts [--quick]     (or `npm run bench -- --only=push`)
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { PushKeyResponse, PushPayload } from '@parkops/contract/index.ts';
import { startMosquitto } from '../test/harness/mosquitto.ts';
import { startParkOps } from '../test/harness/system.ts';
import { PushService } from '../test/integration/push-service.ts';
import { apiWithCookie } from '../test/support/api.ts';
import { benchSite, percentile } from './alerts.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PushLatencyResult {
  tries: number;
  backgroundRate: number;
  push: { p50: number; p95: number; max: number };
  mqtt: { p50: number; p95: number; max: number };
  /** push p50 / MQTT alert p50 */
  ratio: number;
}

export async function runPushBench(opts: { quick: boolean; log: (s: string) => void }): Promise<PushLatencyResult> {
  const tries = opts.quick ? 30 : 120;
  const background = 1000;
  const service = new PushService();
  await service.start();
  const mosq = await startMosquitto({ extraConfig: 'max_inflight_messages 100\nmax_queued_messages 500000' });
  const sys = await startParkOps({ env: { MQTT_URL: mosq.url, PARKOPS_SITE: benchSite(tries + 1), PARKOPS_NODE_RED: 'true', PARKOPS_PUSH_ALLOW_HOSTS: '127.0.0.1' } });
  const load = spawn(TSX, [join(ROOT, 'bench', 'lib', 'load-publisher.ts'), mosq.url, String(background)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sentLine = '';
  load.stdout.on('data', (b: Buffer) => (sentLine = b.toString().trim().split('\n').pop() ?? sentLine));
  const sub = mqtt.connect(mosq.url, { protocolVersion: 4, clientId: 'bench-push-sub', clean: true });
  const dev = mqtt.connect(mosq.url, { protocolVersion: 4, clientId: 'bench-push-dev', clean: true });
  // Listen for the connections now: they may well be up before the API calls below are done.
  const connected = Promise.all([new Promise((r) => sub.once('connect', r)), new Promise((r) => dev.once('connect', r))]);
  try {
    // A responder's phone, subscribed through the API as the dashboard does.
    const admin = apiWithCookie(sys.baseUrl, await sys.adminCookie());
    const { publicKey } = (await admin.get<PushKeyResponse>('/api/push/key')).body;
    const phone = service.subscribe(publicKey);
    const saved = await admin.post('/api/push/subscriptions', phone.json);
    if (saved.status !== 201) throw new Error(`subscribing failed: ${saved.status} ${JSON.stringify(saved.body)}`);

    await connected;
    const mqttSeen = new Map<string, number>();
    sub.on('message', (_topic, payload) => {
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
    const pushSeen = (room: string): number | undefined => service.delivered.find((d) => d.subscriptionId === phone.id && (JSON.parse(d.plaintext) as PushPayload).room === room)?.arrivedAt;

    opts.log(`  push: ParkOps up, phone subscribed; ${tries} tries with ${background} msg/s of background readings`);
    await sleep(3000); // background load settles
    const pushLat: number[] = [];
    const mqttLat: number[] = [];
    const loadStart = Number(/sent (\d+)/.exec(sentLine)?.[1] ?? 0);
    const tStart = Date.now();
    for (let i = 1; i <= tries; i++) {
      const room = `r${String(i).padStart(3, '0')}`;
      const t0 = performance.now();
      dev.publish(`park/flood/${room}/levels/${room}-L1`, JSON.stringify({ mm: 820 }), { qos: 1 });
      dev.publish(`park/flood/${room}/levels/${room}-L2`, JSON.stringify({ mm: 815 }), { qos: 1 });
      const deadline = Date.now() + 10_000;
      while ((pushSeen(room) === undefined || !mqttSeen.has(room)) && Date.now() < deadline) await sleep(1);
      const p = pushSeen(room);
      if (p !== undefined) pushLat.push(p - t0);
      if (mqttSeen.has(room)) mqttLat.push(mqttSeen.get(room)! - t0);
      await sleep(50);
      if (i % 10 === 0) opts.log(`  push: ${i}/${tries} (${pushLat.length} pushes, ${mqttLat.length} MQTT alerts)`);
    }
    const loadEnd = Number(/sent (\d+)/.exec(sentLine)?.[1] ?? 0);
    const backgroundRate = Math.round((loadEnd - loadStart) / ((Date.now() - tStart) / 1000));
    if (pushLat.length < tries) opts.log(`  push: only ${pushLat.length} of ${tries} pushes arrived (refused: ${service.refused.map((r) => `${r.status} ${r.reason}`).join('; ') || 'none'})`);
    const stats = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const r = (v: number) => Math.round(v * 10) / 10;
      return { p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), max: r(s[s.length - 1] ?? NaN) };
    };
    const push = stats(pushLat);
    const mq = stats(mqttLat);
    return { tries: pushLat.length, backgroundRate, push, mqtt: mq, ratio: Math.round((push.p50 / mq.p50) * 10) / 10 };
  } finally {
    load.kill();
    await sub.endAsync();
    await dev.endAsync();
    await sys.stop();
    await mosq.stop();
    await service.stop();
  }
}

// Run on its own: `node --import tsx bench/push.ts [--quick]`.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await runPushBench({ quick: process.argv.includes('--quick'), log: (s) => process.stdout.write(`${s}\n`) });
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  process.exit(0);
}
