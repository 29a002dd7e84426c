/**
 * The devices of one flood room around the physics model: a PLC tick every 5 s (1 s integration
 * steps), level sensors that read the same water with their own offset and noise every `intervalSec`,
 * and pumps that report on every change and as a heartbeat.
 */
import type { FloodRoom, LevelSensor } from '@parkops/contract/site';
import type { Topics } from '@parkops/contract';
import type { Random } from '../random.ts';
import type { SimContext, SimEvent } from '../types.ts';
import type { PumpRunLog } from '../scenarios.ts';
import { FloodRoomModel, type FloodPhysics, type PumpFault, type PumpState, type Weather } from './flood-room.ts';

/** PLC scan period of the pump controller. */
export const ROOM_TICK_MS = 5000;
/** MQTT keep-alive the simulated devices use; the broker fires a Last Will after 1.5 × keep-alive [MQTT-3.1.2-24]. */
export const KEEPALIVE_SEC = 60;
export const WILL_DELAY_MS = KEEPALIVE_SEC * 1.5 * 1000;

export interface LevelSensorState {
  sensor: LevelSensor;
  topic: string;
  /** Fixed calibration offset, mm. */
  offsetMm: number;
  /** Reading noise (standard deviation), mm. */
  noiseMm: number;
  /** Silent (dropped out) until this time. */
  silentUntil: number;
  lastSent: number;
  event: SimEvent;
}

interface PumpDevice {
  state: PumpState;
  topic: string;
  lastSent: number;
  /** Heartbeats go out at PLC ticks: one pump message per tick at most, never two at the same ms. */
  intervalMs: number;
}

export class FloodRoomDevices implements SimEvent {
  readonly model: FloodRoomModel;
  readonly room: FloodRoom;
  readonly sensors: LevelSensorState[];
  private readonly pumps: PumpDevice[];
  private readonly rng: Random;
  private readonly weather: (t: number) => Weather;
  private readonly topics: Topics;
  private lastTick = 0;
  /** Highest true level seen since the start, mm. */
  peakMm = 0;

  constructor(room: FloodRoom, topics: Topics, rng: Random, weather: (t: number) => Weather, physics: Partial<FloodPhysics> = {}) {
    this.room = room;
    this.topics = topics;
    this.rng = rng;
    this.weather = weather;
    this.model = new FloodRoomModel(room, rng.fork('pump-current'), physics);
    this.peakMm = this.model.levelMm;
    // Radar and pressure sensors disagree by a few mm of calibration, and jitter a little.
    this.sensors = room.levels.map((sensor, i) => ({
      sensor,
      topic: topics.level(room.id, sensor.id),
      offsetMm: Math.round(rng.normal(i === 0 ? 3 : -4, 1.5) * 10) / 10,
      noiseMm: 1.5,
      silentUntil: -Infinity,
      lastSent: -Infinity,
      event: { fire: (ctx: SimContext) => this.readLevel(ctx, i) },
    }));
    this.pumps = this.model.pumps.map((state) => ({ state, topic: topics.pump(room.id, state.spec.id), lastSent: -Infinity, intervalMs: state.spec.intervalSec * 1000 }));
  }

  start(ctx: SimContext, from: number): void {
    this.lastTick = from;
    this.model.control();
    ctx.schedule(from + ROOM_TICK_MS, this);
    for (const s of this.sensors) ctx.schedule(from + this.rng.next() * s.sensor.intervalSec * 1000, s.event);
    // Spread the first heartbeats over an interval.
    for (const p of this.pumps) p.lastSent = from - this.rng.next() * p.intervalMs;
  }

  /** Sets a fault on the room's duty pump (the first pump with role duty). */
  setDutyFault(fault: PumpFault): void {
    const duty = this.model.pumps.find((p) => p.spec.role === 'duty') ?? this.model.pumps[0];
    if (duty !== undefined) duty.fault = fault;
  }

  /** PLC tick: integrate the water, then let the controller switch pumps. */
  fire(ctx: SimContext): void {
    const t = ctx.now;
    const w = this.weather(t);
    for (let s = this.lastTick; s < t; s += 1000) this.model.step(Math.min(1000, t - s) / 1000, w);
    this.lastTick = t;
    this.peakMm = Math.max(this.peakMm, this.model.levelMm);
    const changed = this.model.control();
    for (const p of this.pumps) {
      if (changed.includes(p.state) || t - p.lastSent >= p.intervalMs) this.sendPump(ctx, p);
    }
    ctx.schedule(t + ROOM_TICK_MS, this);
  }

  /** What a sensor reads now: the true level plus its offset and noise, in the contract's range. */
  reading(i: number): number {
    const s = this.sensors[i] as LevelSensorState;
    const mm = this.model.levelMm + s.offsetMm + this.rng.normal(0, s.noiseMm);
    return Math.min(10000, Math.max(-100, Math.round(mm * 10) / 10));
  }

  private readLevel(ctx: SimContext, i: number): void {
    const s = this.sensors[i] as LevelSensorState;
    ctx.schedule(ctx.now + s.sensor.intervalSec * 1000, s.event);
    if (ctx.now < s.silentUntil) return;
    this.sendLevel(ctx, i);
  }

