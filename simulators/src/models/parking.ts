/**
 * The car park: cars, not bays, are the unit. Each day is planned at local midnight as a list of
 * cars (commuters, midday visitors, evening visitors), each with an arrival and a departure time.
 * A car scans its QR pass at an entry gate, drives to a free bay in the zone nearest an entrance
 * (lowest `entranceRank`, lowest bay index first), parks, later leaves the bay and shows the same
 * pass at an exit gate. Gate scans and bay changes therefore tell one story, with the real-world
 * misses: drivers who scan in and turn back (no bay change), and passes that stay overnight.
 */
import type { Bay, Gate, Site, Zone } from '@parkops/contract/site';
import type { Topics } from '@parkops/contract';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../local-time.ts';
import type { Random } from '../random.ts';
import type { BadKind, SimContext, SimEvent } from '../types.ts';

export interface ParkingOptions {
  /** Multiplies the weekday morning commuter wave (`gate-rush`: 2). */
  rushFactor: number;
  /** Bays broken on purpose by `bad-devices`, and how. */
  badBays: Map<string, BadKind>;
}

export interface BayState {
  bay: Bay;
  zone: ZoneState;
  topic: string;
  /** Id the device publishes under (differs from the bay id only for an `unknown_id` bad device). */
  publishId: string;
  occupied: boolean;
  /** A car drives towards it. */
  reserved: boolean;
  batteryStartPct: number;
  batteryStartAt: number;
  /** %/day; a few bays have failing cells and drain fast enough to raise low-battery alerts within weeks. */
  drainPctPerDay: number;
  lastSent: number;
  bad: BadKind | undefined;
  heartbeat: SimEvent;
}

interface ZoneState {
  zone: Zone;
  bays: BayState[];
  free: number;
}

type CarKind = 'commuter' | 'visitor' | 'evening' | 'overnight';
type Stage = 'enter' | 'park' | 'leave' | 'exit' | 'done';

/** One driver's visit; it is its own scheduled event, moving through its stages. */
class Car implements SimEvent {
  stage: Stage = 'enter';
  bay: BayState | null = null;
  constructor(
    readonly parking: ParkingModel,
    readonly pass: string,
    readonly kind: CarKind,
    readonly departAt: number,
  ) {}
  fire(ctx: SimContext): void {
    this.parking.advanceCar(ctx, this);
  }
}

export interface ParkingStats {
  bays: number;
  occupied: number;
  carsEntered: number;
  carsParked: number;
  carsExited: number;
  turnedBack: number;
  overnight: number;
  /** Cars between the gates: entered and not yet exited. */
  inside: number;
}

export class ParkingModel {
  readonly site: Site;
  readonly bays: BayState[];
  readonly zonesByRank: ZoneState[][];
  private readonly entryGates: Gate[];
  private readonly exitGates: Gate[];
  private readonly rng: Random;
  private readonly topics: Topics;
  private readonly opts: ParkingOptions;
  private readonly intervalMs: number;
  private passSeq: number;
  occupied = 0;
  carsEntered = 0;
  carsParked = 0;
  carsExited = 0;
  turnedBack = 0;
  overnight = 0;

