/**
 * The simulation engine: a virtual clock and an event queue driving the park's device models. No
 * sockets and no timers: `advance(ms)` runs the clock forward and returns the MQTT messages the
 * devices sent, in time order. One seed gives one stream, byte for byte.
 *
 * A run starts believable: the engine warms up silently from the local midnight before `startAt`
 * (cars arrive, the pit fills, people enter the gym), then the first messages are every device's
 * state at `startAt` (status `online`, bays, levels, pumps, venue counts since midnight).
 */
import { Topics } from '@parkops/contract';
import type { Site } from '@parkops/contract/site';
import { EventQueue } from './event-queue.ts';
import { LocalTime, MINUTE_MS } from './local-time.ts';
import { FloodRoomDevices } from './models/flood-devices.ts';
import type { FloodPhysics } from './models/flood-room.ts';
import { ParkingModel } from './models/parking.ts';
import { VenueModel } from './models/venues.ts';
import { WeatherService } from './models/weather-service.ts';
import { Random } from './random.ts';
import { planScenarios, weatherAt, type ScenarioPlan } from './scenarios.ts';
import { BAD_KINDS, type BadKind, type MessageKind, type SimContext, type SimEvent, type SimMessage } from './types.ts';

export interface SimulationOptions {
  site: Site;
  /** Scenario names (`['weekday', 'storm']` or `'weekday+storm'`); none: the calendar decides weekday or weekend. */
  scenarios?: string | readonly string[];
  /** Same seed, same stream. Default 1. */
  seed?: number;
  /** Simulated time of the first message, epoch ms or Date. Default: now. */
  startAt?: number | Date;
  /** Topic prefix. Default `park`. */
  prefix?: string;
  /** Run silently from the local midnight before `startAt` (or before `eventsAt`, if earlier) so the start state fits the time of day and the scenario. Default true. */
  warmUp?: boolean;
  /** First messages: every device's status and current state at `startAt`. Default true. */
  snapshot?: boolean;
  /** When scenario happenings (storm, faults, dropout) begin. Default: `startAt` + 5 minutes. */
  eventsAt?: number | Date;
  /** `ts` as epoch ms (default) or ISO 8601 with the site's offset. */
  timestamps?: 'epoch' | 'iso';
  /** Wall clock, used only to future-date `bad-devices` payloads. Default Date.now. */
  realNow?: () => number;
  /** Share of bay sensors `bad-devices` breaks. Default 0.02 (at least 4 bays, one per kind). */
  badShare?: number;
  physics?: Partial<FloodPhysics>;
}

export interface SimStats {
  simulatedFrom: number;
  simulatedTo: number;
  messages: number;
  byKind: Record<MessageKind, number>;
  bad: Record<BadKind, number>;
  wills: number;
  parking: ReturnType<ParkingModel['stats']>;
  flood: Array<{ room: string; levelMm: number; peakMm: number; pumpedL: number; pumps: Array<{ id: string; running: boolean; amps: number; starts: number; fault: string }> }>;
  venues: Array<{ venue: string } & ReturnType<VenueModel['stats']>>;
}

export class Simulation {
  readonly site: Site;
  readonly seed: number;
  readonly startAt: number;
  readonly plan: ScenarioPlan;
  readonly topics: Topics;
  readonly local: LocalTime;
  readonly parking: ParkingModel;
  readonly rooms: FloodRoomDevices[];
  readonly venues: VenueModel[];
  /** Issues the CAP rainstorm warning ahead of a storm, and lifts it after. */
  readonly weatherService: WeatherService;
  /** Bays broken on purpose, by id. */
  readonly badBays: ReadonlyMap<string, BadKind>;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly ctx: SimContext;
  private out: SimMessage[] = [];
  private clock: number;
  private quiet: boolean;
  private readonly statusCounts: SimStats;

