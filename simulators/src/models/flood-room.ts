/**
 * B1 flood-room physics: a sump pit of known plan area, inflow from groundwater seepage, rain ingress
 * and backflow through the floor drains, and duty/standby pumps with start/stop levels and a rated
 * capacity. Pure arithmetic, no clock of its own: the engine calls `step(dtSec)`.
 *
 * Volume and level: 1 L spread over 1 m² is 1 mm, so in the pit level (mm) = volume (L) / area (m²).
 * Above the pit rim (`pit.depthMm`, the room floor) water spreads over the room floor, so each litre
 * raises the level far less.
 */
import type { FloodRoom, Pump } from '@parkops/contract/site';
import type { Random } from '../random.ts';

export interface FloodPhysics {
  /** Floor area of the room above the pit rim, m². The site file has no such field; 60 m² is a typical B1 switch room. */
  roomAreaM2: number;
  /** Groundwater seepage into the pit, L/min: the duty pump empties the pit a few times a day in dry weather. */
  seepageLpm: number;
  /** Backflow through the floor drains, L/min per √mm of head: Q = k·√(sewer head − level) (orifice flow). */
  backflowCoeff: number;
  /** Rain reaching the pit directly (light well, ramp), L/min per mm/h of rain. */
  rainIngressLpmPerMmH: number;
  /** Pump intake height, mm above the pit floor: below it a running pump sucks air (dry run). */
  intakeMm: number;
  /** Water level at the start, mm. */
  initialLevelMm: number;
}

export const DEFAULT_PHYSICS: FloodPhysics = {
  roomAreaM2: 60,
  seepageLpm: 1.2,
  backflowCoeff: 67,
  rainIngressLpmPerMmH: 2.5,
  intakeMm: 40,
  initialLevelMm: 120,
};

/** Weather driving the room at a moment: rain intensity and the sewer's water level. */
export interface Weather {
  rainMmH: number;
  /** Water level in the municipal drain, as mm above this pit's floor; below the level no backflow. */
  sewerHeadMm: number;
}

export type PumpFault = 'none' | 'fail-to-start' | 'jam';

export interface PumpState {
  spec: Pump;
  /** The controller wants it running (level reached startMm and not yet stopMm). */
  called: boolean;
  /** What the pump reports: the motor turns. */
  running: boolean;
  fault: PumpFault;
  /** Motor current now, A; 0 when stopped. */
  amps: number;
  /** Litres this pump moved, for tests and the summary. */
  pumpedL: number;
  starts: number;
}

export class FloodRoomModel {
  readonly room: FloodRoom;
  readonly physics: FloodPhysics;
  readonly pumps: PumpState[];
  /** Water in the pit and room, litres. */
  volumeL: number;
  private readonly pitVolumeL: number;
  private readonly rng: Random;

  constructor(room: FloodRoom, rng: Random, physics: Partial<FloodPhysics> = {}) {
    this.room = room;
    this.physics = { ...DEFAULT_PHYSICS, ...physics };
    this.rng = rng;
    // m² × mm = L (1 m² × 1 mm = 0.001 m³)
    this.pitVolumeL = room.pit.areaM2 * room.pit.depthMm;
    this.volumeL = this.volumeForLevel(this.physics.initialLevelMm);
    this.pumps = room.pumps.map((spec) => ({ spec, called: false, running: false, fault: 'none', amps: 0, pumpedL: 0, starts: 0 }));
  }

  /** Level in mm above the pit floor for a volume in litres. */
  levelForVolume(volumeL: number): number {
    if (volumeL <= this.pitVolumeL) return volumeL / this.room.pit.areaM2;
    return this.room.pit.depthMm + (volumeL - this.pitVolumeL) / this.physics.roomAreaM2;
  }

  volumeForLevel(levelMm: number): number {
    const l = Math.max(0, levelMm);
    if (l <= this.room.pit.depthMm) return l * this.room.pit.areaM2;
    return this.pitVolumeL + (l - this.room.pit.depthMm) * this.physics.roomAreaM2;
  }

  get levelMm(): number {
    return this.levelForVolume(this.volumeL);
  }

  /** Inflow now, L/min. */
  inflowLpm(w: Weather): number {
    const head = w.sewerHeadMm - this.levelMm;
    const backflow = head > 0 ? this.physics.backflowCoeff * Math.sqrt(head) : 0;
    return this.physics.seepageLpm + w.rainMmH * this.physics.rainIngressLpmPerMmH + backflow;
  }

  /**
   * The pump controller (float switches or a PLC): a pump is called at its start level and released at
   * its stop level. Returns the pumps whose reported state changed.
   */
  control(): PumpState[] {
    const level = this.levelMm;
    const changed: PumpState[] = [];
    for (const p of this.pumps) {
      if (!p.called && level >= p.spec.startMm) p.called = true;
      else if (p.called && level <= p.spec.stopMm) p.called = false;
      const running = p.called && p.fault !== 'fail-to-start';
      if (running !== p.running) {
        p.running = running;
        if (running) p.starts++;
        changed.push(p);
      }
    }
    for (const p of this.pumps) p.amps = this.currentOf(p, level);
    return changed;
  }

  /**
   * Motor current: in the normal band while pumping water; low when it runs dry (no load on the
   * impeller); high, near locked-rotor, when jammed.
   */
  private currentOf(p: PumpState, level: number): number {
    if (!p.running) return 0;
    const { ampsMin, ampsMax } = p.spec;
    const noise = this.rng.normal(0, 0.08);
    if (p.fault === 'jam') return round2(ampsMax * 1.6 + noise);
    if (this.isDry(level)) return round2(ampsMin * 0.5 + noise * 0.5);
    return round2(ampsMin + 0.55 * (ampsMax - ampsMin) + noise);
  }

  /** True if this pump runs but moves no water (jammed or dry). */
  isIneffective(p: PumpState): boolean {
    return p.running && (p.fault === 'jam' || this.isDry(this.levelMm));
  }

  /** Within 2 mm of the intake the pump draws air (vortexing) rather than water. */
  private isDry(levelMm: number): boolean {
    return levelMm <= this.physics.intakeMm + 2;
  }

  /** Integrates `dtSec` seconds of inflow and pumping (pump states held constant over the step). */
  step(dtSec: number, w: Weather): void {
    const minutes = dtSec / 60;
    let volume = this.volumeL + this.inflowLpm(w) * minutes;
    for (const p of this.pumps) {
      if (!p.running || p.fault === 'jam') continue;
      // Above the intake a pump moves its rated capacity; it cannot lift water that is below its intake.
      const available = Math.max(0, volume - this.volumeForLevel(this.physics.intakeMm));
      const moved = Math.min(available, p.spec.capacityLpm * minutes);
      volume -= moved;
      p.pumpedL += moved;
    }
    this.volumeL = Math.max(0, volume);
  }
}

function round2(x: number): number {
  return Math.max(0, Math.round(x * 100) / 100);
}
