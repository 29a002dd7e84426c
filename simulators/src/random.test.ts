import { describe, expect, it } from 'vitest';
import { Random } from './random.ts';

describe('Random', () => {
  it('repeats for a seed, differs across seeds and across forks', () => {
    const a = new Random(42);
    const b = new Random(42);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(new Random(43).next()).not.toBe(xs[0]);
    const root = new Random(42);
    expect(root.fork('parking').next()).not.toBe(root.fork('venues').next());
    expect(new Random(42).fork('parking').next()).toBe(new Random(42).fork('parking').next());
  });

  it('draws uniform numbers in [0, 1) and sensible distributions', () => {
    const r = new Random(7);
    const n = 20_000;
    let sum = 0;
    let sq = 0;
    let pois = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      const z = r.normal(10, 2);
      sum += z;
      sq += z * z;
      pois += r.poisson(3.5);
    }
    const mean = sum / n;
    expect(mean).toBeCloseTo(10, 1);
    expect(Math.sqrt(sq / n - mean * mean)).toBeCloseTo(2, 1);
    expect(pois / n).toBeCloseTo(3.5, 1);
    expect(r.poisson(0)).toBe(0);
    for (let i = 0; i < 1000; i++) {
      const x = r.normalBetween(8.5, 0.5, 7.5, 9.5);
      expect(x).toBeGreaterThanOrEqual(7.5);
      expect(x).toBeLessThanOrEqual(9.5);
    }
  });
});
