import { describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site';
import { HOUR_MS, MINUTE_MS } from './local-time.ts';
import { createSimulation, type Simulation } from './simulation.ts';
import type { SimMessage } from './types.ts';

const site = loadSite();
const MONDAY = Date.parse('2026-07-20T00:00:00+08:00');
const SATURDAY = Date.parse('2026-07-25T00:00:00+08:00');
/** A wall clock well after every simulated time here, so only deliberately future-dated payloads are. */
const WALL = Date.parse('2026-08-01T00:00:00+08:00');

function run(sim: Simulation, ms: number): SimMessage[] {
  const out: SimMessage[] = [];
  const end = sim.now + ms;
  while (sim.now < end) for (const m of sim.advanceTo(Math.min(end, sim.now + HOUR_MS))) out.push(m);
  return out;
}

const hourOf = (t: number, day: number): number => (t - day) / HOUR_MS;

/** Occupied bays sampled every 15 minutes, reconstructed from the bay messages as ParkOps would. */
function occupancyCurve(msgs: SimMessage[], day: number): number[] {
  const state = new Map<string, boolean>();
  const curve: number[] = [];
  let next = day;
  let occupied = 0;
  for (const m of msgs) {
    while (m.at >= next) {
      curve.push(occupied);
      next += 15 * MINUTE_MS;
    }
    if (m.kind !== 'bay') continue;
    const now = (JSON.parse(m.payload) as { occupied: boolean }).occupied;
    const before = state.get(m.device) ?? false;
    if (now !== before) occupied += now ? 1 : -1;
    state.set(m.device, now);
  }
  return curve;
}

const at = (curve: number[], hour: number): number => curve[Math.round(hour * 4)] ?? NaN;

describe('parking day', () => {
  const weekday = run(createSimulation({ site, seed: 3, startAt: MONDAY, realNow: () => WALL }), 24 * HOUR_MS);
  const curve = occupancyCurve(weekday, MONDAY);
  const bays = site.bays.length;

  it('has a morning edge (07:30-09:30) and an evening edge (17:00-19:00) on a weekday', () => {
    expect(at(curve, 6)).toBeLessThan(0.1 * bays);
    expect(at(curve, 9.5) - at(curve, 7.5)).toBeGreaterThan(0.45 * bays);
    for (const h of [10, 12, 14, 16]) expect(at(curve, h)).toBeGreaterThan(0.65 * bays);
    expect(at(curve, 17) - at(curve, 19)).toBeGreaterThan(0.45 * bays);
    expect(at(curve, 22)).toBeLessThan(0.1 * bays);
  });

  it('peaks with the midday visitors on top of the commuters', () => {
    expect(at(curve, 12.5)).toBeGreaterThan(at(curve, 10) + 0.05 * bays);
    expect(at(curve, 12.5)).toBeGreaterThan(at(curve, 16.5));
  });

  it('is quiet at the weekend', () => {
    const weekend = run(createSimulation({ site, seed: 3, startAt: SATURDAY, realNow: () => WALL }), 24 * HOUR_MS);
    const wc = occupancyCurve(weekend, SATURDAY);
    expect(Math.max(...wc)).toBeLessThan(0.5 * bays);
    expect(Math.max(...wc)).toBeLessThan(0.6 * Math.max(...curve));
  });

  it('fills the zones nearest an entrance first', () => {
    const sim = createSimulation({ site, seed: 3, startAt: MONDAY + 9 * HOUR_MS, realNow: () => WALL });
    const share = (zone: string): number => {
      const z = sim.parking.bays.filter((b) => b.bay.zone === zone);
      return z.filter((b) => b.occupied).length / z.length;
    };
    // At 09:00 the rank-1 zones by the entrances are nearly full, the far lot (rank 4) is mostly empty.
    expect(share('A')).toBeGreaterThan(0.9);
    expect(share('B')).toBeGreaterThan(0.9);
    expect(share('E')).toBeLessThan(share('C'));
    expect(share('E')).toBeLessThan(0.5);
  });

  it('tells one story at the gates and in the bays', () => {
    const sim = createSimulation({ site, seed: 5, startAt: MONDAY, realNow: () => WALL });
    const msgs = run(sim, 48 * HOUR_MS);
    const gateDir = new Map(site.gates.map((g) => [g.id, g.direction]));
    const entries = new Map<string, number>();
    const exits = new Map<string, number>();
    const bayState = new Map<string, boolean>();
    let inside = sim.parking.overnight; // parked since the night before the run
    let occupied = 0;
    let parks = 0;
    let orphanExits = 0;
    let violations = 0;
    for (const m of msgs) {
      if (m.kind === 'gate') {
        const p = JSON.parse(m.payload) as { event: 'entry' | 'exit'; pass: string };
        expect(gateDir.get(m.device)).not.toBe(p.event === 'entry' ? 'exit' : 'entry');
        if (p.event === 'entry') {
          expect(entries.has(p.pass)).toBe(false);
          entries.set(p.pass, m.at);
          inside++;
        } else {
          expect(exits.has(p.pass)).toBe(false);
          const enteredAt = entries.get(p.pass);
          if (enteredAt === undefined) orphanExits++;
          else expect(enteredAt).toBeLessThan(m.at);
          exits.set(p.pass, m.at);
          inside--;
        }
      } else if (m.kind === 'bay') {
        const now = (JSON.parse(m.payload) as { occupied: boolean }).occupied;
        if (now !== (bayState.get(m.device) ?? false)) {
          occupied += now ? 1 : -1;
          if (now) parks++;
        }
        bayState.set(m.device, now);
      }
      // Every parked car came in through a gate and has not gone out yet.
      if (occupied > inside) violations++;
    }
    expect(violations).toBe(0);
    // Only the cars parked overnight before the run leave without an entry scan on record.
    expect(orphanExits).toBe(sim.parking.overnight);
    const st = sim.stats().parking;
    // Each entry scan is followed either by a bay change or by turning back (a car may still be driving to its bay).
    const unexplained = entries.size - (parks - st.overnight) - st.turnedBack;
    expect(unexplained).toBeGreaterThanOrEqual(0);
    expect(unexplained).toBeLessThanOrEqual(3);
    expect(st.turnedBack).toBeGreaterThan(0);
    // Some passes stay past midnight: entered on the first day, exit on the second.
    const overnight = [...entries].filter(([pass, t]) => hourOf(t, MONDAY) < 24 && (exits.get(pass) ?? Infinity) > MONDAY + 24 * HOUR_MS);
    expect(overnight.length).toBeGreaterThan(0);
  });
});