  constructor(site: Site, topics: Topics, rng: Random, opts: ParkingOptions) {
    this.site = site;
    this.topics = topics;
    this.rng = rng;
    this.opts = opts;
    this.intervalMs = site.parking.bayIntervalSec * 1000;
    this.passSeq = rng.int(1_000_000);
    this.entryGates = site.gates.filter((g) => g.direction !== 'exit');
    this.exitGates = site.gates.filter((g) => g.direction !== 'entry');
    if (this.entryGates.length === 0 || this.exitGates.length === 0) {
      throw new Error('the site needs at least one entry and one exit gate (direction "entry", "exit" or "both")');
    }
    const zones: ZoneState[] = site.zones.map((zone) => ({ zone, bays: [], free: zone.bays.length }));
    this.bays = [];
    zones.forEach((zs) => {
      for (const bay of zs.zone.bays) {
        const bad = opts.badBays.get(bay.id);
        // A misconfigured device id: valid pattern, not in the site file.
        const publishId = bad === 'unknown_id' ? `${bay.id}X` : bay.id;
        const failing = rng.chance(0.01);
        const b: BayState = {
          bay,
          zone: zs,
          topic: topics.bay(publishId),
          publishId,
          occupied: false,
          reserved: false,
          batteryStartPct: failing ? rng.range(17, 30) : rng.range(45, 100),
          batteryStartAt: 0,
          drainPctPerDay: failing ? rng.range(0.6, 1.2) : rng.range(0.015, 0.05),
          lastSent: -Infinity,
          bad,
          heartbeat: { fire: (ctx) => this.heartbeat(ctx, b) },
        };
        zs.bays.push(b);
        this.bays.push(b);
      }
    });
    const ranks = [...new Set(zones.map((z) => z.zone.entranceRank))].sort((a, b) => a - b);
    this.zonesByRank = ranks.map((r) => zones.filter((z) => z.zone.entranceRank === r));
  }

  /** Starts heartbeats at random phases from `from`. */
  start(ctx: SimContext, from: number): void {
    for (const b of this.bays) {
      b.batteryStartAt = from;
      ctx.schedule(from + this.rng.next() * this.intervalMs, b.heartbeat);
    }
  }

  batteryAt(b: BayState, t: number): number {
    const pct = b.batteryStartPct - (b.drainPctPerDay * (t - b.batteryStartAt)) / DAY_MS;
    return Math.max(0, Math.round(pct * 10) / 10);
  }

  private nextPass(): string {
    this.passSeq++;
    return `QR${this.passSeq.toString(36).toUpperCase().padStart(5, '0')}${this.rng.int(1_679_616).toString(36).toUpperCase().padStart(4, '0')}`;
  }

  /**
   * Plans the cars of the local day starting at `midnight`. On the first day of a run (`seedOvernight`)
   * a few cars are already parked from the night before.
   */
  planDay(ctx: SimContext, midnight: number, weekend: boolean, seedOvernight: boolean): void {
    const n = this.bays.length;
    const rng = this.rng;
    const hourAt = (h: number): number => ctx.local.at(midnight, h);
    const add = (kind: CarKind, arriveHour: number, departAt: number): void => {
      const arriveAt = hourAt(arriveHour);
      const car = new Car(this, this.nextPass(), kind, Math.max(departAt, arriveAt + 10 * MINUTE_MS));
      ctx.schedule(arriveAt, car);
    };

    if (seedOvernight) {
      const count = Math.round(n * 0.01);
      for (let i = 0; i < count; i++) {
        const car = new Car(this, this.nextPass(), 'overnight', hourAt(rng.normalBetween(8.2, 0.8, 6.5, 11)));
        const bay = this.chooseBay();
        if (bay === null) break;
        this.overnight++;
        this.carsEntered++;
        car.bay = bay;
        bay.reserved = true;
        car.stage = 'park';
        ctx.schedule(ctx.now, car);
      }
    }

    // Commuters: in 07:30-09:30, out 17:00-19:00; a few work late; a few leave the car overnight.
    const commuters = Math.round(n * (weekend ? 0.08 : 0.7 * this.opts.rushFactor) * rng.normal(1, 0.03));
    for (let i = 0; i < commuters; i++) {
      const arrive = weekend ? rng.normalBetween(9.5, 1.2, 7, 13) : rng.normalBetween(8.5, 0.5, 6.5, 10.5);
      const r = rng.next();
      let depart: number;
      if (r < 0.006) {
        depart = hourAt(24 + rng.normalBetween(8.2, 0.8, 6.5, 11));
      } else if (r < 0.07) {
        depart = hourAt(rng.normalBetween(20.3, 0.8, 19, 23.8));
      } else {
        depart = weekend ? hourAt(Math.min(23.5, arrive + rng.normalBetween(6, 1.5, 2, 10))) : hourAt(rng.normalBetween(18, 0.45, 16.5, 20));
      }
      add('commuter', arrive, depart);
    }

    // Visitors: around midday on weekdays, the afternoon at weekends; stays of about an hour or two.
    const visitors = Math.round(n * (weekend ? 0.3 : 0.4) * rng.normal(1, 0.05));
    for (let i = 0; i < visitors; i++) {
      const arrive = weekend ? rng.normalBetween(14, 2.4, 9, 20) : rng.normalBetween(12.25, 1.6, 9, 17.5);
      const stayMin = Math.min(300, Math.max(15, rng.logNormal(weekend ? 110 : 80, 0.5)));
      add('visitor', arrive, hourAt(arrive) + stayMin * MINUTE_MS);
    }

    // Evening visitors (gym, fitness plaza, events).
    const evening = Math.round(n * 0.06 * rng.normal(1, 0.1));
    for (let i = 0; i < evening; i++) {
      const arrive = rng.normalBetween(19.3, 1, 17.5, 22);
      const stayMin = Math.min(180, Math.max(20, rng.logNormal(80, 0.35)));
      add('evening', arrive, Math.min(hourAt(arrive) + stayMin * MINUTE_MS, hourAt(23.9)));
    }
  }

