import { describe, expect, it, vi } from 'vitest';
import { BASE_TIME, useHarness, type Harness } from './testing.ts';

let h!: Harness;
useHarness((x) => (h = x));

/**
 * A small storm: the level climbs 6 mm/min from 200 mm and peaks at 380 mm at 30 min, then falls 10 mm/min
 * to 100 mm. The duty pump runs from 250 mm to the end; the team runs the standby by hand from 25 to 35 min.
 */
function storm(): { levelId: string } {
  const t0 = Date.now();
  const min = () => (Date.now() - t0) / 60_000;
  const level = () => (min() < 30 ? 200 + 6 * min() : Math.max(100, 380 - 10 * (min() - 30)));
  let p1 = false;
  const pumps = () => {
    p1 ||= level() >= 250;
    return { P1: { running: p1, amps: 5 }, P2: { running: min() >= 25 && min() < 35, amps: 5 } };
  };
  h.run(20 * 60, level, { pumps });
  const levelId = h.changesOf('flood.level')[0]!.alert.id;
  h.engine.acknowledge(levelId, { username: 'wang.li' }, 'Sandbags at the door, =pumping "hard"');
  h.run(55 * 60, level, { pumps });
  return { levelId };
}

describe('flood incidents', () => {
  it('runs from the first flood alert until all are resolved, with a timeline of alerts, acks, peaks, pumps and notifications', () => {
    const { levelId } = storm();
    h.engine.recordNotification({ alertId: levelId, change: 'opened', channel: 'webhook', target: 'qyapi.weixin.qq.com', ok: true, attempt: 1, at: BASE_TIME + 17 * 60_000 });

    const list = h.engine.incidents();
    expect(list).toHaveLength(1);
    const inc = list[0]!;
    expect(inc).toMatchObject({ room: 'b1', state: 'closed', peakMm: 380 });
    const d = h.engine.incident(inc.id)!;
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
  });

  it('exports the timeline as CSV with quoting and formula protection', () => {
    storm();
    const id = h.engine.incidents()[0]!.id;
    const csv = h.engine.incidentCsv(id)!;
    const lines = csv.split('\r\n');
    // A UTF-8 byte order mark first, so Excel reads Chinese notes as UTF-8.
    expect(lines[0]).toBe('\uFEFFat,at_local,time_zone,kind,subject,alertId,rule,severity,state,value,actor,note,detail');
    // The site's local time beside each UTC time.
    const first = lines[1]!.split(',');
    expect(first[1]).toBe(new Date(Date.parse(first[0]!) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' '));
    expect(first[2]).toBe('Asia/Shanghai');
    // Headers for people in the reader's language.
    expect(h.engine.incidentCsv(id, 'zh-CN')!.split('\r\n')[0]).toBe('\uFEFF时间（UTC）,当地时间,时区,事件,对象,告警,规则,级别,状态,数值,操作人,备注,详情');
    expect(lines.find((l) => l.includes(',alert-acknowledged,'))).toContain(',wang.li,"Sandbags at the door, =pumping ""hard""",');
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(h.engine.incidentCsv('inc-unknown')).toBeUndefined();
  });

  it('shows the notification attempts the notifications module records in its own table', () => {
    const { levelId } = storm();
    // The shape of ingest/src/notify's `notifications` table (times as ISO text, a status word).
    h.db.exec(`CREATE TABLE notifications (id INTEGER PRIMARY KEY AUTOINCREMENT, delivery_id INTEGER NOT NULL, alert_id TEXT NOT NULL,
      change TEXT NOT NULL, channel TEXT NOT NULL, target TEXT NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL,
      http_status INTEGER, error TEXT, at TEXT NOT NULL, duration_ms INTEGER NOT NULL)`);
    const ins = h.db.prepare('INSERT INTO notifications (delivery_id, alert_id, change, channel, target, attempt, status, http_status, error, at, duration_ms) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, 5)');
    ins.run(levelId, 'opened', 'wecom', 'qyapi.weixin.qq.com', 1, 'retrying', 502, 'bad gateway', new Date(BASE_TIME + 17 * 60_000).toISOString());
    ins.run(levelId, 'opened', 'wecom', 'qyapi.weixin.qq.com', 2, 'sent', 200, null, new Date(BASE_TIME + 17 * 60_000 + 2000).toISOString());
    const d = h.engine.incident(h.engine.incidents()[0]!.id)!;
    expect(d.timeline.filter((e) => e.kind === 'notification').map((e) => [e.state, e.value])).toEqual([
      ['failed', 1],
      ['sent', 2],
    ]);
    expect([d.notificationsSent, d.notificationsFailed]).toEqual([1, 1]);
  });

  it('a pump alert outside a flood opens no incident', () => {
    h.status('P2', false);
    expect(h.engine.incidents()).toEqual([]);
  });
});
