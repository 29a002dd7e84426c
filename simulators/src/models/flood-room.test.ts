import { describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site';
import { Random } from '../random.ts';
import { FloodRoomModel } from './flood-room.ts';

const site = loadSite();
const room = site.room('b1-power');
if (room === undefined) throw new Error('the bundled site has no b1-power room');
const dry = { rainMmH: 0, sewerHeadMm: -600 };
// No seepage: only the pumps move water, so their effect can be measured exactly.
const still = { seepageLpm: 0 };

function model(levelMm: number, physics = {}): FloodRoomModel {
  return new FloodRoomModel(room as NonNullable<typeof room>, new Random(1), { ...still, initialLevelMm: levelMm, ...physics });
}

describe('sump pit arithmetic (1 L over 1 m² = 1 mm)', () => {
  it('converts volume to level inside the 4 m² pit', () => {
    const m = model(0);
    expect(room.pit.areaM2).toBe(4);
    expect(m.levelForVolume(400)).toBe(100);
    expect(m.levelForVolume(3600)).toBe(900);
    expect(m.volumeForLevel(250)).toBe(1000);
  });

  it('spreads water over the room floor above the pit rim', () => {
    const m = model(0, { roomAreaM2: 60 });
    // The pit holds 4 m² × 900 mm = 3600 L; 60 L more over 60 m² is 1 mm.
    expect(m.levelForVolume(3660)).toBeCloseTo(901, 9);
    expect(m.volumeForLevel(910)).toBeCloseTo(3600 + 600, 9);
    for (const mm of [0, 55.5, 899, 900, 950, 1500]) expect(m.levelForVolume(m.volumeForLevel(mm))).toBeCloseTo(mm, 9);
  });

  it('rises by inflow / area: 100 L/min of seepage lifts the pit 25 mm a minute', () => {
    const m = model(100, { seepageLpm: 100 });
    m.step(60, dry);
    expect(m.levelMm).toBeCloseTo(125, 9);
  });

  it('takes backflow as orifice flow k·√(head − level), and none when the sewer is below the water', () => {
    const m = model(300, { backflowCoeff: 50 });
    expect(m.inflowLpm({ rainMmH: 0, sewerHeadMm: 400 })).toBeCloseTo(50 * Math.sqrt(100), 9);
    expect(m.inflowLpm({ rainMmH: 0, sewerHeadMm: 200 })).toBe(0);
    expect(m.inflowLpm({ rainMmH: 10, sewerHeadMm: -600 })).toBeCloseTo(10 * m.physics.rainIngressLpmPerMmH, 9);
  });
});

describe('pumps', () => {
  it('the duty pump lowers the level at its rated capacity (600 L/min over 4 m² = 150 mm/min)', () => {
    const m = model(300);
    m.control();
    const [p1, p2] = m.pumps;
    expect(p1?.running).toBe(true);
    expect(p2?.running).toBe(false);
    for (let s = 0; s < 60; s++) m.step(1, dry);
    expect(m.levelMm).toBeCloseTo(150, 6);
    expect(p1?.pumpedL).toBeCloseTo(600, 6);
  });

  it('duty and standby together move both capacities', () => {
    const m = model(600);
    m.control();
    expect(m.pumps.every((p) => p.running)).toBe(true);
    m.step(30, dry);
    expect(m.levelMm).toBeCloseTo(600 - (1200 * 0.5) / 4, 6);
  });

  it('start at startMm and stop at stopMm, with hysteresis in between', () => {
    const m = model(200);
    const p1 = m.pumps[0];
    m.control();
    expect(p1?.running).toBe(false);
    m.volumeL = m.volumeForLevel(250);
    expect(m.control()).toEqual([p1]);
    m.volumeL = m.volumeForLevel(120);
    m.control();
    expect(p1?.running).toBe(true);
    m.volumeL = m.volumeForLevel(80);
    expect(m.control()).toEqual([p1]);
    expect(p1?.running).toBe(false);
    m.volumeL = m.volumeForLevel(200);
    m.control();
    expect(p1?.running).toBe(false);
  });

  it('draws current within its band while pumping water, and none when stopped', () => {
    const m = model(300);
    m.control();
    const [p1, p2] = m.pumps;
    expect(p1?.amps).toBeGreaterThanOrEqual(p1?.spec.ampsMin ?? Infinity);
    expect(p1?.amps).toBeLessThanOrEqual(p1?.spec.ampsMax ?? -Infinity);
    expect(p2?.amps).toBe(0);
  });

  it('a jammed pump reports running with a current far above its band and moves no water', () => {
    const m = model(300);
    const p1 = m.pumps[0];
    if (p1 === undefined) throw new Error('no pump');
    p1.fault = 'jam';
    m.control();
    expect(p1.running).toBe(true);
    expect(p1.amps).toBeGreaterThan(p1.spec.ampsMax * 1.3);
    m.step(60, dry);
    expect(m.levelMm).toBeCloseTo(300, 9);
    expect(m.isIneffective(p1)).toBe(true);
  });

  it('a pump running below its intake runs dry: low current, no water moved', () => {
    // A stop level under the intake (a misadjusted float switch) lets the pump run dry.
    const lowStop = { ...room, pumps: room.pumps.map((p) => ({ ...p, stopMm: 10 })) };
    const m = new FloodRoomModel(lowStop, new Random(1), { ...still, initialLevelMm: 300, intakeMm: 40 });
    m.control();
    for (let s = 0; s < 120; s++) {
      m.step(1, dry);
      m.control();
    }
    const p1 = m.pumps[0];
    expect(p1?.running).toBe(true);
    expect(m.levelMm).toBeCloseTo(40, 6);
    expect(p1?.amps).toBeLessThan(p1?.spec.ampsMin ?? 0);
    expect(m.isIneffective(p1 as NonNullable<typeof p1>)).toBe(true);
  });

  it('a pump that fails to start is called but reports not running', () => {
    const m = model(400);
    const p1 = m.pumps[0];
    if (p1 === undefined) throw new Error('no pump');
    p1.fault = 'fail-to-start';
    m.control();
    expect(p1.called).toBe(true);
    expect(p1.running).toBe(false);
    expect(p1.amps).toBe(0);
  });
});
