/**
 * The admin area, sign-in and the Node-RED editor in Chromium, on ParkOps started as `npm start` runs
 * it: a sign-in without JavaScript never puts the password in a URL; a lock-out says for how long; an
 * admin changes roles, disables and unlocks users and reads the audit log as sentences (en and zh-CN);
 * a user given a password must choose their own first; a wall-screen link signs a screen in once, view
 * only; an admin opens /flows without a second login and the default flow's boxes do not overlap; a
 * manager gets a 403 page. Screenshots go to a temporary folder unless `npm run screenshots`.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { ensureDashboardBuilt, openBrowser, type Browser } from '../support/browser.ts';
import { screenshotDir } from '../support/screenshots.ts';

const SHOTS = screenshotDir();
const DESKTOP = { width: 1440, height: 900 };
let sys: ParkOpsProcess;
let api: Api;
const browsers: Browser[] = [];

async function browser(locale = 'en-US', extra: { javaScriptEnabled?: boolean } = {}): Promise<Browser> {
  const b = await openBrowser(DESKTOP, locale, extra);
  browsers.push(b);
  return b;
}

/** Signs in through the form, as a person does (waits for the scripts, then submits). */
async function signIn(page: Page, username: string, password: string, landing = '/'): Promise<void> {
  await page.goto(`${sys.baseUrl}/login`, { waitUntil: 'networkidle' });
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('form button[type=submit]');
  await page.waitForURL(`${sys.baseUrl}${landing}`);
}

beforeAll(async () => {
  ensureDashboardBuilt();
  sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'true' } });
  api = await adminApi(sys);
  for (const [username, role] of [
    ['li.wei', 'responder'],
    ['mgr', 'manager'],
    ['lockme', 'viewer'],
  ] as const) {
    expect((await api.post('/api/users', { username, password: `${username}-password-1`, role })).status).toBe(201);
  }
});

afterAll(async () => {
  for (const b of browsers.splice(0)) await b.close();
  await sys?.stop();
});

