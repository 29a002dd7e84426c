import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from './testing.ts';

const STALE = 'device.stale';
let h!: Harness;
useHarness((x) => (h = x));

describe('stale and offline devices', () => {
  it('a value sitting unchanged while still reported is not stale', async () => {
    await h.run(1200, () => 120);
    expect(h.changesOf(STALE)).toEqual([]);
  });

  it('silence past staleAfterSec is, even though the last value looked fine', async () => {
    await h.run(30, () => 120);
    // L2 falls silent after its reading at t = 20 s; L1 and the pumps keep reporting.
    const lastL2 = Date.now() - 10_000;
    while (Date.now() - lastL2 < 30_000) {
      await h.level('L1', 120);
      await h.pump('P1', { running: false, amps: 0 });
      await h.pump('P2', { running: false, amps: 0 });
      await h.advance(1000);
    }
    expect(h.changesOf(STALE)).toEqual([]);
    await h.advance(2000);
    const changes = h.changesOf(STALE);
    expect(changes.map((c) => [c.change, c.alert.subject, c.alert.severity])).toEqual([['opened', 'flood/b1/levels/L2', 'warning']]);
    // Site-local time (Asia/Shanghai), the sensor by its name and id, no ISO UTC.
    expect(new Date(lastL2).toISOString()).toBe('2026-07-15T06:00:20.000Z');
    expect(changes[0]!.alert.message).toBe('B1 power room: level sensor Level 2 L2 silent since 14:00:20 (expected within 30 s)');
    expect(changes[0]!.alert.details).toEqual({ rule: STALE, room: 'b1', device: 'L2', kind: 'level', why: 'silent', since: '2026-07-15T06:00:20.000Z', expectedSec: 30, blind: false });
    // The message is stable while the sensor stays silent: no republishing every tick.
    for (let i = 0; i < 6; i++) {
      await h.level('L1', 120);
      await h.pump('P1', { running: false, amps: 0 });
      await h.pump('P2', { running: false, amps: 0 });
      await h.advance(10_000);
    }
    expect(h.changesOf(STALE, undefined, true)).toHaveLength(1);

    await h.level('L2', 120);
    expect(h.changesOf(STALE).map((c) => c.change)).toEqual(['opened', 'resolved']);
  });

  it('park/devices/{id}/status offline is an alert at once, online clears it', async () => {
    await h.run(30, () => 120);
    await h.status('P1', false);
    const changes = h.changesOf(STALE);
    expect(changes.map((c) => [c.change, c.alert.subject])).toEqual([['opened', 'flood/b1/pumps/P1']]);
    expect(changes[0]!.alert.message).toContain('reported offline');
    await h.status('P1', true);
    expect(h.changesOf(STALE).map((c) => c.change)).toEqual(['opened', 'resolved']);
  });

  it('both level sensors silent: the room is blind, critical', async () => {
    await h.run(30, () => 120);
    await h.run(40, () => null);
    const open = h.openOf(STALE).filter((a) => a.subject.includes('/levels/'));
    expect(open.map((a) => a.severity)).toEqual(['critical', 'critical']);
  });
});

describe('sensor disagreement', () => {
  it('fires after sensorDisagreeMin of more than sensorDisagreeMm apart, not for a shorter spell', async () => {
    await h.run(240, () => [200, 300]); // 100 mm apart for 4 min
    await h.run(60, () => 250);
    expect(h.changesOf('flood.sensors-disagree')).toEqual([]);
    await h.run(310, () => [200, 300]);
    const changes = h.changesOf('flood.sensors-disagree');
    expect(changes.map((c) => [c.change, c.alert.value])).toEqual([['opened', 100]]);
    await h.run(130, () => 250);
    expect(h.changesOf('flood.sensors-disagree').map((c) => c.change)).toEqual(['opened', 'resolved']);
  });

  it('a stuck-low sensor cannot hide a flood: the higher sensor sets the level from the start', async () => {
    // L1 stuck at 100 mm, L2 sees 400 mm. The room's level is the higher one: the warning band opens after
    // its 30 s hold, not after the 5 minutes it takes to call the sensors disagreeing (the old lower-of-two
    // rule hid the water for those 5 minutes).
    await h.run(20, () => [100, 400]);
    expect(h.changesOf('flood.level')).toEqual([]);
    await h.run(20, () => [100, 400]);
    expect(h.changesOf('flood.level').map((c) => [c.change, c.alert.severity, c.alert.value])).toEqual([['opened', 'warning', 400]]);
    expect(h.changesOf('flood.sensors-disagree')).toEqual([]);
    await h.run(300, () => [100, 400]);
    const disagree = h.changesOf('flood.sensors-disagree');
    expect(disagree.map((c) => c.change)).toEqual(['opened']);
    expect(disagree[0]!.alert.message).toBe("B1 power room: level sensors disagree by 300 mm (Level 2 L2 400 mm, Level 1 L1 100 mm; allowed 80 mm); the room's level follows the higher one, check the lower sensor");
    expect(h.changesOf('flood.level').map((c) => c.change)).toEqual(['opened']);
  });
});