  /** The next free bay nearest an entrance: lowest rank first, then one of the lowest-index free bays of a zone. */
  private chooseBay(): BayState | null {
    for (const group of this.zonesByRank) {
      let free = 0;
      for (const z of group) free += z.free;
      if (free === 0) continue;
      // Zones of equal rank are picked in proportion to their free bays (drivers split between entrances).
      let k = this.rng.int(free);
      let zone = group[0] as ZoneState;
      for (const z of group) {
        if (k < z.free) {
          zone = z;
          break;
        }
        k -= z.free;
      }
      const nearest: BayState[] = [];
      for (const b of zone.bays) {
        if (!b.occupied && !b.reserved) {
          nearest.push(b);
          if (nearest.length === 4) break;
        }
      }
      if (nearest.length === 0) continue;
      const bay = this.rng.pick(nearest);
      bay.reserved = true;
      zone.free--;
      return bay;
    }
    return null;
  }

  advanceCar(ctx: SimContext, car: Car): void {
    const rng = this.rng;
    switch (car.stage) {
      case 'enter': {
        const gate = rng.pick(this.entryGates);
        if (this.queueAtGate(ctx, gate, car)) return;
        this.carsEntered++;
        this.sendGate(ctx, gate, 'entry', car.pass);
        // The odd driver scans in and turns back; every driver does when the lot is full.
        const bay = rng.chance(0.015) ? null : this.chooseBay();
        if (bay === null) {
          this.turnedBack++;
          car.stage = 'exit';
          ctx.schedule(ctx.now + rng.range(2, 8) * MINUTE_MS, car);
          return;
        }
        car.bay = bay;
        car.stage = 'park';
        const driveSec = 40 + 30 * bay.zone.zone.entranceRank + rng.range(0, 60);
        ctx.schedule(ctx.now + driveSec * 1000, car);
        return;
      }
      case 'park': {
        const bay = car.bay as BayState;
        bay.reserved = false;
        bay.occupied = true;
        this.occupied++;
        this.carsParked++;
        this.sendBay(ctx, bay, ctx.now);
        car.stage = 'leave';
        ctx.schedule(Math.max(car.departAt, ctx.now + 5 * MINUTE_MS), car);
        return;
      }
      case 'leave': {
        const bay = car.bay as BayState;
        bay.occupied = false;
        bay.zone.free++;
        this.occupied--;
        this.sendBay(ctx, bay, ctx.now);
        car.stage = 'exit';
        ctx.schedule(ctx.now + rng.range(1, 4) * MINUTE_MS, car);
        return;
      }
      case 'exit': {
        const gate = rng.pick(this.exitGates);
        if (this.queueAtGate(ctx, gate, car)) return;
        this.carsExited++;
        this.sendGate(ctx, gate, 'exit', car.pass);
        car.stage = 'done';
        return;
      }
      case 'done':
        return;
    }
  }

