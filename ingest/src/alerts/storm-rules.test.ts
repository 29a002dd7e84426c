/**
 * Storm mode in the flood rules (alerts/flood/storm.ts): the storm rise rate and band holds apply
 * while storm mode is on, and a change of mode never resolves or reopens an alert by itself.
 * The test site's storm settings default from its normal ones: rise alert at 5 mm/min (half of 10),
 * band hold 10 s (a third of 30), clear hold 120 s (the normal one).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseSite } from '@parkops/contract/site/index.ts';
import { BASE_TIME, cleanupDirs, Harness, startHarness, tempDir, testSiteFile } from './testing.ts';

/** Pumps that start above the water of these tests, so no pump alert lengthens the clear hold. */
const HIGH_PUMPS = [
  { id: 'P1', name: 'Duty pump', role: 'duty', startMm: 400, stopMm: 100, capacityLpm: 10, ampsMin: 3, ampsMax: 9, intervalSec: 30 },
  { id: 'P2', name: 'Standby pump', role: 'standby', startMm: 450, stopMm: 150, capacityLpm: 10, ampsMin: 3, ampsMax: 9, intervalSec: 30 },
];
const LEVEL = 'flood.level';
const RISE = 'flood.rise';
let h: Harness;

beforeEach(() => {
  vi.useFakeTimers({ now: BASE_TIME });
});
afterEach(async () => {
  await h.stop();
  vi.useRealTimers();
  cleanupDirs();
});

describe('storm mode in the rules', () => {
  it('enters a band after the storm hold (10 s) instead of the normal 30 s, and the API shows the shorter pending hold', async () => {
    h = await startHarness();
    h.storm = true;
    await h.run(30, () => 100);
    await h.levels(320);
    const pending = h.engine.floodJudgement('b1')!.level!.pending!;
    expect(pending.band).toBe('warning');
    expect(Date.parse(pending.at) - Date.now()).toBe(10_000);
    await h.run(10, () => 320);
    await h.levels(320);
    expect(h.changesOf(LEVEL).map((c) => [c.change, c.alert.severity])).toEqual([['opened', 'warning']]);
    expect(h.changesOf(LEVEL)[0]!.alert.startedAt).toBe(new Date(BASE_TIME + 40_000).toISOString());
  });

  it('without storm mode the same water waits the normal 30 s', async () => {
    h = await startHarness();
    await h.run(30, () => 100);
    await h.run(20, () => 320);
    expect(h.changesOf(LEVEL)).toEqual([]);
    await h.run(20, () => 320);
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened']);
  });

  it('raises the rise alert at the storm rate (7 mm/min is below the normal 10 and above the storm 5), worded as storm mode', async () => {
    const rise = (mm0: number) => (t: number) => mm0 + (7 / 60) * t;
    h = await startHarness();
    await h.run(400, rise(310));
    expect(h.changesOf(RISE)).toEqual([]);
    await h.stop();

    h = await startHarness();
    h.storm = true;
    await h.run(400, rise(310));
    const opened = h.changesOf(RISE);
    expect(opened.map((c) => c.change)).toEqual(['opened']);
    expect(opened[0]!.alert.details).toMatchObject({ rule: RISE, warnMmPerMin: 5, storm: true });
    expect(opened[0]!.alert.message).toMatch(/^B1 power room: water rising 7\.0 mm\/min over 5 min \(alert at 5 mm\/min in storm mode\), now \d+ mm$/);
  });

  it('entering and leaving storm mode resolves and reopens nothing: the open alerts carry on', async () => {
    h = await startHarness();
    // A warning-band level alert and a 7 mm/min rise, opened in storm mode.
    h.storm = true;
    await h.run(400, (t) => 310 + (7 / 60) * t);
    expect(h.openOf(LEVEL)).toHaveLength(1);
    expect(h.openOf(RISE)).toHaveLength(1);
    // Storm mode ends (the warning is cancelled) while the water still rises at 7 mm/min: nothing closes
    // at that instant; the rise alert stays open (7 is above half the normal 10 mm/min).
    h.storm = false;
    await h.run(60, (t) => 357 + (7 / 60) * t);
    h.storm = true;
    await h.run(60, (t) => 364 + (7 / 60) * t);
    const changes = h.changes.filter((c) => c.change !== 'updated' && (c.alert.rule === LEVEL || c.alert.rule === RISE)).map((c) => [c.alert.rule, c.change]);
    expect(changes).toEqual([
      [LEVEL, 'opened'],
      [RISE, 'opened'],
    ]);
  });

  it('a fall waiting out a long clear hold does not complete at the instant a shorter storm clear hold begins', async () => {
    // Normal clear hold 120 s, storm clear hold 30 s.
    h = await startHarness({ pumps: HIGH_PUMPS, storm: { clearHoldSec: 30 } });
    await h.run(60, () => 320); // warning band entered after 30 s
    expect(h.openOf(LEVEL)).toHaveLength(1);
    await h.run(100, () => 200); // 100 s below the deadband: 20 s left of the normal hold
    expect(h.openOf(LEVEL)).toHaveLength(1);
    h.storm = true; // the storm hold (30 s) is shorter than the 100 s waited, but counts from now
    await h.run(10, () => 200);
    expect(h.openOf(LEVEL)).toHaveLength(1);
    // It completes at min(fall + 120 s, storm start + 30 s) = storm start + 20 s: no later than normal.
    await h.run(20, () => 200);
    const resolved = h.changesOf(LEVEL).find((c) => c.change === 'resolved');
    expect(resolved).toBeDefined();
    expect(Date.parse(resolved!.alert.resolvedAt!) - BASE_TIME).toBeLessThanOrEqual(60_000 + 120_000 + 10_000);
  });

  it('a restart keeps when storm mode began: the clear-hold guard counts from it, not from the restart', async () => {
    const dir = tempDir();
    const site = parseSite(testSiteFile({ pumps: HIGH_PUMPS, storm: { clearHoldSec: 30 } }));
    h = await new Harness(dir, site).start();
    await h.run(60, () => 320); // warning from 30 s
    await h.run(60, () => 200); // falling since 60 s
    h.storm = true; // storm mode from 120 s: the fall completes at min(60 + 120, 120 + 30) = 150 s
    await h.run(10, () => 200);
    await h.stop();
    vi.advanceTimersByTime(10_000); // down for 10 s, back at 140 s
    // The warnings module starts before the engine: storm mode is known at the engine's first tick.
    h = new Harness(dir, site);
    h.storm = true;
    await h.start();
    expect(h.openOf(LEVEL)).toHaveLength(1);
    await h.run(20, () => 200);
    // Had the restart forgotten storm mode's start, the guard would count from 140 s and hold until 170 s.
    const resolved = h.changesOf(LEVEL).find((c) => c.change === 'resolved');
    expect(resolved?.alert.resolvedAt).toBe(new Date(BASE_TIME + 150_000).toISOString());
  });
});
