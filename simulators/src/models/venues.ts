/**
 * Venue doors: people arrive by a daily profile, stay a while and leave; the door counter reports
 * the people it saw go in and out since its previous message. Counters miss the odd person and
 * double-count another (they drift), but they never report more people leaving than they have seen
 * inside, and a nightly reset at 03:00 clears what drift is left once the venue is empty.
 */
import type { Venue } from '@parkops/contract/site';
import { EventQueue } from '../event-queue.ts';
import { HOUR_MS, MINUTE_MS } from '../local-time.ts';
import type { Random } from '../random.ts';
import type { SimContext, SimEvent } from '../types.ts';

/** Bell curve bump centred at `at` hours with spread `sd` hours, peak `peak` arrivals per hour. */
function bump(hour: number, at: number, sd: number, peak: number): number {
  const z = (hour - at) / sd;
  return peak * Math.exp(-0.5 * z * z);
}

export interface VenueProfile {
  name: 'gym' | 'fitness-plaza' | 'culture-plaza';
  /** Walk-in arrivals per hour at a local hour, for a venue with `capacity` people. */
  arrivalsPerHour(hour: number, weekend: boolean, capacity: number): number;
  /** Stay, minutes: median and log-normal spread, clipped to [min, max]. */
  stay: { median: number; sigma: number; min: number; max: number };
  /** Weekday group visits (culture plaza): mean groups a day, and their size. */
  groups?: { perWeekday: number; minSize: number; maxSize: number; fromHour: number; toHour: number };
}

const open = (hour: number, from: number, to: number): number => (hour >= from && hour < to ? 1 : 0);

export const VENUE_PROFILES: Record<VenueProfile['name'], VenueProfile> = {
  // Indoor gym: a small morning crowd, the lunch peak and the bigger after-work peak; open 06:00-22:00.
  gym: {
    name: 'gym',
    arrivalsPerHour: (h, weekend, cap) =>
      (open(h, 6, 21.5) * cap) / 60 *
      (weekend ? 5 + bump(h, 10.5, 1.2, 14) + bump(h, 16.5, 1.5, 12) : 3 + bump(h, 7.2, 0.5, 8) + bump(h, 12.3, 0.45, 34) + bump(h, 18.6, 0.8, 40)),
    stay: { median: 50, sigma: 0.3, min: 20, max: 120 },
  },
  // Outdoor fitness plaza: evenings after dinner, a few early risers; weekend mornings too.
  'fitness-plaza': {
    name: 'fitness-plaza',
    arrivalsPerHour: (h, weekend, cap) =>
      (open(h, 5.5, 22.5) * cap) / 40 * (1 + bump(h, 6.5, 0.6, 5) + bump(h, 19.6, 1.0, weekend ? 30 : 26) + (weekend ? bump(h, 9.5, 1.2, 12) : 0)),
    stay: { median: 40, sigma: 0.35, min: 10, max: 100 },
  },
  // Culture plaza: walk-ins by day (many more at weekends) and, on weekdays, organised group visits
  // of 30-80 people from the park's 170+ organisations arriving together.
  'culture-plaza': {
    name: 'culture-plaza',
    arrivalsPerHour: (h, weekend, cap) => (open(h, 8, 21) * cap) / 3000 * (weekend ? 40 + bump(h, 15, 2.2, 220) : 25 + bump(h, 12.5, 2, 45) + bump(h, 19.5, 1, 40)),
    stay: { median: 35, sigma: 0.5, min: 10, max: 150 },
    groups: { perWeekday: 2.5, minSize: 30, maxSize: 80, fromHour: 9.5, toHour: 16 },
  },
};

/** Picks a profile from the venue's id or name; outdoor venues without a match behave like the plaza. */
export function profileFor(venue: Venue): VenueProfile {
  const text = `${venue.id} ${venue.name}`.toLowerCase();
  if (text.includes('gym')) return VENUE_PROFILES.gym;
  if (text.includes('culture') || text.includes('exhibit')) return VENUE_PROFILES['culture-plaza'];
  if (text.includes('fitness') || venue.kind === 'outdoor') return VENUE_PROFILES['fitness-plaza'];
  return VENUE_PROFILES.gym;
}

export interface VenueCounterStats {
  /** People inside now (the truth, not the counter's view). */
  present: number;
  /** What the counter's messages add up to: sum of in minus sum of out. */
  reportedOccupancy: number;
  groups: number;
  turnedAway: number;
}

export class VenueModel implements SimEvent {
  readonly venue: Venue;
  readonly profile: VenueProfile;
  readonly topic: string;
  /** People on their way in: arrival time -> leave time. */
  private readonly arriving = new EventQueue<number>();
  /** People inside: leave time. */
  private readonly inside = new EventQueue<null>();
  private readonly rng: Random;
  /** Counts not yet sent (kept over a silent warm-up, so the first message carries them). */
  private pendingIn = 0;
  private pendingOut = 0;
  /** Sum of in minus sum of out over every message sent. */
  reportedOccupancy = 0;
  groups = 0;
  turnedAway = 0;
  private lastReset = 0;
  private readonly intervalMs: number;
  /** Share of passers the counter misses, and counts twice (real beam counters: about 1-2 %). */
  static readonly MISS = 0.012;
  static readonly DOUBLE = 0.004;
  /** Culture-plaza style groups scheduled for a day. */
  private readonly groupEvent: SimEvent;
  private pendingGroups: Array<{ at: number; size: number }> = [];

