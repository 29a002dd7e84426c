/**
 * The storm module through the real pipeline (storm/testing.ts: ingest, SQLite store, alert engine,
 * warnings module) on vitest's fake clock, for the bundled site's B1 power room: the checklist before
 * any warning, storm mode as an alert that opens the room's incident, the checklist on its timeline,
 * manual ticks, the warning's update and cancel, restarts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChecklistItemView, RoomStormView } from '@parkops/contract/api.ts';
import { at, buildCap, JINING_POLYGON } from '../warnings/testing.ts';
import { ROOM, StormWorld } from './testing.ts';

const T0 = Date.parse('2026-07-15T02:00:00Z');
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
let w: StormWorld;
const worlds: StormWorld[] = [];

async function world(dir?: string): Promise<StormWorld> {
  const x = await new StormWorld(dir).start();
  worlds.push(x);
  return x;
}

/** The room now: both sensors at 100 mm, both pumps idle; then the pumps' run log (back-fill): P1 ran a day ago, P2 eight days ago. */
function dryRoomWithHistory(x: StormWorld): void {
  x.level('L1', 100);
  x.level('L2', 102);
  x.pump('P1', false, 0);
  x.pump('P2', false, 0);
  const now = Date.now();
  x.pump('P1', true, 5.2, now - DAY);
  x.pump('P1', true, 5.4, now - DAY + 30_000);
  x.pump('P1', false, 0, now - DAY + 4 * MIN);
  x.pump('P2', true, 6.1, now - 8 * DAY);
  x.pump('P2', true, 6.3, now - 8 * DAY + 30_000);
  x.pump('P2', false, 0, now - 8 * DAY + 3 * MIN);
}

/** Both sensors and both pumps report for `sec` seconds, as the devices would. */
function run(x: StormWorld, sec: number, mm = 100, opts: { silent?: string[] } = {}): void {
  for (let t = 0; t < sec; t += 10) {
    for (const s of ['L1', 'L2']) if (!opts.silent?.includes(s)) x.level(s, mm);
    if (t % 30 === 0) {
      x.pump('P1', false, 0);
      x.pump('P2', false, 0);
    }
    vi.advanceTimersByTime(10_000);
  }
}

const item = (v: RoomStormView | undefined, id: string): ChecklistItemView => v!.checklist.find((i) => i.id === id)!;

const stormCap = (id: string, sentMin: number, onsetMin: number, expiresMin: number, severity = 'Moderate') =>
  buildCap({
    identifier: id,
    sent: at(T0, sentMin),
    infos: [
      { language: 'zh-CN', event: '暴雨', severity, headline: '济宁市气象台发布暴雨黄色预警[Ⅲ级/较重]', polygon: JINING_POLYGON, onset: at(T0, onsetMin), expires: at(T0, expiresMin) },
      { language: 'en-US', event: 'Rainstorm', severity, headline: 'Yellow rainstorm warning [level III / heavy]', polygon: JINING_POLYGON, onset: at(T0, onsetMin), expires: at(T0, expiresMin) },
    ],
  });

beforeEach(async () => {
  vi.useFakeTimers({ now: T0 });
  w = await world();
  dryRoomWithHistory(w);
  run(w, 30);
  await w.settled();
});
afterEach(async () => {
  for (const x of worlds.splice(0)) {
    await x.stop();
    x.remove();
  }
  vi.useRealTimers();
});

