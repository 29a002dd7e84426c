/**
 * The Notifier delivers alert changes to each channel's local receiver, which checks the request as
 * the vendor documents it (robot-receivers.ts) or as a push service and browser do (push-service.ts),
 * over real loopback HTTP with a real SQLite file. A wrong secret or key is refused by the receiver and
 * recorded as a failed attempt with the receiver's reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../ingest/src/bus.ts';
import { loadConfig } from '../../ingest/src/config.ts';
import type { Alert, Role } from '@parkops/contract/api.ts';
import type { PushPayload } from '@parkops/contract/push.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { robotChannels } from '../../ingest/src/notify/channels/index.ts';
import { pushTopic, PUSH_TTL_SEC, WebPushChannel } from '../../ingest/src/notify/channels/webpush.ts';
import { Notifier, NOTIFY_CHANGES, type NotifierOptions } from '../../ingest/src/notify/index.ts';
import { SqlitePushSubscriptions } from '../../ingest/src/notify/push-subscriptions.ts';
import { loadVapidKeys } from '../../ingest/src/notify/vapid-keys.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../../ingest/src/store/db.ts';
import { eventually } from './notify-webhook-receiver.ts';
import { PushService } from './push-service.ts';
import { RobotReceiver, type Vendor } from './robot-receivers.ts';

const log = createLogger('silent');
const site = loadSite();

function criticalAlert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'al-1',
    rule: 'flood.level',
    severity: 'critical',
    state: 'firing',
    subject: 'flood/b1-power/levels/L1',
    message: '创启大厦B1配电室：水位 712 mm，达到危急等级（危急线 700 mm）',
    value: 712,
    startedAt: '2026-07-14T03:12:05.000Z',
    room: 'b1-power',
    etaMin: 14,
    details: { rule: 'flood.level', room: 'b1-power', band: 'critical', thresholdMm: 700, levelMm: 712 },
    ...over,
  };
}

const fast: Partial<NotifierOptions> = { timeoutMs: 2_000, baseDelayMs: 100, maxDelayMs: 1_000, jitter: 0, maxAttempts: 4 };

let dir: string;
let db: Db;
let bus: EventBus;
const stops: (() => Promise<void>)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parkops-channels-'));
  db = openDatabase(dir);
  bus = new EventBus(log);
});

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function receiver(vendor: Vendor, opts: { secret?: string; now?: () => number } = {}): Promise<RobotReceiver> {
  const r = new RobotReceiver({ vendor, token: vendor === 'feishu' ? '6f1c2e0a-8d7b-4c3e-9a5f-1b2c3d4e5f60' : 'robot-token-0123456789abcdef', ...opts });
  await r.start();
  stops.push(() => r.stop());
  return r;
}

async function notifier(env: Record<string, string>, extra: { clockOffsetMs?: number; channels?: WebPushChannel[] } = {}): Promise<Notifier> {
  const config = loadConfig({ PARKOPS_DATA_DIR: dir, ...env }, { dotenv: false });
  const offset = extra.clockOffsetMs ?? 0;
  const n = new Notifier({
    db,
    bus,
    config,
    log,
    site,
    options: fast,
    clock: { now: () => Date.now() + offset },
    channels: [...robotChannels(config, site, NOTIFY_CHANGES), ...(extra.channels ?? [])],
  });
  await n.start();
  stops.push(() => n.stop());
  return n;
}

describe('DingTalk robot with 加签', () => {
  const secret = 'SEC4d2f9a0b1c3e5f7a9b8c6d4e2f0a1b3c5d7e9f8a6b4c2d0e1f3a5b7c9d8e6f';

  it('signs every request; the receiver verifies timestamp and sign and gets the Chinese markdown', async () => {
    const ding = await receiver('dingtalk', { secret });
    const n = await notifier({ PARKOPS_DINGTALK_URL: ding.url(), PARKOPS_DINGTALK_SECRET: secret });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await ding.waitFor(1);
    expect(ding.refused()).toEqual([]);
    const [req] = ding.accepted();
    expect(req?.query.get('access_token')).toBe('robot-token-0123456789abcdef');
    expect(Math.abs(Number(req?.query.get('timestamp')) - Date.now())).toBeLessThan(5_000);
    const body = req?.body as { msgtype: string; markdown: { title: string; text: string } };
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('【严重】新告警：创启大厦B1配电室 水位 712 mm，危急');
    expect(body.markdown.text).toContain('**【严重】新告警：创启大厦B1配电室 水位 712 mm，危急**\n> 创启大厦B1配电室：水位 712 mm，达到危急等级（危急线 700 mm）\n> 按当前速度约 14 分钟后到达地面');
    await eventually('attempt recorded', async () => (await n.forAlert('al-1')).length === 1);
    expect((await n.forAlert('al-1'))[0]).toMatchObject({ channel: 'dingtalk', status: 'sent', httpStatus: 200, error: null });
    // The access token and the signature are secrets: viewers see them masked.
    expect((await n.forAlert('al-1'))[0]?.target).toBe(`http://127.0.0.1:${ding.port}/robot/send?access_token=***`);
  });

  it('a wrong secret is refused by the receiver (errcode 310000) and recorded as failed without retries', async () => {
    const ding = await receiver('dingtalk', { secret });
    const n = await notifier({ PARKOPS_DINGTALK_URL: ding.url(), PARKOPS_DINGTALK_SECRET: `${secret.slice(0, -1)}0` });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await eventually('attempt recorded', async () => (await n.forAlert('al-1')).length === 1);
    expect(ding.refused().map((r) => r.refusal)).toEqual([{ code: 310000, msg: 'sign not match' }]);
    expect((await n.forAlert('al-1'))[0]).toMatchObject({ channel: 'dingtalk', status: 'failed', httpStatus: 200 });
    expect((await n.forAlert('al-1'))[0]?.error).toMatch(/^receiver refused: errcode 310000: sign not match \(check PARKOPS_DINGTALK_SECRET/);
  });

  it('a timestamp more than an hour off DingTalk\'s clock is refused (the sender\'s clock is 2 h slow)', async () => {
    const ding = await receiver('dingtalk', { secret });
    const n = await notifier({ PARKOPS_DINGTALK_URL: ding.url(), PARKOPS_DINGTALK_SECRET: secret }, { clockOffsetMs: -2 * 3600_000 });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await eventually('attempt recorded', async () => (await n.forAlert('al-1')).length === 1);
    expect(ding.refused().map((r) => r.refusal)).toEqual([{ code: 310000, msg: 'invalid timestamp' }]);
    expect((await n.forAlert('al-1'))[0]?.status).toBe('failed');
  });

  it('a rate-limited message is retried with a fresh timestamp and signature', async () => {
    const ding = await receiver('dingtalk', { secret });
    ding.override = (i) => (i === 0 ? { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' } : null);
    const n = await notifier({ PARKOPS_DINGTALK_URL: ding.url(), PARKOPS_DINGTALK_SECRET: secret });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await ding.waitFor(2);
    await eventually('two attempts', async () => (await n.forAlert('al-1')).length === 2);
    expect((await n.forAlert('al-1')).map((a) => a.status)).toEqual(['retrying', 'sent']);
    const [first, second] = ding.requests;
    expect(Number(second?.query.get('timestamp'))).toBeGreaterThan(Number(first?.query.get('timestamp')));
    expect(second?.query.get('sign')).not.toBe(first?.query.get('sign'));
    expect(second?.refusal).toBeNull();
  });
});

describe('Feishu bot with 签名校验', () => {
  const secret = 'q7Hc2Lm9Xv4Tz1Pw8Rk3Nb';

  it('sends a signed interactive card; the receiver checks the empty-message HMAC and the timestamp', async () => {
    const lark = await receiver('feishu', { secret });
    const n = await notifier({ PARKOPS_FEISHU_URL: lark.url(), PARKOPS_FEISHU_SECRET: secret });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await lark.waitFor(1);
    expect(lark.refused()).toEqual([]);
    const body = lark.accepted()[0]?.body as { timestamp: string; sign: string; msg_type: string; card: { header: { title: { content: string }; template: string } } };
    expect(body.msg_type).toBe('interactive');
    expect(body.timestamp).toMatch(/^\d{10}$/);
    expect(body.card.header).toEqual({ title: { tag: 'plain_text', content: '【严重】新告警：创启大厦B1配电室 水位 712 mm，危急' }, template: 'red' });
    await eventually('attempt recorded', async () => (await n.forAlert('al-1')).length === 1);
    expect((await n.forAlert('al-1'))[0]).toMatchObject({ channel: 'feishu', status: 'sent' });
    expect((await n.forAlert('al-1'))[0]?.target).toBe(`http://127.0.0.1:${lark.port}/open-apis/bot/v2/hook/***`);
  });

  it('a wrong secret is refused with code 19021 in an HTTP 200 answer, recorded as failed', async () => {
    const lark = await receiver('feishu', { secret });
    const n = await notifier({ PARKOPS_FEISHU_URL: lark.url(), PARKOPS_FEISHU_SECRET: 'not-the-secret' });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await eventually('attempt recorded', async () => (await n.forAlert('al-1')).length === 1);
    expect(lark.refused().map((r) => r.refusal?.code)).toEqual([19021]);
    expect((await n.forAlert('al-1'))[0]).toMatchObject({ status: 'failed', httpStatus: 200 });
    expect((await n.forAlert('al-1'))[0]?.error).toMatch(/^receiver refused: code 19021: sign match fail/);
  });

  it('without a secret set on either side, the unsigned card is accepted', async () => {
    const lark = await receiver('feishu');
    await notifier({ PARKOPS_FEISHU_URL: lark.url() });
    bus.emit('alert.changed', { alert: criticalAlert({ severity: 'warning' }), change: 'opened' });
    await lark.waitFor(1);
    const body = lark.accepted()[0]?.body as Record<string, unknown>;
    expect(body.sign).toBeUndefined();
    expect((body.card as { header: { template: string } }).header.template).toBe('orange');
  });
});

describe('WeCom group robot (no signing exists for it)', () => {
  it('delivers markdown of at most 4096 bytes, cutting a longer message; the receiver checks the key and the size', async () => {
    const wecom = await receiver('wecom');
    const n = await notifier({ PARKOPS_WECOM_URL: wecom.url() });
    bus.emit('alert.changed', { alert: criticalAlert({ id: 'al-long', details: undefined, message: `水位告警 ${'很长的说明 '.repeat(600)}` }), change: 'opened' });
    await wecom.waitFor(1);
    expect(wecom.refused()).toEqual([]);
    const content = (wecom.accepted()[0]?.body as { markdown: { content: string } }).markdown.content;
    expect(Buffer.byteLength(content, 'utf8')).toBeLessThanOrEqual(4096);
    expect(content.startsWith('**【严重】新告警：创启大厦B1配电室')).toBe(true);
    await eventually('attempt recorded', async () => (await n.forAlert('al-long')).length === 1);
    expect((await n.forAlert('al-long'))[0]).toMatchObject({ channel: 'wecom', status: 'sent', target: `http://127.0.0.1:${wecom.port}/cgi-bin/webhook/send?key=***` });
  });

  it('the receiver refuses a wrong key (93000) and over-long content (40058)', async () => {
    const wecom = await receiver('wecom');
    const post = async (url: string, content: string) =>
      (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ msgtype: 'markdown', markdown: { content } }) })).json()) as { errcode: number };
    expect(await post(wecom.url().replace('key=robot', 'key=other'), 'hi')).toMatchObject({ errcode: 93000 });
    expect(await post(wecom.url(), '水'.repeat(1366))).toMatchObject({ errcode: 40058 });
    expect(await post(wecom.url(), '水'.repeat(1365))).toMatchObject({ errcode: 0 });
    // and the notifier gives up on a wrong key at once: retrying cannot fix it
    const n = await notifier({ PARKOPS_WECOM_URL: wecom.url().replace('key=robot', 'key=other') });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await eventually('attempt recorded', async () => (await n.forAlert('al-1')).length === 1);
    expect((await n.forAlert('al-1'))[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('errcode 93000: invalid webhook url') });
  });
});

describe('all channels at once', () => {
  it('one alert change reaches every configured robot and the settings webhook keeps working beside them', async () => {
    const ding = await receiver('dingtalk', { secret: 'SECabc' });
    const lark = await receiver('feishu', { secret: 'xyz' });
    const wecom = await receiver('wecom');
    const n = await notifier({
      PARKOPS_DINGTALK_URL: ding.url(),
      PARKOPS_DINGTALK_SECRET: 'SECabc',
      PARKOPS_FEISHU_URL: lark.url(),
      PARKOPS_FEISHU_SECRET: 'xyz',
      PARKOPS_WECOM_URL: wecom.url(),
      PARKOPS_WEBHOOK_URL: wecom.url(),
      PARKOPS_WEBHOOK_FORMAT: 'wecom',
    });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await eventually('four attempts', async () => (await n.forAlert('al-1')).length === 4);
    expect((await n.forAlert('al-1')).map((a) => `${a.channel}:${a.status}`).sort()).toEqual(['dingtalk:sent', 'feishu:sent', 'webhook:sent', 'wecom:sent']);
    expect([ding.accepted().length, lark.accepted().length, wecom.accepted().length]).toEqual([1, 1, 2]);
  });
});

describe('Web Push', () => {
  let service: PushService;
  const roles = new Map<string, Role>([
    ['zhang.wei', 'responder'],
    ['li.na', 'admin'],
    ['wall', 'viewer'],
  ]);

  async function pushSetup(): Promise<{ channel: WebPushChannel; repo: SqlitePushSubscriptions; publicKey: string }> {
    service = new PushService();
    await service.start();
    stops.push(() => service.stop());
    const keys = loadVapidKeys(loadConfig({ PARKOPS_DATA_DIR: dir, PARKOPS_VAPID_SUBJECT: 'mailto:ops@jining-valley.example' }, { dotenv: false }));
    const repo = new SqlitePushSubscriptions(db);
    // The local push service listens on 127.0.0.1: allowed as PARKOPS_PUSH_ALLOW_HOSTS=127.0.0.1 would.
    const channel = new WebPushChannel({ repo, keys, roleOf: (u) => roles.get(u) ?? null, site, log, allowHosts: ['127.0.0.1'] });
    return { channel, repo, publicKey: keys.publicKey };
  }
  const at = '2026-07-14T03:12:06.000Z';

  it('a critical alert reaches each responder\'s browser: VAPID verified, payload decrypted, a tap opens the alert', async () => {
    const { channel, repo, publicKey } = await pushSetup();
    const phone = service.subscribe(publicKey);
    const laptop = service.subscribe(publicKey);
    const wall = service.subscribe(publicKey);
    await repo.save('zhang.wei', phone.json, publicKey, 'Android Chrome', at);
    await repo.save('li.na', laptop.json, publicKey, 'Firefox', at);
    await repo.save('wall', wall.json, publicKey, 'Chromium kiosk', at);
    const n = await notifier({}, { channels: [channel] });

    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await service.until('two pushes', () => service.delivered.length === 2);
    const [payload] = service.payloads(phone.id) as PushPayload[];
    expect(payload).toMatchObject({
      v: 1,
      kind: 'alert',
      alertId: 'al-1',
      change: 'opened',
      severity: 'critical',
      room: 'b1-power',
      title: '【严重】新告警：创启大厦B1配电室 水位 712 mm，危急',
      body: '创启大厦B1配电室：水位 712 mm，达到危急等级（危急线 700 mm）\n按当前速度约 14 分钟后到达地面',
      url: '/flood?alert=al-1',
      tag: 'alert-al-1',
      urgent: true,
    });
    expect(service.payloads(laptop.id)).toHaveLength(1);
    // A viewer (the wall screen) gets no alert pushes.
    expect(service.payloads(wall.id)).toEqual([]);
    const delivered = service.delivered.find((d) => d.subscriptionId === phone.id)!;
    expect(delivered.headers).toEqual({ ttl: PUSH_TTL_SEC, urgency: 'high', topic: pushTopic('alert-al-1') });
    expect(delivered.jwt.claims).toMatchObject({ aud: service.origin, sub: 'mailto:ops@jining-valley.example' });
    await eventually('two attempts', async () => (await n.forAlert('al-1')).length === 2);
    expect((await n.forAlert('al-1')).map((a) => [a.channel, a.status, a.httpStatus])).toEqual([
      ['webpush', 'sent', 201],
      ['webpush', 'sent', 201],
    ]);
    expect((await repo.byEndpoint(phone.json.endpoint))?.lastSentAt).not.toBeNull();
  });

  it('an acknowledgement replaces the notification quietly, under the same topic; warnings and value updates send nothing', async () => {
    const { channel, repo, publicKey } = await pushSetup();
    const phone = service.subscribe(publicKey);
    await repo.save('zhang.wei', phone.json, publicKey, null, at);
    await notifier({}, { channels: [channel] });
    bus.emit('alert.changed', { alert: criticalAlert({ id: 'al-w', severity: 'warning' }), change: 'opened' });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'updated' });
    bus.emit('alert.changed', { alert: criticalAlert({ state: 'acknowledged', ackedBy: 'li.na', ackedAt: at }), change: 'acknowledged' });
    await service.until('one push', () => service.delivered.length === 1);
    expect(service.delivered[0]?.headers).toEqual({ ttl: PUSH_TTL_SEC, urgency: 'normal', topic: pushTopic('alert-al-1') });
    expect(service.payloads()[0]).toMatchObject({ alertId: 'al-1', change: 'acknowledged', urgent: false, body: expect.stringContaining('确认人 li.na') });
  });

  it('a subscription the push service says is gone (410) is removed and not retried', async () => {
    const { channel, repo, publicKey } = await pushSetup();
    const phone = service.subscribe(publicKey);
    await repo.save('zhang.wei', phone.json, publicKey, null, at);
    service.expire(phone);
    const n = await notifier({}, { channels: [channel] });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await eventually('attempt recorded', async () => (await n.forAlert('al-1')).length === 1);
    expect((await n.forAlert('al-1'))[0]).toMatchObject({ channel: 'webpush', status: 'failed', httpStatus: 410, error: expect.stringContaining('no longer knows this subscription: removed') });
    expect(await repo.all()).toEqual([]);
    bus.emit('alert.changed', { alert: criticalAlert({ id: 'al-2' }), change: 'opened' });
    expect((await n.stats()).pending).toBe(0);
  });

  it('a busy push service (503) is retried with backoff until it accepts', async () => {
    const { channel, repo, publicKey } = await pushSetup();
    const phone = service.subscribe(publicKey);
    await repo.save('zhang.wei', phone.json, publicKey, null, at);
    service.failNext = [503, 503];
    const n = await notifier({}, { channels: [channel] });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await service.until('delivered after two refusals', () => service.delivered.length === 1);
    await eventually('three attempts', async () => (await n.forAlert('al-1')).length === 3);
    expect((await n.forAlert('al-1')).map((a) => [a.status, a.httpStatus])).toEqual([
      ['retrying', 503],
      ['retrying', 503],
      ['sent', 201],
    ]);
  });

  it('keys the browser does not hold are refused by the push service: wrong auth secret (400), another server key (403)', async () => {
    const { channel, repo, publicKey } = await pushSetup();
    const phone = service.subscribe(publicKey);
    // ParkOps was given a subscription whose auth secret is not the browser's.
    await repo.save('zhang.wei', { ...phone.json, keys: { ...phone.json.keys, auth: Buffer.alloc(16, 7).toString('base64url') } }, publicKey, null, at);
    // And a browser subscribed for another server's key.
    const foreign = service.subscribe('BOtherServerKeyOtherServerKeyOtherServerKeyOtherServerKeyOtherServerKeyOtherServerKeyAA');
    await repo.save('li.na', foreign.json, publicKey, null, at);
    const n = await notifier({}, { channels: [channel] });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await eventually('two attempts', async () => (await n.forAlert('al-1')).length === 2);
    expect(service.delivered).toEqual([]);
    expect(service.refused.map((r) => r.status).sort()).toEqual([400, 403]);
    const byStatus = new Map((await n.forAlert('al-1')).map((a) => [a.httpStatus, a]));
    // What the push service answered ("cannot decrypt ...") is not kept: viewers read the attempts.
    expect(service.refused.find((r) => r.status === 400)?.reason).toContain('cannot decrypt');
    expect(byStatus.get(400)).toMatchObject({ status: 'failed', error: 'HTTP 400', errorCode: 'http' });
    expect(byStatus.get(403)).toMatchObject({ status: 'failed', error: expect.stringContaining('refused the VAPID signature or key') });
  });

  it('sends only to the browsers\' push services unless the host is allowed: a stored subscription elsewhere gets nothing, and nobody-told is on record', async () => {
    const { repo, publicKey } = await pushSetup();
    const keys = loadVapidKeys(loadConfig({ PARKOPS_DATA_DIR: dir, PARKOPS_VAPID_SUBJECT: 'mailto:ops@jining-valley.example' }, { dotenv: false }));
    // The same channel without PARKOPS_PUSH_ALLOW_HOSTS: 127.0.0.1 is no push service.
    const strict = new WebPushChannel({ repo, keys, roleOf: (u) => roles.get(u) ?? null, site, log });
    const phone = service.subscribe(publicKey);
    await repo.save('zhang.wei', phone.json, publicKey, null, at);
    expect(strict.hostProblem(phone.json.endpoint)).toMatch(/^endpoint: 127\.0\.0\.1 is not a known browser push service/);
    expect(await strict.reach()).toBe(0);
    const n = await notifier({}, { channels: [strict] });
    expect(n.channelSummary()).toMatchObject({ channels: 0, pushSubscriptions: 0 });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    expect(await n.forAlert('al-1')).toEqual([expect.objectContaining({ channel: 'none', errorCode: 'unconfigured' })]);
    // A delivery stored before the host was disallowed is checked again when it is sent.
    expect(await strict.send({ target: phone.json.endpoint, body: '{}' }, { timeoutMs: 1000, signal: new AbortController().signal, now: Date.now })).toMatchObject({ ok: false, errorCode: 'not-allowed', retryable: false });
    expect(service.delivered).toEqual([]);
    expect(service.refused).toEqual([]);
  });

  it('drops subscriptions of deleted users and of an older VAPID key before sending', async () => {
    const { channel, repo, publicKey } = await pushSetup();
    const gone = service.subscribe(publicKey);
    const old = service.subscribe(publicKey);
    await repo.save('former.staff', gone.json, publicKey, null, at);
    await repo.save('zhang.wei', old.json, 'BPreviousKey', null, at);
    const n = await notifier({}, { channels: [channel] });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await n.settled();
    expect(await repo.all()).toEqual([]);
    expect((await n.stats()).pending).toBe(0);
  });
});
