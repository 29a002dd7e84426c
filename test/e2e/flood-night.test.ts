/**
 * The flood team at night, in Chinese, end to end: ParkOps as `npm start` runs it (a copy of the bundled
 * site with short hold times so bands change within seconds), readings over real MQTT, a responder's
 * phone (dark, zh-CN) and a wall screen (a viewer, zh-CN) in Debian's Chromium.
 *
 * - The phone's flood page leads with the water: the level and band on the first screen, the trend,
 *   the pumps, then ONE acknowledge for the room, then the alerts.
 * - The banner is one line; a cleared alert stays on the wall screen until someone acknowledges it but
 *   never sounds; a live warning is listed before a cleared critical; the wall has one mute for all.
 * - One acknowledgement on the phone takes every alert of the room, each audited, and the banner leaves
 *   every screen.
 * - With no notification channel configured, the responder is told so, and the incident timeline says
 *   nobody outside the dashboard was told.
 * - No English on any of these zh-CN pages (test/support/english-check.ts).
 * Screenshots (docs/screenshots only under `npm run screenshots`): the phone at night, the wall screen.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, DeviceView } from '@parkops/contract/index.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { ensureDashboardBuilt } from '../support/dashboard-build.ts';
import { expectNoEnglish } from '../support/english-check.ts';
import { connect, publish } from '../support/mqtt.ts';
import { screenshotDir } from '../support/screenshots.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = screenshotDir();
const ROOM = 'b1-power';
const PHONE = { width: 390, height: 844 };
const WALL = { width: 1920, height: 1080 };
const USERS = { responder: ['li.na', 'responder-pass-1'], wall: ['wall-b1', 'viewer-pass-123'] } as const;

interface Screen {
  ctx: BrowserContext;
  page: Page;
  dir: string;
}

async function screen(viewport: { width: number; height: number }, colorScheme: 'dark' | 'light'): Promise<Screen> {
  const dir = mkdtempSync(join(tmpdir(), 'parkops-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport,
    locale: 'zh-CN',
    colorScheme,
  });
  return { ctx, page: ctx.pages()[0] ?? (await ctx.newPage()), dir };
}

async function signIn(page: Page, base: string, [username, password]: readonly [string, string]): Promise<void> {
  await page.goto(`${base}/login`, { waitUntil: 'networkidle' });
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('form button[type=submit]');
  await page.waitForURL(`${base}/`);
  await page.locator('[data-testid=live-status][data-status=live]').waitFor();
}

describe('the flood team at night, in Chinese', () => {
  let sys: ParkOpsProcess;
  let api: Api;
  let device: MqttClient;
  let phone: Screen;
  let wall: Screen;
  let siteDir: string;
  let heartbeat: NodeJS.Timeout | undefined;
  let level = 150;
  /** Ids the pages show as data, not words: user names, and the site's device ids. */
  let dataWords: string[] = [];

  const beat = async (): Promise<void> => {
    const ts = Date.now();
    await publish(device, `park/flood/${ROOM}/levels/L1`, { mm: level, ts });
    await publish(device, `park/flood/${ROOM}/levels/L2`, { mm: level - 4, ts });
    await publish(device, `park/flood/${ROOM}/pumps/P1`, { running: level > 250, amps: level > 250 ? 6.2 : 0, ts });
    await publish(device, `park/flood/${ROOM}/pumps/P2`, { running: level > 450, amps: level > 450 ? 5.8 : 0, ts });
  };
  const setLevel = async (mm: number): Promise<void> => {
    level = mm;
    await beat();
  };
  const floodAlerts = async (): Promise<Alert[]> => (await api.get<Alert[]>('/api/alerts?state=active')).body.filter((a) => a.room === ROOM);

  beforeAll(async () => {
    ensureDashboardBuilt();
    mkdirSync(SHOTS, { recursive: true });
    // The bundled site, with holds of seconds so a band opens and clears within a test. The rise rule is
    // set out of reach: these jumps of hundreds of mm are the test's, not water rising.
    const raw = JSON.parse(readFileSync(join(ROOT, 'ingest/src/site/jining-innovation-valley.json'), 'utf8')) as { flood: { rooms: { bands: Record<string, unknown>; rules?: Record<string, unknown>; storm?: Record<string, unknown> }[] } };
    const room = raw.flood.rooms[0]!;
    room.bands = { ...room.bands, holdSec: 2, clearHoldSec: 6 };
    room.rules = { riseWarnMmPerMin: 100_000 };
    room.storm = { ...room.storm, holdSec: 2, clearHoldSec: 6, riseWarnMmPerMin: 50_000 };
    siteDir = mkdtempSync(join(tmpdir(), 'parkops-night-site-'));
    writeFileSync(join(siteDir, 'site.json'), JSON.stringify(raw));
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', PARKOPS_SITE: join(siteDir, 'site.json') } });
    api = await adminApi(sys);
    expect((await api.post('/api/users', { username: USERS.responder[0], password: USERS.responder[1], role: 'responder' })).status).toBe(201);
    expect((await api.post('/api/users', { username: USERS.wall[0], password: USERS.wall[1], role: 'viewer' })).status).toBe(201);
    dataWords = [USERS.responder[0], USERS.wall[0], 'admin', ...(await api.get<DeviceView[]>('/api/devices')).body.map((d) => d.id)];
    device = await connect(sys.mqttUrl);
    await beat();
    heartbeat = setInterval(() => void beat().catch(() => {}), 3000);
    phone = await screen(PHONE, 'dark');
    wall = await screen(WALL, 'light');
    await signIn(phone.page, sys.baseUrl, USERS.responder);
    await signIn(wall.page, sys.baseUrl, USERS.wall);
    await phone.page.goto(`${sys.baseUrl}/flood`);
    await wall.page.goto(`${sys.baseUrl}/flood`);
    await phone.page.locator('[data-testid=room-level]').waitFor();
    await wall.page.locator('[data-testid=room-level]').waitFor();
  });

  afterAll(async () => {
    if (heartbeat) clearInterval(heartbeat);
    for (const s of [phone, wall]) {
      await s?.ctx.close().catch(() => {});
      if (s) rmSync(s.dir, { recursive: true, force: true });
    }
    await device?.endAsync();
    await sys?.stop();
    if (siteDir) rmSync(siteDir, { recursive: true, force: true });
  });

  it('a critical level: the phone leads with the water in Chinese, the banner is one line, and nobody outside the dashboard is told', async () => {
    await setLevel(720);
    const page = phone.page;
    await page.locator('[data-testid=alert-banner]').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('[data-testid=room-band]').textContent(), { timeout: 15_000 }).toBe('危急');
    await expect.poll(() => page.locator('[data-testid=room-level]').textContent()).toBe('720');
    // Level and band on the first screen; then trend, pumps, the one acknowledge, the alerts, in that order.
    const box = async (sel: string) => (await page.locator(sel).first().boundingBox())!;
    expect((await box('[data-testid=room-band]')).y + (await box('[data-testid=room-band]')).height).toBeLessThanOrEqual(PHONE.height);
    const order = await Promise.all(['[data-testid=room-level]', '[data-testid=room-trend]', '[data-testid=pump-P1]', '[data-testid=room-ack]', '[data-testid=alert-item]'].map(async (s) => (await box(s)).y));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect((await box('[data-testid=banner-line]')).height).toBeLessThan(56);
    await expect(page.locator('[data-testid=pump-P1]').textContent()).resolves.toContain('主排水泵');
    await expect(page.locator('[data-testid=alert-item]').first().textContent()).resolves.toContain('创启大厦B1配电室：水位 720 mm，达到危急等级（危急线 700 mm）');
    // No channel is configured: the responder is told so (the wall screen, a viewer, is not).
    await expect(page.locator('[data-testid=no-channel]').textContent()).resolves.toContain('仪表板之外没有人会收到告警');
    expect(await wall.page.locator('[data-testid=no-channel]').count()).toBe(0);
    await expectNoEnglish(page, 'the phone flood page at night', dataWords);
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(SHOTS, 'flood-phone-night-zh-CN.png') });
    await page.screenshot({ path: join(SHOTS, 'flood-phone-night-full-zh-CN.png'), fullPage: true });
    // The wall screen sounds for the live critical.
    await expect.poll(() => wall.page.locator('[data-testid=alert-banner]').getAttribute('data-sounding'), { timeout: 15_000 }).toBe('true');
    await expectNoEnglish(wall.page, 'the wall screen flood page', dataWords);
  });

  it('a cleared critical stays on the wall screen until acknowledged, silent; a new live warning comes first and sounds; one mute for all', async () => {
    const critical = (await floodAlerts()).find((a) => a.rule === 'flood.level')!;
    await setLevel(100);
    // Cleared after its clear hold: still waiting for an acknowledgement, but it makes no sound.
    await expect.poll(async () => (await floodAlerts()).find((a) => a.id === critical.id)?.state, { timeout: 30_000 }).toBe('resolved');
    const banner = wall.page.locator('[data-testid=alert-banner]');
    await expect.poll(() => banner.getAttribute('data-sounding'), { timeout: 15_000 }).toBe('false');
    await expect(banner.locator('[data-testid=banner-first]').textContent()).resolves.toContain('已解除');
    expect(await wall.page.locator(`[data-testid=alert-item][data-alert-id="${critical.id}"]`).getAttribute('data-alert-state')).toBe('resolved');

    // The water comes back to the warning band: a new, live alert. It leads, and it sounds.
    await setLevel(350);
    await expect.poll(async () => (await floodAlerts()).some((a) => a.rule === 'flood.level' && a.state === 'firing' && a.id !== critical.id), { timeout: 30_000 }).toBe(true);
    const live = (await floodAlerts()).find((a) => a.rule === 'flood.level' && a.state === 'firing')!;
    await expect.poll(() => banner.locator('[data-testid=banner-first]').getAttribute('data-alert-id'), { timeout: 15_000 }).toBe(live.id);
    await expect.poll(() => banner.getAttribute('data-sounding')).toBe('true');
    const ids = await wall.page.evaluate<(string | null)[]>(`[...document.querySelectorAll('[data-testid=alert-item]')].map((e) => e.getAttribute('data-alert-id'))`);
    expect(ids.indexOf(live.id)).toBeLessThan(ids.indexOf(critical.id));
    // A viewer cannot acknowledge; the wall has one mute for everything it shows.
    expect(await wall.page.locator('[data-testid=room-ack], [data-testid=ack-button]').count()).toBe(0);
    await expect(wall.page.locator('[data-testid=room-ack-viewer]').textContent()).resolves.toContain('只有应急响应人员可以确认告警');
    await wall.page.locator('[data-testid=banner-mute]').click();
    await expect.poll(() => banner.getAttribute('data-sounding')).toBe('false');
    expect(await wall.page.locator('[data-testid=banner-mute]').getAttribute('aria-pressed')).toBe('true');
    await wall.page.waitForTimeout(500);
    await wall.page.screenshot({ path: join(SHOTS, 'wall-screen-flood-zh-CN.png') });
    await expectNoEnglish(wall.page, 'the wall screen with a cleared and a live alert', dataWords);
    await wall.page.goto(`${sys.baseUrl}/`);
    await wall.page.locator('[data-testid=flood-tile]').waitFor();
    await expect(wall.page.locator(`[data-testid=flood-tile-${ROOM}]`).textContent()).resolves.toContain('预警');
    await expectNoEnglish(wall.page, 'the wall screen overview with its flood tile', dataWords);
    await wall.page.screenshot({ path: join(SHOTS, 'wall-screen-overview-zh-CN.png') });
  });

  it('one acknowledgement on the phone takes every alert of the room, each audited; the banner leaves every screen', async () => {
    const page = phone.page;
    const waiting = (await floodAlerts()).filter((a) => a.state === 'firing' || (a.state === 'resolved' && !a.ackedAt));
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('[data-testid=room-ack]').getAttribute('data-count'), { timeout: 15_000 }).toBe(String(waiting.length));
    await page.locator('[data-testid=room-ack-form] input').fill('值班人员已到场，正在排水');
    await page.locator('[data-testid=room-ack]').click();
    await page.locator('[data-testid=room-ack-none]').waitFor();
    for (const p of [page, wall.page]) await expect.poll(() => p.locator('[data-testid=alert-banner]').count(), { timeout: 15_000 }).toBe(0);
    const audit = (await api.get<{ action: string; target: string }[]>('/api/audit')).body.filter((e) => e.action === 'alert.acknowledge').map((e) => e.target);
    for (const a of waiting) expect(audit).toContain(a.id);

    // The incident timeline, in Chinese: the alerts, the acknowledgements with the note, and that nobody
    // outside the dashboard was told.
    await page.goto(`${sys.baseUrl}/incidents`);
    await page.locator('a[href^="/incidents/"]').first().waitFor();
    await expectNoEnglish(page, 'the incident list', dataWords);
    await page.locator('a[href^="/incidents/"]').first().click();
    await page.locator('.timeline').waitFor();
    const timeline = await page.locator('.timeline').textContent();
    expect(timeline).toContain('告警触发');
    expect(timeline).toContain('已确认');
    expect(timeline).toContain('值班人员已到场，正在排水');
    expect(timeline).toContain('仪表板之外无人收到通知');
    expect(timeline).toContain('未配置任何通知渠道');
    await expect(page.locator('[data-testid=incident-summary]').textContent()).resolves.toMatch(/有 \d+ 次告警变化仪表板之外无人收到/);
    await expectNoEnglish(page, 'the incident timeline', dataWords);
  });
});
