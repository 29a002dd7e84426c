/**
 * Web Push through ParkOps as `npm start` runs it: a responder's browser (the local push service plays
 * it) subscribes through the API, a critical level published over MQTT reaches it as a push that the
 * service verifies (VAPID) and decrypts (RFC 8291), and the API refuses what it should, naming why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, HealthResponse, PushKeyResponse, PushPayload, PushSubscriptionView } from '@parkops/contract/index.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, apiWithCookie, type Api } from '../support/api.ts';
import { connect, publish } from '../support/mqtt.ts';
import { PushService } from './push-service.ts';

const ROOM = 'b1-power';

async function login(sys: ParkOpsProcess, username: string, password: string): Promise<Api> {
  const res = await fetch(`${sys.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: sys.baseUrl }, body: JSON.stringify({ username, password }) });
  expect(res.status).toBe(200);
  return apiWithCookie(sys.baseUrl, res.headers.get('set-cookie')!.split(';')[0]!);
}

async function del(api: Api, baseUrl: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(baseUrl + path, { method: 'DELETE', headers: { cookie: api.cookie, origin: baseUrl, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.status;
}

describe('Web Push API and delivery', () => {
  let sys: ParkOpsProcess;
  let service: PushService;
  let admin: Api;
  let responder: Api;
  let viewer: Api;
  let device: MqttClient;

  beforeAll(async () => {
    service = new PushService();
    await service.start();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', PARKOPS_VAPID_SUBJECT: 'mailto:flood-team@jining-valley.example', PARKOPS_PUSH_ALLOW_HOSTS: '127.0.0.1' } });
    admin = await adminApi(sys);
    for (const [username, role, password] of [
      ['zhang.wei', 'responder', 'responder-pass-1'],
      ['wall', 'viewer', 'viewer-pass-123'],
    ] as const) {
      expect([200, 201]).toContain((await admin.post('/api/users', { username, password, role })).status);
    }
    responder = await login(sys, 'zhang.wei', 'responder-pass-1');
    viewer = await login(sys, 'wall', 'viewer-pass-123');
    device = await connect(sys.mqttUrl);
  });

  afterAll(async () => {
    await device?.endAsync();
    await sys?.stop();
    await service?.stop();
  });

  it('with no channel yet: health stays ok but says nobody outside the dashboard is told, and start-up said how to set one', async () => {
    const res = await fetch(`${sys.baseUrl}/api/health`);
    expect(res.status).toBe(200);
    const h = (await res.json()) as HealthResponse;
    expect(h).toMatchObject({ status: 'ok', notifications: { channels: 0, webhook: false, robots: [], pushSubscriptions: 0 } });
    expect(h.problems).toEqual([expect.stringMatching(/^notifications: no notification channel is configured: .*docs\/notifications\.md$/)]);
    expect(sys.output()).toMatch(/Notifications: no notification channel is configured: alerts reach only people looking at the dashboard\. Set PARKOPS_WEBHOOK_URL, PARKOPS_WECOM_URL, PARKOPS_DINGTALK_URL or PARKOPS_FEISHU_URL/);
  });

  it('gives the VAPID key to any signed-in user, and keeps the generated pair in the data folder', async () => {
    const forViewer = await viewer.get<PushKeyResponse>('/api/push/key');
    expect(forViewer.status).toBe(200);
    expect(forViewer.body.canSubscribe).toBe(false);
    const forResponder = (await responder.get<PushKeyResponse>('/api/push/key')).body;
    expect(forResponder).toEqual({ publicKey: forViewer.body.publicKey, canSubscribe: true });
    expect(Buffer.from(forResponder.publicKey, 'base64url')).toHaveLength(65);
    const file = JSON.parse(readFileSync(join(sys.dataDir, 'vapid-keys.json'), 'utf8')) as { publicKey: string };
    expect(file.publicKey).toBe(forResponder.publicKey);
    expect((await fetch(`${sys.baseUrl}/api/push/key`)).status).toBe(401);
  });

  it('refuses bad subscriptions naming the field, and viewers (403); a responder token may subscribe', async () => {
    const { publicKey } = (await responder.get<PushKeyResponse>('/api/push/key')).body;
    const good = service.subscribe(publicKey).json;
    const bad = await responder.post<{ error: string }>('/api/push/subscriptions', { ...good, keys: { ...good.keys, auth: 'c2hvcnQ' } });
    expect(bad).toEqual({ status: 400, body: { error: 'keys.auth: must be a base64url 16-byte secret', code: 'validation', params: { field: 'keys.auth', problem: 'keys.auth: must be a base64url 16-byte secret' } } });
    expect((await responder.post<{ error: string }>('/api/push/subscriptions', { ...good, endpoint: 'ftp://push.example.com/x' })).body.error).toBe('endpoint: must be an https:// URL');
    // Only the browsers' push services (and PARKOPS_PUSH_ALLOW_HOSTS, 127.0.0.1 here): ParkOps will POST there.
    const elsewhere = await responder.post<{ error: string; code: string; params: Record<string, string> }>('/api/push/subscriptions', { ...good, endpoint: 'https://169.254.169.254/latest/meta-data' });
    expect(elsewhere).toMatchObject({ status: 400, body: { code: 'push.host_not_allowed', params: { host: '169.254.169.254' }, error: expect.stringContaining('PARKOPS_PUSH_ALLOW_HOSTS') } });
    expect((await viewer.post('/api/push/subscriptions', good)).status).toBe(403);
    // A token's subscription is its own (`token:<name>`): it gets pushes while the token is a responder or above.
    const token = (await admin.post<{ token: string }>('/api/tokens', { name: 'push-relay', role: 'responder' })).body.token;
    const relay = service.subscribe(publicKey);
    const viaToken = await fetch(`${sys.baseUrl}/api/push/subscriptions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(relay.json) });
    expect(viaToken.status).toBe(201);
    const test = await fetch(`${sys.baseUrl}/api/push/test`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(test.status).toBe(202);
    await service.until('the relay test push', () => service.payloads(relay.id).length === 1);
  });

  it('a critical level published over MQTT reaches the subscribed phone as a verified, decrypted push', async () => {
    const { publicKey } = (await responder.get<PushKeyResponse>('/api/push/key')).body;
    const phone = service.subscribe(publicKey);
    const saved = await responder.post<PushSubscriptionView>('/api/push/subscriptions', phone.json);
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ service: service.origin, lastSentAt: null });
    // the same browser subscribing again is an update, not a second subscription
    expect((await responder.post('/api/push/subscriptions', phone.json)).status).toBe(200);
    expect((await responder.get<PushSubscriptionView[]>('/api/push/subscriptions')).body).toHaveLength(1);

    const ts = Date.now();
    await publish(device, `park/flood/${ROOM}/levels/L1`, { mm: 720, ts });
    await publish(device, `park/flood/${ROOM}/levels/L2`, { mm: 716, ts });
    const isLevel = (p: unknown) => (p as PushPayload).kind === 'alert' && (p as PushPayload).url.startsWith('/flood?alert=') && (p as PushPayload).title.includes('水位');
    await service.until('the critical level push', () => service.payloads(phone.id).some(isLevel));
    const payload = service.payloads(phone.id).find(isLevel) as PushPayload;
    const alerts = (await responder.get<Alert[]>('/api/alerts?state=active')).body;
    const alert = alerts.find((a) => a.id === payload.alertId)!;
    expect(alert).toMatchObject({ rule: 'flood.level', severity: 'critical', room: ROOM });
    expect(payload).toMatchObject({ kind: 'alert', change: 'opened', severity: 'critical', urgent: true, room: ROOM, url: `/flood?alert=${encodeURIComponent(alert.id)}`, tag: `alert-${alert.id}` });
    // In the site's language (Chinese for the bundled site), from the details as they were when the alert opened.
    expect(payload.body).toMatch(/^创启大厦B1配电室：水位 7\d\d mm，达到危急等级（危急线 700 mm）/);
    expect(payload.title).toMatch(/^【严重】新告警：创启大厦B1配电室 水位 7\d\d mm，危急$/);
    expect(alert.message).toMatch(/^创启大厦B1配电室：/);
    const delivered = service.delivered.find((d) => d.subscriptionId === phone.id)!;
    expect(delivered.headers.urgency).toBe('high');
    expect(delivered.jwt.claims.sub).toBe('mailto:flood-team@jining-valley.example');

    // Every attempt is recorded where the incident timeline reads notifications.
    const attempts = (await responder.get<{ channel: string; status: string; httpStatus: number; target: string }[]>(`/api/notifications?alert=${encodeURIComponent(alert.id)}`)).body;
    expect(attempts).toContainEqual(expect.objectContaining({ channel: 'webpush', status: 'sent', httpStatus: 201 }));
    // The push endpoint is a capability: shown masked.
    expect(attempts.find((a) => a.channel === 'webpush')?.target).toBe(`${service.origin}/push/***`);

    // Acknowledging replaces the phone's notification quietly.
    const before = service.payloads(phone.id).length;
    expect((await responder.post(`/api/alerts/${encodeURIComponent(alert.id)}/ack`, { note: '已派人' })).status).toBe(200);
    await service.until('the quiet update', () => service.payloads(phone.id).length > before);
    expect(service.payloads(phone.id).at(-1)).toMatchObject({ alertId: alert.id, change: 'acknowledged', urgent: false });
  });

  it('sends a test notification on request, and unsubscribing stops everything for that browser', async () => {
    const { publicKey } = (await responder.get<PushKeyResponse>('/api/push/key')).body;
    const phone = service.subscribe(publicKey);
    expect((await responder.post('/api/push/subscriptions', phone.json)).status).toBe(201);
    const test = await responder.post<{ queued: number }>('/api/push/test', {});
    expect(test.status).toBe(202);
    await service.until('the test push', () => service.payloads(phone.id).some((p) => (p as PushPayload).kind === 'test'));
    expect(service.payloads(phone.id).find((p) => (p as PushPayload).kind === 'test')).toMatchObject({ title: '园区运维 ParkOps：测试通知', url: '/flood', urgent: true });

    expect(await del(viewer, sys.baseUrl, '/api/push/subscriptions', { endpoint: phone.json.endpoint })).toBe(404);
    expect(await del(responder, sys.baseUrl, '/api/push/subscriptions', { endpoint: phone.json.endpoint })).toBe(204);
    expect(await del(responder, sys.baseUrl, '/api/push/subscriptions', { endpoint: phone.json.endpoint })).toBe(404);
    // Only the phone of the previous test is left.
    expect((await responder.post<{ queued: number }>('/api/push/test', {})).body.queued).toBe(1);
  });

  it('counts the responders\' phones as a channel: health drops its "nobody is told" line', async () => {
    let h: HealthResponse | undefined;
    for (let i = 0; i < 100 && !(h?.notifications && h.notifications.pushSubscriptions > 0); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      h = (await (await fetch(`${sys.baseUrl}/api/health`)).json()) as HealthResponse;
    }
    // The responder's phone and the relay token's subscription.
    expect(h?.notifications).toMatchObject({ channels: 2, pushSubscriptions: 2 });
    expect(h?.problems ?? []).toEqual([]);
    expect((await viewer.get<{ channels: number }>('/api/notifications/channels')).body).toMatchObject({ channels: 2 });
  });
});
