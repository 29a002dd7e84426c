/**
 * A responder's first visit while a critical alert is already in force, with the service worker not yet
 * active (its script is still on its way: the test holds it back, and lets it go once the banner shows).
 * Until the worker is active, `showNotification` on the registration throws ("No active registration
 * available"); the tab must wait for the worker and then raise the alert's notification, not give up on
 * that alert for good. Debian's Chromium, ParkOps as `npm start` runs it, readings over real MQTT.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@parkops/contract/index.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { ensureDashboardBuilt } from '../support/dashboard-build.ts';
import { connect, eventually, publish } from '../support/mqtt.ts';

const ROOM = 'b1-power';

describe('first visit with an alert in force and the service worker not yet active', () => {
  let sys: ParkOpsProcess;
  let api: Api;
  let device: MqttClient;
  let ctx: BrowserContext;
  let page: Page;
  let profile: string;
  let heartbeat: NodeJS.Timeout | undefined;
  let release: () => void = () => {};
  const workerScript = new Promise<void>((resolve) => (release = resolve));

  const beat = async (): Promise<void> => {
    const ts = Date.now();
    await publish(device, `park/flood/${ROOM}/levels/L1`, { mm: 720, ts });
    await publish(device, `park/flood/${ROOM}/levels/L2`, { mm: 716, ts });
  };
  const notificationTags = (): Promise<string[]> =>
    page.evaluate<string[]>('(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => n.tag))()');

  beforeAll(async () => {
    ensureDashboardBuilt();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false' } });
    api = await adminApi(sys);
    expect((await api.post('/api/users', { username: 'wang.fang', password: 'responder-pass-1', role: 'responder' })).status).toBe(201);
    device = await connect(sys.mqttUrl);
    await beat();
    heartbeat = setInterval(() => void beat().catch(() => {}), 4000);
    await eventually(async () => (await api.get<Alert[]>('/api/alerts?state=active')).body.some((a) => a.room === ROOM && a.rule === 'flood.level'), 30_000, 'the critical level alert');

    profile = mkdtempSync(join(tmpdir(), 'parkops-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 390, height: 844 },
      locale: 'zh-CN',
    });
    await ctx.grantPermissions(['notifications'], { origin: sys.baseUrl });
    // The worker's script is held until the test lets it go.
    await ctx.route('**/service-worker.js', async (route) => {
      await workerScript;
      await route.continue();
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
  });

  afterAll(async () => {
    release();
    if (heartbeat) clearInterval(heartbeat);
    await ctx?.close().catch(() => {});
    if (profile) rmSync(profile, { recursive: true, force: true });
    await device?.endAsync();
    await sys?.stop();
  });

  it('raises the alert\'s notification once the worker is active', async () => {
    await page.goto(`${sys.baseUrl}/login`, { waitUntil: 'networkidle' });
    await page.fill('#username', 'wang.fang');
    await page.fill('#password', 'responder-pass-1');
    await page.click('form button[type=submit]');
    await page.waitForURL(`${sys.baseUrl}/`);
    const banner = page.locator('[data-testid=alert-banner]');
    await banner.waitFor({ timeout: 30_000 });
    const alertId = await banner.locator('[data-testid=banner-first]').getAttribute('data-alert-id');
    expect(alertId).toBeTruthy();
    // The alert is in the banner while the registration has no active worker yet.
    const state = await page.evaluate<{ registered: boolean; active: boolean }>('(async () => { const r = await navigator.serviceWorker.getRegistration(); return { registered: !!r, active: !!(r && r.active) }; })()');
    expect(state).toEqual({ registered: true, active: false });

    release();
    await expect.poll(notificationTags, { timeout: 30_000 }).toContain(`alert-${alertId}`);
    expect(await page.locator('[data-testid=notify-error]').count()).toBe(0);
  });
});
