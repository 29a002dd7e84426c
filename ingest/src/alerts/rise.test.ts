import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BASE_TIME, cleanupDirs, startHarness, type Harness } from './testing.ts';

const RISE = 'flood.rise';
const LEVEL = 'flood.level';
let h: Harness;

beforeEach(() => {
  vi.useFakeTimers({ now: BASE_TIME });
});
afterEach(async () => {
  await h.stop();
  vi.useRealTimers();
  cleanupDirs();
});

const p1Running = () => ({ P1: { running: true, amps: 5 }, P2: { running: false, amps: 0 } });

describe('rate of rise and time to threshold', () => {
  it('measures mm/min over the window and estimates the next band and the floor with the pumps counted', async () => {
    h = await startHarness();
    // 12 mm/min from 330 mm, the duty pump running (10 L/min over 2 m² = 5 mm/min out), the standby idle.
    h.run(200, (t) => 330 + 0.2 * t, { pumps: p1Running });
    const opened = h.changesOf(RISE);
    expect(opened.map((c) => c.change)).toEqual(['opened']);
    const a = opened[0]!.alert;
    // First estimate once 150 s (half the 300 s window) of samples exist: at t = 150 s, on L1's 360 mm while
    // L2 still says 358 mm (the room's level is the lower one). Net inflow 12 + 5 = 17 mm/min.
    // 358 -> 450 (P2 starts) at 17 - 5 = 12 mm/min: 7.67 min; 450 -> 900 at 17 - 10 = 7 mm/min: 64.29 min.
    // Floor in 71.95 min; alarm (500) in 7.67 + 50/7 = 14.8 min.
    expect(a).toMatchObject({ severity: 'warning', value: 12, etaTarget: 'floor' });
    expect(a.etaMin).toBeCloseTo(71.95, 1);
    expect(a.message).toContain('water rising 12.0 mm/min');
    expect(a.message).toContain('reaches alarm (500 mm) in ~15 min, reaches the floor in ~72 min at the current rate');

    // The level alert carries the estimate to the next band.
    const level = h.engine.list({ state: 'active' }).find((x) => x.rule === LEVEL)!;
    expect(level.etaTarget).toBe('alarm');
    expect(level.etaMin).toBeGreaterThan(12);
    expect(level.etaMin).toBeLessThan(15);
    expect(level.message).toContain('reaches the floor in ~');
  });

  it('says the standby pump will outpace a rise the duty pump cannot hold, and gives no ETA', async () => {
    // Pumps of 40 L/min = 20 mm/min each. Rising 12 mm/min with the duty pump running: inflow 32 mm/min,
    // more than one pump, less than both: the standby starting at 450 mm will turn it.
    h = await startHarness({
      pumps: [
        { id: 'P1', name: 'Duty pump', role: 'duty', startMm: 250, stopMm: 80, capacityLpm: 40, ampsMin: 3, ampsMax: 9, intervalSec: 30 },
        { id: 'P2', name: 'Standby pump', role: 'standby', startMm: 450, stopMm: 150, capacityLpm: 40, ampsMin: 3, ampsMax: 9, intervalSec: 30 },
      ],
    });
    h.run(200, (t) => 260 + 0.2 * t, { pumps: p1Running });
    const a = h.changesOf(RISE)[0]!.alert;
    // It reaches the warning band first (in about a minute), never the floor.
    expect(a).toMatchObject({ value: 12, etaTarget: 'warning' });
    expect(a.message).toContain('reaches warning (300 mm) in ~1 min at the current rate; the running and standby pumps should outpace it before the floor');
    expect(a.message).not.toContain('reaches the floor');
  });

  it('a fast rise below the lowest pump start level is the pit filling as designed: no alert', async () => {
    h = await startHarness();
    h.run(600, (t) => 100 + (12 / 60) * t); // 12 mm/min from 100 mm: reaches 220 mm, P1 starts at 250
    expect(h.changesOf(RISE)).toEqual([]);
    h.run(200, (t) => 220 + (12 / 60) * t); // past 250 mm still rising with no pump running
    expect(h.changesOf(RISE).map((c) => c.change)).toEqual(['opened']);
  });

  it('does not fire below riseWarnMmPerMin', async () => {
    h = await startHarness();
    h.run(600, (t) => 100 + (8 / 60) * t); // 8 mm/min < 10
    expect(h.changesOf(RISE)).toEqual([]);
  });

  it('a faster rise sends an acknowledged rise alert back to firing at once', async () => {
    h = await startHarness();
    h.run(200, (t) => 330 + 0.2 * t, { pumps: p1Running });
    const id = h.changesOf(RISE)[0]!.alert.id;
    h.engine.acknowledge(id, { username: 'li' }, 'watching it');
    const at = 330 + 0.2 * 200;
    // Now 60 mm/min (five times the warning rate): the windowed rate passes 20 mm/min within a minute or two.
    h.run(180, (t) => at + 1 * t, { pumps: p1Running });
    const changes = h.changesOf(RISE);
    expect(changes.map((c) => c.change)).toEqual(['opened', 'acknowledged', 'worsened', 'worsened']);
    expect(changes[2]!.alert).toMatchObject({ state: 'firing', severity: 'critical', ackedBy: 'li' });
  });

  it('clears once the level has stopped rising for twice the window, and a short dip does not resolve it', async () => {
    h = await startHarness();
    h.run(200, (t) => 330 + 0.2 * t, { pumps: p1Running });
    // The standby joins: a 4-minute dip, then rising again.
    h.run(240, (t) => 370 - 0.2 * t, { pumps: p1Running });
    h.run(300, (t) => 322 + 0.2 * t, { pumps: p1Running });
    expect(h.changesOf(RISE).map((c) => c.change)).toEqual(['opened']);
    h.run(600, () => 380, { pumps: p1Running });
    expect(h.changesOf(RISE).map((c) => c.change)).toEqual(['opened']);
    h.run(300, () => 380, { pumps: p1Running });
    expect(h.changesOf(RISE).map((c) => c.change)).toEqual(['opened', 'resolved']);
  });
});