  constructor(venue: Venue, topic: string, rng: Random) {
    this.venue = venue;
    this.profile = profileFor(venue);
    this.topic = topic;
    this.rng = rng;
    this.intervalMs = venue.intervalSec * 1000;
    this.groupEvent = { fire: (ctx) => this.groupArrives(ctx) };
  }

  get present(): number {
    return this.inside.size;
  }

  /** Called at each local midnight: plans the day's group visits. */
  planDay(ctx: SimContext, midnight: number, weekend: boolean): void {
    const g = this.profile.groups;
    if (g === undefined || weekend) return;
    const n = this.rng.poisson(g.perWeekday);
    for (let i = 0; i < n; i++) {
      const at = ctx.local.at(midnight, this.rng.range(g.fromHour, g.toHour));
      const size = this.rng.intBetween(g.minSize, g.maxSize);
      this.pendingGroups.push({ at, size });
      ctx.schedule(at, this.groupEvent);
    }
  }

  /** Starts the counter's reporting cycle. */
  start(ctx: SimContext, firstAt: number): void {
    this.planArrivals(ctx, firstAt - this.intervalMs, firstAt);
    ctx.schedule(firstAt, this);
  }


  private stay(): number {
    const s = this.profile.stay;
    return Math.min(s.max, Math.max(s.min, this.rng.logNormal(s.median, s.sigma))) * MINUTE_MS;
  }

  /** Walk-ins for (from, to]. */
  private planArrivals(ctx: SimContext, from: number, to: number): void {
    const mid = (from + to) / 2;
    const weekend = isWeekend(ctx, mid);
    const rate = this.profile.arrivalsPerHour(ctx.local.hourOfDay(mid), weekend, this.venue.capacity);
    const n = this.rng.poisson((rate * (to - from)) / HOUR_MS);
    for (let i = 0; i < n; i++) {
      const at = from + this.rng.next() * (to - from);
      this.arriving.push(at, at + this.stay());
    }
  }

  private groupArrives(ctx: SimContext): void {
    const idx = this.pendingGroups.findIndex((g) => g.at <= ctx.now);
    if (idx < 0) return;
    const [group] = this.pendingGroups.splice(idx, 1);
    if (group === undefined) return;
    this.groups++;
    // The group comes off its bus through the doors within 90 s and leaves together after the visit.
    const leaveAt = ctx.now + this.rng.range(45, 120) * MINUTE_MS;
    for (let i = 0; i < group.size; i++) {
      const at = ctx.now + this.rng.range(0, 1.5) * MINUTE_MS;
      this.arriving.push(at, leaveAt + this.rng.range(0, 8) * MINUTE_MS);
    }
  }

  /** Counter tick: tallies who came and went since the last tick, and reports. */
  fire(ctx: SimContext): void {
    const t = ctx.now;
    let trueIn = 0;
    let trueOut = 0;
    while (this.arriving.peekTime() <= t) {
      const a = this.arriving.pop();
      if (a === undefined) break;
      if (this.inside.size >= this.venue.capacity) {
        this.turnedAway++;
        continue;
      }
      this.inside.push(a.event, null);
      trueIn++;
    }
    while (this.inside.peekTime() <= t) {
      this.inside.pop();
      trueOut++;
    }
    this.pendingIn += this.miscount(trueIn);
    this.pendingOut += this.miscount(trueOut);
    // Nightly reset at 03:00: the venue is empty, whatever drift the counter built up is cleared.
    const hour = ctx.local.hourOfDay(t);
    if (hour >= 3 && hour < 4 && t - this.lastReset > 12 * HOUR_MS && this.inside.size === 0) {
      this.lastReset = t;
      const drift = this.reportedOccupancy + this.pendingIn - this.pendingOut;
      if (drift > 0) this.pendingOut += drift;
      else if (drift < 0) this.pendingIn -= drift;
    }
    this.report(ctx, t);
    this.planArrivals(ctx, t, t + this.intervalMs);
    ctx.schedule(t + this.intervalMs, this);
  }

  private miscount(n: number): number {
    let seen = n;
    for (let i = 0; i < n; i++) {
      const r = this.rng.next();
      if (r < VenueModel.MISS) seen--;
      else if (r < VenueModel.MISS + VenueModel.DOUBLE) seen++;
    }
    return seen;
  }

  /** Sends what the counter has; keeps it for later while the engine is silent (warm-up). */
  report(ctx: SimContext, t: number): void {
    if (ctx.silent) return;
    // The counter never lets its own occupancy go below zero: it cannot have seen more leave than enter.
    const out = Math.min(this.pendingOut, this.reportedOccupancy + this.pendingIn);
    const inn = this.pendingIn;
    this.reportedOccupancy += inn - out;
    this.pendingIn = 0;
    this.pendingOut = 0;
    ctx.emit({
      topic: this.topic,
      payload: `{"in":${inn},"out":${out},"ts":${ctx.stamp(t)}}`,
      qos: 1,
      retain: false,
      at: t,
      kind: 'venue',
      device: this.venue.counterId,
    });
  }

  stats(): VenueCounterStats {
    return { present: this.inside.size, reportedOccupancy: this.reportedOccupancy, groups: this.groups, turnedAway: this.turnedAway };
  }
}

function isWeekend(ctx: SimContext, ms: number): boolean {
  return ctx.dayType(ms) === 'weekend';
}
