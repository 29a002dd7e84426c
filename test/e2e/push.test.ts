/**
 * The installable app and its service worker in Debian's Chromium (headless, playwright-core), against
 * ParkOps started as `npm start` runs it:
 *
 * - the manifest makes the dashboard installable: Chromium's own check (CDP Page.getInstallabilityErrors)
 *   finds nothing missing, and every icon it names is served;
 * - the service worker registers and controls the page;
 * - the open dashboard raises its alert notification through the service worker (the path Android
 *   Chrome allows), with the alert's tag;
 * - the whole push path: a critical level published over MQTT -> ParkOps encrypts and signs a push to
 *   the local push service -> the service verifies VAPID and decrypts it as the browser would -> the
 *   plaintext is handed to this Chromium's service worker as a push event (CDP
 *   ServiceWorker.deliverPushMessage) -> it shows the notification (registration.getNotifications());
 * - a tap (a notificationclick event dispatched inside the service worker: headless Chromium shows no OS
 *   notification to click) brings the open window to /flood?alert=<id> with the acknowledge button focused.
 *
 * Not testable here, and why: PushManager.subscribe() makes this Chromium exit (it has no push service
 * to register with), so the browser's own subscription is played by the local push service, and the
 * "Enable notifications" flow is tested in dashboard/src/lib/push.test.ts. A real lock screen, sound and
 * vibration cannot be observed headless; clients.openWindow() (tap with no window open) needs a real
 * user gesture.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushKeyResponse, PushPayload } from '@parkops/contract/index.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { PushService } from '../integration/push-service.ts';
import { adminApi, apiWithCookie } from '../support/api.ts';
import { ensureDashboardBuilt } from '../support/dashboard-build.ts';
import { connect, publish } from '../support/mqtt.ts';
import { screenshotDir } from '../support/screenshots.ts';

const SHOTS = screenshotDir();
const ROOM = 'b1-power';
const PHONE = { width: 390, height: 844 };

interface ShownNotificationView {
  title: string;
  body: string;
  tag: string;
  requireInteraction: boolean;
  data: { url?: string; alertId?: string; kind?: string } | null;
}

describe('installable app and service worker in Chromium', () => {
  let sys: ParkOpsProcess;
  let service: PushService;
  let device: MqttClient;
  let ctx: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let profile: string;
  let heartbeat: NodeJS.Timeout | undefined;
  let level = 150;
  const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
  const consoleLines: string[] = [];

  const beat = async (): Promise<void> => {
    const ts = Date.now();
    await publish(device, `park/flood/${ROOM}/levels/L1`, { mm: level, ts });
    await publish(device, `park/flood/${ROOM}/levels/L2`, { mm: level - 4, ts });
    await publish(device, `park/flood/${ROOM}/pumps/P1`, { running: level > 250, amps: level > 250 ? 6.2 : 0, ts });
    await publish(device, `park/flood/${ROOM}/pumps/P2`, { running: level > 450, amps: level > 450 ? 5.8 : 0, ts });
  };
  // Browser-side code is passed as strings: the test project is compiled without the DOM library.
  const notifications = (): Promise<ShownNotificationView[]> =>
    page.evaluate<ShownNotificationView[]>(
      '(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction, data: n.data })))()',
    );

  beforeAll(async () => {
    ensureDashboardBuilt();
    mkdirSync(SHOTS, { recursive: true });
    service = new PushService();
    await service.start();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', PARKOPS_VAPID_SUBJECT: 'mailto:flood-team@jining-valley.example', PARKOPS_PUSH_ALLOW_HOSTS: '127.0.0.1' } });
    const admin = await adminApi(sys);
    expect([200, 201]).toContain((await admin.post('/api/users', { username: 'zhang.wei', password: 'responder-pass-1', role: 'responder' })).status);
    device = await connect(sys.mqttUrl);
    await beat();
    heartbeat = setInterval(() => void beat().catch(() => {}), 4000);

    profile = mkdtempSync(join(tmpdir(), 'parkops-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: PHONE,
      locale: 'zh-CN',
      colorScheme: 'dark',
    });
    await ctx.grantPermissions(['notifications'], { origin: sys.baseUrl });
    // A record, in the page, of the stream's alerts and every notification shown or closed (for a failure message).
    await ctx.addInitScript(`(() => {
      const log = (window.__notifyLog = []);
      const now = () => Math.round(performance.timeOrigin + performance.now());
      log.push(now() + ' doc ' + location.href + ' origin ' + Math.round(performance.timeOrigin));
      const show = ServiceWorkerRegistration.prototype.showNotification;
      ServiceWorkerRegistration.prototype.showNotification = function (title, opts) {
        log.push(now() + ' show ' + (opts && opts.tag));
        return show.call(this, title, opts).then((v) => { log.push(now() + ' shown ' + (opts && opts.tag)); return v; }, (e) => { log.push(now() + ' show-failed ' + (opts && opts.tag) + ' ' + e); throw e; });
      };
      const close = Notification.prototype.close;
      Notification.prototype.close = function () { log.push(now() + ' close ' + this.tag); return close.call(this); };
      const ES = window.EventSource;
      window.EventSource = function (url, init) {
        const es = new ES(url, init);
        log.push(now() + ' sse open ' + url);
        es.addEventListener('alert', (e) => { try { const a = JSON.parse(e.data); log.push(now() + ' sse alert ' + a.id + ' ' + a.rule + ' ' + a.state + ' ' + a.severity); } catch {} });
        es.addEventListener('snapshot', (e) => { try { const s = JSON.parse(e.data); log.push(now() + ' sse snapshot ' + s.alerts.map((a) => a.id + ':' + a.state).join(',')); } catch {} });
        es.addEventListener('error', () => log.push(now() + ' sse error'));
        return es;
      };
      window.EventSource.prototype = ES.prototype;
    })()`);
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('console', (m) => consoleLines.push(`${Date.now()} ${m.type()} ${m.text()}`));
    cdp = await ctx.newCDPSession(page);
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: typeof registrations }) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');

    // Until the page is hydrated the form has no handler: wait for its scripts before signing in.
    await page.goto(`${sys.baseUrl}/login`, { waitUntil: 'networkidle' });
    await page.fill('#username', 'zhang.wei');
    await page.fill('#password', 'responder-pass-1');
    await page.click('form button[type=submit]');
    await page.waitForURL(`${sys.baseUrl}/`);
    await page.locator('[data-testid=live-status][data-status=live]').waitFor();
  });

  afterAll(async () => {
    if (heartbeat) clearInterval(heartbeat);
    await ctx?.close().catch(() => {});
    if (profile) rmSync(profile, { recursive: true, force: true });
    await device?.endAsync();
    await sys?.stop();
    await service?.stop();
  });

  it('is installable: Chromium reports no installability errors, and the icons are served', async () => {
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
    expect(installabilityErrors).toEqual([]);
    const manifest = (await (await fetch(`${sys.baseUrl}/manifest.webmanifest`)).json()) as { name: string; display: string; start_url: string; icons: { src: string; sizes: string; type: string; purpose: string }[] };
    expect(manifest).toMatchObject({ name: '园区运维 ParkOps', display: 'standalone', start_url: '/flood' });
    for (const icon of manifest.icons) {
      const res = await fetch(sys.baseUrl + icon.src);
      expect(res.status, icon.src).toBe(200);
      expect(res.headers.get('content-type'), icon.src).toContain(icon.type);
    }
    expect(manifest.icons.some((i) => i.purpose === 'maskable' && i.sizes === '512x512')).toBe(true);
  });

  it('registers the service worker, which controls the page', async () => {
    const sw = await page.evaluate<{ script: string; controlled: boolean; scope: string }>(
      '(async () => { const reg = await navigator.serviceWorker.ready; return { script: reg.active && reg.active.scriptURL, controlled: navigator.serviceWorker.controller !== null, scope: reg.scope }; })()',
    );
    expect(sw).toEqual({ script: `${sys.baseUrl}/service-worker.js`, controlled: true, scope: `${sys.baseUrl}/` });
    await page.locator('[data-testid=notification-settings][data-state=local], [data-testid=notification-settings][data-state=off]').waitFor();
  });

  it('a critical level: the open tab notifies through the service worker, then the push travels MQTT -> ParkOps -> push service -> service worker', async () => {
    // The browser's push subscription, played by the local push service (see the file comment).
    const browserApi = apiWithCookie(sys.baseUrl, (await ctx.cookies(sys.baseUrl)).map((c) => `${c.name}=${c.value}`).join('; '));
    const { publicKey } = (await browserApi.get<PushKeyResponse>('/api/push/key')).body;
    const phone = service.subscribe(publicKey);
    expect((await browserApi.post('/api/push/subscriptions', phone.json)).status).toBe(201);

    level = 720;
    await beat();
    const isLevel = (p: unknown): boolean => (p as PushPayload).kind === 'alert' && (p as PushPayload).title.includes('水位') && (p as PushPayload).change === 'opened';
    await service.until('the level push', () => service.payloads(phone.id).some(isLevel), 30_000);
    const delivered = service.delivered.find((d) => d.subscriptionId === phone.id && isLevel(JSON.parse(d.plaintext)))!;
    const payload = JSON.parse(delivered.plaintext) as PushPayload;

    // The open dashboard raised its own notification for the banner's alert, through the service worker.
    // Should it not, the failure says what the page saw and did (its stream, each show and close).
    try {
      await expect.poll(async () => (await notifications()).map((n) => n.tag), { timeout: 30_000 }).toContain(payload.tag);
    } catch (err) {
      const seen = {
        url: page.url(),
        shown: await notifications(),
        banner: await page.locator('[data-testid=alert-banner]').allTextContents(),
        page: await page.evaluate<string[]>('window.__notifyLog'),
        console: consoleLines,
        registrations,
      };
      throw new Error(`${(err as Error).message}\n${JSON.stringify(seen, null, 1)}`, { cause: err });
    }
    const local = (await notifications()).find((n) => n.tag === payload.tag)!;
    expect(local).toMatchObject({ requireInteraction: true, data: { url: payload.url, alertId: payload.alertId } });

    // Clear it, then deliver the decrypted push to the service worker as the browser's push service would.
    await page.evaluate('(async () => { for (const n of await (await navigator.serviceWorker.ready).getNotifications()) n.close(); })()');
    const reg = registrations.filter((r) => !r.isDeleted && r.scopeURL === `${sys.baseUrl}/`).at(-1)!;
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: sys.baseUrl, registrationId: reg.registrationId, data: delivered.plaintext });
    await expect.poll(async () => (await notifications()).find((n) => n.tag === payload.tag)?.title, { timeout: 30_000 }).toBe(payload.title);
    const shown = (await notifications()).find((n) => n.tag === payload.tag)!;
    expect(shown).toEqual({ title: payload.title, body: payload.body, tag: `alert-${payload.alertId}`, requireInteraction: true, data: { url: `/flood?alert=${encodeURIComponent(payload.alertId)}`, alertId: payload.alertId, kind: 'alert' } });
    expect(shown.title).toMatch(/^【严重】新告警：创启大厦B1配电室 水位 7\d\d mm/);

    // The tap: headless Chromium has no OS notification to click, so the click event is dispatched in the worker.
    const worker = ctx.serviceWorkers().find((w) => w.url() === `${sys.baseUrl}/service-worker.js`)!;
    await worker.evaluate(`(async () => { const [n] = await self.registration.getNotifications({ tag: ${JSON.stringify(payload.tag)} }); self.dispatchEvent(new NotificationEvent('notificationclick', { notification: n })); })()`);
    await page.waitForURL(`${sys.baseUrl}${payload.url}`);
    // The alert is there, ready to acknowledge: its acknowledge button has the focus.
    await expect
      .poll(() => page.evaluate<{ testid: string | null; alert: string | null }>("({ testid: document.activeElement?.dataset.testid ?? null, alert: document.activeElement?.closest('[data-alert-id]')?.getAttribute('data-alert-id') ?? null })"), { timeout: 30_000 })
      .toEqual({ testid: 'ack-button', alert: payload.alertId });
    await page.screenshot({ path: join(SHOTS, 'phone-push-opened-alert-zh.png') });

    // One more tap acknowledges it, and the alert's notification goes away (the tab closes it by its tag).
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator(`[data-testid=alert-item][data-alert-id="${payload.alertId}"]`).getAttribute('data-alert-state'), { timeout: 30_000 }).toBe('acknowledged');
    await expect.poll(async () => (await notifications()).map((n) => n.tag), { timeout: 30_000 }).not.toContain(payload.tag);
  });

  it('shows the notification settings in Chinese, with what this device gets', async () => {
    await page.goto(`${sys.baseUrl}/flood`);
    const settings = page.locator('[data-testid=notification-settings]');
    await settings.locator('summary').click();
    await expect(settings.textContent()).resolves.toContain('严重的防汛告警会以系统通知唤醒这台手机或电脑');
    await page.screenshot({ path: join(SHOTS, 'phone-notification-settings-zh.png') });
  });
});
