/**
 * Dashboard, in Debian's Chromium driven by playwright-core against ParkOps started
 * as `npm start` does (simulators off, readings over real MQTT to the embedded broker):
 *   - time to first render of the overview (first lot-map draw), beside the login page as baseline;
 *   - bay updates per second applied without a long task over 50 ms, in waves of rising rate;
 *   - the overview's client JavaScript, gzipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import mqtt from 'mqtt';
import { chromium, type Page } from 'playwright-core';
import { ADMIN_PASSWORD, startParkOps } from '../test/harness/system.ts';
import { loadSite } from '@parkops/contract/site/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function firstRender(page: Page, url: string, ready: string): Promise<number> {
  await page.goto('about:blank');
  await page.goto(url);
  await page.locator(ready).first().waitFor();
  return page.evaluate(() => {
    const draw = performance.getEntriesByName('parkops:lotmap-draw')[0];
    if (draw) return draw.startTime + draw.duration;
    return performance.now();
  });
}

export async function runDashboardBench(opts: { quick: boolean }): Promise<{ rows: Array<[string, string, string]> }> {
  if (!existsSync(join(ROOT, 'dashboard', 'build', 'handler.js'))) execFileSync('npm', ['run', 'build', '-w', 'dashboard'], { cwd: ROOT, stdio: 'ignore' });
  const sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false' } });
  const dir = mkdtempSync(join(tmpdir(), 'bench-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1920, height: 1080 },
    locale: 'en-US',
  });
  const site = loadSite();
  const dev = mqtt.connect(sys.mqttUrl, { protocolVersion: 4, clientId: 'bench-dashboard-dev' });
  await new Promise((r) => dev.once('connect', r));
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    // Long tasks over 50 ms, collected from the start of every page.
    // (Runs in the page: `globalThis` is the window there.)
    await ctx.addInitScript(() => {
      const g = globalThis as unknown as { __long: number[] };
      g.__long = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) g.__long.push(e.duration);
      }).observe({ type: 'longtask' as never, buffered: true });
    });
    // Every bay has a state, as on a real site.
    await Promise.all(site.bays.map((b, i) => dev.publishAsync(`park/parking/bays/${b.id}`, JSON.stringify({ occupied: i % 2 === 0 }), { qos: 1 })));
    await page.goto(`${sys.baseUrl}/login`);
    await page.fill('#username', 'admin');
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('form button[type=submit]');
    await page.waitForURL(`${sys.baseUrl}/`);
    await page.mouse.move(1919, 1079);

    const runs = opts.quick ? 3 : 7;
    const loginMs: number[] = [];
    const overviewMs: number[] = [];
    const cookies = await ctx.cookies();
    for (let i = 0; i < runs; i++) {
      overviewMs.push(await firstRender(page, `${sys.baseUrl}/`, '[data-testid=lot-map]'));
      // The baseline: the login page, same app and server, no live data (signed out, or it redirects).
      await ctx.clearCookies();
      loginMs.push(await firstRender(page, `${sys.baseUrl}/login`, '#username'));
      await ctx.addCookies(cookies);
    }
    await page.goto(`${sys.baseUrl}/`);
    await page.locator('[data-testid=live-status][data-status=live]').waitFor();
    const scripts = await page.evaluate<string[]>("performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => p.endsWith('.js'))");
    const files = [...new Set(scripts)].map((p) => join(ROOT, 'dashboard', 'build', 'client', p)).filter((f) => existsSync(f));
    const raw = files.reduce((n, f) => n + statSync(f).size, 0);
    const gz = files.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);

    // Waves of bay updates at rising rates; a wave passes when no long task over 50 ms happened in it.
    const rates = opts.quick ? [250, 1000, 2000] : [250, 500, 1000, 2000, 3000, 4000];
    const seconds = opts.quick ? 2 : 4;
    const waves: Array<{ rate: number; applied: number; longTasks: number; longest: number }> = [];
    let flip = 0;
    for (const rate of rates) {
      await page.evaluate(() => {
        (globalThis as unknown as { __long: number[] }).__long.length = 0;
        performance.clearMeasures('parkops:flush');
      });
      const total = rate * seconds;
      const t0 = Date.now();
      let sent = 0;
      flip++;
      while (sent < total) {
        const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate));
        const batch: Promise<unknown>[] = [];
        for (; sent < due; sent++) {
          const bay = site.bays[sent % site.bays.length]!;
          batch.push(dev.publishAsync(`park/parking/bays/${bay.id}`, JSON.stringify({ occupied: (sent + flip) % 2 === 0 }), { qos: 0 }));
        }
        await Promise.all(batch);
        await sleep(5);
      }
      await sleep(500);
      const m = await page.evaluate(() => {
        const flush = performance.getEntriesByName('parkops:flush') as unknown as Array<{ detail: { events?: number } | null }>;
        const long = (globalThis as unknown as { __long: number[] }).__long;
        return { applied: flush.reduce((n, f) => n + (f.detail?.events ?? 0), 0), longTasks: long.length, longest: long.length > 0 ? Math.max(...long) : 0 };
      });
      waves.push({ rate, ...m });
    }
    const clean = waves.filter((w) => w.longTasks === 0);
    const best = clean.length > 0 ? Math.max(...clean.map((w) => Math.round(w.applied / seconds))) : 0;
    const r = (n: number) => String(Math.round(n));
    return {
      rows: [
        ['time to first render, overview (first lot-map draw)', `${r(median(overviewMs))} ms`, `login page ${r(median(loginMs))} ms: ${(median(overviewMs) / median(loginMs)).toFixed(2)}× (median of ${runs})`],
        ['bay updates/s applied with no long task > 50 ms', `${best.toLocaleString('en-US')}`, waves.map((w) => `${w.rate}/s sent: ${Math.round(w.applied / seconds)}/s applied, ${w.longTasks} long tasks${w.longTasks ? ` (max ${Math.round(w.longest)} ms)` : ''}`).join('; ')],
        ['overview client JavaScript', `${(gz / 1024).toFixed(1)} KB gzipped`, `${files.length} files, ${(raw / 1024).toFixed(1)} KB raw; budget 200 KB`],
      ],
    };
  } finally {
    await dev.endAsync();
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
    await sys.stop();
  }
}