  constructor(opts: SimulationOptions) {
    this.site = opts.site;
    this.seed = opts.seed ?? 1;
    this.startAt = toMs(opts.startAt ?? Date.now());
    if (!Number.isFinite(this.startAt)) throw new Error('startAt is not a valid time');
    const eventsAt = opts.eventsAt === undefined ? this.startAt + 5 * MINUTE_MS : toMs(opts.eventsAt);
    this.plan = planScenarios(opts.scenarios, eventsAt, opts.badShare);
    this.topics = new Topics(opts.prefix);
    this.local = new LocalTime(this.site.timezone);
    const root = new Random(this.seed);
    const realNow = opts.realNow ?? Date.now;
    const local = this.local;
    const iso = opts.timestamps === 'iso';
    const dayType = this.plan.dayType;
    // The models' view of the engine: a plain object whose getters read the engine's clock and mode.
    const clock = (): number => this.clock;
    const quiet = (): boolean => this.quiet;
    this.ctx = {
      topics: this.topics,
      local,
      get now() {
        return clock();
      },
      get silent() {
        return quiet();
      },
      dayType: (ms) => (dayType !== 'calendar' ? dayType : local.weekday(ms) % 6 === 0 ? 'weekend' : 'weekday'),
      realNow,
      // Whole milliseconds: stamps are epoch ms, and equal times must compare equal.
      schedule: (at, event) => this.queue.push(Math.max(Math.round(at), this.clock), event),
      emit: (msg) => {
        this.out.push(msg);
      },
      stamp: iso ? (ms) => `"${local.iso(ms)}"` : (ms) => String(Math.round(ms)),
    };

    // bad-devices: a known share of bays, the kinds dealt round-robin so each kind is present.
    const badBays = new Map<string, BadKind>();
    if (this.plan.badShare > 0) {
      const pickRng = root.fork('bad-devices');
      const count = Math.min(this.site.bays.length, Math.max(BAD_KINDS.length, Math.round(this.site.bays.length * this.plan.badShare)));
      const ids = this.site.bays.map((b) => b.id);
      for (let i = 0; i < count; i++) {
        const j = i + pickRng.int(ids.length - i);
        [ids[i], ids[j]] = [ids[j] as string, ids[i] as string];
        badBays.set(ids[i] as string, BAD_KINDS[i % BAD_KINDS.length] as BadKind);
      }
    }
    this.badBays = badBays;

    this.parking = new ParkingModel(this.site, this.topics, root.fork('parking'), { rushFactor: this.plan.rushFactor, badBays });
    const weather = (t: number) => weatherAt(this.plan.weather, t);
    this.rooms = this.site.rooms.map((room) => new FloodRoomDevices(room, this.topics, root.fork(`room/${room.id}`), weather, opts.physics));
    this.venues = this.site.venues.map((v) => new VenueModel(v, this.topics.venue(v.id), root.fork(`venue/${v.id}`)));
    this.weatherService = new WeatherService(this.site, this.topics, this.local, this.plan.weather);

    // From the local midnight, or from the one before the scenario's happenings when they began earlier
    // (a storm placed an hour before a run that starts just after midnight is already under way).
    const warmFrom = opts.warmUp === false ? this.startAt : this.local.midnightBefore(Math.min(this.startAt, eventsAt));
    this.clock = warmFrom;
    this.quiet = warmFrom < this.startAt;
    this.statusCounts = emptyStats(this.startAt);

    // Days are planned at each local midnight; the first plan covers the day the run starts in.
    let first = true;
    const dayEvent: SimEvent = {
      fire: (ctx) => {
        const midnight = this.local.midnightBefore(ctx.now);
        const weekend = ctx.dayType(midnight + 12 * 3_600_000) === 'weekend';
        this.parking.planDay(ctx, midnight, weekend, first);
        for (const v of this.venues) v.planDay(ctx, midnight, weekend);
        first = false;
        ctx.schedule(this.local.nextMidnight(ctx.now), dayEvent);
      },
    };
    this.queue.push(warmFrom, dayEvent);
    this.parking.start(this.ctx, warmFrom);
    for (const r of this.rooms) r.start(this.ctx, warmFrom);
    for (const v of this.venues) v.start(this.ctx, warmFrom + v.venue.intervalSec * 1000);
    this.weatherService.start(this.ctx, warmFrom);

    const fault = this.plan.dutyFault;
    if (fault !== null) {
      this.queue.push(Math.max(fault.from, warmFrom), { fire: () => this.rooms.forEach((r) => r.setDutyFault(fault.kind)) });
    }
    const dropout = this.plan.dropout;
    const room = this.rooms[0];
    if (dropout !== null && room !== undefined) room.scheduleDropout(this.ctx, room.sensors.length - 1, Math.max(dropout.from, warmFrom), dropout.forMs);

    // Warm up silently, then (optionally) announce every device at startAt.
    this.runUntil(this.startAt);
    this.out = [];
    this.quiet = false;
    this.clock = this.startAt;
    if (opts.snapshot !== false) this.snapshot();
  }

  /** Simulated clock, epoch ms. */
  get now(): number {
    return this.clock;
  }

  /** Time of the next scheduled happening (it may send nothing). */
  get nextAt(): number {
    return this.queue.peekTime();
  }

