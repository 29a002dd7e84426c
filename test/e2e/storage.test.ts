/**
 * The admin Storage and backups page in Chromium: the database size, rows per table (after the first
 * count), the retention settings, "Back up now" writing a copy that downloads whole and shows as the
 * last backup; and the page in Chinese. ParkOps runs as `npm start` runs it, with the embedded broker.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { ensureDashboardBuilt, login, openBrowser, type Browser } from '../support/browser.ts';
import { eventually } from '../support/mqtt.ts';
import { SCHEMAS } from '../../ingest/src/db/schemas.ts';

describe('admin Storage and backups page in Chromium', () => {
  let sys: ParkOpsProcess;
  let api: Api;
  let browser: Browser;

  beforeAll(async () => {
    ensureDashboardBuilt();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', PARKOPS_RETENTION_DAYS: '365' } });
    api = await adminApi(sys);
    // The rows are counted at start, in a worker; wait for the count.
    await eventually(async () => (await api.get<{ countedAt: string | null }>('/api/admin/storage')).body.countedAt !== null, 20_000, 'the first row count');
    browser = await openBrowser({ width: 1400, height: 900 });
    await login(browser.page, sys.baseUrl, 'admin', ADMIN_PASSWORD);
  });

  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
  });

  it('shows the size, the rows per table and the retention, and backs up from the page with a download', async () => {
    const page = browser.page;
    await page.goto(`${sys.baseUrl}/admin/storage`, { waitUntil: 'networkidle' });
    await page.getByText('Database file').waitFor();
    const text = await page.locator('main, body').first().innerText();
    expect(text).toMatch(/Raw readings: 365 days/);
    expect(text).toMatch(/Alerts, incidents and the audit log: 1825 days/);
    expect(text).toMatch(/No backup noted yet\./);
    // Counted at start: one schema version row per module, and the reading tables (empty here).
    expect(await page.locator('tr', { hasText: 'schema_versions' }).innerText()).toMatch(new RegExp(`schema_versions\\s+${SCHEMAS.length}$`));
    expect(await page.locator('tr', { hasText: 'bay_readings' }).innerText()).toMatch(/bay_readings\s+0$/);

    await page.getByRole('button', { name: 'Back up now' }).click();
    const status = page.getByRole('status');
    await status.getByText(/Backup parkops-.*\.db written/).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), status.getByRole('link', { name: 'Download' }).click()]);
    const bytes = readFileSync((await download.path()));
    // An SQLite file, whole: the header, and the size the server reported.
    expect(bytes.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
    const storage = (await api.get<{ lastBackup: { name: string; bytes: number } | null; backups: Array<{ name: string }> }>('/api/admin/storage')).body;
    expect(storage.lastBackup?.bytes).toBe(bytes.length);
    expect(storage.backups.map((b) => b.name)).toEqual([storage.lastBackup!.name]);
    await page.reload({ waitUntil: 'networkidle' });
    expect(await page.locator('body').innerText()).toContain(storage.lastBackup!.name);
    const audit = (await api.get<Array<{ action: string; target: string | null }>>('/api/audit')).body;
    expect(audit.find((e) => e.action === 'backup.created')?.target).toBe(storage.lastBackup!.name);
  });

  it('is in Chinese for a Chinese browser', async () => {
    const zh = await openBrowser({ width: 1400, height: 900 }, 'zh-CN');
    try {
      await login(zh.page, sys.baseUrl, 'admin', ADMIN_PASSWORD);
      await zh.page.goto(`${sys.baseUrl}/admin/storage`, { waitUntil: 'networkidle' });
      await zh.page.getByText('数据库文件').waitFor();
      expect(await zh.page.getByRole('button', { name: '立即备份' }).count()).toBe(1);
    } finally {
      await zh.close();
    }
  });
});
