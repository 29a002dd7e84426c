/**
 * ParkOps nodes in deployed flows: the default flow delivers alert changes to the settings webhook
 * through the Notifier; `parkops-alert` feeds an http request node; `parkops-ack` acknowledges;
 * `parkops-reading` taps readings; a flow that throws or loops does not stop anything else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '@parkops/contract/index.ts';
import { criticalAlert, deployTab, login, startStack, type Stack } from './nodered-harness.ts';
import { WebhookReceiver, eventually } from './notify-webhook-receiver.ts';
import { RobotReceiver } from './robot-receivers.ts';

let stack: Stack;
let settingsHook: WebhookReceiver;
let flowHook: WebhookReceiver;
let token: string;
let ding: RobotReceiver;
const DING_SECRET = 'SEC7e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d';

beforeAll(async () => {
  settingsHook = new WebhookReceiver();
  flowHook = new WebhookReceiver(() => ({ status: 200, body: 'ok' }));
  ding = new RobotReceiver({ vendor: 'dingtalk', token: 'robot-token-0123456789abcdef', secret: DING_SECRET });
  await settingsHook.start();
  await flowHook.start();
  await ding.start();
  stack = await startStack({ PARKOPS_WEBHOOK_URL: settingsHook.url('/cgi-bin/webhook/send?key=k1'), PARKOPS_WEBHOOK_FORMAT: 'wecom', PARKOPS_DINGTALK_URL: ding.url(), PARKOPS_DINGTALK_SECRET: DING_SECRET });
  const got = await login(stack.base, 'admin');
  if (!got.token) throw new Error(`admin login failed: ${got.status}`);
  token = got.token;
});
afterAll(async () => {
  await stack?.stop();
  await settingsHook?.stop();
  await flowHook?.stop();
  await ding?.stop();
});

const bodies = (r: WebhookReceiver, path: string) => r.received.filter((x) => x.path === path).map((x) => x.body);

describe('the default flow', () => {
  it('sends each alert change to the settings webhook as a WeCom message, through the Notifier', async () => {
    stack.alerts.open(criticalAlert({ id: 'def-1' }));
    await settingsHook.waitFor(1);
    const body = settingsHook.received[0]?.body as { msgtype: string; markdown: { content: string } };
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content).toContain('【严重】新告警：创启大厦B1配电室');
    const settingsWebhook = async () => (await stack.notifier.forAlert('def-1')).filter((a) => a.channel !== 'dingtalk');
    await eventually('attempt recorded', async () => (await settingsWebhook()).length === 1);
    // Handed off by the flow (not sent by the core, and not twice). The core's own DingTalk channel sends beside it.
    expect(await settingsWebhook()).toEqual([expect.objectContaining({ channel: 'node-red', change: 'opened', status: 'sent', attempt: 1 })]);
  });
});

describe('flows with ParkOps nodes', () => {
  it('parkops-alert -> http request delivers filtered alert changes to a webhook receiver', async () => {
    await deployTab(stack.base, token, 'alert-tab', [
      { id: 'a-in', type: 'parkops-alert', name: '', severity: 'critical', rule: 'flood.*', room: 'b1-power', change: '', wires: [['a-http']] },
      { id: 'a-http', type: 'http request', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: flowHook.url('/from-flow'), tls: '', persist: false, proxy: '', insecureHTTPParser: false, authType: '', senderr: false, headers: [], wires: [[]] },
    ]);
    stack.alerts.open(criticalAlert({ id: 'wrong-room', room: 'b2-pump', subject: 'flood/b2-pump/levels/L1' }));
    stack.alerts.open(criticalAlert({ id: 'minor', severity: 'warning' }));
    stack.alerts.open(criticalAlert({ id: 'flow-1' }));
    stack.bus.emit('alert.changed', { alert: { ...criticalAlert({ id: 'flow-1' }), state: 'resolved', resolvedAt: new Date().toISOString() }, change: 'resolved' });
    await eventually('two messages at /from-flow', () => bodies(flowHook, '/from-flow').length >= 2);
    const got = bodies(flowHook, '/from-flow') as { id: string; state: string }[];
    // Two http requests in flight may land in either order.
    expect(got.map((b) => [b.id, b.state]).sort()).toEqual([
      ['flow-1', 'firing'],
      ['flow-1', 'resolved'],
    ]);
  });

  it('parkops-notify sends a flow\'s own message through the core DingTalk channel, signed like the core\'s (加签 checked by the receiver)', async () => {
    await deployTab(stack.base, token, 'ding-tab', [
      { id: 'd-in', type: 'parkops-alert', name: '', severity: '', rule: 'ding.*', room: '', change: 'opened', wires: [['d-fn']] },
      { id: 'd-fn', type: 'function', name: 'duty text', func: "msg.payload = { msgtype: 'text', text: { content: '值班提醒：' + msg.alert.id } };\nreturn msg;", outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['d-notify']] },
      { id: 'd-notify', type: 'parkops-notify', name: '', channel: 'dingtalk', wires: [[]] },
    ]);
    stack.alerts.open(criticalAlert({ id: 'ding-1', rule: 'ding.duty' }));
    await eventually('the flow message at the robot', () => ding.accepted().some((r) => (r.body as { msgtype?: string }).msgtype === 'text'));
    const req = ding.accepted().find((r) => (r.body as { msgtype?: string }).msgtype === 'text')!;
    expect(req.body).toEqual({ msgtype: 'text', text: { content: '值班提醒：ding-1' } });
    expect(req.query.get('sign')).toBeTruthy();
    expect(ding.refused()).toEqual([]);
    await eventually('recorded', async () => (await stack.notifier.forAlert('ding-1')).some((a) => a.channel === 'dingtalk' && a.change === 'opened' && a.status === 'sent'));
  });

  it('parkops-ack acknowledges from a flow, and reports a refusal to a Catch node', async () => {
    await deployTab(stack.base, token, 'ack-tab', [
      { id: 'k-in', type: 'parkops-alert', name: '', severity: '', rule: 'bot.*', room: '', change: 'opened', wires: [['k-fn']] },
      {
        id: 'k-fn',
        type: 'function',
        name: 'chat reply',
        func: "msg.payload = { id: msg.alert.id === 'bot-ghost' ? 'no-such-alert' : msg.alert.id, note: '值班人员已到场 / on site', by: 'wecom:li.na' };\nreturn msg;",
        outputs: 1,
        timeout: 0,
        noerr: 0,
        initialize: '',
        finalize: '',
        libs: [],
        wires: [['k-ack']],
      },
      { id: 'k-ack', type: 'parkops-ack', name: '', by: '', wires: [['k-out']] },
      { id: 'k-out', type: 'http request', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: flowHook.url('/acked'), headers: [], wires: [[]] },
      { id: 'k-catch', type: 'catch', name: '', scope: ['k-ack'], uncaught: false, wires: [['k-errfn']] },
      { id: 'k-errfn', type: 'function', name: '', func: 'msg.payload = { error: msg.error.message };\nreturn msg;', outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['k-err2']] },
      { id: 'k-err2', type: 'http request', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: flowHook.url('/ack-error'), headers: [], wires: [[]] },
    ]);
    stack.alerts.open(criticalAlert({ id: 'bot-1', rule: 'bot.level' }));
    await eventually('acknowledged alert posted', () => bodies(flowHook, '/acked').length === 1);
    expect(stack.alerts.acks).toContainEqual({ id: 'bot-1', by: 'wecom:li.na', note: '值班人员已到场 / on site' });
    expect(bodies(flowHook, '/acked')[0]).toMatchObject({ id: 'bot-1', state: 'acknowledged', ackedBy: 'wecom:li.na' });

    stack.alerts.open(criticalAlert({ id: 'bot-ghost', rule: 'bot.level' }));
    await eventually('refusal caught', () => bodies(flowHook, '/ack-error').length === 1);
    expect(bodies(flowHook, '/ack-error')[0]).toEqual({ error: 'no alert no-such-alert' });
  });

  it('parkops-reading taps accepted readings, filtered by kind, without duplicates', async () => {
    await deployTab(stack.base, token, 'reading-tab', [
      { id: 'r-in', type: 'parkops-reading', name: '', kind: 'level', subject: '', wires: [['r-http']] },
      { id: 'r-http', type: 'http request', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: flowHook.url('/reading'), headers: [], wires: [[]] },
    ]);
    const level: Reading = { kind: 'level', subject: 'flood/b1-power/levels/L1', ts: Date.now(), roomId: 'b1-power', sensorId: 'L1', mm: 310 };
    const bay: Reading = { kind: 'bay', subject: 'parking/bays/A-001', ts: Date.now(), bayId: 'A-001', zoneId: 'A', occupied: true };
    // Ingest emits one event per committed batch; the node gets its readings one by one.
    stack.bus.emit('readings.accepted', {
      readings: [
        { reading: bay, duplicate: false, applied: true, receivedAt: Date.now() },
        { reading: level, duplicate: true, applied: false, receivedAt: Date.now() },
        { reading: { ...level, mm: 320, ts: level.ts + 1 }, duplicate: false, applied: true, receivedAt: Date.now() },
      ],
    });
    await eventually('one reading posted', () => bodies(flowHook, '/reading').length >= 1);
    expect(bodies(flowHook, '/reading')).toEqual([{ ...level, mm: 320, ts: level.ts + 1 }]);
  });
});

describe('isolation', () => {
  it('a flow that throws or loops forever is stopped, and alerts keep flowing', async () => {
    await deployTab(stack.base, token, 'bad-tab', [
      { id: 'b-in1', type: 'parkops-alert', name: '', severity: '', rule: 'bad.loop', room: '', change: '', wires: [['b-loop']] },
      { id: 'b-loop', type: 'function', name: 'loops', func: 'while (true) {}\nreturn msg;', outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [[]] },
      { id: 'b-in2', type: 'parkops-alert', name: '', severity: '', rule: 'bad.throw', room: '', change: '', wires: [['b-throw']] },
      { id: 'b-throw', type: 'function', name: 'throws', func: "throw new Error('boom');", outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [[]] },
      { id: 'b-catch', type: 'catch', name: '', scope: ['b-loop', 'b-throw'], uncaught: false, wires: [['b-fn']] },
      { id: 'b-fn', type: 'function', name: '', func: 'msg.payload = { error: msg.error.message, source: msg.error.source.name };\nreturn msg;', outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['b-http']] },
      { id: 'b-http', type: 'http request', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: flowHook.url('/caught'), headers: [], wires: [[]] },
    ]);
    const before = settingsHook.received.length;
    stack.alerts.open(criticalAlert({ id: 'bad-loop', rule: 'bad.loop' }));
    stack.alerts.open(criticalAlert({ id: 'bad-throw', rule: 'bad.throw' }));
    stack.alerts.open(criticalAlert({ id: 'after-bad' }));
    await eventually('both failures caught', () => bodies(flowHook, '/caught').length === 2);
    const caught = bodies(flowHook, '/caught') as { error: string; source: string }[];
    expect(caught.map((c) => c.source).sort()).toEqual(['loops', 'throws']);
    expect(caught.find((c) => c.source === 'loops')?.error).toMatch(/timed out/i);
    expect(caught.find((c) => c.source === 'throws')?.error).toBe('Error: boom');
    // The default flow carried on: all three alerts reached the settings webhook.
    await eventually('three more messages at the settings webhook', () => settingsHook.received.length >= before + 3);
    await eventually('all recorded as sent', async () => (await stack.notifier.forAlerts(['bad-loop', 'bad-throw', 'after-bad'])).filter((a) => a.channel === 'node-red' && a.status === 'sent').length === 3);
  });
});
