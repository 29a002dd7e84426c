/**
 * Weather warnings on the dashboard, end to end: ParkOps started as `npm start` runs it, a feed token
 * posting CAP 1.2 over HTTP, and Debian's Chromium with playwright-core. A rainstorm warning in force
 * shows on the flood page (headline in the reader's language) with the room's storm-mode badge, live;
 * its Cancel takes both away, live. A feed token gets no page. Saves docs/screenshots/flood-storm-*.png.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { at, buildCap, JINING_POLYGON } from '../../ingest/src/warnings/testing.ts';
import { ADMIN_PASSWORD, startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { screenshotDir } from '../support/screenshots.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DASHBOARD = join(ROOT, 'dashboard');
const SHOTS = screenshotDir();

/** Build the dashboard when build/handler.js is missing or older than its sources, as `npm start` does. */
function ensureDashboardBuilt(): void {
  const handler = join(DASHBOARD, 'build', 'handler.js');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  if (existsSync(handler) && statSync(handler).mtimeMs >= newest(join(DASHBOARD, 'src'))) return;
  execFileSync('npm', ['run', 'build', '-w', 'dashboard'], { cwd: ROOT, stdio: 'ignore' });
}

describe('weather warnings on the dashboard', () => {
  let sys: ParkOpsProcess;
  let feed: string;
  let ctx: BrowserContext;
  let page: Page;
  let chromeDir: string;
  const sent = Date.now();
  const alertXml = buildCap({
    identifier: 'E2E-STORM-1',
    sent: at(sent, -30),
    infos: [
      { language: 'zh-CN', event: '暴雨', severity: 'Severe', headline: '济宁市气象台发布暴雨橙色预警[Ⅱ级/严重]', polygon: JINING_POLYGON, onset: at(sent, -15), expires: at(sent, 180) },
      { language: 'en-US', event: 'Rainstorm', severity: 'Severe', headline: 'Jining issues an orange rainstorm warning [level II / severe]', polygon: JINING_POLYGON, onset: at(sent, -15), expires: at(sent, 180) },
    ],
  });
  const post = async (xml: string): Promise<number> =>
    (await fetch(`${sys.baseUrl}/api/warnings`, { method: 'POST', headers: { authorization: `Bearer ${feed}`, 'content-type': 'application/cap+xml' }, body: xml })).status;

  beforeAll(async () => {
    ensureDashboardBuilt();
    mkdirSync(SHOTS, { recursive: true });
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false' } });
    const cookie = await sys.adminCookie();
    const res = await fetch(`${sys.baseUrl}/api/tokens`, { method: 'POST', headers: { cookie, origin: sys.baseUrl, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'weather-feed', role: 'feed' }) });
    feed = ((await res.json()) as { token: string }).token;
    chromeDir = mkdtempSync(join(tmpdir(), 'parkops-chromium-'));
    ctx = await chromium.launchPersistentContext(chromeDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1920, height: 1080 },
      locale: 'zh-CN',
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(`${sys.baseUrl}/login`, { waitUntil: 'networkidle' }); // the form submits by script once hydrated
    await page.fill('#username', 'admin');
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('form button[type=submit]');
    await page.waitForURL(`${sys.baseUrl}/`);
  });

  afterAll(async () => {
    await ctx?.close();
    if (chromeDir) rmSync(chromeDir, { recursive: true, force: true });
    await sys?.stop();
  });

  it('shows a rainstorm warning and the storm-mode badge as soon as it is posted, in Chinese for a Chinese browser', async () => {
    await page.goto(`${sys.baseUrl}/flood`);
    await page.locator('[data-testid=live-status][data-status=live]').waitFor();
    expect(await page.locator('[data-testid=warning-banner]').count()).toBe(0);
    expect(await page.locator('[data-testid=storm-badge-b1-power]').count()).toBe(0);

    expect(await post(alertXml)).toBe(202);
    const banner = page.locator('[data-testid=warning-banner]');
    await banner.waitFor();
    await expect(banner.textContent()).resolves.toContain('济宁市气象台发布暴雨橙色预警[Ⅱ级/严重]');
    await expect(banner.textContent()).resolves.toContain('严重');
    await page.locator('[data-testid=storm-badge-b1-power]').waitFor();
    await expect(page.locator('[data-testid=storm-badge-b1-power]').textContent()).resolves.toContain('暴雨模式');
    await page.screenshot({ path: join(SHOTS, 'flood-storm-desktop-zh-CN.png') });

    // A reload keeps both (they come with the stream's snapshot); in English the English block shows.
    await page.locator('[data-testid=lang-select]').selectOption('en');
    await page.reload();
    await expect(page.locator('[data-testid=warning-banner]').textContent()).resolves.toContain('Jining issues an orange rainstorm warning');
    await expect(page.locator('[data-testid=storm-badge-b1-power]').textContent()).resolves.toContain('Storm mode');
    await page.screenshot({ path: join(SHOTS, 'flood-storm-desktop-en.png') });
  });

  it('takes the warning and the badge away when the Cancel arrives', async () => {
    const cancel = buildCap({ identifier: 'E2E-STORM-1-C', sent: at(Date.now(), 0), msgType: 'Cancel', references: `sd-jining@cma.gov.cn,E2E-STORM-1,${at(sent, -30)}`, infos: [{ polygon: JINING_POLYGON }] });
    expect(await post(cancel)).toBe(202);
    await page.locator('[data-testid=warning-banner]').waitFor({ state: 'detached' });
    await page.locator('[data-testid=storm-badge-b1-power]').waitFor({ state: 'detached' });
  });

  it('gives a feed token no dashboard page: it is sent to the login page', async () => {
    for (const path of ['/', '/flood', '/admin']) {
      const res = await fetch(sys.baseUrl + path, { headers: { authorization: `Bearer ${feed}` }, redirect: 'manual' });
      expect([path, res.status]).toEqual([path, 303]);
      expect(res.headers.get('location')).toMatch(/^\/login/);
      await res.body?.cancel();
    }
  });
});
