import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadSite } from '@parkops/contract/site';
import { HOUR_MS, MINUTE_MS } from './local-time.ts';
import { SimulationRunner, type Pace } from './runner.ts';
import { createSimulation } from './simulation.ts';
import type { SimMessage } from './types.ts';

const site = loadSite();
const NOW = Date.parse('2026-07-20T14:00:00+08:00');

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
});
afterEach(() => {
  vi.useRealTimers();
});

function start(fromAgoMs: number, pace: Pace, until = Infinity) {
  const sim = createSimulation({ site, seed: 2, startAt: Date.now() - fromAgoMs });
  const sent: Array<{ at: number; wall: number; msg: SimMessage }> = [];
  const runner = new SimulationRunner({ sim, pace, until, sink: (msg) => void sent.push({ at: msg.at, wall: Date.now(), msg }) });
  const done = runner.run();
  return { sim, sent, runner, done };
}

describe('SimulationRunner', () => {
  it('back-fills to now at once, then runs live, never stamping ahead of the wall clock', async () => {
    const { sim, sent, runner, done } = start(HOUR_MS, 'max');
    await vi.advanceTimersByTimeAsync(50);
    expect(sim.now).toBeGreaterThanOrEqual(NOW);
    const backfilled = sent.length;
    expect(backfilled).toBeGreaterThan(1000);
    await vi.advanceTimersByTimeAsync(10 * MINUTE_MS);
    expect(sim.now).toBeGreaterThanOrEqual(NOW + 10 * MINUTE_MS - 200);
    expect(sim.now).toBeLessThanOrEqual(Date.now());
    expect(sent.length).toBeGreaterThan(backfilled);
    expect(sent.filter((s) => s.at > s.wall)).toEqual([]);
    runner.stop();
    const summary = await done;
    expect(summary.stoppedEarly).toBe(true);
    expect(summary.sent).toBe(sent.length);
  });

  it('accelerated: runs the simulated clock N times faster, and slows to real time when it catches up', async () => {
    const { sim, runner, sent, done } = start(HOUR_MS, 60);
    await vi.advanceTimersByTimeAsync(30_000);
    // 30 real seconds at ×60 = 30 simulated minutes, within a tick.
    expect(Math.abs(sim.now - (NOW - HOUR_MS + 30 * MINUTE_MS))).toBeLessThanOrEqual(60 * 200);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sim.now).toBeLessThanOrEqual(Date.now());
    expect(sim.now).toBeGreaterThan(Date.now() - 1000);
    expect(sent.filter((s) => s.at > s.wall)).toEqual([]);
    runner.stop();
    await done;
  });

  it('sends the start snapshot before anything else and stops at the end of the range', async () => {
    const { sim, sent, done } = start(2 * HOUR_MS, 'max', NOW - HOUR_MS);
    await vi.advanceTimersByTimeAsync(100);
    const summary = await done;
    expect(summary.stoppedEarly).toBe(false);
    expect(sim.now).toBe(NOW - HOUR_MS);
    expect(sent.slice(0, sim.devices().length).every((s) => s.msg.kind === 'status')).toBe(true);
    expect(sent.at(-1)?.at).toBeLessThanOrEqual(NOW - HOUR_MS);
  });

  it('waits for the sink (back-pressure) before sending more', async () => {
    const sim = createSimulation({ site, seed: 2, startAt: NOW - HOUR_MS });
    let pending = 0;
    let maxPending = 0;
    const runner = new SimulationRunner({
      sim,
      pace: 'max',
      until: NOW - HOUR_MS + 10 * MINUTE_MS,
      sink: () => {
        pending++;
        maxPending = Math.max(maxPending, pending);
        return new Promise<void>((resolve) => setTimeout(() => {
          pending--;
          resolve();
        }, 1));
      },
    });
    const done = runner.run();
    await vi.advanceTimersByTimeAsync(60_000);
    await done;
    expect(maxPending).toBe(1);
    expect(runner.sent).toBeGreaterThan(600);
  });
});
