import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from './testing.ts';

const P1 = 'flood/b1/pumps/P1';
let h!: Harness;
useHarness((x) => (h = x));

const idle = { running: false, amps: 0 };

describe('pump diagnosis', () => {
  it('failed to start: level above startMm and not running after pumpStartGraceSec', async () => {
    // 300 mm is above P1's start level (250) and below P2's (450).
    await h.run(50, () => 300);
    expect(h.changesOf('pump.failed-start')).toEqual([]);
    await h.run(20, () => 300);
    const changes = h.changesOf('pump.failed-start');
    expect(changes.map((c) => [c.change, c.alert.subject, c.alert.severity])).toEqual([['opened', P1, 'critical']]);
    expect(changes[0]!.alert.message).toContain('failed to start');

    await h.pump('P1', { running: true, amps: 5 });
    expect(h.changesOf('pump.failed-start').map((c) => c.change)).toEqual(['opened', 'resolved']);
  });

  it('a failed start stays one alert while another pump cycles the level, until the pump runs', async () => {
    await h.run(70, () => 300); // P1 failed to start
    const p2 = (on: boolean) => () => ({ P1: idle, P2: { running: on, amps: 5 } });
    await h.run(300, () => 200, { pumps: p2(true) }); // someone else pumped it down, not below P1's stop level
    await h.run(300, () => 300, { pumps: p2(false) }); // up again
    // Opened once (and escalated after 10 min unacknowledged), never resolved on the way.
    expect(h.changesOf('pump.failed-start').map((c) => c.change)).toEqual(['opened', 'escalated']);
    await h.run(130, () => 60, { pumps: p2(false) }); // below P1's stopMm (80) for clearHoldSec: nothing left to pump
    expect(h.changesOf('pump.failed-start').map((c) => c.change)).toEqual(['opened', 'escalated', 'resolved']);
  });

  it('running but not moving water: the level still rises pumpNoEffectMin after the start', async () => {
    await h.pump('P1', idle);
    const pumps = () => ({ P1: { running: true, amps: 5 }, P2: idle });
    // 3 mm/min from 260 mm (below the rise alert's 10 mm/min): the pump started at t = 0.
    await h.run(290, (t) => 260 + t / 20, { pumps });
    expect(h.changesOf('pump.no-effect')).toEqual([]);
    await h.run(30, (t) => 260 + (290 + t) / 20, { pumps });
    const changes = h.changesOf('pump.no-effect', P1);
    expect(changes.map((c) => [c.change, c.alert.severity])).toEqual([['opened', 'critical']]);
    expect(changes[0]!.alert.message).toMatch(/running but not moving water: level still rising 3\.0 mm\/min 5 min after it started/);
  });

  it('a pump that works but is outrun by the inflow is not "not moving water"', async () => {
    await h.pump('P1', { running: false, amps: 0 });
    const pumps = () => ({ P1: { running: true, amps: 5 }, P2: idle });
    // At its start the level drops 40 mm in two minutes, then the storm outruns it: 3 mm/min up for 8 min.
    await h.run(120, (t) => 260 - t / 3, { pumps });
    await h.run(480, (t) => 220 + t / 20, { pumps });
    expect(h.changesOf('pump.no-effect')).toEqual([]);
  });

  it('a pump that brings the level down is not flagged', async () => {
    await h.pump('P1', idle);
    await h.run(600, (t) => 280 - t / 10, { pumps: () => ({ P1: { running: true, amps: 5 }, P2: idle }) });
    expect(h.changesOf('pump.no-effect')).toEqual([]);
  });

  it('dry running and jam by current band, held for holdSec, jam worsening the same alert', async () => {
    const run = (amps: number, s: number) => h.run(s, () => 260, { pumps: () => ({ P1: { running: true, amps }, P2: idle }) });
    await run(5, 30);
    await run(1, 20);
    expect(h.changesOf('pump.current')).toEqual([]);
    await run(1, 20);
    let changes = h.changesOf('pump.current', P1);
    expect(changes.map((c) => [c.change, c.alert.severity])).toEqual([['opened', 'warning']]);
    expect(changes[0]!.alert.message).toContain('dry running: 1 A below its 3-9 A band');

    await run(14, 10);
    changes = h.changesOf('pump.current', P1);
    expect(changes.map((c) => [c.change, c.alert.severity])).toEqual([
      ['opened', 'warning'],
      ['worsened', 'critical'],
    ]);
    expect(changes[1]!.alert.message).toContain('jammed: 14 A above');

    await run(5, 20);
    expect(h.changesOf('pump.current').map((c) => c.change)).toEqual(['opened', 'worsened']);
    await run(5, 20);
    expect(h.changesOf('pump.current').map((c) => c.change)).toEqual(['opened', 'worsened', 'resolved']);
  });

  it('short cycling: more than maxStartsPerHour starts in an hour', async () => {
    const t0 = Date.now();
    // Starts every 4 minutes: 2 minutes off, 2 minutes on. maxStartsPerHour is 12.
    const pumps = () => ({ P1: { running: (Date.now() - t0) % 240_000 >= 120_000, amps: 5 }, P2: idle });
    await h.run(2880, () => 100, { pumps }); // 12 starts (t = 2, 6, ..., 46 min)
    expect(h.changesOf('pump.short-cycling')).toEqual([]);
    await h.run(240, () => 100, { pumps }); // the 13th
    const changes = h.changesOf('pump.short-cycling', P1);
    expect(changes.map((c) => [c.change, c.alert.value])).toEqual([['opened', 13]]);
    // Stops cycling: the count decays below half the limit within the hour and the alert resolves, once.
    await h.run(3600, () => 100, { pumps: () => ({ P1: idle, P2: idle }) });
    expect(h.changesOf('pump.short-cycling').map((c) => c.change)).toEqual(['opened', 'resolved']);
  });
});
