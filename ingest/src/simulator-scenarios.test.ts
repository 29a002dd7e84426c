import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeMessage, Topics } from '@parkops/contract';
import { loadSite } from '@parkops/contract/site';
import { parseCap, type CapAlert } from './warnings/cap.ts';
import { inForceAt, judge } from './warnings/relevance.ts';
import { HOUR_MS, MINUTE_MS } from '@parkops/simulators/local-time.ts';
import { planScenarios, ScenarioError } from '@parkops/simulators/scenarios.ts';
import { createSimulation, type Simulation, type SimulationOptions } from '@parkops/simulators/simulation.ts';
import { EXPECTED_REJECTION, type SimMessage } from '@parkops/simulators/types.ts';

const site = loadSite();
const room = site.room('b1-power');
if (room === undefined) throw new Error('the bundled site has no b1-power room');
const MONDAY_14 = Date.parse('2026-07-20T14:00:00+08:00');
const DAY_MS = 86_400_000;
const WALL = Date.parse('2026-08-01T00:00:00+08:00');

function sim(opts: Partial<SimulationOptions> = {}): Simulation {
  return createSimulation({ site, seed: 11, startAt: MONDAY_14, realNow: () => WALL, ...opts });
}

function run(s: Simulation, ms: number): SimMessage[] {
  const out: SimMessage[] = [];
  const end = s.now + ms;
  while (s.now < end) for (const m of s.advanceTo(Math.min(end, s.now + HOUR_MS))) out.push(m);
  return out;
}

function digest(msgs: SimMessage[]): string {
  const h = createHash('sha256');
  for (const m of msgs) h.update(`${m.at} ${m.topic} ${m.payload} ${m.qos} ${m.retain}\n`);
  return h.digest('hex');
}

const levels = (msgs: SimMessage[], sensor: string): Array<{ at: number; mm: number }> =>
  msgs.filter((m) => m.kind === 'level' && m.device === sensor).map((m) => ({ at: m.at, mm: (JSON.parse(m.payload) as { mm: number }).mm }));
const pumps = (msgs: SimMessage[], pump: string): Array<{ at: number; running: boolean; amps: number }> =>
  msgs.filter((m) => m.kind === 'pump' && m.device === pump && m.backfill !== true).map((m) => ({ at: m.at, ...(JSON.parse(m.payload) as { running: boolean; amps: number }) }));

