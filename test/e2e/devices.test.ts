/**
 * The admin Devices page in Chromium: every device with its kind and binding, the silent and
 * low-battery filters, an unbound DevEUI assigned from the page (the next uplink then lands on the
 * device), the CSV import naming a bad row and importing nothing, then a good file, and the page in
 * Chinese. ParkOps runs as `npm start` runs it, with the embedded broker.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceView, ParkingResponse } from '@parkops/contract/index.ts';
import { ADMIN_PASSWORD, startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { ensureDashboardBuilt, login, openBrowser, type Browser } from '../support/browser.ts';
import { chirpstackUp } from '../support/lorawan.ts';
import { connect, eventually, publish } from '../support/mqtt.ts';
import { screenshotDir } from '../support/screenshots.ts';

const SHOTS = screenshotDir();

describe('admin Devices page in Chromium', () => {
  let sys: ParkOpsProcess;
  let api: Api;
  let ns: MqttClient;
  let browser: Browser;

  beforeAll(async () => {
    ensureDashboardBuilt();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false' } });
    api = await adminApi(sys);
    ns = await connect(sys.mqttUrl);
    const now = Date.now();
    // A bay on section-1 JSON with a flat battery, a bound level sensor, and a DevEUI nobody has bound yet.
    await publish(ns, 'park/parking/bays/A-001', { occupied: true, ts: now - 1000, battery: 9 });
    expect((await api.put('/api/devices/L1/binding', { devEui: '24E124710B423527', codec: 'milesight-em310-udl', params: { mountMm: 2500 } })).status).toBe(200);
    const level = chirpstackUp({ devEui: '24E124710B423527', time: now - 2000, fPort: 85, hex: '01755C 03824408 040000', rssi: -101, snr: 3.5 });
    await publish(ns, level.topic, level.payload);
    const unbound = chirpstackUp({ devEui: 'A84041000181C3D1', time: now - 3000, fPort: 2, hex: '0D3B0AEF00000001' });
    await publish(ns, unbound.topic, unbound.payload);
    await eventually(async () => (await api.get<unknown[]>('/api/devices/unbound')).body.length === 1, 10_000, 'the unbound DevEUI');
    // The other flood devices say offline (their Last Will), so they are silent now rather than after
    // the grace the judge gives devices never heard since ParkOps started.
    for (const id of ['L2', 'P1', 'P2']) await publish(ns, `park/devices/${id}/status`, 'offline');
    await eventually(async () => (await api.get<DeviceView[]>('/api/devices')).body.find((d) => d.id === 'L1' && d.rssi === -101), 10_000, 'the level uplink');
    browser = await openBrowser({ width: 1600, height: 1000 });
    await login(browser.page, sys.baseUrl, 'admin', ADMIN_PASSWORD);
  });

  afterAll(async () => {
    await browser?.close();
    await ns?.endAsync();
    await sys?.stop();
  });

  it('lists every device with its kind, binding, battery, RSSI and SNR, and filters silent and low-battery ones', async () => {
    const page = browser.page;
    await page.goto(`${sys.baseUrl}/admin/devices`, { waitUntil: 'networkidle' });
    await page.locator('tr[data-device]').first().waitFor();
    expect(await page.locator('tr[data-device]').count()).toBe(600 + 4 + 4 + 3);
    const l1 = page.locator('tr[data-device="L1"]');
    await expect.poll(() => l1.innerText()).toMatch(/24E124710B423527/);
    const text = await l1.innerText();
    expect(text).toMatch(/milesight-em310-udl/);
    expect(text).toMatch(/92 %/);
    expect(text).toMatch(/-101 dBm/);
    expect(text).toMatch(/3\.5 dB/);
    await page.getByLabel('Low battery only').check();
    await expect.poll(async () => page.locator('tr[data-device]').count()).toBe(1);
    expect(await page.locator('tr[data-device]').first().getAttribute('data-device')).toBe('A-001');
    await page.getByLabel('Low battery only').uncheck();
    await page.getByLabel('Silent only').check();
    // Everything is silent but the two devices that just reported (gates are never silent).
    await expect.poll(async () => page.locator('tr[data-device]').count()).toBe(600 + 4 + 3 - 2);
    expect(await page.locator('tr[data-device="L1"]').count()).toBe(0);
    await page.getByLabel('Silent only').uncheck();
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'admin-devices.png') });
  });

  it('assigns an unbound DevEUI to a device, and its next uplink lands on that device', async () => {
    const page = browser.page;
    await page.locator('tr[data-unbound="A84041000181C3D1"] button').click();
    expect(await page.locator('#bd-eui').inputValue()).toBe('A84041000181C3D1');
    await page.fill('#bd-device', 'L2');
    await page.selectOption('#bd-codec', 'dragino-ldds75');
    await page.fill('#bd-params', '{"mountMm": 3000}');
    await page.click('form[aria-labelledby=bd-h] button[type=submit]');
    await page.getByText('L2 is bound to DevEUI A84041000181C3D1.').waitFor();
    await expect.poll(async () => page.locator('tr[data-unbound]').count()).toBe(0);
    const up = chirpstackUp({ devEui: 'A84041000181C3D1', time: Date.now() - 500, fPort: 2, hex: '0D3B0AEF00000001' });
    await publish(ns, up.topic, up.payload);
    await eventually(async () => (await api.get<DeviceView[]>('/api/devices')).body.find((d) => d.id === 'L2' && d.batteryMv === 3387), 10_000, 'L2 through its new binding');
    // A refused binding shows the server's reason.
    await page.fill('#bd-device', 'E-001');
    await page.fill('#bd-eui', 'A84041000181C3D1');
    await page.selectOption('#bd-codec', 'nwave-nps');
    await page.fill('#bd-params', '');
    await page.click('form[aria-labelledby=bd-h] button[type=submit]');
    await page.getByText(/bound to device L2/).waitFor();
  });

  it('imports a CSV: a bad row is named and nothing imported; a good file is imported', async () => {
    const page = browser.page;
    const bad = 'deviceId,devEui,codec\nE-010,70B3D5E00000000A,nwave-nps\nE-011,70B3D5E0000000,nwave-nps\n';
    await page.setInputFiles('#im-file', { name: 'bindings.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByText(/Row 3: devEui: must be 16 hex digits/).waitFor();
    expect((await api.get<DeviceView[]>('/api/devices')).body.find((d) => d.id === 'E-010')!.binding).toBeUndefined();
    const good = 'deviceId,devEui,codec\nE-010,70B3D5E00000000A,nwave-nps\nE-011,70B3D5E00000000B,nwave-nps\n';
    await page.setInputFiles('#im-file', { name: 'bindings.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByText('Checked 2 rows: 2 new, 0 changed, 0 unchanged. Nothing imported yet.').waitFor();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByText('Imported 2 rows: 2 new, 0 changed, 0 unchanged.').waitFor();
    await expect.poll(() => page.locator('tr[data-device="E-011"]').innerText()).toMatch(/70B3D5E00000000B/);
    const up = chirpstackUp({ devEui: '70B3D5E00000000B', fPort: 1, hex: '01' });
    await publish(ns, up.topic, up.payload);
    await eventually(async () => (await api.get<ParkingResponse>('/api/parking')).body.bays.find((b) => b.id === 'E-011' && b.occupied === true), 10_000, 'the imported bay');
  });

  it('is in Chinese for a Chinese browser', async () => {
    const zh = await openBrowser({ width: 1400, height: 900 }, 'zh-CN');
    try {
      await login(zh.page, sys.baseUrl, 'admin', ADMIN_PASSWORD);
      await zh.page.goto(`${sys.baseUrl}/admin/devices`, { waitUntil: 'networkidle' });
      await zh.page.getByText('导入绑定（CSV）').waitFor();
      expect(await zh.page.getByLabel('只看失联').count()).toBe(1);
    } finally {
      await zh.close();
    }
  });
});