describe('the readiness checklist before any warning', () => {
  it('flags the standby pump idle for 8 days, from the stored pump readings, before the rain', async () => {
    const v = await w.storm.readiness(ROOM);
    expect(v.mode).toBe(false);
    expect(v.rules).toEqual({ riseWarnMmPerMin: 10, riseWindowSec: 300, holdSec: 30, clearHoldSec: 120 });
    expect(v.stormRules).toEqual({ riseWarnMmPerMin: 5, riseWindowSec: 300, holdSec: 10, clearHoldSec: 120 });
    const pumps = item(v, 'pumps-tested');
    expect(pumps.state).toBe('flagged');
    expect(pumps.findings).toEqual([
      { code: 'pump-ran', pump: 'P1', lastRunAt: new Date(T0 - DAY + 30_000).toISOString(), idleDays: 1, maxIdleDays: 7 },
      { code: 'pump-idle', pump: 'P2', lastRunAt: new Date(T0 - 8 * DAY + 30_000).toISOString(), idleDays: 8, maxIdleDays: 7, lookbackDays: 30 },
    ]);
    // Its last start was seen and its current was normal: it starts, it has just sat too long.
    expect(item(v, 'standby-starts')).toMatchObject({ state: 'ok', findings: [{ code: 'standby-started', pump: 'P2', startedAt: new Date(T0 - 8 * DAY).toISOString(), amps: 6.2, ampsMin: 3, ampsMax: 9 }] });
    expect(item(v, 'sensors-fresh')).toMatchObject({ state: 'ok' });
    expect(item(v, 'contacts-reachable')).toMatchObject({ state: 'flagged', findings: [{ code: 'no-route' }] });
    expect(item(v, 'sandbags')).toMatchObject({ state: 'todo', findings: [{ code: 'not-ticked' }] });
    // GET /api/flood carries the same view.
    expect(w.flood.room(ROOM)!.storm).toEqual(v);
  });

  it('a pump that runs is fine again; a standby pump drawing too much current is flagged', async () => {
    w.pump('P2', true, 11.5);
    run(w, 30, 100);
    w.pump('P2', true, 11.8);
    let v = await w.storm.readiness(ROOM);
    expect(item(v, 'pumps-tested').state).toBe('ok');
    expect(item(v, 'pumps-tested').findings[1]).toEqual({ code: 'pump-running', pump: 'P2' });
    vi.advanceTimersByTime(5_000);
    w.pump('P2', false, 0);
    v = await w.storm.readiness(ROOM);
    expect(item(v, 'pumps-tested')).toMatchObject({ state: 'ok', findings: [{ code: 'pump-ran' }, { code: 'pump-ran', pump: 'P2', idleDays: 0 }] });
    expect(item(v, 'standby-starts')).toMatchObject({ state: 'flagged', findings: [{ code: 'standby-current', pump: 'P2', amps: 11.7, ampsMin: 3, ampsMax: 9 }] });
  });

  it('contacts: a route whose last delivery failed is flagged, one never tried is not yet known, one that delivered is fine', async () => {
    w.routes = [{ channel: 'wecom', last: { ok: false, at: T0 - MIN, error: 'errcode 93000: invalid webhook url' } }, { channel: 'webhook', last: { ok: true, at: T0 - 2 * MIN, error: null } }];
    expect(item(await w.storm.readiness(ROOM), 'contacts-reachable')).toMatchObject({ state: 'flagged', findings: [{ code: 'route-failed', channel: 'wecom', error: 'errcode 93000: invalid webhook url' }, { code: 'route-ok', channel: 'webhook' }] });
    w.routes = [{ channel: 'webpush', last: null }];
    expect(item(await w.storm.readiness(ROOM), 'contacts-reachable')).toMatchObject({ state: 'unknown', findings: [{ code: 'route-untried', channel: 'webpush' }] });
    w.routes = [{ channel: 'webpush', last: null }, { channel: 'dingtalk', last: { ok: true, at: T0, error: null } }];
    expect(item(await w.storm.readiness(ROOM), 'contacts-reachable').state).toBe('ok');
  });

  it('a level sensor never heard from is not reporting, even in the first seconds after start', async () => {
    const empty = await world();
    const v = await empty.storm.readiness(ROOM);
    expect(item(v, 'sensors-fresh')).toMatchObject({ state: 'flagged', findings: [{ code: 'sensor-stale', sensor: 'L1', lastSeen: null }, { code: 'sensor-stale', sensor: 'L2', lastSeen: null }] });
  });

  it('a silent level sensor is flagged as the room judge sees it', async () => {
    run(w, 60, 100, { silent: ['L2'] });
    await w.settled();
    const v = w.storm.view(ROOM)!;
    expect(item(v, 'sensors-fresh')).toMatchObject({ state: 'flagged', findings: [{ code: 'sensor-fresh', sensor: 'L1' }, { code: 'sensor-stale', sensor: 'L2' }] });
    // No storm and no flood: nothing to put it on.
    expect((await w.timeline())).toEqual([]);
  });
});