describe('signing in', () => {
  it('works without JavaScript, and the password never appears in a URL', async () => {
    const { page } = await browser('en-US', { javaScriptEnabled: false });
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${sys.baseUrl}/login?next=%2Fflood`);
    await page.fill('#username', 'li.wei');
    await page.fill('#password', 'not-the-password');
    await page.click('form button[type=submit]');
    await page.waitForURL(/\/login\?error=auth\.invalid/);
    expect(await page.textContent('[data-testid=login-error]')).toBe('Wrong user name or password.');
    await page.fill('#username', 'li.wei');
    await page.fill('#password', 'li.wei-password-1');
    await page.click('form button[type=submit]');
    await page.waitForURL(`${sys.baseUrl}/flood`);
    expect(urls.length).toBeGreaterThan(3);
    expect(urls.filter((u) => u.includes('password'))).toEqual([]);
  });

  it('says how long a lock-out lasts, in the reader\'s language', async () => {
    const { page } = await browser('zh-CN');
    await page.goto(`${sys.baseUrl}/login`, { waitUntil: 'networkidle' });
    for (let i = 0; i < 6; i++) {
      await page.fill('#username', 'lockme');
      await page.fill('#password', `wrong-password-${i}`);
      await page.click('form button[type=submit]');
      await page.locator('[data-testid=login-error]').waitFor();
    }
    expect(await page.textContent('[data-testid=login-error]')).toBe('登录失败次数过多，请在 15 分钟后重试。');
  });
});

describe('the admin area', () => {
  it('changes a role, disables and enables, unlocks, and shows it all in the audit log as sentences', async () => {
    const { page } = await browser();
    page.on('dialog', (d) => void d.accept());
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`${sys.baseUrl}/admin/users`);
    const row = (name: string) => page.locator(`tr[data-user="${name}"]`);
    const message = page.locator('[data-testid=users-message]');

    await row('li.wei').locator('select').selectOption('viewer');
    await expect.poll(() => message.textContent()).toBe('li.wei is now Viewer.');
    await row('li.wei').getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => message.textContent()).toBe('li.wei is disabled and signed out.');
    await expect.poll(() => row('li.wei').textContent()).toContain('Disabled');
    const stored = (await api.get<{ username: string; role: string; disabledAt?: string }[]>('/api/users')).body.find((u) => u.username === 'li.wei');
    expect([stored?.role, typeof stored?.disabledAt]).toEqual(['viewer', 'string']);
    await row('li.wei').getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => message.textContent()).toBe('li.wei can sign in again.');

    // lockme was locked out by the test above (from this machine): the list says until when.
    await page.reload();
    expect(await row('lockme').textContent()).toContain('Locked out until');
    await row('lockme').getByRole('button', { name: 'Unlock' }).click();
    await expect.poll(() => message.textContent()).toBe('lockme is unlocked and can try again now.');
    const retry = await fetch(`${sys.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: sys.baseUrl }, body: JSON.stringify({ username: 'lockme', password: 'lockme-password-1' }) });
    expect(retry.status).toBe(200);
    await page.screenshot({ path: join(SHOTS, 'admin-users-actions-desktop-en.png') });

    await page.goto(`${sys.baseUrl}/admin/audit`);
    await page.selectOption('select[name=action]', 'user');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/action=user/);
    const table = page.locator('[data-testid=audit-table]');
    const text = (await table.textContent()) ?? '';
    expect(text).toContain('admin changed the role of li.wei from Responder to Viewer.');
    expect(text).toMatch(/admin disabled li\.wei \(sessions ended: \d\)\./);
    expect(text).toContain('admin unlocked lockme after failed sign-ins.');
    expect(text).not.toMatch(/user\.(role_changed|disabled|unlocked)|\{|"/);
    expect(await page.locator('tr[data-action^="login"]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'admin-audit-filtered-desktop-en.png') });

    await page.context().addCookies([{ name: 'parkops_lang', value: 'zh-CN', url: sys.baseUrl }]);
    await page.goto(`${sys.baseUrl}/admin/audit?actor=lockme`);
    const zh = (await page.locator('[data-testid=audit-table]').textContent()) ?? '';
    expect(zh).toContain('lockme 登录失败：密码错误。');
    expect(zh).toContain('lockme 因多次登录失败被锁定 15 分钟。');
    await page.screenshot({ path: join(SHOTS, 'admin-audit-filtered-desktop-zh-CN.png') });
  });

  it('sends a user with a given password to choose their own first', async () => {
    expect((await api.post('/api/users', { username: 'zhang', password: 'given-password-1', role: 'manager', mustChangePassword: true })).status).toBe(201);
    const { page } = await browser();
    await signIn(page, 'zhang', 'given-password-1', '/account');
    await page.goto(`${sys.baseUrl}/reports`);
    await page.waitForURL(/\/account\?next=%2Freports/);
    expect(await page.textContent('[data-testid=must-change]')).toContain('Choose your own password now');
    await page.fill('#pw-current', 'given-password-1');
    await page.fill('#pw-new', 'zhangs-own-password');
    await page.fill('#pw-again', 'zhangs-own-password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(`${sys.baseUrl}/reports`);
  });
});

describe('wall screens', () => {
  it('sign in once with a link, land on their page, and can only view', async () => {
    const { page } = await browser();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`${sys.baseUrl}/admin/kiosks`);
    await page.fill('#nk-name', 'control-room');
    await page.getByRole('button', { name: 'Create' }).click();
    const link = (await page.locator('[data-testid=kiosk-link]').textContent())!;
    expect(link).toMatch(new RegExp(`^${sys.baseUrl}/kiosk#pkk_[A-Za-z0-9_-]{43}$`));

    const wall = await browser('zh-CN');
    const requests: string[] = [];
    wall.page.on('request', (r) => requests.push(r.url()));
    const logs: string[] = [];
    wall.page.on('console', (m) => logs.push(m.text()));
    wall.page.on('pageerror', (e) => logs.push(e.message));
    await wall.page.goto(link);
    await wall.page.waitForURL(`${sys.baseUrl}/flood`, { timeout: 10_000 }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n${wall.page.url()}\n${await wall.page.textContent('body')}\n${logs.join('\n')}`);
    });
    await wall.page.locator('main h1').first().waitFor();
    await wall.page.screenshot({ path: join(SHOTS, 'kiosk-wall-flood-desktop-zh-CN.png') });
    // The secret went to no server in a URL (fragments are never sent).
    expect(requests.filter((u) => u.includes('pkk_'))).toEqual([]);
    const status = await wall.page.evaluate(async () => (await fetch('/api/alerts/any/ack', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json());
    expect(status).toMatchObject({ code: 'auth.kiosk_view_only' });
    const admin = await wall.page.goto(`${sys.baseUrl}/admin`);
    expect(admin?.status()).toBe(403);

    await page.reload();
    expect(await page.locator('tr[data-kiosk="control-room"]').textContent()).toContain('1');
    const audit = await api.get<{ action: string; actor: string }[]>('/api/audit?action=kiosk.signin');
    expect(audit.body.some((e) => e.actor === 'kiosk:control-room')).toBe(true);
  });
});

describe('the Node-RED editor', () => {
  it('opens for an admin signed in to the dashboard without a second login; its default flow has no overlapping boxes', async () => {
    const { page } = await browser();
    // Not signed in: the editor sends the browser to sign in, and back to the editor afterwards.
    await page.goto(`${sys.baseUrl}/flows/`);
    await page.waitForURL(/\/login\?next=%2Fflows%2F/);
    await page.waitForLoadState('networkidle');
    await page.fill('#username', 'admin');
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('form button[type=submit]');
    await page.waitForURL(`${sys.baseUrl}/flows/`);
    const nodes = page.locator('#red-ui-workspace-chart g.red-ui-flow-node-group');
    await expect.poll(() => nodes.count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#node-dialog-login').isVisible()).toBe(false);
    // DOM types are not in this project's lib: the little of them used here.
    interface Box { left: number; right: number; top: number; bottom: number }
    interface El { id: string; getBoundingClientRect(): Box; querySelector(selector: string): El | null }
    const boxes = await nodes.evaluateAll((els: El[]) =>
      els.map((g) => {
        const r = (g.querySelector('rect.red-ui-flow-node') ?? g).getBoundingClientRect();
        return { id: g.id, left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      }),
    );
    const overlaps: string[] = [];
    for (const a of boxes) for (const b of boxes) if (a.id < b.id && !(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top)) overlaps.push(`${a.id} / ${b.id}`);
    expect(boxes.length).toBeGreaterThanOrEqual(4);
    expect(overlaps).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'node-red-editor-desktop-en.png') });
  });

  it('shows a signed-in manager a 403 page in their language, not a redirect loop', async () => {
    const { page } = await browser('zh-CN');
    await signIn(page, 'mgr', 'mgr-password-1');
    const res = await page.goto(`${sys.baseUrl}/flows/`);
    expect(res?.status()).toBe(403);
    expect(await page.textContent('h1')).toBe('Node-RED 编辑器仅供管理员使用');
    expect(await page.textContent('[data-testid=editor-forbidden]')).toContain('mgr（经理）');
    // The dashboard's sign-in page does not bounce a signed-in manager back and forth either.
    const again = await page.goto(`${sys.baseUrl}/login?next=%2Fflows%2F`);
    expect(again?.status()).toBe(403);
    expect(page.url()).toBe(`${sys.baseUrl}/flows/`);
  });
});
