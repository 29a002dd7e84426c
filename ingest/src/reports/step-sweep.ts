/**
 * Turns readings of step-valued devices into 15-minute bucket figures. A device ("track") holds the value
 * of its newest reading until the next reading, but for at most `gapMs`: after that its value is
 * unknown, and unknown time counts neither as occupied nor as free (empty buckets are honest
 * gaps, not zeros: a dead sensor must not read as an empty car park). Tracks are summed into groups (a zone, the whole lot); per group and bucket the
 * sweep keeps:
 *
 * - `known`  track-ms with a known value (bay-ms for parking)
 * - `sum`    value × ms (occupied bay-ms, people-ms, running-ms, mm-ms)
 * - `peak`   highest instantaneous value (share mode: occupied ÷ known tracks) and `peakAt`
 * - `n`      point counts: free→occupied arrivals, pump starts, or the venue's `in` sum
 * - `a1..a3` ms at or above three bands (flood level sensors)
 *
 * With `combine`, a group's value is not the sum of its known tracks but `combine` of their values: a
 * flood room's level is its sensors combined by the room judge's rule (flood/room-judge.ts), and its
 * known time is the time any of its sensors is known.
 *
 * Readings must be fed in time order (the SQL that feeds it sorts); state carries across `feed` calls so
 * a long range can be swept in chunks.
 */
import { QUARTER_MS, quarter } from './local-time.ts';

export const F_KNOWN = 0;
export const F_SUM = 1;
export const F_PEAK = 2;
export const F_PEAK_AT = 3;
export const F_N = 4;
export const F_A1 = 5;
export const F_A2 = 6;
export const F_A3 = 7;
export const FIELDS = 8;

export type CountMode = 'none' | 'rises' | 'x';

export interface SweepSpec {
  /** groups of each track (indexes into the group list) */
  trackGroups: number[][];
  groups: number;
  gapMs: number;
  /** peak as occupied share of known tracks (parking) rather than the summed value */
  share: boolean;
  /** what `n` counts: 0→1 rises of the value (arrivals, starts), the reading's extra `x` (venue `in`), or nothing */
  count: CountMode;
  /** band thresholds for a1..a3 (single-track level sensors) */
  bands?: [number, number, number] | undefined;
  /** keep the value at the end of each bucket in a1 (venues: people present, carried into the next recompute) */
  keepLast?: boolean | undefined;
  /** a group's value from its known tracks' values (a flood room's level from its sensors), instead of their sum */
  combine?: ((values: number[]) => number | null) | undefined;
}

export class StepSweep {
  private readonly value: Float64Array;
  private readonly lastTs: Float64Array;
  private readonly known: Uint8Array;
  private readonly hasPrev: Uint8Array;
  private readonly sumO: Float64Array;
  private readonly sumK: Float64Array;
  // Expiry queue: readings come in time order and the gap is constant, so expiries come in order too.
  private qTime: number[] = [];
  private qTrack: number[] = [];
  private qTs: number[] = [];
  private qHead = 0;
  private cur = -Infinity;
  private from = Infinity;
  readonly buckets = new Map<number, Float64Array>();

  constructor(private readonly spec: SweepSpec) {
    const n = spec.trackGroups.length;
    this.value = new Float64Array(n);
    this.lastTs = new Float64Array(n).fill(-Infinity);
    this.known = new Uint8Array(n);
    this.hasPrev = new Uint8Array(n);
    this.sumO = new Float64Array(spec.groups);
    this.sumK = new Float64Array(spec.groups);
  }

  /** The newest reading of a track before the swept range (call for each, oldest first, before `begin`). */
  initial(track: number, ts: number, v: number): void {
    this.apply(track, ts, v);
  }

  /** The track's newest value (0 before any reading). */
  valueOf(track: number): number {
    return this.value[track]!;
  }

  /** Starts accumulating at `from` (a bucket boundary). */
  begin(from: number): void {
    this.from = from;
    this.cur = -Infinity;
    this.advance(from);
    this.cur = from;
  }

  /** One reading, in time order. `x` is the extra counted in `n` when `count` is 'x'. */
  reading(track: number, ts: number, v: number, x = 0): void {
    this.advance(ts);
    const spec = this.spec;
    if (ts >= this.from) {
      const rise = spec.count === 'rises' && this.hasPrev[track] === 1 && this.value[track] === 0 && v === 1;
      const add = spec.count === 'x' ? x : rise ? 1 : 0;
      if (add !== 0) {
        const row = this.row(quarter(ts));
        for (const g of spec.trackGroups[track]!) row[g * FIELDS + F_N]! += add;
      }
    }
    this.apply(track, ts, v);
  }

  /** Accumulates up to `to` (exclusive); buckets before `to` are then final. */
  advanceTo(to: number): void {
    this.advance(to);
  }

