import { describe, expect, it } from 'vitest';
import type { Alert, BayView, StreamSnapshot, WarningView } from '@parkops/contract';
import { backoffMs, LiveStore, type LiveDeps, type StreamSource } from './live.svelte.ts';

/** A stream the test drives by hand, standing in for the browser's EventSource. */
class FakeStream implements StreamSource {
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  private listeners = new Map<string, ((ev: { data: string }) => void)[]>();
  addEventListener(type: string, fn: (ev: { data: string }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  emit(type: string, data: unknown): void {
    for (const fn of this.listeners.get(type) ?? []) fn({ data: typeof data === 'string' ? data : JSON.stringify(data) });
  }
  close(): void { this.closed = true; }
}

function harness() {
  const streams: FakeStream[] = [];
  const frames: (() => void)[] = [];
  const timers: { cb: () => void; ms: number }[] = [];
  let now = 1_000_000;
  const deps: LiveDeps = {
    openStream: () => { const s = new FakeStream(); streams.push(s); return s; },
    requestFrame: (cb) => { frames.push(cb); },
    setTimer: (cb, ms) => { const t = { cb, ms }; timers.push(t); return t; },
    clearTimer: (h) => { const i = timers.indexOf(h as never); if (i >= 0) timers.splice(i, 1); },
    now: () => now,
    random: () => 0.5,
  };
  const store = new LiveStore(deps);
  return {
    store, streams, frames, timers,
    runFrames: () => { const f = frames.splice(0); f.forEach((cb) => cb()); return f.length; },
    runTimer: () => timers.shift()!.cb(),
    advance: (ms: number) => { now += ms; },
  };
}

const ZONES = ['A', 'B', 'C', 'D', 'E'];
function bay(i: number, occupied: boolean | null, extra: Partial<BayView> = {}): BayView {
  const zone = ZONES[Math.floor(i / 120)]!;
  return { id: `${zone}-${String(i % 120).padStart(3, '0')}`, zone, occupied, since: null, lastSeen: null, battery: null, stale: false, ...extra };
}
function snapshot(over: Partial<StreamSnapshot> = {}): StreamSnapshot {
  const bays = Array.from({ length: 600 }, (_, i) => bay(i, false));
  return {
    parking: {
      total: 600, occupied: 0, free: 600,
      zones: ZONES.map((id) => ({ id, name: `Zone ${id}`, total: 120, occupied: 0 })),
      bays, gates: [], recentScans: [],
    },
    flood: { rooms: [{ id: 'b1', name: 'B1', thresholds: { warnMm: 300, alarmMm: 500, criticalMm: 700, floorMm: 900 }, level: { mm: 100, band: 'normal', ts: '2026-01-01T00:00:00Z', sensors: ['L1'], from: 'L1' }, band: 'normal', levels: [{ id: 'L1', name: 'L1', mm: 100, ts: null, changedAt: null, stale: false, online: true }], pumps: [], stormMode: false }] },
    venues: [],
    alerts: [],
    serverTime: new Date(1_000_000 + 5000).toISOString(),
    ...over,
  };
}
function alert(id: string, over: Partial<Alert> = {}): Alert {
  return { id, rule: 'level', severity: 'critical', state: 'firing', subject: 'flood/b1/levels/L1', message: 'critical', startedAt: '2026-01-01T00:00:00.000Z', ...over };
}

describe('LiveStore', () => {
  it('is live only after the snapshot, and takes the server clock offset from it', () => {
    const h = harness();
    h.store.start();
    expect(h.store.status).toBe('connecting');
    h.streams[0]!.emit('snapshot', snapshot());
    expect(h.store.status).toBe('live');
    expect(h.store.clockOffsetMs).toBe(5000);
    h.runFrames();
    expect(h.store.bays).toHaveLength(600);
    expect(h.store.parking).toEqual({ total: 600, occupied: 0, free: 600, unknown: 0 });
  });

  it('merges a burst of 600 bay events into one frame and one published array', () => {
    const h = harness();
    h.store.start();
    h.streams[0]!.emit('snapshot', snapshot());
    h.runFrames();
    const before = h.store.bays;
    const version = h.store.bayVersion;
    for (let i = 0; i < 600; i++) h.streams[0]!.emit('bay', bay(i, true));
    // Nothing visible until the frame runs: state changes once per frame, not per event.
    expect(h.store.bays).toBe(before);
    expect(h.frames).toHaveLength(1);
    h.runFrames();
    expect(h.store.bayVersion).toBe(version + 1);
    expect(h.store.lastBatch).toBe(600);
    expect(h.store.bays.every((b) => b.occupied === true)).toBe(true);
    expect(h.store.zones.map((z) => z.occupied)).toEqual([120, 120, 120, 120, 120]);
    expect(h.store.parking.free).toBe(0);
  });

  it('keeps the last state of a bay updated twice in one frame, and counts unknown and stale bays apart', () => {
    const h = harness();
    h.store.start();
    h.streams[0]!.emit('snapshot', snapshot());
    h.streams[0]!.emit('bay', bay(0, true));
    h.streams[0]!.emit('bay', bay(0, false));
    h.streams[0]!.emit('bay', bay(1, null));
    h.streams[0]!.emit('bay', bay(2, true, { stale: true }));
    h.runFrames();
    const a = h.store.zones.find((z) => z.id === 'A')!;
    expect(a).toMatchObject({ total: 120, occupied: 1, unknown: 1, stale: 1 });
    expect(h.store.bays[0]!.occupied).toBe(false);
  });

  it('updates levels and pumps inside their room', () => {
    const h = harness();
    h.store.start();
    h.streams[0]!.emit('snapshot', snapshot());
    h.streams[0]!.emit('level', { room: 'b1', id: 'L1', name: 'L1', mm: 650, ts: '2026-01-01T00:00:00Z', changedAt: null, stale: false, online: true });
    h.streams[0]!.emit('pump', { room: 'b1', id: 'P1', name: 'P1', role: 'duty', running: true, amps: 6.1, ts: null, changedAt: null, stale: false, online: true });
    h.runFrames();
    expect(h.store.rooms[0]!.levels[0]!.mm).toBe(650);
    expect(h.store.rooms[0]!.pumps[0]!.running).toBe(true);
  });

  it('takes the room level and band the server judged as they come, and the stale flags the server sends', () => {
    const h = harness();
    h.store.start();
    h.streams[0]!.emit('snapshot', snapshot());
    // The server judged: 805 mm from L1, critical. The store does not look at the sensors to agree.
    h.streams[0]!.emit('room', { room: 'b1', band: 'critical', level: { mm: 805, band: 'critical', ts: '2026-01-01T00:10:00Z', sensors: ['L1'], from: 'L1' } });
    h.runFrames();
    expect(h.store.rooms[0]!.level).toMatchObject({ mm: 805, band: 'critical' });
    expect(h.store.rooms[0]!.band).toBe('critical');
    expect(h.store.rooms[0]!.levels[0]!.mm).toBe(100);
    // A device.stale alert is an alert, not a stale flag: the flag comes with the server's level event.
    h.streams[0]!.emit('alert', alert('s1', { rule: 'device.stale', severity: 'warning', subject: 'flood/b1/levels/L1' }));
    h.runFrames();
    expect(h.store.rooms[0]!.levels[0]!.stale).toBe(false);
    h.streams[0]!.emit('level', { room: 'b1', id: 'L1', name: 'L1', mm: 100, ts: '2026-01-01T00:10:00Z', changedAt: null, stale: true, online: null });
    h.streams[0]!.emit('room', { room: 'b1', band: 'critical', level: null });
    h.runFrames();
    expect(h.store.rooms[0]!.levels[0]!.stale).toBe(true);
    expect(h.store.rooms[0]!.level).toBeNull();
    expect(h.store.rooms[0]!.band).toBe('critical');
  });

  it('drops an acknowledged-and-resolved alert, keeps a resolved one nobody acknowledged, and ignores an older copy', () => {
    const h = harness();
    h.store.start();
    h.streams[0]!.emit('snapshot', snapshot({ alerts: [alert('a1', { updatedAt: '2026-01-01T00:00:05Z' })] }));
    h.runFrames();
    expect(h.store.activeAlerts.map((a) => a.id)).toEqual(['a1']);
    // An ack answer from the API arrives first; the stream's older 'firing' copy must not undo it.
    h.store.applyAlert(alert('a1', { state: 'acknowledged', ackedAt: '2026-01-01T00:00:10Z', updatedAt: '2026-01-01T00:00:10Z' }));
    h.streams[0]!.emit('alert', alert('a1', { updatedAt: '2026-01-01T00:00:05Z' }));
    h.runFrames();
    expect(h.store.alerts[0]!.state).toBe('acknowledged');
    h.streams[0]!.emit('alert', alert('a2', { state: 'resolved', resolvedAt: '2026-01-01T00:01:00Z' }));
    h.streams[0]!.emit('alert', alert('a1', { state: 'resolved', ackedAt: '2026-01-01T00:00:10Z', updatedAt: '2026-01-01T00:02:00Z' }));
    h.runFrames();
    expect(h.store.activeAlerts.map((a) => a.id)).toEqual(['a2']);
  });

  it('shows reconnecting on a drop, retries with growing backoff, and resyncs from a fresh snapshot', () => {
    const h = harness();
    h.store.start();
    h.streams[0]!.emit('snapshot', snapshot());
    h.streams[0]!.emit('bay', bay(5, true));
    h.runFrames();
    h.streams[0]!.onerror!();
    expect(h.streams[0]!.closed).toBe(true);
    expect(h.store.status).toBe('reconnecting');
    expect(h.timers.map((t) => t.ms)).toEqual([1000]);
    h.runTimer();
    h.streams[1]!.onerror!();
    expect(h.timers.map((t) => t.ms)).toEqual([2000]);
    h.runTimer();
    expect(h.streams).toHaveLength(3);
    // The old data stays on screen (marked not live) until the new snapshot replaces all of it.
    expect(h.store.bays[5]!.occupied).toBe(true);
    h.streams[2]!.emit('snapshot', snapshot());
    h.runFrames();
    expect(h.store.status).toBe('live');
    expect(h.store.bays[5]!.occupied).toBe(false);
    // Backoff starts over after a good connection.
    h.streams[2]!.onerror!();
    expect(h.timers.map((t) => t.ms)).toEqual([1000]);
  });

  it('ignores events from a stream it already abandoned, and malformed event data', () => {
    const h = harness();
    h.store.start();
    h.streams[0]!.emit('snapshot', snapshot());
    h.runFrames();
    h.streams[0]!.onerror!();
    h.streams[0]!.emit('bay', bay(0, true));
    h.streams[0]!.emit('bay', '{not json');
    h.runFrames();
    expect(h.store.bays[0]!.occupied).toBe(false);
  });

  it('stops reconnecting when the session has ended', async () => {
    const h = harness();
    let asked = 0;
    const store = new LiveStore({
      openStream: () => { const s = new FakeStream(); h.streams.push(s); return s; },
      requestFrame: (cb) => h.frames.push(cb),
      setTimer: (cb, ms) => { h.timers.push({ cb, ms }); return null; },
      clearTimer: () => {},
      now: () => 0,
      random: () => 0.5,
      checkSession: async () => { asked++; return false; },
    });
    store.start();
    for (let i = 0; i < 3; i++) { h.streams.at(-1)!.onerror!(); h.runTimer(); }
    await Promise.resolve();
    await Promise.resolve();
    expect(asked).toBe(1);
    expect(store.status).toBe('signed-out');
    expect(h.timers).toHaveLength(0);
  });
});

function warning(id: string, over: Partial<WarningView> = {}): WarningView {
  return {
    id, sender: 'sd-jining@cma.gov.cn', event: '暴雨', severity: 'Moderate', urgency: 'Expected', relevant: true, inForce: true, identifier: id,
    sent: '2026-07-08T00:00:00.000Z', status: 'Actual', msgType: 'Alert', scope: 'Public', certainty: 'Likely', areaDesc: '济宁', language: 'zh-CN', storm: true,
    inForceFrom: '2026-07-08T00:00:00.000Z', inForceUntil: '2026-07-08T12:00:00.000Z', references: [], receivedAt: '2026-07-08T00:00:00.000Z', via: 'http', infos: [], ...over,
  };
}

describe('LiveStore: weather warnings and storm mode', () => {
  it('takes the warnings in force from the snapshot, adds new ones, drops expired or cancelled ones, newest first', () => {
    const h = harness();
    h.store.start();
    h.streams[0]!.emit('snapshot', snapshot({ warnings: [warning('w-1')] }));
    h.runFrames();
    expect(h.store.warnings.map((w) => w.id)).toEqual(['w-1']);
    h.streams[0]!.emit('warning', warning('w-2', { sent: '2026-07-08T01:00:00.000Z' }));
    h.streams[0]!.emit('warning', warning('w-far', { relevant: false, inForce: false }));
    h.runFrames();
    expect(h.store.warnings.map((w) => w.id)).toEqual(['w-2', 'w-1']);
    h.streams[0]!.emit('warning', warning('w-1', { inForce: false, supersededBy: 'w-3' }));
    h.runFrames();
    expect(h.store.warnings.map((w) => w.id)).toEqual(['w-2']);
  });

  it('marks a room in and out of storm mode, and keeps the mark across level events', () => {
    const h = harness();
    h.store.start();
    h.streams[0]!.emit('snapshot', snapshot());
    h.streams[0]!.emit('storm', { room: 'b1', stormMode: true });
    h.streams[0]!.emit('level', { room: 'b1', id: 'L1', name: 'L1', mm: 250, ts: '2026-01-01T00:00:01.000Z', changedAt: null, stale: false, online: true });
    h.runFrames();
    expect(h.store.rooms[0]).toMatchObject({ stormMode: true, levels: [{ mm: 250 }] });
    h.streams[0]!.emit('storm', { room: 'b1', stormMode: false });
    h.runFrames();
    expect(h.store.rooms[0]!.stormMode).toBe(false);
  });
});

describe('backoffMs', () => {
  it('doubles from 1 s and caps at 30 s with ±20 % jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, 0.5))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffMs(0, 0)).toBe(800);
    expect(backoffMs(10, 1)).toBe(36000);
  });
});

describe('LiveStore storm readiness', () => {
  const view = (mode: boolean, state: 'ok' | 'todo') => ({
    mode,
    rules: { riseWarnMmPerMin: mode ? 5 : 10, riseWindowSec: 300, holdSec: mode ? 10 : 30, clearHoldSec: 120 },
    stormRules: { riseWarnMmPerMin: 5, riseWindowSec: 300, holdSec: 10, clearHoldSec: 120 },
    checklist: [{ id: 'sandbags', text: 'Sandbags', check: 'manual' as const, state, findings: [], since: '2026-01-01T00:00:00Z', checkedAt: '2026-01-01T00:00:00Z' }],
  });

  it('takes the room\'s storm view from a readiness event, storm mode with it, and a tick answer at once', () => {
    const h = harness();
    h.store.start();
    h.streams[0]!.emit('snapshot', snapshot());
    h.streams[0]!.emit('readiness', { room: 'b1', storm: view(true, 'todo') });
    h.runFrames();
    expect(h.store.rooms[0]!.stormMode).toBe(true);
    expect(h.store.rooms[0]!.storm?.checklist[0]?.state).toBe('todo');
    h.store.applyChecklistItem('b1', { ...view(true, 'ok').checklist[0]! });
    h.runFrames();
    expect(h.store.rooms[0]!.storm?.checklist[0]?.state).toBe('ok');
    // A reading's event keeps the storm view (it only replaces the level).
    h.streams[0]!.emit('room', { room: 'b1', level: null, band: 'normal' });
    h.runFrames();
    expect(h.store.rooms[0]!.storm?.mode).toBe(true);
  });
});