  /**
   * A barrier lets one car through per cycle: a car arriving while it is still closing waits its turn
   * (and no gate ever sends two scans in the same millisecond). Returns true when the car must wait.
   */
  private queueAtGate(ctx: SimContext, gate: Gate, car: Car): boolean {
    const freeAt = this.gateFreeAt.get(gate.id) ?? -Infinity;
    if (ctx.now < freeAt) {
      ctx.schedule(freeAt + this.rng.range(0, 2000), car);
      return true;
    }
    this.gateFreeAt.set(gate.id, ctx.now + ParkingModel.BARRIER_CYCLE_MS);
    return false;
  }

  /** Scan, barrier up, car through, barrier down. */
  static readonly BARRIER_CYCLE_MS = 6000;
  private readonly gateFreeAt = new Map<string, number>();

  private heartbeat(ctx: SimContext, b: BayState): void {
    const due = b.lastSent + this.intervalMs;
    // A change message restarts the heartbeat interval; reschedule instead of removing from the heap.
    if (due > ctx.now + 500) {
      ctx.schedule(due, b.heartbeat);
      return;
    }
    this.sendBay(ctx, b, ctx.now);
    ctx.schedule(ctx.now + this.intervalMs, b.heartbeat);
  }

  sendBay(ctx: SimContext, b: BayState, t: number): void {
    b.lastSent = t;
    if (ctx.silent) return;
    const battery = this.batteryAt(b, t);
    let payload: string;
    switch (b.bad) {
      case undefined:
      case 'unknown_id':
        payload = `{"occupied":${b.occupied},"ts":${ctx.stamp(t)},"battery":${battery}}`;
        break;
      case 'malformed':
        // Firmware that cuts the payload short: invalid JSON.
        payload = `{"occupied":${b.occupied},"ts":${ctx.stamp(t)},"batt`;
        break;
      case 'out_of_range':
        payload = `{"occupied":${b.occupied},"ts":${ctx.stamp(t)},"battery":${Math.round((battery + 120) * 10) / 10}}`;
        break;
      case 'future': {
        // A clock that jumped an hour ahead of the wall clock (the contract allows 5 minutes).
        const ts = Math.max(t, ctx.realNow()) + HOUR_MS;
        payload = `{"occupied":${b.occupied},"ts":${ctx.stamp(ts)},"battery":${battery}}`;
        break;
      }
    }
    const msg = { topic: b.topic, payload, qos: 1 as const, retain: false, at: t, kind: 'bay' as const, device: b.publishId };
    ctx.emit(b.bad === undefined ? msg : { ...msg, bad: b.bad });
  }

  private sendGate(ctx: SimContext, gate: Gate, event: 'entry' | 'exit', pass: string): void {
    if (ctx.silent) return;
    ctx.emit({
      topic: this.topics.gate(gate.id),
      payload: `{"event":"${event}","pass":"${pass}","ts":${ctx.stamp(ctx.now)}}`,
      qos: 1,
      retain: false,
      at: ctx.now,
      kind: 'gate',
      device: gate.id,
    });
  }

  stats(): ParkingStats {
    return {
      bays: this.bays.length,
      occupied: this.occupied,
      carsEntered: this.carsEntered,
      carsParked: this.carsParked,
      carsExited: this.carsExited,
      turnedBack: this.turnedBack,
      overnight: this.overnight,
      inside: this.carsEntered - this.carsExited,
    };
  }
}
