/**
 * Storm mode's effects through a running ParkOps (started as `npm start` runs it) and its real HTTP
 * API: a feed token posts a CAP 1.2 rainstorm warning; the team is told through the WeCom robot (a
 * local receiver that checks the request as WeCom documents it) when storm mode starts and ends, in
 * Chinese; GET /api/flood carries the storm view with the readiness checklist; a responder ticks the
 * manual item (audited); the incident timeline tells the storm's story.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChecklistItemView, FloodResponse, RoomStormView } from '@parkops/contract/api.ts';
import { at, buildCap, JINING_POLYGON } from '../../ingest/src/warnings/testing.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { eventually } from '../support/mqtt.ts';
import { RobotReceiver } from './robot-receivers.ts';

const ROOM = 'b1-power';
type IncidentSummaryView = { id: string; state: 'open' | 'closed' };
let sys: ParkOpsProcess;
let wecom: RobotReceiver;
let adminCookie: string;
const tokens: Record<string, string> = {};
const sent = Date.now();

async function token(name: string, role: string): Promise<string> {
  const res = await fetch(`${sys.baseUrl}/api/tokens`, { method: 'POST', headers: { cookie: adminCookie, origin: sys.baseUrl, 'content-type': 'application/json' }, body: JSON.stringify({ name, role }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}
async function call<T>(method: string, path: string, as: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(sys.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${as}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}
async function postCap(xml: string): Promise<number> {
  const res = await fetch(`${sys.baseUrl}/api/warnings`, { method: 'POST', headers: { authorization: `Bearer ${tokens.feed}`, 'content-type': 'application/cap+xml' }, body: xml });
  await res.body?.cancel();
  return res.status;
}
const storm = async (): Promise<RoomStormView> => (await call<FloodResponse>('GET', '/api/flood', tokens.viewer!)).body.rooms.find((r) => r.id === ROOM)!.storm!;
const item = (v: RoomStormView, id: string): ChecklistItemView => v.checklist.find((i) => i.id === id)!;
const wecomTexts = (): string[] => wecom.accepted().map((r) => (r.body as { markdown: { content: string } }).markdown.content);

beforeAll(async () => {
  wecom = new RobotReceiver({ vendor: 'wecom', token: 'robot-key-0123456789abcdef' });
  await wecom.start();
  sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', PARKOPS_WECOM_URL: wecom.url() } });
  adminCookie = await sys.adminCookie();
  tokens.feed = await token('cma-feed', 'feed');
  tokens.viewer = await token('wall-screen', 'viewer');
  tokens.responder = await token('duty-phone', 'responder');
  tokens.admin = await token('admin-script', 'admin');
});
afterAll(async () => {
  await sys?.stop();
  await wecom?.stop();
});

describe('storm mode through the API', () => {
  it('before any warning: the room shows the checklist that would apply, and the normal rules', async () => {
    const v = await storm();
    expect(v.mode).toBe(false);
    expect(v.rules).toEqual({ riseWarnMmPerMin: 10, riseWindowSec: 300, holdSec: 30, clearHoldSec: 120 });
    expect(v.stormRules).toEqual({ riseWarnMmPerMin: 5, riseWindowSec: 300, holdSec: 10, clearHoldSec: 120 });
    expect(v.checklist.map((i) => [i.id, i.check])).toEqual([
      ['pumps-tested', 'pump-ran-recently'],
      ['standby-starts', 'standby-pump-starts'],
      ['sensors-fresh', 'sensors-fresh'],
      ['contacts-reachable', 'contacts-reachable'],
      ['sandbags', 'manual'],
    ]);
    // No pump has ever reported: flagged; the WeCom robot is configured and has sent nothing yet.
    expect(item(v, 'pumps-tested')).toMatchObject({ state: 'flagged', findings: [{ code: 'pump-idle', pump: 'P1', lastRunAt: null }, { code: 'pump-idle', pump: 'P2', lastRunAt: null }] });
    expect(item(v, 'contacts-reachable')).toMatchObject({ state: 'unknown', findings: [{ code: 'route-untried', channel: 'wecom' }] });
    expect(item(v, 'sandbags').state).toBe('todo');
    const fresh = await call<RoomStormView>('GET', `/api/flood/${ROOM}/readiness`, tokens.viewer!);
    expect(fresh.status).toBe(200);
    expect(fresh.body.checklist.map((i) => i.state)).toEqual(v.checklist.map((i) => i.state));
    expect(await call('GET', '/api/flood/no-such-room/readiness', tokens.viewer!)).toEqual({ status: 404, body: { error: 'no flood room "no-such-room"', code: 'storm.unknown-room', params: { room: 'no-such-room' } } });
  });

  it('a rainstorm warning in force: storm mode, the team told in Chinese through the robot, the incident opened', async () => {
    expect(
      await postCap(
        buildCap({
          identifier: 'API-STORM-1',
          sent: at(sent, -10),
          infos: [
            { language: 'zh-CN', event: '暴雨', headline: '济宁市气象台发布暴雨黄色预警[Ⅲ级/较重]', polygon: JINING_POLYGON, onset: at(sent, -5), expires: at(sent, 240) },
            { language: 'en-US', event: 'Rainstorm', headline: 'Yellow rainstorm warning [level III / heavy]', polygon: JINING_POLYGON, onset: at(sent, -5), expires: at(sent, 240) },
          ],
        }),
      ),
    ).toBe(202);
    await wecom.waitFor(1);
    expect(wecom.refused()).toEqual([]);
    const [text] = wecomTexts();
    // The robot's first line is the alert's headline; the full message follows.
    expect(text).toMatch(/^\*\*【提示】新告警：创启大厦B1配电室：暴雨模式\*\*/);
    expect(text).toMatch(/暴雨模式，自 \d\d:\d\d:\d\d 起。济宁市气象台发布暴雨黄色预警\[Ⅲ级\/较重\]（暴雨），有效期 \d\d:\d\d:\d\d 至 \d\d:\d\d:\d\d。涨速告警阈值 5 毫米\/分钟，水位段确认时间 10 秒；请完成暴雨准备检查/);

    const alerts = (await call<{ rule: string; severity: string; state: string }[]>('GET', '/api/alerts', tokens.viewer!)).body.filter((a) => a.rule === 'flood.storm-mode');
    expect(alerts).toMatchObject([{ severity: 'info', state: 'firing' }]);
    const v = await storm();
    expect(v).toMatchObject({ mode: true, rules: { riseWarnMmPerMin: 5, holdSec: 10 }, warning: { event: '暴雨' } });
    // The robot took the message: the route is proven.
    const ready = await eventually(async () => {
      const r = (await call<RoomStormView>('GET', `/api/flood/${ROOM}/readiness`, tokens.viewer!)).body;
      return item(r, 'contacts-reachable').state === 'ok' ? r : undefined;
    });
    expect(item(ready, 'contacts-reachable').findings).toMatchObject([{ code: 'route-ok', channel: 'wecom' }]);
  });

  it('a responder ticks the manual item (audited); viewers may not; live-data items cannot be ticked; bad input is named', async () => {
    const path = `/api/flood/${ROOM}/checklist/sandbags`;
    expect((await call('POST', path, tokens.viewer!, { done: true })).status).toBe(403);
    expect(await call('POST', path, tokens.responder!, { done: 'yes' })).toEqual({ status: 400, body: { error: 'done: must be true (ticked) or false (unticked)', code: 'request.invalid' } });
    expect((await call<{ error: string }>('POST', path, tokens.responder!, { done: true, colour: 'red' })).body.error).toMatch(/^body: Unrecognized key.*colour/i);
    expect((await call('POST', path, tokens.responder!, '{"done": tr')).status).toBe(400);
    expect(await call('POST', `/api/flood/${ROOM}/checklist/sensors-fresh`, tokens.responder!, { done: true })).toMatchObject({ status: 409, body: { code: 'storm.not-manual' } });
    expect(await call('POST', `/api/flood/${ROOM}/checklist/no-such-item`, tokens.responder!, { done: true })).toMatchObject({ status: 404, body: { code: 'storm.unknown-item' } });

    const r = await call<ChecklistItemView>('POST', path, tokens.responder!, { done: true, note: 'sandbags at the ramp' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 'sandbags', state: 'ok', findings: [{ code: 'ticked', by: 'token:duty-phone', note: 'sandbags at the ramp' }] });
    expect(item(await storm(), 'sandbags').state).toBe('ok');
    const audit = (await call<{ entries?: { action: string; actor: string; target?: string }[] } | { action: string; actor: string; target?: string }[]>('GET', '/api/audit', tokens.admin!)).body;
    const entries = Array.isArray(audit) ? audit : (audit.entries ?? []);
    expect(entries.find((e) => e.action === 'storm.checklist.tick')).toMatchObject({ actor: 'token:duty-phone', target: `${ROOM}/sandbags` });
  });

  it('the incident timeline tells the storm: storm mode opened, the checklist at its start, the tick, the robot message', async () => {
    const list = (await call<IncidentSummaryView[]>('GET', `/api/incidents?room=${ROOM}`, tokens.viewer!)).body;
    expect(list.filter((i) => i.state === 'open')).toHaveLength(1);
    const d = (await call<{ timeline: { kind: string; rule?: string; detail?: string; state?: string }[] }>('GET', `/api/incidents/${list[0]!.id}`, tokens.viewer!)).body;
    const kinds = d.timeline.map((e) => e.kind);
    expect(kinds.slice(0, 2)).toEqual(['incident-start', 'alert-opened']);
    expect(kinds.filter((k) => k === 'checklist-start')).toHaveLength(5);
    expect(d.timeline.find((e) => e.kind === 'checklist' && e.detail?.startsWith('Sandbags'))?.detail).toMatch(/^Sandbags and flood boards are at the B1 ramp and doors: ok \(ticked by token:duty-phone at \d\d:\d\d: sandbags at the ramp\)$/);
    expect(d.timeline.find((e) => e.kind === 'notification')).toMatchObject({ state: 'sent' });
  });

  it('the Cancel ends storm mode: the team is told, the tick is cleared, the incident closes', async () => {
    expect(await postCap(buildCap({ identifier: 'API-STORM-1-C', sent: at(Date.now(), 0), msgType: 'Cancel', references: `sd-jining@cma.gov.cn,API-STORM-1,${at(sent, -10)}`, infos: [{ polygon: JINING_POLYGON }] }))).toBe(202);
    await wecom.waitFor(2);
    expect(wecomTexts()[1]).toMatch(/^\*\*【提示】已解除：创启大厦B1配电室：暴雨模式已结束\*\*/);
    expect(wecomTexts()[1]).toMatch(/暴雨模式已于 \d\d:\d\d:\d\d 结束（预警已解除）；自 \d\d:\d\d:\d\d 起因「济宁市气象台发布暴雨黄色预警\[Ⅲ级\/较重\]」进入暴雨模式/);
    const v = await storm();
    expect(v.mode).toBe(false);
    expect(item(v, 'sandbags').state).toBe('todo');
    const incidents = await eventually(async () => {
      const l = (await call<IncidentSummaryView[]>('GET', `/api/incidents?room=${ROOM}`, tokens.viewer!)).body;
      return l.every((i) => i.state === 'closed') ? l : undefined;
    });
    expect(incidents).toHaveLength(1);
  });
});
