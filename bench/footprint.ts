/**
 * Footprint: resident memory of the ParkOps process (with embedded Node-RED) idle
 * and under 5,000 msg/s, beside a bare Node.js express server measured the same way. Optional soak:
 * 1,000 msg/s for a long time with RSS sampled every minute.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deploymentBrokerSettings, startMosquitto } from '../test/harness/mosquitto.ts';
import { freePort } from '../test/harness/ports.ts';
import { startParkOps } from '../test/harness/system.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rssOf(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}
const mb = (b: number) => Math.round(b / 1e5) / 10;

/** RSS of a bare express server (the same express ParkOps uses), as the baseline. */
async function bareExpressRss(): Promise<number> {
  const port = await freePort();
  const code = `const e=require('express');const a=e();a.get('/rss',(q,r)=>r.send(String(process.memoryUsage().rss)));a.listen(${port},'127.0.0.1',()=>console.log('up'))`;
  const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => child.stdout.once('data', r));
  await sleep(2000);
  const rss = Number(await (await fetch(`http://127.0.0.1:${port}/rss`)).text());
  child.kill();
  return rss;
}

export interface FootprintResult {
  bareExpressMB: number;
  idleMB: number;
  loadedMB: number;
  loadRate: number;
  nodeRedStartMs: number | null;
  soak?: Array<{ minute: number; rssMB: number }>;
}

export async function runFootprintBench(opts: { quick: boolean; soakMinutes?: number; log: (s: string) => void }): Promise<FootprintResult> {
  const bare = await bareExpressRss();
  const mosq = await startMosquitto({ extraConfig: deploymentBrokerSettings() });
  const t0 = Date.now();
  const sys = await startParkOps({ env: { MQTT_URL: mosq.url, PARKOPS_NODE_RED: 'true', LOG_LEVEL: 'info' } });
  const startMs = Date.now() - t0;
  try {
    await sleep(opts.quick ? 3000 : 10_000);
    const idle = await rssOf(sys.baseUrl);
    const load = spawn(TSX, [join(ROOT, 'bench', 'lib', 'load-publisher.ts'), mosq.url, '5000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let last = '';
    load.stdout.on('data', (b: Buffer) => (last = b.toString()));
    const seconds = opts.quick ? 10 : 30;
    let peak = 0;
    const s0 = Number(/sent (\d+)/.exec(last)?.[1] ?? 0);
    for (let i = 0; i < seconds; i++) {
      await sleep(1000);
      peak = Math.max(peak, await rssOf(sys.baseUrl));
    }
    const s1 = Number(/sent (\d+)/.exec(last)?.[1] ?? 0);
    load.kill();
    const result: FootprintResult = { bareExpressMB: mb(bare), idleMB: mb(idle), loadedMB: mb(peak), loadRate: Math.round((s1 - s0) / seconds), nodeRedStartMs: startMs };
    if (opts.soakMinutes) {
      const soak = spawn(TSX, [join(ROOT, 'bench', 'lib', 'load-publisher.ts'), mosq.url, '1000'], { stdio: ['ignore', 'ignore', 'inherit'] });
      result.soak = [];
      for (let m = 1; m <= opts.soakMinutes; m++) {
        await sleep(60_000);
        const rss = await rssOf(sys.baseUrl);
        result.soak.push({ minute: m, rssMB: mb(rss) });
        opts.log(`  soak: minute ${m}, RSS ${mb(rss)} MB`);
      }
      soak.kill();
    }
    return result;
  } finally {
    await sys.stop();
    await mosq.stop();
  }
}
