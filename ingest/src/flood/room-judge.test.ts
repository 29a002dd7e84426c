import { describe, expect, it } from 'vitest';
import { testSiteFile } from '../alerts/testing.ts';
import { parseSite } from '@parkops/contract/site/index.ts';
import { combineLevels, RoomJudge, type JudgeStore } from './room-judge.ts';

const T0 = Date.parse('2026-07-15T06:00:00Z');
const CLEAR_HOLD = 120;

function memoryStore(init: Record<string, unknown> = {}): JudgeStore & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>(Object.entries(init).map(([k, v]) => [k, structuredClone(v)]));
  return { data, load: <T>(k: string) => structuredClone(data.get(k)) as T | undefined, save: (k, v) => void data.set(k, structuredClone(v)) };
}

/** A judge for the test room (bands 300/500/700, deadband 25, hold 30 s, sensors stale after 30 s). */
function judge(store = memoryStore()): { j: RoomJudge; at: (sec: number) => number; both: (sec: number, a: number, b?: number) => void; step: (sec: number) => void } {
  const room = parseSite(testSiteFile()).room('b1')!;
  const j = new RoomJudge(room, store, T0);
  const at = (sec: number): number => T0 + sec * 1000;
  const step = (sec: number): void => j.step(at(sec), CLEAR_HOLD);
  const both = (sec: number, a: number, b = a): void => {
    j.onLevel('L1', a, at(sec), true, at(sec));
    j.onLevel('L2', b, at(sec), true, at(sec));
    step(sec);
  };
  return { j, at, both, step };
}

describe('combineLevels', () => {
  it('is the highest fresh sensor, and nothing without one', () => {
    expect(combineLevels([120, 480])).toBe(480);
    expect(combineLevels([480, 120])).toBe(480);
    expect(combineLevels([90])).toBe(90);
    expect(combineLevels([])).toBeNull();
  });
});

describe('RoomJudge bands', () => {
  it('critical at once when every fresh sensor is at or above it', () => {
    const { j, both } = judge();
    both(0, 100);
    both(10, 710, 720);
    expect(j.bandIndex).toBe(3);
  });

  it('critical from one sensor only after the hold: a spike on one sensor calls nobody out', () => {
    const { j, both } = judge();
    both(0, 100);
    both(10, 800, 100);
    expect(j.bandIndex).toBe(0);
    both(20, 100); // the spike is gone
    both(50, 100);
    expect(j.bandIndex).toBe(0);
    // Held for 30 s on one sensor: believed.
    both(60, 800, 100);
    both(80, 800, 100);
    expect(j.bandIndex).toBe(0);
    both(90, 800, 100);
    expect(j.bandIndex).toBe(3);
  });

  it('a spike into critical does not ride on an older warning hold', () => {
    const { j, both } = judge();
    both(0, 320); // warning hold starts
    both(25, 720, 320); // one sensor spikes into critical 5 s before the warning hold ends
    both(30, 320);
    expect(j.bandIndex).toBe(1);
  });

  it('a single fresh sensor alone decides, at once for critical', () => {
    const { j, at, step } = judge();
    j.onStatus('L2', false, at(0));
    j.onLevel('L1', 750, at(1), true, at(1));
    step(1);
    expect(j.bandIndex).toBe(3);
  });

  it('leaves a band only at or below threshold - deadband for the clear hold, band by band', () => {
    const { j, both } = judge();
    both(0, 600);
    both(30, 600);
    expect(j.bandIndex).toBe(2);
    both(40, 480); // inside the alarm deadband (475): stays
    both(200, 480);
    expect(j.bandIndex).toBe(2);
    both(210, 400); // below 475: the fall to warning starts
    both(320, 400);
    expect(j.bandIndex).toBe(2);
    both(330, 400);
    expect(j.bandIndex).toBe(1);
  });

  it('a blind room keeps its band: a fall does not complete without a fresh sensor, a rise does', () => {
    const { j, both, step } = judge();
    both(0, 320);
    both(30, 320);
    expect(j.bandIndex).toBe(1);
    both(40, 200); // the fall starts...
    step(200); // ...and both sensors went silent (stale after 30 s): no clearing while blind
    expect(j.judgement(T0 + 200_000, CLEAR_HOLD).level).toBeNull();
    expect(j.bandIndex).toBe(1);
    both(210, 520); // back, at alarm: hold from now
    step(230);
    expect(j.bandIndex).toBe(1);
    step(245); // both silent again at 240, the hold still completes
    expect(j.bandIndex).toBe(2);
  });

  it('says which band change is waiting and when it happens', () => {
    const { j, both, at } = judge();
    both(0, 320);
    expect(j.judgement(at(0), CLEAR_HOLD).level).toMatchObject({ mm: 320, band: 'normal', pending: { band: 'warning', at: new Date(at(30)).toISOString() } });
    both(30, 320);
    expect(j.judgement(at(30), CLEAR_HOLD).level).toMatchObject({ band: 'warning' });
    expect(j.judgement(at(30), CLEAR_HOLD).level!.pending).toBeUndefined();
    both(40, 250);
    expect(j.judgement(at(40), CLEAR_HOLD).level).toMatchObject({ band: 'warning', pending: { band: 'normal', at: new Date(at(160)).toISOString() } });
  });
});

describe('RoomJudge devices', () => {
  it('keeps last heard apart from last changed', () => {
    const { j, at } = judge();
    j.onLevel('L1', 100, at(0), true, at(0));
    j.onLevel('L1', 100, at(10), true, at(10));
    expect(j.device('L1')).toMatchObject({ heardAt: at(10), changedAt: at(0) });
  });

  it('loads the state the engine stored before the judge existed: the old stuck offline flag is cleared by the next reading', () => {
    const store = memoryStore({
      'dev:L1': { seenAt: T0, changedAt: T0, silentFrom: T0, online: false, mm: 800 },
      'room:b1': { band: 2, pending: { target: 3, since: T0 }, samples: {}, pumps: {} },
    });
    const { j, at } = judge(store);
    expect(j.bandIndex).toBe(2);
    expect(j.isStale('L1', at(1))).toBe(true);
    j.onLevel('L1', 800, at(2), true, at(2));
    expect(j.isStale('L1', at(2))).toBe(false);
    // The pending critical from the old state holds from its stored start.
    j.step(at(30), CLEAR_HOLD);
    expect(j.bandIndex).toBe(3);
  });
});
