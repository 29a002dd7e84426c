/** Chromium for end-to-end tests: Debian's /usr/bin/chromium through playwright-core, headless, in a fresh profile. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DASHBOARD = join(ROOT, 'dashboard');

/** Builds the dashboard when build/handler.js is missing or older than its sources, as `npm start` does. */
export function ensureDashboardBuilt(): void {
  const handler = join(DASHBOARD, 'build', 'handler.js');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  if (existsSync(handler) && statSync(handler).mtimeMs >= newest(join(DASHBOARD, 'src'))) return;
  execFileSync('npm', ['run', 'build', '-w', 'dashboard'], { cwd: ROOT, stdio: 'ignore' });
}

export interface Browser {
  ctx: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function openBrowser(viewport: { width: number; height: number }, locale = 'en-US', opts: { timezoneId?: string; javaScriptEnabled?: boolean } = {}): Promise<Browser> {
  // Debian's chromium rejects --user-data-dir through launch(): a persistent context in a fresh folder.
  const dir = mkdtempSync(join(tmpdir(), 'parkops-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport,
    locale,
    ...opts,
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  return {
    ctx,
    page,
    async close() {
      await ctx.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function login(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  // Before the scripts run, the form posts to the API itself (and lands on / as well); waiting for them
  // makes every test sign in the same way, through the page's handler.
  await page.goto(`${baseUrl}/login`, { waitUntil: 'networkidle' });
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('form button[type=submit]');
  await page.waitForURL(`${baseUrl}/`);
}