describe('determinism', () => {
  it('gives the same stream for the same seed, and another for another seed', () => {
    const opts = { scenarios: 'storm+bad-devices+sensor-dropout' };
    const a = digest(run(sim(opts), 6 * HOUR_MS));
    const b = digest(run(sim(opts), 6 * HOUR_MS));
    const c = digest(run(sim({ ...opts, seed: 12 }), 6 * HOUR_MS));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('gives the same stream whether advanced in big or small steps, or message by message', () => {
    const big = run(sim(), 2 * HOUR_MS);
    const s = sim();
    const small: SimMessage[] = [];
    while (s.now < MONDAY_14 + 2 * HOUR_MS) small.push(...s.advance(7_777));
    const stepped = sim();
    const byStep: SimMessage[] = [];
    while (byStep.length < big.length) byStep.push(...stepped.step());
    expect(digest(small.filter((m) => m.at <= MONDAY_14 + 2 * HOUR_MS))).toBe(digest(big));
    expect(digest(byStep.slice(0, big.length))).toBe(digest(big));
  });

  it('sends in time order, stamping each reading with its simulated time', () => {
    const msgs = run(sim({ scenarios: 'storm' }), 3 * HOUR_MS);
    for (let i = 1; i < msgs.length; i++) expect((msgs[i] as SimMessage).at).toBeGreaterThanOrEqual((msgs[i - 1] as SimMessage).at);
    for (const m of msgs) if (m.kind !== 'status' && m.kind !== 'warning' && m.backfill !== true) expect(m.payload).toContain(`"ts":${m.at}`);
    // The pump run log is the only back-fill: sent at the start, stamped in the past.
    const backfill = msgs.filter((m) => m.backfill === true);
    expect(backfill.length).toBeGreaterThan(0);
    for (const m of backfill) expect([m.kind, m.at, (JSON.parse(m.payload) as { ts: number }).ts < m.at]).toEqual(['pump', msgs[0]!.at, true]);
  });

  it('never sends two readings on one topic in the same millisecond (ParkOps would store them as one)', () => {
    const msgs = run(sim({ scenarios: 'weekday+gate-rush+storm', startAt: Date.parse('2026-07-20T06:00:00+08:00') }), 24 * HOUR_MS);
    const seen = new Set<string>();
    // Keyed by the payload's time, which is what ParkOps stores a reading under.
    const key = (m: SimMessage): string => `${m.topic} ${m.backfill === true ? (JSON.parse(m.payload) as { ts: number }).ts : m.at}`;
    const dupes = msgs.filter((m) => m.kind !== 'status' && (seen.has(key(m)) || !seen.add(key(m))));
    expect(dupes.map((m) => `${m.topic} ${m.payload}`)).toEqual([]);
  });
});

describe('every payload follows the contract', () => {
  it('decodes every message except the bad-devices ones, which are rejected for the reason they were broken', () => {
    const s = sim({ scenarios: 'weekday+storm+sensor-dropout+bad-devices+pump-jam' });
    const msgs = run(s, 8 * HOUR_MS);
    const topics = new Topics('park');
    const rejected = new Map<string, number>();
    let good = 0;
    for (const m of msgs) {
      if (m.kind === 'warning') {
        // CAP XML for the warnings module, not a device reading.
        const cap = parseCap(m.payload);
        if (!cap.ok) throw new Error(`${m.topic}: ${JSON.stringify(cap.problems)}`);
        continue;
      }
      const r = decodeMessage(m.topic, Buffer.from(m.payload), { topics, site, receivedAt: m.at });
      if (m.bad === undefined) {
        if (!r.ok) throw new Error(`${m.topic} ${m.payload} rejected: ${r.rejection.reason}`);
        good++;
      } else {
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.rejection.code).toBe(EXPECTED_REJECTION[m.bad]);
        rejected.set(m.bad, (rejected.get(m.bad) ?? 0) + 1);
      }
    }
    const st = s.stats();
    expect(good).toBeGreaterThan(10_000);
    for (const kind of ['malformed', 'out_of_range', 'future', 'unknown_id'] as const) {
      expect(rejected.get(kind)).toBe(st.bad[kind]);
      expect(st.bad[kind]).toBeGreaterThan(0);
    }
  });

  it('breaks a known share of the bays: 2 % of 600, every message of those and of no other', () => {
    const s = sim({ scenarios: 'bad-devices' });
    expect(s.badBays.size).toBe(12);
    const msgs = run(s, 4 * HOUR_MS);
    const badIds = new Set(s.parking.bays.filter((b) => b.bad !== undefined).map((b) => b.publishId));
    for (const m of msgs.filter((x) => x.kind === 'bay')) expect(m.bad !== undefined).toBe(badIds.has(m.device));
    const bay = msgs.filter((m) => m.kind === 'bay');
    const share = bay.filter((m) => m.bad !== undefined).length / bay.length;
    expect(share).toBeGreaterThan(0.01);
    expect(share).toBeLessThan(0.03);
  });

  it('can stamp ISO 8601 times with the site offset', () => {
    const msgs = run(sim({ timestamps: 'iso' }), 10 * MINUTE_MS);
    const topics = new Topics('park');
    const reading = msgs.find((m) => m.kind === 'level');
    expect(reading?.payload).toMatch(/"ts":"2026-07-20T14:\d\d:\d\d\.\d{3}\+08:00"/);
    for (const m of msgs) {
      const r = decodeMessage(m.topic, Buffer.from(m.payload), { topics, site, receivedAt: m.at });
      expect(r.ok && (r.reading.kind === 'status' || r.reading.ts === m.at)).toBe(true);
    }
  });
});

describe('start state', () => {
  it('at 14:00 on a weekday starts with the lot mostly full and every device announced', () => {
    const s = sim();
    const first = s.step();
    expect(first.every((m) => m.at === MONDAY_14)).toBe(true);
    const statuses = first.filter((m) => m.kind === 'status');
    expect(statuses).toHaveLength(s.devices().length);
    expect(statuses.every((m) => m.payload === 'online' && m.retain)).toBe(true);
    const bays = first.filter((m) => m.kind === 'bay');
    expect(bays).toHaveLength(site.bays.length);
    const occupied = bays.filter((m) => m.payload.includes('"occupied":true')).length;
    expect(occupied / bays.length).toBeGreaterThan(0.65);
    expect(first.filter((m) => m.kind === 'level')).toHaveLength(room.levels.length);
    expect(first.filter((m) => m.kind === 'pump')).toHaveLength(room.pumps.length);
    // The gym counter reports everyone counted since midnight, so occupancy adds up from the start.
    const gym = first.find((m) => m.kind === 'venue' && m.device === 'gym-counter');
    const counts = JSON.parse(gym?.payload ?? '{}') as { in: number; out: number };
    expect(counts.in).toBeGreaterThan(counts.out);
  });

  it('at 03:00 starts with a nearly empty lot', () => {
    const first = sim({ startAt: Date.parse('2026-07-20T03:00:00+08:00') }).step();
    const occupied = first.filter((m) => m.kind === 'bay' && m.payload.includes('"occupied":true')).length;
    expect(occupied).toBeLessThan(0.05 * site.bays.length);
  });
});

describe('flood scenarios', () => {
  const { warnMm, alarmMm, criticalMm, floorMm } = room.bands;

  it('storm: the level passes warn, alarm and critical in order, duty runs before standby joins, then the water recedes', () => {
    const msgs = run(sim({ scenarios: 'storm' }), 5 * HOUR_MS);
    const l1 = levels(msgs, 'L1');
    const firstAbove = (mm: number): number => l1.find((r) => r.mm >= mm)?.at ?? Infinity;
    const tWarn = firstAbove(warnMm);
    const tAlarm = firstAbove(alarmMm);
    const tCritical = firstAbove(criticalMm);
    expect(tWarn).toBeLessThan(tAlarm);
    expect(tAlarm).toBeLessThan(tCritical);
    expect(tCritical).toBeLessThan(Infinity);
    expect(Math.max(...l1.map((r) => r.mm))).toBeLessThan(floorMm);
    const p1On = pumps(msgs, 'P1').find((p) => p.running)?.at ?? Infinity;
    const p2On = pumps(msgs, 'P2').find((p) => p.running)?.at ?? Infinity;
    expect(p1On).toBeLessThan(p2On);
    expect(p2On).toBeLessThan(tCritical);
    // Receded: the last hour stays below warn and both pumps end stopped.
    const end = msgs[msgs.length - 1]?.at ?? 0;
    expect(l1.filter((r) => r.at > end - HOUR_MS).every((r) => r.mm < warnMm)).toBe(true);
    expect(pumps(msgs, 'P2').at(-1)?.running).toBe(false);
    // Two sensors read the same water: close, never identical.
    const l2 = levels(msgs, 'L2');
    const diffs = l1.map((r, i) => Math.abs(r.mm - (l2[i]?.mm ?? r.mm)));
    expect(Math.max(...diffs)).toBeLessThan(25);
    expect(diffs.filter((d) => d === 0).length).toBeLessThan(diffs.length / 10);
  });

  it('storm: a CAP 1.2 rainstorm warning for the site goes out an hour before the rain, in force from 30 minutes before it, and is cancelled once the water is down', () => {
    const eventsAt = MONDAY_14 + 2 * HOUR_MS;
    const msgs = run(sim({ scenarios: 'storm', eventsAt }), 7 * HOUR_MS);
    const warnings = msgs.filter((m) => m.kind === 'warning');
    expect(warnings.map((m) => [m.topic, m.at - eventsAt, m.qos])).toEqual([
      ['park/warnings/sim-weather', -60 * MINUTE_MS, 1],
      ['park/warnings/sim-weather', 250 * MINUTE_MS, 1],
    ]);
    const [alert, cancel] = warnings.map((m): CapAlert => {
      const r = parseCap(m.payload);
      if (!r.ok) throw new Error(JSON.stringify(r.problems));
      return r.alert;
    }) as [CapAlert, CapAlert];
    expect(alert.infos.map((i) => [i.language, i.event])).toEqual([['zh-CN', '暴雨'], ['en-US', 'Rainstorm']]);
    const j = judge(alert, site);
    expect(j).toMatchObject({ relevant: true, storm: true, from: eventsAt - 30 * MINUTE_MS });
    expect(inForceAt(j, eventsAt)).toBe(true);
    expect(cancel).toMatchObject({ msgType: 'Cancel', references: [{ sender: alert.sender, identifier: alert.identifier }] });
    // Storm mode begins well ahead of the first level alert (warn, held 30 s).
    const firstWarn = levels(msgs, 'L1').find((r) => r.mm >= room.bands.warnMm)?.at ?? Infinity;
    expect(firstWarn - (eventsAt - 30 * MINUTE_MS)).toBeGreaterThan(30 * MINUTE_MS);
  });

  it('storm: the pumps\' run log comes with the first messages: the duty pump ran yesterday, the standby last ran 8 days ago', () => {
    const first = sim({ scenarios: 'storm' }).step();
    const log = first.filter((m) => m.backfill === true).map((m) => ({ device: m.device, ...(JSON.parse(m.payload) as { running: boolean; amps: number; ts: number }) }));
    const lastRun = (id: string): number => Math.max(...log.filter((r) => r.device === id && r.running).map((r) => r.ts));
    expect((MONDAY_14 - lastRun('P2')) / DAY_MS).toBeGreaterThan(8);
    expect((MONDAY_14 - lastRun('P2')) / DAY_MS).toBeLessThan(8.2);
    expect((MONDAY_14 - lastRun('P1')) / DAY_MS).toBeLessThan(1);
    for (const r of log.filter((x) => x.running)) expect(r.amps).toBeGreaterThan(3);
    for (const r of log.filter((x) => x.running)) expect(r.amps).toBeLessThan(9);
    // Sent after each pump's state now, so ParkOps takes it as back-fill.
    const now = first.findIndex((m) => m.kind === 'pump' && m.backfill !== true && m.device === 'P2');
    expect(now).toBeLessThan(first.findIndex((m) => m.backfill === true));
    expect(run(sim({ scenarios: 'weekday' }), 10 * MINUTE_MS).some((m) => m.backfill === true)).toBe(false);
  });

  it('storm: a warning issued before the run starts goes out with the first messages', () => {
    const msgs = run(sim({ scenarios: 'storm' }), 10 * MINUTE_MS);
    // With the first messages, after every device's state and the pumps' run log.
    const first = msgs.filter((m) => m.at === MONDAY_14);
    expect(first.at(-1)).toMatchObject({ kind: 'warning', at: MONDAY_14 });
    expect(msgs.filter((m) => m.kind === 'warning')).toHaveLength(1);
    expect(run(sim({ scenarios: 'weekday' }), 10 * HOUR_MS).some((m) => m.kind === 'warning')).toBe(false);
  });

  it('pump-failure: the duty pump is never running while the level is over its start; the standby takes over', () => {
    const msgs = run(sim({ scenarios: 'pump-failure' }), 4 * HOUR_MS);
    expect(pumps(msgs, 'P1').every((p) => !p.running && p.amps === 0)).toBe(true);
    expect(pumps(msgs, 'P2').some((p) => p.running)).toBe(true);
    expect(Math.max(...levels(msgs, 'L1').map((r) => r.mm))).toBeGreaterThan(room.pumps[1]?.startMm ?? Infinity);
  });

  it('pump-jam: the duty pump runs with a current above its band while the level still rises', () => {
    const msgs = run(sim({ scenarios: 'pump-jam' }), 4 * HOUR_MS);
    const spec = room.pumps[0];
    const p1 = pumps(msgs, 'P1').filter((p) => p.running);
    expect(p1.length).toBeGreaterThan(10);
    expect(p1.every((p) => p.amps > (spec?.ampsMax ?? Infinity))).toBe(true);
    const jammedSince = p1[0]?.at ?? 0;
    const after = levels(msgs, 'L1').filter((r) => r.at > jammedSince + 5 * MINUTE_MS);
    expect(Math.max(...after.map((r) => r.mm))).toBeGreaterThan(room.pumps[1]?.startMm ?? Infinity);
  });

  it('sensor-dropout: L2 goes silent, its Last Will fires 90 s after its last reading, and it comes back', () => {
    const s = sim({ scenarios: 'sensor-dropout' });
    const msgs = run(s, 2 * HOUR_MS);
    const will = msgs.find((m) => m.will === true);
    expect(will).toMatchObject({ topic: 'park/devices/L2/status', payload: 'offline', retain: true, qos: 1 });
    const l2 = levels(msgs, 'L2');
    const lastBefore = l2.filter((r) => r.at < (will?.at ?? 0)).at(-1)?.at ?? 0;
    expect((will?.at ?? 0) - lastBefore).toBe(90_000);
    const back = msgs.find((m) => m.device === 'L2' && m.kind === 'status' && m.payload === 'online' && m.at > (will?.at ?? 0));
    expect(back).toBeDefined();
    expect(l2.filter((r) => r.at > (will?.at ?? 0) && r.at < (back?.at ?? 0))).toHaveLength(0);
    expect(l2.filter((r) => r.at >= (back?.at ?? Infinity)).length).toBeGreaterThan(100);
    expect(levels(msgs, 'L1').length).toBeGreaterThan(700);
    expect(s.stats().wills).toBe(1);
  });
});

describe('gate-rush', () => {
  it('doubles the morning wave at the entry gates; the full lot turns latecomers back', () => {
    const from = Date.parse('2026-07-20T06:00:00+08:00');
    const entries = (scenarios: string): { n: number; turnedBack: number } => {
      const s = sim({ startAt: from, scenarios });
      const msgs = run(s, 4 * HOUR_MS);
      return { n: msgs.filter((m) => m.kind === 'gate' && m.payload.includes('"entry"')).length, turnedBack: s.stats().parking.turnedBack };
    };
    const normal = entries('weekday');
    const rush = entries('weekday+gate-rush');
    expect(rush.n / normal.n).toBeGreaterThan(1.8);
    expect(rush.n / normal.n).toBeLessThan(2.2);
    expect(rush.turnedBack).toBeGreaterThan(normal.turnedBack + 100);
  });
});

describe('scenario names', () => {
  it('combine with + and , and refuse unknown or clashing names with a reason', () => {
    expect(planScenarios('weekday+storm', 0).names).toEqual(['weekday', 'storm']);
    expect(planScenarios(['weekday,storm', 'bad-devices'], 0).names).toEqual(['weekday', 'storm', 'bad-devices']);
    expect(() => planScenarios('typhoon', 0)).toThrow(ScenarioError);
    expect(() => planScenarios('typhoon', 0)).toThrow(/unknown scenario "typhoon"; known: weekday, weekend, storm/);
    expect(() => planScenarios('weekday+weekend', 0)).toThrow(/cannot be combined/);
    expect(() => planScenarios('pump-failure+pump-jam', 0)).toThrow(/pick one/);
  });
});