  /** Removes and returns the finished buckets that start before `t`, oldest first. */
  drainBefore(t: number): [number, Float64Array][] {
    const out: [number, Float64Array][] = [];
    for (const [b, row] of this.buckets) if (b < t) out.push([b, row]);
    for (const [b] of out) this.buckets.delete(b);
    this.lastRow = undefined;
    this.lastBucket = NaN;
    return out.sort((x, y) => x[0] - y[0]);
  }

  private apply(track: number, ts: number, v: number): void {
    const groups = this.spec.trackGroups[track]!;
    if (this.value.length === 1) {
      // One track (a venue, pump or level sensor): assign, so fractional values never drift.
      for (const g of groups) {
        this.sumO[g] = v;
        this.sumK[g] = 1;
      }
    } else if (this.known[track] === 1) {
      const d = v - this.value[track]!;
      for (const g of groups) this.sumO[g]! += d;
    } else {
      for (const g of groups) {
        this.sumO[g]! += v;
        this.sumK[g]! += 1;
      }
    }
    this.value[track] = v;
    this.known[track] = 1;
    this.hasPrev[track] = 1;
    this.lastTs[track] = ts;
    this.qTime.push(ts + this.spec.gapMs);
    this.qTrack.push(track);
    this.qTs.push(ts);
  }

  /** Moves the clock to `t`, applying expiries on the way. */
  private advance(t: number): void {
    while (this.qHead < this.qTime.length && this.qTime[this.qHead]! <= t) {
      const at = this.qTime[this.qHead]!;
      const track = this.qTrack[this.qHead]!;
      const ts = this.qTs[this.qHead]!;
      this.qHead++;
      if (this.lastTs[track] !== ts || this.known[track] === 0) continue;
      this.accumulate(at);
      this.known[track] = 0;
      for (const g of this.spec.trackGroups[track]!) {
        this.sumO[g]! -= this.value[track]!;
        this.sumK[g]! -= 1;
        if (this.sumK[g]! <= 0) this.sumO[g] = 0;
      }
    }
    if (this.qHead > 4096 && this.qHead * 2 > this.qTime.length) {
      this.qTime = this.qTime.slice(this.qHead);
      this.qTrack = this.qTrack.slice(this.qHead);
      this.qTs = this.qTs.slice(this.qHead);
      this.qHead = 0;
    }
    this.accumulate(t);
  }

  private lastBucket = NaN;
  private lastRow: Float64Array | undefined;

  private row(bucket: number): Float64Array {
    if (bucket === this.lastBucket && this.lastRow) return this.lastRow;
    let row = this.buckets.get(bucket);
    if (!row) {
      row = new Float64Array(this.spec.groups * FIELDS);
      for (let i = 0; i < this.spec.groups; i++) row[i * FIELDS + F_PEAK] = -Infinity;
      this.buckets.set(bucket, row);
    }
    this.lastBucket = bucket;
    this.lastRow = row;
    return row;
  }

  /** Adds the constant stretch [cur, t) to its buckets. */
  private accumulate(t: number): void {
    const s0 = Math.max(this.cur, this.from);
    if (t <= s0) {
      if (t > this.cur) this.cur = t;
      return;
    }
    const spec = this.spec;
    let any = false;
    for (let g = 0; g < spec.groups; g++) if (this.sumK[g]! > 0) any = true;
    if (any) {
      const combined = spec.combine ? this.combined() : null;
      for (let b = quarter(s0); b < t; b += QUARTER_MS) {
        const s = Math.max(s0, b);
        const dur = Math.min(t, b + QUARTER_MS) - s;
        if (dur <= 0) continue;
        const row = this.row(b);
        for (let g = 0; g < spec.groups; g++) {
          let k = this.sumK[g]!;
          if (k <= 0) continue;
          let o = this.sumO[g]!;
          if (combined) {
            const v = combined[g];
            if (v === null || v === undefined) continue;
            o = v;
            k = 1;
          }
          const c = g * FIELDS;
          row[c + F_KNOWN]! += k * dur;
          row[c + F_SUM]! += o * dur;
          const v = spec.share ? o / k : o;
          if (v > row[c + F_PEAK]!) {
            row[c + F_PEAK] = v;
            row[c + F_PEAK_AT] = s;
          }
          if (spec.keepLast) row[c + F_A1] = o;
          if (spec.bands) {
            if (o >= spec.bands[0]) row[c + F_A1]! += dur;
            if (o >= spec.bands[1]) row[c + F_A2]! += dur;
            if (o >= spec.bands[2]) row[c + F_A3]! += dur;
          }
        }
      }
    }
    this.cur = t;
  }

  /** Per group: `combine` of the values of its known tracks. */
  private combined(): (number | null)[] {
    const values: number[][] = Array.from({ length: this.spec.groups }, () => []);
    for (let i = 0; i < this.known.length; i++) {
      if (this.known[i] !== 1) continue;
      for (const g of this.spec.trackGroups[i]!) values[g]!.push(this.value[i]!);
    }
    return values.map((v) => (v.length > 0 ? this.spec.combine!(v) : null));
  }
}
