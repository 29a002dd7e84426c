/**
 * Park rules: a lot or zone full (info), a venue over its safe capacity (warning), and bay sensors with a
 * low battery, grouped into one alert per zone rather than one per bay.
 */
import type { BayReading, VenueReading } from '@parkops/contract/readings.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import { RULES, type AlertSink, type StateStore } from './types.ts';
import { Subjects } from '@parkops/contract/subjects.ts';

interface BayState {
  occupied: boolean | null;
  battery: number | null;
}

/** A low battery clears only this many percentage points above the threshold (a battery reading jitters). */
const BATTERY_HYSTERESIS_PCT = 5;
/** A venue over capacity clears at this share of its capacity. */
const VENUE_CLEAR_SHARE = 0.9;
/** How many bay ids a low-battery message names before it says "and N more" (messages.ts). */
const LIST_BAYS = 8;

export class ParkRules {
  private readonly bays = new Map<string, BayState>();
  private readonly occupied = new Map<string, number>();
  private readonly low = new Map<string, Set<string>>();

  constructor(
    private readonly site: Site,
    private readonly sink: AlertSink,
    private readonly store: StateStore,
  ) {
    for (const z of site.zones) {
      this.occupied.set(z.id, 0);
      this.low.set(z.id, new Set());
      for (const b of z.bays) {
        const s = store.load<BayState>(`bay:${b.id}`);
        if (!s) continue;
        this.bays.set(b.id, s);
        if (s.occupied === true) this.occupied.set(z.id, (this.occupied.get(z.id) ?? 0) + 1);
        if (s.battery !== null && s.battery < site.parking.lowBatteryPct) this.low.get(z.id)!.add(b.id);
      }
    }
  }

  onBay(r: BayReading, applied: boolean, now: number): void {
    if (!applied) return;
    const zone = this.site.zone(r.zoneId);
    if (!zone) return;
    const s = this.bays.get(r.bayId) ?? { occupied: null, battery: null };
    let changed = false;
    if (s.occupied !== r.occupied) {
      const delta = (r.occupied ? 1 : 0) - (s.occupied === true ? 1 : 0);
      this.occupied.set(zone.id, (this.occupied.get(zone.id) ?? 0) + delta);
      s.occupied = r.occupied;
      changed = true;
    }
    if (r.battery !== undefined && r.battery !== s.battery) {
      s.battery = r.battery;
      changed = true;
      const low = this.low.get(zone.id)!;
      const threshold = this.site.parking.lowBatteryPct;
      if (r.battery < threshold) low.add(r.bayId);
      else if (r.battery >= threshold + BATTERY_HYSTERESIS_PCT) low.delete(r.bayId);
      this.evaluateBattery(zone.id, now);
    }
    if (!changed) return;
    this.bays.set(r.bayId, s);
    this.store.save(`bay:${r.bayId}`, s);
    this.evaluateFull(zone.id, now);
  }

  onVenue(r: VenueReading, applied: boolean, now: number): void {
    if (!applied || r.occupancy === undefined) return;
    const v = this.site.venue(r.venueId);
    if (!v) return;
    const subject = Subjects.venue(v.id);
    if (r.occupancy > v.capacity) {
      const over = r.occupancy / v.capacity;
      this.sink.raise(
        RULES.venueOverCapacity,
        subject,
        {
          severity: 'warning',
          details: { rule: RULES.venueOverCapacity, venue: v.id, people: r.occupancy, capacity: v.capacity },
          value: r.occupancy,
          // 120 % of capacity is worse again: an acknowledged alert fires anew.
          grade: over >= 1.2 ? 2 : 1,
        },
        now,
      );
    } else if (r.occupancy <= v.capacity * VENUE_CLEAR_SHARE) {
      this.sink.clear(RULES.venueOverCapacity, subject, now);
    }
  }

  /** Full when no bay is free; clears once a couple of bays are free again (hysteresis against the last-bay flap). */
  private evaluateFull(zoneId: string, now: number): void {
    const zone = this.site.zone(zoneId)!;
    this.fullRule(zone.id, zone.bays.length, this.occupied.get(zone.id) ?? 0, now);
    const total = this.site.bays.length;
    let occ = 0;
    for (const n of this.occupied.values()) occ += n;
    this.fullRule(null, total, occ, now);
  }

  /** `zone` null: the whole car park. */
  private fullRule(zone: string | null, total: number, occupied: number, now: number): void {
    const subject = zone === null ? Subjects.parking() : Subjects.zone(zone);
    const free = total - occupied;
    const clearAt = Math.min(total, Math.max(2, Math.ceil(total * 0.02)));
    if (free <= 0) {
      this.sink.raise(RULES.parkingFull, subject, { severity: 'info', details: { rule: RULES.parkingFull, zone, occupied, total }, value: occupied, grade: 1 }, now);
    } else if (free >= clearAt) {
      this.sink.clear(RULES.parkingFull, subject, now);
    }
  }

  private evaluateBattery(zoneId: string, now: number): void {
    const zone = this.site.zone(zoneId)!;
    const low = [...this.low.get(zoneId)!].sort();
    const subject = Subjects.zone(zone.id);
    if (low.length === 0) {
      this.sink.clear(RULES.lowBattery, subject, now);
      return;
    }
    this.sink.raise(
      RULES.lowBattery,
      subject,
      { severity: 'info', details: { rule: RULES.lowBattery, zone: zone.id, bays: low, listed: LIST_BAYS, belowPct: this.site.parking.lowBatteryPct }, value: low.length, grade: 1 },
      now,
    );
  }
}
