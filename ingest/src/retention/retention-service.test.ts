import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { Metrics } from '../metrics.ts';
import { daysBefore, RetentionService, type RetentionTask } from './retention-service.ts';

const log = createLogger('silent');
const NOW = Date.parse('2026-12-01T00:00:00Z');

/** A task over `rows` row times that records every call. */
function rowsTask(what: string, rows: number[], calls: Array<{ what: string; limit: number }>, onCall?: () => void): RetentionTask & { left: () => number } {
  let left = [...rows];
  return {
    what,
    cutoff: daysBefore(10),
    async prune(cutoff, limit) {
      calls.push({ what, limit });
      onCall?.();
      const old = left.filter((t) => t < cutoff).slice(0, limit);
      left = left.filter((t) => !old.includes(t));
      return old.length;
    },
    left: () => left.length,
  };
}

describe('RetentionService', () => {
  it('prunes each task in slices of at most sliceRows until it answers 0, and counts what went', async () => {
    const calls: Array<{ what: string; limit: number }> = [];
    const old = Array.from({ length: 25 }, (_, i) => NOW - 20 * 86_400_000 + i);
    const recent = [NOW - 1000, NOW - 2000];
    const a = rowsTask('a', [...old, ...recent], calls);
    const b = rowsTask('b', recent, calls);
    const metrics = new Metrics();
    const svc = new RetentionService({ tasks: [a, b], log, metrics, sliceRows: 10, pauseMs: 0, now: () => NOW });
    expect(await svc.runOnce()).toEqual({ a: 25, b: 0 });
    expect(calls.filter((c) => c.what === 'a')).toHaveLength(4); // 10, 10, 5, then 0
    expect(calls.every((c) => c.limit === 10)).toBe(true);
    expect(a.left()).toBe(2);
    expect(await metrics.render()).toContain('parkops_retention_pruned_total{what="a"} 25');
  });

  it('lets other work run between slices', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const seen: number[] = [];
    const calls: Array<{ what: string; limit: number }> = [];
    const task = rowsTask('a', Array.from({ length: 50 }, (_, i) => i), calls, () => seen.push(ticks));
    try {
      await new RetentionService({ tasks: [task], log, sliceRows: 5, pauseMs: 1, now: () => NOW }).runOnce();
    } finally {
      clearInterval(timer);
    }
    // Every slice after the first saw the other timer fire since the one before.
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
  });

  it('keeps pruning the other owners when one fails, and keeps everything of a task set to 0 days', async () => {
    const calls: Array<{ what: string; limit: number }> = [];
    const failing: RetentionTask = { what: 'broken', cutoff: daysBefore(10), prune: async () => Promise.reject(new Error('disk says no')) };
    const kept: RetentionTask = { what: 'kept', cutoff: daysBefore(0), prune: async () => Promise.reject(new Error('must not be called')) };
    const ok = rowsTask('ok', [0, 1, 2], calls);
    const r = await new RetentionService({ tasks: [failing, kept, ok], log, pauseMs: 0, now: () => NOW }).runOnce();
    expect(r).toEqual({ broken: 0, ok: 3 });
  });

  it('stop() ends a run after the slice in progress', async () => {
    const calls: Array<{ what: string; limit: number }> = [];
    const stopAt3 = { stop: (): Promise<void> => Promise.resolve() };
    const task = rowsTask('a', Array.from({ length: 100 }, (_, i) => i), calls, () => {
      if (calls.length === 3) void stopAt3.stop();
    });
    const svc = new RetentionService({ tasks: [task], log, sliceRows: 10, pauseMs: 0, now: () => NOW });
    stopAt3.stop = () => svc.stop();
    const r = await svc.runOnce();
    expect(calls).toHaveLength(3);
    expect(r.a).toBe(30);
  });
});
