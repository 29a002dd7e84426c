import { describe, expect, it } from 'vitest';
import { BASE_TIME, useHarness, type Harness } from './testing.ts';

let h!: Harness;
/**
 * 75 simulated minutes a second at a time, each step waiting for the engine's stored announcements: a
 * few seconds alone, several times that on a loaded two-core machine (a resource bound, not an assertion).
 */
const STORM_TEST_MS = 60_000;
useHarness((x) => (h = x));

/**
 * A small storm: the level climbs 6 mm/min from 200 mm and peaks at 380 mm at 30 min, then falls 10 mm/min
 * to 100 mm. The duty pump runs from 250 mm to the end; the team runs the standby by hand from 25 to 35 min.
 */
async function storm(): Promise<{ levelId: string }> {
  const t0 = Date.now();
  const min = () => (Date.now() - t0) / 60_000;
  const level = () => (min() < 30 ? 200 + 6 * min() : Math.max(100, 380 - 10 * (min() - 30)));
  let p1 = false;
  const pumps = () => {
    p1 ||= level() >= 250;
    return { P1: { running: p1, amps: 5 }, P2: { running: min() >= 25 && min() < 35, amps: 5 } };
  };
  await h.run(20 * 60, level, { pumps });
  const levelId = h.changesOf('flood.level')[0]!.alert.id;
  await h.engine.acknowledge(levelId, { username: 'wang.li' }, 'Sandbags at the door, =pumping "hard"');
  await h.run(55 * 60, level, { pumps });
  return { levelId };
}

describe('flood incidents', () => {
  it('runs from the first flood alert until all are resolved, with a timeline of alerts, acks, peaks, pumps and notifications', async () => {
    const { levelId } = await storm();
    h.notifications.attempts.push({ alertId: levelId, change: 'opened', channel: 'webhook', target: 'qyapi.weixin.qq.com', attempt: 1, status: 'sent', httpStatus: 200, error: null, at: new Date(BASE_TIME + 17 * 60_000).toISOString() });

    const list = await h.engine.incidents();
    expect(list).toHaveLength(1);
    const inc = list[0]!;
    expect(inc).toMatchObject({ room: 'b1', state: 'closed', peakMm: 380 });
    const d = (await h.engine.incident(inc.id))!;
    expect(d.alerts.map((a) => a.rule)).toContain('flood.level');
    expect(d.alerts.every((a) => a.state === 'resolved')).toBe(true);

    const kinds = d.timeline.map((e) => e.kind);
    expect(kinds[0]).toBe('incident-start');
    expect(kinds.at(-1)).toBe('incident-end');
    for (const k of ['alert-opened', 'alert-acknowledged', 'alert-resolved', 'level-peak', 'pump-running', 'pump-start', 'pump-stop', 'notification']) expect(kinds).toContain(k);
    const ack = d.timeline.find((e) => e.kind === 'alert-acknowledged')!;
    expect(ack).toMatchObject({ alertId: levelId, actor: 'wang.li', note: 'Sandbags at the door, =pumping "hard"', change: 'acknowledged' });
    // Each change keeps the details it was made with, so a reader can word it in their own language.
    const opened = d.timeline.find((e) => e.kind === 'alert-opened' && e.alertId === levelId)!;
    expect(opened).toMatchObject({ change: 'opened', details: { rule: 'flood.level', room: 'b1', band: 'warning', thresholdMm: 300 } });
    expect(opened.details).toMatchObject({ levelMm: expect.any(Number) });
    expect(d.timeline.find((e) => e.kind === 'notification')).toMatchObject({ channel: 'webhook', change: 'opened', state: 'sent' });
    expect(d.timeline.find((e) => e.kind === 'level-peak')).toMatchObject({ value: 380, at: new Date(BASE_TIME + 30 * 60_000).toISOString() });
    // The duty pump started at 250 mm, before the incident: it shows as running from the start and runs to
    // the end. The standby ran 10 minutes.
    const start = Date.parse(d.startedAt);
    const end = Date.parse(d.endedAt!);
    expect(d.pumpRunSec).toEqual({ P1: Math.round((end - start) / 1000), P2: 600 });
    expect(d.timeline.find((e) => e.kind === 'pump-stop')).toMatchObject({ subject: 'flood/b1/pumps/P2', value: 600, at: new Date(BASE_TIME + 35 * 60_000).toISOString() });
    expect(d.notificationsSent).toBe(1);
    // Sorted by time.
    const times = d.timeline.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  }, STORM_TEST_MS);

  it('exports the timeline as CSV with quoting and formula protection', async () => {
    await storm();
    const id = (await h.engine.incidents())[0]!.id;
    const csv = (await h.engine.incidentCsv(id))!;
    const lines = csv.split('\r\n');
    // A UTF-8 byte order mark first, so Excel reads Chinese notes as UTF-8.
    expect(lines[0]).toBe('\uFEFFat,at_local,time_zone,kind,subject,alertId,rule,severity,state,value,actor,note,detail');
    // The site's local time beside each UTC time.
    const first = lines[1]!.split(',');
    expect(first[1]).toBe(new Date(Date.parse(first[0]!) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' '));
    expect(first[2]).toBe('Asia/Shanghai');
    // Headers for people in the reader's language.
    expect((await h.engine.incidentCsv(id, 'zh-CN'))!.split('\r\n')[0]).toBe('\uFEFF时间（UTC）,当地时间,时区,事件,对象,告警,规则,级别,状态,数值,操作人,备注,详情');
    expect(lines.find((l) => l.includes(',alert-acknowledged,'))).toContain(',wang.li,"Sandbags at the door, =pumping ""hard""",');
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(await h.engine.incidentCsv('inc-unknown')).toBeUndefined();
  }, STORM_TEST_MS);

  it('shows the notification attempts the notifications module reports through its NotificationLog', async () => {
    const { levelId } = await storm();
    const at = (ms: number) => new Date(BASE_TIME + ms).toISOString();
    h.notifications.attempts.push(
      { alertId: levelId, change: 'opened', channel: 'wecom', target: 'qyapi.weixin.qq.com', attempt: 1, status: 'retrying', httpStatus: 502, error: 'bad gateway', at: at(17 * 60_000) },
      { alertId: levelId, change: 'opened', channel: 'wecom', target: 'qyapi.weixin.qq.com', attempt: 2, status: 'sent', httpStatus: 200, error: null, at: at(17 * 60_000 + 2000) },
      // Another alert's attempt is not this incident's.
      { alertId: 'al-elsewhere', change: 'opened', channel: 'wecom', target: 'qyapi.weixin.qq.com', attempt: 1, status: 'sent', httpStatus: 200, error: null, at: at(17 * 60_000) },
    );
    const d = (await h.engine.incident((await h.engine.incidents())[0]!.id))!;
    expect(d.timeline.filter((e) => e.kind === 'notification').map((e) => [e.state, e.value, e.detail])).toEqual([
      ['failed', 1, 'wecom opened qyapi.weixin.qq.com bad gateway'],
      ['sent', 2, 'wecom opened qyapi.weixin.qq.com HTTP 200'],
    ]);
    expect([d.notificationsSent, d.notificationsFailed]).toEqual([1, 1]);
  }, STORM_TEST_MS);

  it('a pump alert outside a flood opens no incident', async () => {
    await h.status('P2', false);
    expect(await h.engine.incidents()).toEqual([]);
  });
});
