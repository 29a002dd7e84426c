/**
 * The reports pages end to end: ParkOps started as `npm start` runs it, with its built-in simulators
 * (a demo install), and Debian's Chromium set to New York time so that only the site's zone
 * (Asia/Shanghai) can put ticks and days where they belong.
 *
 * A fresh install says it has no history and shows the back-fill command; running that command (the
 * simulators' CLI, two days instead of thirty) fills it. The range picker keeps its choice in the URL
 * (links, the date form, reload, back), a bad range is an error on the page in the reader's language,
 * the chart's ticks are the site's local midnights and whole hours, the heatmap has a legend and its
 * Chinese weekday labels stay on one line, comparisons read as points, and the exports carry the
 * reader's language. Screenshots go to a temporary folder (docs/screenshots under `npm run screenshots`).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalTime } from '../../ingest/src/reports/local-time.ts';
import { addDays } from '../../ingest/src/reports/periods.ts';
import { ADMIN_PASSWORD, startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { ensureDashboardBuilt, login, openBrowser, type Browser } from '../support/browser.ts';
import { screenshotDir } from '../support/screenshots.ts';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = screenshotDir();
const DESKTOP = { width: 1600, height: 1000 };
const site = new LocalTime('Asia/Shanghai');

describe('reports in Chromium', () => {
  let sys: ParkOpsProcess;
  let b: Browser;
  let page: Page;
  const today = (): string => site.date(Date.now());

  beforeAll(async () => {
    ensureDashboardBuilt();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', PARKOPS_SIMULATE: 'true' } });
    b = await openBrowser(DESKTOP, 'en-US', { timezoneId: 'America/New_York' });
    page = b.page;
    await login(page, sys.baseUrl, 'admin', ADMIN_PASSWORD);
  });

  afterAll(async () => {
    await b?.close();
    await sys?.stop();
  });

  const shown = (): Promise<string | null> => page.locator('[data-testid=range-shown]').textContent();
  const ticks = async (): Promise<[string, string][]> => JSON.parse((await page.locator('[data-testid=usage-chart]').first().getAttribute('data-ticks')) ?? '[]') as [string, string][];

  it('a fresh install says it has no history yet, and shows the exact back-fill command', async () => {
    await page.goto(`${sys.baseUrl}/reports`);
    const notice = page.locator('[data-testid=history-notice]');
    await notice.waitFor();
    await expect(notice.textContent()).resolves.toMatch(/ParkOps has readings for this period only since \d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    await expect(page.locator('[data-testid=backfill-command]').textContent()).resolves.toBe('npm run sim -- --from -30d --to now');
    await page.screenshot({ path: join(SHOTS, 'reports-fresh-install-desktop-en.png') });
  });

  it('running that command (two days of it) fills the history: yesterday has figures and no notice', { timeout: 300_000 }, async () => {
    // The command of the notice, with a shorter span (two days cover all of yesterday) and the test's own broker.
    await exec('npm', ['run', 'sim', '--silent', '--', '--from', '-2d', '--to', 'now', '--quiet', '--mqtt', sys.mqttUrl], { cwd: ROOT, timeout: 280_000 });
    // A back-fill writes history: it does not announce the (live) devices offline, so nothing turns silent.
    const alerts = await page.evaluate(async () => ((await (await fetch('/api/alerts?state=active')).json()) as { rule: string }[]).map((a) => a.rule));
    expect(alerts.filter((r) => r === 'device.stale')).toEqual([]);
    const yesterday = addDays(today(), -1);
    await page.goto(`${sys.baseUrl}/reports?range=day&date=${yesterday}`);
    await page.locator('[data-testid=kpi]').first().waitFor();
    expect(await page.locator('[data-testid=history-notice]').count()).toBe(0);
    expect(await page.locator('[data-testid=kpi] .num').first().textContent()).toMatch(/^\d+%$/);
  });

  it('ticks a day at the site zone local midnight and whole hours, not the browser zone, and never "09:33 PM"', async () => {
    const yesterday = addDays(today(), -1);
    await expect.poll(async () => (await ticks()).length).toBeGreaterThan(0);
    const t = await ticks();
    expect(t[0]).toEqual([new Date(Date.parse(`${yesterday}T00:00:00+08:00`)).toISOString(), new Date(`${yesterday}T00:00:00Z`).toLocaleDateString('en', { month: 'short', day: 'numeric', timeZone: 'UTC' })]);
    for (const [iso, label] of t) {
      expect(site.stamp(Date.parse(iso)).slice(14)).toBe('00'); // a whole local hour
      expect(label).toMatch(/^(\d{2}:00|[A-Z][a-z]{2} \d{1,2})$/);
    }
    expect(t.map(([, l]) => l)).toContain('12:00');
    // A week: one tick per local midnight.
    await page.goto(`${sys.baseUrl}/reports?range=week&date=${yesterday}`);
    await expect.poll(async () => (await ticks()).length).toBe(8);
    for (const [iso] of await ticks()) expect(site.stamp(Date.parse(iso)).slice(11)).toBe('00:00');
    await page.screenshot({ path: join(SHOTS, 'reports-parking-week-desktop-en.png'), fullPage: true });
  });

  it('keeps the period in the URL: kind links, the date form, reload and back', async () => {
    const day = addDays(today(), -2);
    await page.goto(`${sys.baseUrl}/reports?range=day&date=${day}&zone=B`);
    await expect.poll(shown).toContain(`${day} to ${day}`);
    await page.locator('[data-testid=range-picker] a[data-kind=week]').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('range')).toBe('week');
    const url = new URL(page.url());
    // The week of the day shown, the zone kept.
    expect([url.searchParams.get('zone'), url.searchParams.get('date')]).toEqual(['B', day]);
    const monday = addDays(day, -site.weekday(Date.parse(`${day}T12:00:00+08:00`)));
    await expect.poll(shown).toContain(`${monday} to ${addDays(monday, 6)}`);
    // The date form: another week, by a date inside it.
    const earlier = addDays(monday, -10);
    await page.fill('[data-testid=range-form] input[name=date]', earlier);
    await page.click('[data-testid=range-form] button[type=submit]');
    await expect.poll(() => new URL(page.url()).searchParams.get('date')).toBe(earlier);
    const earlierMonday = addDays(earlier, -site.weekday(Date.parse(`${earlier}T12:00:00+08:00`)));
    await expect.poll(shown).toContain(`${earlierMonday} to ${addDays(earlierMonday, 6)}`);
    await page.reload();
    await expect.poll(shown).toContain(`${earlierMonday} to ${addDays(earlierMonday, 6)}`);
    expect(await page.locator('[data-testid=range-picker] a[data-kind=week]').getAttribute('aria-current')).toBe('true');
    await page.goBack();
    await expect.poll(shown).toContain(`${monday} to ${addDays(monday, 6)}`);
    // Custom dates, both ends included.
    await page.goto(`${sys.baseUrl}/reports?range=custom&from=${addDays(today(), -3)}&to=${addDays(today(), -1)}`);
    await expect.poll(shown).toContain(`${addDays(today(), -3)} to ${addDays(today(), -1)}`);
    // Tabs carry the period to the other reports.
    await page.click('nav a[href^="/reports/venues"]');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/reports/venues');
    expect(new URL(page.url()).searchParams.get('range')).toBe('custom');
    await expect.poll(shown).toContain(`${addDays(today(), -3)} to ${addDays(today(), -1)}`);
  });

  it('a bad range is an error on the page, in the reader language, and no report is shown', async () => {
    await page.goto(`${sys.baseUrl}/reports?range=fortnight`);
    const err = page.locator('[data-testid=range-error]');
    await expect.poll(() => err.textContent()).toBe('The reports do not know the period "fortnight". Pick a day, week, month, custom dates or one of the quick ranges.');
    expect(await page.locator('[data-testid=kpi]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'reports-bad-range-desktop-en.png') });
    await page.goto(`${sys.baseUrl}/reports?range=custom&from=2024-01-01&to=2026-01-01`);
    await expect.poll(() => err.textContent()).toBe('That is 732 days; a report covers at most 366 days (a year).');
    await page.goto(`${sys.baseUrl}/reports/flood?range=day&date=${addDays(today(), 1)}`);
    await expect.poll(() => err.textContent()).toBe(`${addDays(today(), 1)} is after today. Pick a date up to today.`);
    await page.selectOption('[data-testid=lang-select]', 'zh-CN');
    await expect.poll(() => err.textContent()).toBe(`${addDays(today(), 1)} 晚于今天。请选择今天或之前的日期。`);
    await page.selectOption('[data-testid=lang-select]', 'en');
  });

  it('comparisons read as points, the heatmap has a legend, and the Chinese weekdays stay on one line', async () => {
    await page.goto(`${sys.baseUrl}/reports?range=day&date=${addDays(today(), -1)}`);
    const avg = page.locator('[data-testid=kpi]').first();
    await expect.poll(() => avg.textContent()).toMatch(/previous period \d+% · (▲ |▼ )?([+−]\d+ points|no change)/);
    await page.selectOption('[data-testid=lang-select]', 'zh-CN');
    await expect.poll(() => avg.textContent()).toMatch(/上期 \d+% · (▲ |▼ )?([+−]\d+ 个百分点|持平)/);
    const legend = page.locator('[data-testid=heatmap-legend]').first();
    await expect(legend.textContent()).resolves.toMatch(/颜色刻度\s*0%.*≤ 100%.*无数据/);
    const rows = page.locator('[data-testid=heatmap] tbody th');
    expect(await rows.count()).toBe(7);
    // Rows are 22 px high when every label fits on one line; a wrapped label would make its row taller.
    for (let i = 0; i < 7; i++) {
      const th = rows.nth(i);
      expect(await th.textContent()).toMatch(/^周[一二三四五六日]$/);
      expect((await th.boundingBox())!.height).toBeLessThanOrEqual(24);
    }
    await page.screenshot({ path: join(SHOTS, 'reports-parking-day-desktop-zh-CN.png'), fullPage: true });
  });

  it('exports carry the reader language: CSV headers and the monthly PDF', async () => {
    await page.goto(`${sys.baseUrl}/reports?range=day&date=${addDays(today(), -1)}`);
    await page.selectOption('[data-testid=lang-select]', 'zh-CN');
    await expect.poll(() => page.locator('a[download][href*="table=days"]').first().getAttribute('href')).toContain('lang=zh-CN');
    const csv = await page.locator('a[download][href*="table=days"]').first().getAttribute('href');
    expect(new URL(csv!, sys.baseUrl).searchParams.get('lang')).toBe('zh-CN');
    const got = await page.evaluate(async (href) => {
      const res = await fetch(href);
      const bytes = new Uint8Array(await res.arrayBuffer());
      return { type: res.headers.get('content-type'), bom: [...bytes.slice(0, 3)], head: new TextDecoder().decode(bytes).split('\r\n')[0] ?? '' };
    }, csv!);
    expect(got.type).toBe('text/csv; charset=utf-8');
    expect(got.bom).toEqual([0xef, 0xbb, 0xbf]);
    expect(got.head.split(',').slice(0, 4)).toEqual(['日期（当地）', '时区', '平均占用率（0-1）', '最高占用率（0-1）']);
    const pdf = await page.locator('[data-testid=monthly-pdf]').getAttribute('href');
    const month = addDays(today(), -1).slice(0, 7);
    expect(pdf).toBe(`/api/reports/monthly.pdf?month=${month}&lang=zh-CN`);
    const res = await page.evaluate(async (href) => {
      const r = await fetch(href);
      return { status: r.status, type: r.headers.get('content-type'), magic: new TextDecoder().decode(new Uint8Array(await r.arrayBuffer()).slice(0, 5)) };
    }, pdf!);
    expect(res).toEqual({ status: 200, type: 'application/pdf', magic: '%PDF-' });
    await page.selectOption('[data-testid=lang-select]', 'en');
  });
});