  /** Every device that publishes, by the id it publishes under, with its status topic. */
  devices(): Array<{ id: string; statusTopic: string }> {
    const ids = [
      ...this.parking.bays.map((b) => b.publishId),
      ...this.site.gates.map((g) => g.id),
      ...this.rooms.flatMap((r) => [...r.sensors.map((s) => s.sensor.id), ...r.room.pumps.map((p) => p.id)]),
      ...this.venues.map((v) => v.venue.counterId),
    ];
    return ids.map((id) => ({ id, statusTopic: this.topics.deviceStatus(id) }));
  }

  /** Every device's status (`online`, retained) and current state, stamped now. */
  private snapshot(): void {
    const ctx = this.ctx;
    const badStatus = new Map(this.parking.bays.filter((b) => b.bad === 'unknown_id').map((b) => [b.publishId, 'unknown_id' as const]));
    for (const d of this.devices()) {
      const msg: SimMessage = { topic: d.statusTopic, payload: 'online', qos: 1, retain: true, at: this.clock, kind: 'status', device: d.id };
      const bad = badStatus.get(d.id);
      ctx.emit(bad === undefined ? msg : { ...msg, bad });
    }
    for (const b of this.parking.bays) this.parking.sendBay(ctx, b, this.clock);
    for (const r of this.rooms) r.snapshot(ctx);
    // After the current state, so ParkOps takes the log as back-fill (stored, not the pumps' state now).
    if (this.plan.pumpLog !== null) for (const r of this.rooms) r.sendRunLog(ctx, this.plan.pumpLog);
    for (const v of this.venues) v.report(ctx, this.clock);
    // A warning already out goes with the first messages, after the devices' state and the pumps' run
    // log: storm mode then starts with the checklist checked against them, as after any real start-up.
    this.weatherService.snapshot(ctx);
  }

  private runUntil(t: number): void {
    const q = this.queue;
    const ctx = this.ctx;
    while (q.peekTime() <= t) {
      const item = q.pop();
      if (item === undefined) break;
      this.clock = item.at;
      item.event.fire(ctx);
    }
    this.clock = Math.max(this.clock, t);
  }

  private take(): SimMessage[] {
    const out = this.out;
    this.out = [];
    this.count(out);
    return out;
  }

  private count(msgs: SimMessage[]): void {
    const s = this.statusCounts;
    for (const m of msgs) {
      s.messages++;
      s.byKind[m.kind]++;
      if (m.bad !== undefined) s.bad[m.bad]++;
      if (m.will === true) s.wills++;
    }
  }

  /** Runs the clock to `t` (epoch ms) and returns the messages sent on the way, in time order. */
  advanceTo(t: number): SimMessage[] {
    if (t > this.clock) this.runUntil(t);
    return this.take();
  }

  /** Runs the clock `ms` forward. */
  advance(ms: number): SimMessage[] {
    return this.advanceTo(this.clock + ms);
  }

  /** Runs to the next instant at which a device sends something; returns those messages ([] when nothing is left). */
  step(): SimMessage[] {
    if (this.out.length > 0) return this.take();
    const q = this.queue;
    while (q.size > 0) {
      const t = q.peekTime();
      this.runUntil(t);
      if (this.out.length > 0) return this.take();
    }
    return [];
  }

  stats(): SimStats {
    return {
      ...this.statusCounts,
      byKind: { ...this.statusCounts.byKind },
      bad: { ...this.statusCounts.bad },
      simulatedTo: this.clock,
      parking: this.parking.stats(),
      flood: this.rooms.map((r) => ({
        room: r.room.id,
        levelMm: Math.round(r.model.levelMm * 10) / 10,
        peakMm: Math.round(r.peakMm * 10) / 10,
        pumpedL: Math.round(r.pumpedL),
        pumps: r.model.pumps.map((p) => ({ id: p.spec.id, running: p.running, amps: p.amps, starts: p.starts, fault: p.fault })),
      })),
      venues: this.venues.map((v) => ({ venue: v.venue.id, ...v.stats() })),
    };
  }
}

function emptyStats(from: number): SimStats {
  return {
    simulatedFrom: from,
    simulatedTo: from,
    messages: 0,
    byKind: { bay: 0, gate: 0, level: 0, pump: 0, venue: 0, status: 0, warning: 0 },
    bad: { malformed: 0, out_of_range: 0, future: 0, unknown_id: 0 },
    wills: 0,
    parking: { bays: 0, occupied: 0, carsEntered: 0, carsParked: 0, carsExited: 0, turnedBack: 0, overnight: 0, inside: 0 },
    flood: [],
    venues: [],
  };
}

function toMs(t: number | Date): number {
  return t instanceof Date ? t.getTime() : t;
}

export function createSimulation(opts: SimulationOptions): Simulation {
  return new Simulation(opts);
}