describe('storm mode', () => {
  it('opens an info alert and the room\'s incident at the onset; the checklist goes on its timeline; the Cancel ends both', async () => {
    await w.warning(stormCap('JN-STORM-1', 0, 10, 360));
    run(w, 9 * 60);
    expect(w.changes.filter((c) => c.alert.rule === 'flood.storm-mode')).toEqual([]);
    run(w, 70);
    await w.settled();
    const opened = w.changes.filter((c) => c.alert.rule === 'flood.storm-mode');
    expect(opened.map((c) => c.change)).toEqual(['opened']);
    const alert = opened[0]!.alert;
    expect(alert).toMatchObject({ severity: 'info', state: 'firing', subject: `flood/${ROOM}`, room: ROOM, startedAt: new Date(T0 + 10 * MIN).toISOString() });
    // The message is in the site's language (zh-CN for the bundled site).
    expect(alert.message).toBe('创启大厦B1配电室：暴雨模式，自 10:10:00 起。济宁市气象台发布暴雨黄色预警[Ⅲ级/较重]（暴雨），有效期 10:10:00 至 16:00:00。涨速告警阈值 5 毫米/分钟，水位段确认时间 10 秒；请完成暴雨准备检查');
    expect(alert.details).toMatchObject({ rule: 'flood.storm-mode', warning: { severity: 'Moderate', texts: [{ language: 'zh-CN', headline: '济宁市气象台发布暴雨黄色预警[Ⅲ级/较重]' }, { language: 'en-US' }] }, rules: { riseWarnMmPerMin: 5, holdSec: 10 } });

    const v = w.storm.view(ROOM)!;
    expect(v).toMatchObject({ mode: true, since: new Date(T0 + 10 * MIN).toISOString(), warning: { severity: 'Moderate' }, rules: { riseWarnMmPerMin: 5, holdSec: 10 } });
    expect(w.readiness.at(-1)?.storm.mode).toBe(true);
    const timeline = (await w.timeline());
    expect(timeline.map((e) => e.kind)).toEqual(['incident-start', 'alert-opened', 'checklist-start', 'checklist-start', 'checklist-start', 'checklist-start', 'checklist-start']);
    expect(timeline[2]!.detail).toMatch(/^Every pump has run in the last 7 days: FLAGGED \(duty pump P1 last ran 14 Jul 10:00 \(1\.0 days ago\); standby pump P2 idle 8\.0 days, last ran 7 Jul 10:00 \(must run every 7\)\)$/);

    // A responder ticks the manual item: stored, audited, on the timeline with who.
    vi.advanceTimersByTime(MIN);
    const ticked = await w.storm.tick(ROOM, 'sandbags', { done: true, note: ' 40 bags at the ramp ' }, { username: 'duty', ip: '127.0.0.1' });
    expect(ticked).toMatchObject({ state: 'ok', findings: [{ code: 'ticked', by: 'duty', at: new Date(Date.now()).toISOString(), note: '40 bags at the ramp' }] });
    expect(w.audits).toEqual([{ actor: 'duty', action: 'storm.checklist.tick', target: `${ROOM}/sandbags`, ip: '127.0.0.1', detail: { note: '40 bags at the ramp' } }]);
    expect((await w.timeline()).at(-1)).toMatchObject({ kind: 'checklist', detail: 'Sandbags and flood boards are at the B1 ramp and doors: ok (ticked by duty at 10:11: 40 bags at the ramp)' });
    await expect(w.storm.tick(ROOM, 'sensors-fresh', { done: true }, { username: 'duty' })).rejects.toMatchObject({ status: 409, code: 'storm.not-manual' });
    await expect(w.storm.tick(ROOM, 'nope', { done: true }, { username: 'duty' })).rejects.toMatchObject({ status: 404, code: 'storm.unknown-item' });

    run(w, 18 * 60 + 20); // to 10:30
    // The warning is lifted: the alert resolves with its reason, the incident (nothing else in it) ends, the tick is cleared.
    await w.warning(buildCap({ identifier: 'JN-STORM-1-C', sent: at(T0, 30), msgType: 'Cancel', references: `sd-jining@cma.gov.cn,JN-STORM-1,${at(T0, 0)}`, infos: [{ polygon: JINING_POLYGON }] }));
    await w.settled();
    const resolved = w.changes.filter((c) => c.alert.rule === 'flood.storm-mode' && c.change === 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.alert.message).toBe('创启大厦B1配电室：暴雨模式已于 10:30:00 结束（预警已解除）；自 10:10:00 起因「济宁市气象台发布暴雨黄色预警[Ⅲ级/较重]」进入暴雨模式');
    expect((await w.engine.incidents({ room: ROOM }))[0]).toMatchObject({ state: 'closed', endedAt: new Date(T0 + 30 * MIN).toISOString() });
    expect(item(w.storm.view(ROOM), 'sandbags').state).toBe('todo');
    expect((await w.storm.readiness(ROOM)).mode).toBe(false);
  });

  it('the water\'s alerts join the storm\'s incident: one story per storm', async () => {
    const postedAt = Date.now();
    await w.warning(stormCap('JN-STORM-2', 0, 0, 360));
    run(w, 20);
    await w.settled();
    run(w, 30, 320);
    await w.settled();
    const level = w.changes.filter((c) => c.alert.rule === 'flood.level' && c.change === 'opened');
    expect(level).toHaveLength(1);
    const incidents = (await w.engine.incidents({ room: ROOM }));
    expect(incidents).toHaveLength(1);
    const d = (await w.engine.incident(incidents[0]!.id))!;
    expect(d.alerts.map((a) => a.rule).sort()).toEqual(['flood.level', 'flood.storm-mode']);
    // The story starts with storm mode, which began when the warning (already in force) arrived.
    expect(d.startedAt).toBe(new Date(postedAt).toISOString());
  });

  it('an upgraded warning (yellow to orange) worsens the storm-mode alert and goes on the timeline', async () => {
    await w.warning(stormCap('JN-STORM-3', 0, 0, 360));
    run(w, 20);
    await w.warning(
      buildCap({
        identifier: 'JN-STORM-3-U',
        sent: at(T0, 1),
        msgType: 'Update',
        references: `sd-jining@cma.gov.cn,JN-STORM-3,${at(T0, 0)}`,
        infos: [{ language: 'en-US', event: 'Rainstorm', severity: 'Severe', headline: 'Orange rainstorm warning [level II / severe]', polygon: JINING_POLYGON, onset: at(T0, 0), expires: at(T0, 480) }],
      }),
    );
    await w.settled();
    expect(w.changes.filter((c) => c.alert.rule === 'flood.storm-mode').map((c) => c.change).filter((c) => c !== 'updated')).toEqual(['opened', 'worsened']);
    expect((await w.timeline()).find((e) => e.kind === 'storm-warning')?.detail).toBe('warning now: "Orange rainstorm warning [level II / severe]" (Rainstorm, Severe), in force 10:00 to 18:00');
  });

  it('a restart neither opens the storm alert again nor repeats the checklist; storm mode that ended while down ends at start', async () => {
    await w.warning(stormCap('JN-STORM-4', 0, 0, 60));
    run(w, 20);
    await w.settled();
    const dir = w.dir;
    await w.stop();
    vi.advanceTimersByTime(5 * MIN);
    const again = await world(dir);
    run(again, 20);
    await again.settled();
    expect(again.changes.filter((c) => c.alert.rule === 'flood.storm-mode' && c.change !== 'updated')).toEqual([]);
    expect((await again.timeline()).filter((e) => e.kind === 'checklist-start')).toHaveLength(5);
    await again.stop();
    // Down past the warning's expiry (60 min after its onset).
    vi.advanceTimersByTime(60 * MIN);
    const third = await world(dir);
    await third.storm.settled();
    expect(third.changes.filter((c) => c.alert.rule === 'flood.storm-mode').map((c) => c.change)).toEqual(['resolved']);
    expect(third.storm.view(ROOM)!.mode).toBe(false);
  });
});