  sendLevel(ctx: SimContext, i: number): void {
    const s = this.sensors[i] as LevelSensorState;
    const mm = this.reading(i);
    s.lastSent = ctx.now;
    if (ctx.silent) return;
    ctx.emit({ topic: s.topic, payload: `{"mm":${mm},"ts":${ctx.stamp(ctx.now)}}`, qos: 1, retain: false, at: ctx.now, kind: 'level', device: s.sensor.id });
  }

  private sendPump(ctx: SimContext, p: PumpDevice): void {
    p.lastSent = ctx.now;
    if (ctx.silent) return;
    ctx.emit({
      topic: p.topic,
      payload: `{"running":${p.state.running},"amps":${p.state.amps},"ts":${ctx.stamp(ctx.now)}}`,
      qos: 1,
      retain: false,
      at: ctx.now,
      kind: 'pump',
      device: p.state.spec.id,
    });
  }

  /**
   * The pump controllers' run log of the last `log.days` days, sent now with its own (past) times, as
   * a controller flushes its log when it connects: each run is a start with its current, a running
   * heartbeat 30 s later and a stop. The duty pump ran twice a day (04:00 and 16:00 local, 4 min); the
   * standby pump had its weekly test run (10:00 local, 3 min). The pump of role `log.idle.role` has run
   * nothing in the last `log.idle.days` days, so the readiness checklist flags it before the rain.
   */
  sendRunLog(ctx: SimContext, log: PumpRunLog): void {
    if (ctx.silent) return;
    const rng = this.rng.fork('run-log');
    const now = ctx.now;
    const today = ctx.local.midnightBefore(now);
    const out: { at: number; p: PumpDevice; running: boolean; amps: number }[] = [];
    for (const p of this.pumps) {
      const spec = p.state.spec;
      const idleFrom = log.idle && log.idle.role === spec.role ? now - log.idle.days * 86_400_000 : now;
      const mid = (spec.ampsMin + spec.ampsMax) / 2;
      const runs: { at: number; min: number }[] = [];
      for (let d = 1; d <= log.days; d++) {
        const day = today - d * 86_400_000;
        if (spec.role === 'duty') runs.push({ at: day + 4 * 3_600_000, min: 4 }, { at: day + 16 * 3_600_000, min: 4 });
        else if (d % 7 === 1) runs.push({ at: day + 10 * 3_600_000, min: 3 });
      }
      // The idle pump's last run is the one just before its idle time began.
      if (log.idle && log.idle.role === spec.role) runs.push({ at: idleFrom - 2 * 3_600_000, min: 3 });
      for (const r of runs) {
        if (r.at + r.min * 60_000 > idleFrom) continue;
        const amps = (): number => Math.round((mid + rng.normal(0, 0.2)) * 10) / 10;
        out.push({ at: r.at, p, running: true, amps: amps() }, { at: r.at + 30_000, p, running: true, amps: amps() }, { at: r.at + r.min * 60_000, p, running: false, amps: 0 });
      }
    }
    out.sort((a, b) => a.at - b.at);
    for (const e of out) {
      ctx.emit({ topic: e.p.topic, payload: `{"running":${e.running},"amps":${e.amps},"ts":${ctx.stamp(e.at)}}`, qos: 1, retain: false, at: now, kind: 'pump', device: e.p.state.spec.id, backfill: true });
    }
  }

  /** Every device's state now (the start-up snapshot). */
  snapshot(ctx: SimContext): void {
    this.sensors.forEach((_, i) => this.sendLevel(ctx, i));
    for (const p of this.pumps) this.sendPump(ctx, p);
  }

  /**
   * `sensor-dropout`: the sensor stops sending at `from`; the broker publishes its Last Will
   * 1.5 keep-alives after its last packet; it reconnects (online, then readings) after `forMs`.
   */
  scheduleDropout(ctx: SimContext, sensorIndex: number, from: number, forMs: number): void {
    const s = this.sensors[sensorIndex];
    if (s === undefined) return;
    const statusTopic = this.topics.deviceStatus(s.sensor.id);
    ctx.schedule(from, {
      fire: (c) => {
        s.silentUntil = from + forMs;
        const willAt = Math.max(s.lastSent, from - s.sensor.intervalSec * 1000) + WILL_DELAY_MS;
        c.schedule(willAt, {
          fire: (c2) => {
            if (c2.silent) return;
            c2.emit({ topic: statusTopic, payload: 'offline', qos: 1, retain: true, at: c2.now, kind: 'status', device: s.sensor.id, will: true });
          },
        });
        c.schedule(from + forMs, {
          fire: (c2) => {
            if (c2.silent) return;
            c2.emit({ topic: statusTopic, payload: 'online', qos: 1, retain: true, at: c2.now, kind: 'status', device: s.sensor.id });
            this.sendLevel(c2, sensorIndex);
          },
        });
      },
    });
  }

  /** Litres the pumps moved since the start, for the summary. */
  get pumpedL(): number {
    return this.model.pumps.reduce((a, p) => a + p.pumpedL, 0);
  }
}
