/**
 * Storm mode reaches responders' phones: Web Push sends critical alerts and the storm-mode alert (an
 * info alert), titled in Chinese from the storm words; its start wakes the phone, its end replaces the
 * notification quietly. Real SQLite subscriptions and VAPID keys; sending and encryption are covered
 * by test/integration/notify-channels.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import type { Alert, AlertDetails } from '@parkops/contract/api.ts';
import type { PushPayload } from '@parkops/contract/push.ts';
import { createLogger } from '../log.ts';
import { WebPushChannel } from '../notify/channels/webpush.ts';
import { SqlitePushSubscriptions } from '../notify/push-subscriptions.ts';
import { loadVapidKeys } from '../notify/vapid-keys.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../store/db.ts';

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const details: Extract<AlertDetails, { rule: 'flood.storm-mode' }> = {
  rule: 'flood.storm-mode',
  room: 'b1-power',
  since: '2026-07-15T01:30:00Z',
  warning: { id: 'w-1', sender: 'sd-jining@cma.gov.cn', event: '暴雨', severity: 'Moderate', onset: '2026-07-15T01:30:00Z', expires: '2026-07-15T08:00:00Z', texts: [{ language: 'zh-CN', event: '暴雨', headline: '济宁市气象台发布暴雨黄色预警' }] },
  warnings: 1,
  rules: { riseWarnMmPerMin: 5, riseWindowSec: 300, holdSec: 10, clearHoldSec: 120 },
};
const stormAlert = (state: Alert['state']): Alert => ({ id: 'al-storm', rule: 'flood.storm-mode', severity: 'info', state, subject: 'flood/b1-power', message: 'storm mode', startedAt: details.since, room: 'b1-power', details });

describe('storm mode by phone push', () => {
  it('goes to responders, Chinese title, waking the phone at the start and quiet at the end; other info alerts do not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parkops-storm-push-'));
    dirs.push(dir);
    const db = openDatabase(dir);
    dbs.push(db);
    const keys = loadVapidKeys(loadConfig({ PARKOPS_DATA_DIR: dir, PARKOPS_VAPID_SUBJECT: 'mailto:ops@jining-valley.example' }, { dotenv: false }));
    const repo = new SqlitePushSubscriptions(db);
    const sub = (n: number) => ({ endpoint: `https://fcm.googleapis.com/fcm/send/device-${n}`, expirationTime: null, keys: { p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM', auth: 'tBHItJI5svbpez7KI4CCXg' } });
    await repo.save('duty', sub(1), keys.publicKey, 'phone', '2026-07-15T00:00:00Z');
    await repo.save('wall', sub(2), keys.publicKey, 'kiosk', '2026-07-15T00:00:00Z');
    const roles: Record<string, 'responder' | 'viewer'> = { duty: 'responder', wall: 'viewer' };
    const channel = new WebPushChannel({ repo, keys, roleOf: (u) => roles[u] ?? null, site: loadSite(), log: createLogger('silent') });

    const opened = await channel.deliveriesFor(stormAlert('firing'), 'opened');
    expect(opened.map((d) => d.target)).toEqual([sub(1).endpoint]);
    const p = JSON.parse(opened[0]!.body) as PushPayload;
    expect(p).toMatchObject({ kind: 'alert', severity: 'info', urgent: true, url: '/flood?alert=al-storm' });
    expect(p.title).toBe('【提示】新告警：创启大厦B1配电室：暴雨模式');
    expect(p.body).toMatch(/济宁市气象台发布暴雨黄色预警/);
    expect((JSON.parse((await channel.deliveriesFor(stormAlert('resolved'), 'resolved'))[0]!.body) as PushPayload).urgent).toBe(false);
    expect(await channel.deliveriesFor({ ...stormAlert('firing'), rule: 'parking.low-battery', details: undefined }, 'opened')).toEqual([]);
  });
});
