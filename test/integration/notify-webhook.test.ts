/**
 * Webhook delivery against real loopback receivers and a real SQLite file: the WeCom, DingTalk and JSON
 * formats, retries with backoff with every attempt recorded, a hanging receiver that times out without
 * holding anything else up, escalation contacts, resumption after a restart, and the core fallback
 * when no flow hands off a critical change.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../ingest/src/bus.ts';
import { loadConfig } from '../../ingest/src/config.ts';
import type { Alert } from '@parkops/contract/api.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../../ingest/src/store/db.ts';
import { Notifier, type NotifierOptions } from '../../ingest/src/notify/index.ts';
import { WebhookReceiver, eventually } from './notify-webhook-receiver.ts';

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

const fast: Partial<NotifierOptions> = { timeoutMs: 2_000, baseDelayMs: 100, maxDelayMs: 1_000, jitter: 0, maxAttempts: 4, handoffGraceMs: 200 };

let dir: string;
let db: Db;
let bus: EventBus;
let receiver: WebhookReceiver;
const notifiers: Notifier[] = [];

function makeNotifier(env: Record<string, string>, options: Partial<NotifierOptions> = fast, escalationContacts: string[] = []): Notifier {
  const config = loadConfig({ PARKOPS_DATA_DIR: dir, ...env }, { dotenv: false });
  const n = new Notifier({ db, bus, config, log, site: Object.assign(Object.create(site) as typeof site, { notifications: { escalationContacts } }), options });
  notifiers.push(n);
  return n;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parkops-notify-'));
  db = openDatabase(dir);
  bus = new EventBus(log);
  receiver = new WebhookReceiver();
  await receiver.start();
});

afterEach(async () => {
  for (const n of notifiers.splice(0)) await n.stop();
  await receiver.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('formats', () => {
  it('sends a WeCom group robot markdown message in the site language (Chinese) first, then English', async () => {
    const n = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/cgi-bin/webhook/send?key=secret-key-123'), PARKOPS_WEBHOOK_FORMAT: 'wecom' });
    await n.start();
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await receiver.waitFor(1);
    const got = receiver.received[0];
    expect(got?.contentType).toMatch(/application\/json/);
    const body = got?.body as { msgtype: string; markdown: { content: string } };
    expect(body.msgtype).toBe('markdown');
    expect(Object.keys(body.markdown)).toEqual(['content']);
    expect(body.markdown.content).toContain('**【严重】新告警：创启大厦B1配电室 水位 712 mm，危急**\n> 创启大厦B1配电室：水位 712 mm，达到危急等级（危急线 700 mm）\n> 按当前速度约 14 分钟后到达地面\n> 开始时间 7月14日 11:12:05');
    expect(body.markdown.content).toContain('**[CRITICAL] new alert: Chuangqi building B1 power-distribution room: water 712 mm, critical**');
    expect(body.markdown.content.indexOf('严重')).toBeLessThan(body.markdown.content.indexOf('CRITICAL'));
    await eventually('attempt recorded', async () => (await n.recent()).length === 1);
    const [attempt] = (await n.recent());
    expect(attempt).toMatchObject({ alertId: 'al-1', change: 'opened', channel: 'webhook', attempt: 1, status: 'sent', httpStatus: 200, error: null });
    // The robot key is a secret: viewers see it masked.
    expect(attempt?.target).toBe(`http://127.0.0.1:${receiver.port}/cgi-bin/webhook/send?key=***`);
  });

  it('sends a DingTalk robot markdown message with a title', async () => {
    const n = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/robot/send?access_token=abc'), PARKOPS_WEBHOOK_FORMAT: 'dingtalk' });
    await n.start();
    bus.emit('alert.changed', { alert: criticalAlert({ state: 'acknowledged', ackedBy: 'zhang.wei', ackNote: '已派人去泵房' }), change: 'acknowledged' });
    await receiver.waitFor(1);
    const body = receiver.received[0]?.body as { msgtype: string; markdown: { title: string; text: string } };
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toContain('【严重】已确认');
    expect(body.markdown.text).toContain('确认人 zhang.wei：已派人去泵房');
    expect(body.markdown.text).toContain('acknowledged by zhang.wei: 已派人去泵房');
  });

  it('sends plain JSON with the alert object to any other receiver (auto format)', async () => {
    const n = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/parkops') });
    await n.start();
    const alert = criticalAlert({ severity: 'warning', subject: 'venues/gym', room: undefined, value: 64, message: 'Indoor gym over its safe capacity', details: { rule: 'venue.over-capacity', venue: 'gym', people: 64, capacity: 60 }, etaMin: undefined });
    // A moving value is not worth a message: nothing is queued for it.
    bus.emit('alert.changed', { alert, change: 'updated' });
    expect((await n.stats()).pending).toBe(0);
    bus.emit('alert.changed', { alert, change: 'opened' });
    await receiver.waitFor(1);
    const body = receiver.received[0]?.body as { source: string; change: string; alert: Alert; text: { zh: string; en: string } };
    expect(body).toMatchObject({ source: 'parkops', event: 'alert.changed', change: 'opened' });
    expect(body.alert).toEqual(alert);
    expect(body.text.zh).toContain('【警告】新告警：室内健身房超过安全容量\n室内健身房：现有 64 人，超过安全容量 60 人（107%）');
    expect(body.text.en).toContain('[WARNING] new alert: Indoor gym: over its safe capacity\nIndoor gym: 64 people present, over its safe capacity of 60 (107 %)');
  });

  it('treats a robot refusal in a 200 answer as a failed attempt', async () => {
    receiver.respond = (_r, i) => (i === 0 ? { status: 200, body: '{"errcode":45009,"errmsg":"api freq out of limit"}' } : { status: 200, body: '{"errcode":0,"errmsg":"ok"}' });
    const n = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/send?key=k'), PARKOPS_WEBHOOK_FORMAT: 'wecom' });
    await n.start();
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await receiver.waitFor(2);
    await eventually('two attempts recorded', async () => (await n.forAlert('al-1')).length === 2);
    const [first, second] = (await n.forAlert('al-1'));
    expect(first).toMatchObject({ attempt: 1, status: 'retrying', httpStatus: 200 });
    expect(first?.error).toContain('errcode 45009');
    expect(second).toMatchObject({ attempt: 2, status: 'sent' });
  });
});

describe('retries', () => {
  it('retries a failing receiver with exponential backoff and records every attempt', async () => {
    receiver.respond = (_r, i) => (i < 2 ? { status: 503, body: 'busy' } : { status: 204 });
    const n = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/flaky') });
    await n.start();
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await receiver.waitFor(3);
    await eventually('three attempts recorded', async () => (await n.forAlert('al-1')).length === 3);
    const attempts = (await n.forAlert('al-1'));
    expect(attempts.map((a) => [a.attempt, a.status, a.httpStatus])).toEqual([
      [1, 'retrying', 503],
      [2, 'retrying', 503],
      [3, 'sent', 204],
    ]);
    expect(attempts[0]?.error).toBe('HTTP 503: busy');
    // Backoff 100 ms then 200 ms (jitter off): a timer never fires early, so these lower bounds hold.
    const [t0, t1, t2] = receiver.received.map((r) => r.at) as [number, number, number];
    expect(t1 - t0).toBeGreaterThanOrEqual(95);
    expect(t2 - t1).toBeGreaterThanOrEqual(195);
    expect((await n.stats())).toMatchObject({ pending: 0, failedLast24h: 0 });
  });

  it('gives up after maxAttempts, and the failure is visible through the API router', async () => {
    receiver.respond = () => ({ status: 500 });
    const n = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/down') }, { ...fast, maxAttempts: 3 });
    const seen: string[] = [];
    n.onAttempt((a) => seen.push(a.status));
    await n.start();
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await eventually('three attempts', () => seen.length === 3);
    expect(seen).toEqual(['retrying', 'retrying', 'failed']);
    expect(receiver.received).toHaveLength(3);

    const app = express();
    app.use('/api/notifications', n.router());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/notifications`;
      const failed = (await (await fetch(`${base}?status=failed`)).json()) as { alertId: string; attempt: number; error: string }[];
      expect(failed).toEqual([expect.objectContaining({ alertId: 'al-1', attempt: 3, error: 'HTTP 500' })]);
      const stats = (await (await fetch(`${base}/stats`)).json()) as { failedLast24h: number; pending: number };
      expect(stats).toMatchObject({ failedLast24h: 1, pending: 0 });
      const forAlert = (await (await fetch(`${base}?alert=al-1`)).json()) as unknown[];
      expect(forAlert).toHaveLength(3);
      const bad = await fetch(`${base}?status=lost`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: 'status: must be sent, retrying or failed', code: 'validation', params: { field: 'status', problem: 'must be sent, retrying or failed' } });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('does not retry a receiver that rejects the request (4xx)', async () => {
    receiver.respond = () => ({ status: 404, body: 'no such hook' });
    const n = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/gone') });
    await n.start();
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await eventually('one attempt', async () => (await n.recent()).length === 1);
    expect((await n.recent())[0]).toMatchObject({ status: 'failed', httpStatus: 404, error: 'HTTP 404: no such hook' });
  });

  it('does not follow a redirect: it is a failure with the reason', async () => {
    receiver.respond = (_r, _i, res) => {
      res.setHeader('location', '/elsewhere');
      return { status: 301 };
    };
    const n = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/moved') });
    await n.start();
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await eventually('one attempt', async () => (await n.recent()).length === 1);
    expect((await n.recent())[0]).toMatchObject({ status: 'failed', httpStatus: 301, error: 'HTTP 301: redirects are not followed; configure the final URL (Location: /elsewhere)' });
    expect(receiver.received.map((r) => r.path)).toEqual(['/moved']);
  });

  it('times out a hanging receiver without holding up the bus or other deliveries', async () => {
    const healthy = new WebhookReceiver();
    await healthy.start();
    try {
      receiver.respond = () => 'hang';
      const n = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/hang') }, { ...fast, timeoutMs: 300, maxAttempts: 2 }, [healthy.url('/escalation')]);
      await n.start();
      bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
      // emit returned: nothing was attempted inside it, the delivery is only queued.
      expect((await n.recent())).toHaveLength(0);
      expect((await n.stats()).pending).toBe(1);
      await receiver.waitFor(1);
      // While the first POST hangs, another delivery goes through.
      bus.emit('alert.changed', { alert: criticalAlert({ id: 'al-2' }), change: 'escalated' });
      await healthy.waitFor(1);
      expect(receiver.received.length).toBeGreaterThanOrEqual(1);
      await eventually('both attempts at the hanging receiver recorded', async () => (await n.forAlert('al-1')).length === 2);
      const attempts = (await n.forAlert('al-1'));
      expect(attempts.map((a) => [a.status, a.error])).toEqual([
        ['retrying', 'no answer within 300 ms'],
        ['failed', 'no answer within 300 ms'],
      ]);
      expect(attempts.every((a) => a.durationMs >= 295)).toBe(true);
    } finally {
      await healthy.stop();
    }
  });
});

describe('routes', () => {
  it('sends escalated alerts to every escalation contact', async () => {
    const n = makeNotifier({}, fast, [receiver.url('/duty-manager'), receiver.url('/facility-head')]);
    await n.start();
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'escalated' });
    await receiver.waitFor(2);
    expect(receiver.received.map((r) => r.path).sort()).toEqual(['/duty-manager', '/facility-head']);
    expect((receiver.received[0]?.body as { change: string }).change).toBe('escalated');
    await eventually('recorded', async () => (await n.recent()).filter((a) => a.channel === 'escalation').length === 2);
    const attempts = await n.recent();
    expect(attempts.filter((a) => a.channel === 'escalation').every((a) => a.change === 'escalated' && a.status === 'sent')).toBe(true);
    // Escalation contacts get only escalations: the opening reached nobody, and that is on record.
    expect(attempts.filter((a) => a.channel !== 'escalation')).toEqual([expect.objectContaining({ change: 'opened', channel: 'none', errorCode: 'filtered' })]);
  });

  it('resumes a pending delivery after a restart', async () => {
    receiver.respond = () => ({ status: 503 });
    const first = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/later') }, { ...fast, baseDelayMs: 60_000, maxDelayMs: 60_000 });
    await first.start();
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await eventually('first attempt recorded', async () => (await first.recent()).length === 1);
    await first.stop();
    expect((await first.stats()).pending).toBe(1);
    // The next process, long after: the stored retry time has passed.
    receiver.respond = () => ({ status: 200 });
    db.prepare('UPDATE notification_deliveries SET next_at = next_at - 120000').run();
    const second = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/later') });
    await second.start();
    await eventually('resumed and sent', async () => (await second.forAlert('al-1')).length === 2);
    expect((await second.forAlert('al-1')).map((a) => [a.attempt, a.status])).toEqual([
      [1, 'retrying'],
      [2, 'sent'],
    ]);
  });

  it('with the flow route attached, sends only what flows hand off, plus critical changes no flow handed off', async () => {
    const n = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/settings-hook') });
    await n.start();
    n.attachFlowRoute();
    // A flow hands this one off: no core copy.
    bus.emit('alert.changed', { alert: criticalAlert({ id: 'handed' }), change: 'opened' });
    await n.handOff({ alertId: 'handed', change: 'opened', body: { text: 'from a flow' } });
    // Nobody hands these off: the critical one falls back to the core, the warning does not.
    bus.emit('alert.changed', { alert: criticalAlert({ id: 'dropped' }), change: 'opened' });
    bus.emit('alert.changed', { alert: criticalAlert({ id: 'minor', severity: 'warning' }), change: 'opened' });
    await receiver.waitFor(2);
    await eventually('two attempts recorded', async () => (await n.recent()).length === 2);
    // Past the grace time of every watch: nothing else arrives.
    await new Promise((r) => setTimeout(r, 3 * (fast.handoffGraceMs ?? 0)));
    expect(receiver.received).toHaveLength(2);
    const recent = await n.recent();
    const byAlert = Object.fromEntries(recent.map((a) => [a.alertId, a.channel]));
    // The warning no flow handed off reached nobody, and that is on record (the incident timeline says so).
    expect(byAlert).toEqual({ handed: 'node-red', dropped: 'fallback', minor: 'none' });
    expect(recent.find((a) => a.alertId === 'minor')).toMatchObject({ attempt: 0, status: 'failed', errorCode: 'filtered' });
    expect(receiver.received.find((r) => (r.body as { text?: string }).text === 'from a flow')).toBeDefined();
  });

  it('rejects a hand-off with nowhere to send it', async () => {
    const n = makeNotifier({});
    await n.start();
    await expect(n.handOff({ alertId: 'x', change: 'opened', body: {} })).rejects.toThrow('no webhook URL: set PARKOPS_WEBHOOK_URL or give the node a URL');
    await expect(n.handOff({ alertId: 'x', change: 'opened', target: 'ftp://example', body: {} })).rejects.toThrow('must start with http:// or https://');
    await expect(n.handOff({ alertId: 'x', change: 'opened', channel: 'dingtalk', body: {} })).rejects.toThrow('the dingtalk channel is not configured: set PARKOPS_DINGTALK_URL');
    await expect(n.handOff({ alertId: 'x', change: 'opened', channel: 'slack', body: {} })).rejects.toThrow('unknown channel "slack"');
  });
});

describe('no alert goes nowhere unseen', () => {
  it('with no channel at all: the summary says 0, start-up says how to set one, and each alert change that asks for action is recorded as told to nobody', async () => {
    const n = makeNotifier({});
    await n.start();
    expect(n.channelSummary()).toEqual({ channels: 0, webhook: false, robots: [], escalationContacts: 0, pushSubscriptions: 0, flows: false });
    expect(n.startupNotice()).toMatch(/no notification channel is configured.*PARKOPS_WEBHOOK_URL, PARKOPS_WECOM_URL, PARKOPS_DINGTALK_URL or PARKOPS_FEISHU_URL.*docs\/notifications\.md/);
    const seen: string[] = [];
    n.onAttempt((a) => seen.push(`${a.change}:${a.channel}:${a.errorCode}`));
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    // An acknowledgement asks nothing of anyone: not recorded as unsent.
    bus.emit('alert.changed', { alert: criticalAlert({ state: 'acknowledged', ackedBy: 'zhang.wei' }), change: 'acknowledged' });
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'escalated' });
    const attempts = await n.forAlert('al-1');
    expect(attempts.map((a) => [a.change, a.channel, a.attempt, a.status, a.errorCode])).toEqual([
      ['opened', 'none', 0, 'failed', 'unconfigured'],
      ['escalated', 'none', 0, 'failed', 'unconfigured'],
    ]);
    expect(attempts[0]?.error).toBe('nobody outside the dashboard was told: no notification channel is configured (docs/notifications.md)');
    expect(seen).toEqual(['opened:none:unconfigured', 'escalated:none:unconfigured']);
    expect(await n.stats()).toMatchObject({ pending: 0, failedLast24h: 0, unsentLast24h: 2, lastFailure: null });
    expect(receiver.received).toHaveLength(0);
  });

  it('with a channel that sends the change, nothing is recorded as unsent', async () => {
    const n = makeNotifier({ PARKOPS_WEBHOOK_URL: receiver.url('/hook') });
    await n.start();
    expect(n.channelSummary()).toMatchObject({ channels: 1, webhook: true });
    expect(n.startupNotice()).toBeNull();
    bus.emit('alert.changed', { alert: criticalAlert(), change: 'opened' });
    await receiver.waitFor(1);
    await eventually('sent', async () => (await n.forAlert('al-1')).some((a) => a.status === 'sent'));
    expect((await n.forAlert('al-1')).map((a) => a.channel)).toEqual(['webhook']);
  });
});
