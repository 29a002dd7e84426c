/**
 * Rate of rise of the room's level, robust to spikes: the Theil–Sen estimator (the median of the slopes
 * between every pair of points) over the medians of short time buckets.
 *
 * Least squares, the estimator before this one, follows a spike: a 12-second spike of 150 mm on both
 * sensors read as a rise of 144 mm/min and held a critical rise alert open while the water was flat.
 * Theil–Sen ignores up to 29 % of outlying points; a 12 s spike in a 5-minute window is two of about
 * forty buckets. The bucket medians bound the cost (at most BUCKETS points, 780 pairs, however often the
 * sensors report), and where a sensor reports several times a bucket they drop a one-reading glitch first.
 */

/** Points the slope is taken over, at most: the window is split into this many buckets. */
const BUCKETS = 40;

function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  const n = xs.length;
  return n % 2 === 1 ? xs[(n - 1) / 2]! : (xs[n / 2 - 1]! + xs[n / 2]!) / 2;
}

/**
 * Slope in mm/min of `samples` ([t ms, mm], oldest first) over (from, now]. Null when the samples cover
 * less than half of the window or are fewer than three: not enough to say.
 */
export function robustSlope(samples: readonly (readonly [number, number])[], from: number, now: number): number | null {
  const span = now - from;
  if (span <= 0) return null;
  let first = -1;
  let last = -1;
  for (let i = 0; i < samples.length; i++) {
    const t = samples[i]![0];
    if (t <= from || t > now) continue;
    if (first < 0) first = i;
    last = i;
  }
  if (first < 0 || last - first + 1 < 3) return null;
  if (samples[last]![0] - samples[first]![0] < span / 2) return null;
  const width = span / BUCKETS;
  const points: [number, number][] = [];
  let bucket = -1;
  let ts: number[] = [];
  let vs: number[] = [];
  const flush = (): void => {
    if (ts.length > 0) points.push([median(ts), median(vs)]);
    ts = [];
    vs = [];
  };
  for (let i = first; i <= last; i++) {
    const [t, mm] = samples[i]!;
    const b = Math.min(BUCKETS - 1, Math.floor((t - from) / width));
    if (b !== bucket) {
      flush();
      bucket = b;
    }
    ts.push(t);
    vs.push(mm);
  }
  flush();
  if (points.length < 3) return null;
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dt = points[j]![0] - points[i]![0];
      if (dt > 0) slopes.push(((points[j]![1] - points[i]![1]) * 60_000) / dt);
    }
  }
  return slopes.length === 0 ? null : median(slopes);
}
