/**
 * The simulated network server against ParkOps' own reading of it: each encoder's bytes decode with
 * the ParkOps codec to the value that went in, and whole simulated uplinks parse as ChirpStack v4 events.
 */
import { describe, expect, it } from 'vitest';
import { UplinkTopics } from '@parkops/contract';
import { loadSite } from '@parkops/contract/site';
import { CODECS } from './codecs/index.ts';
import type { CounterState } from './codecs/types.ts';
import { parseUplink } from './uplinks.ts';
import { createSimulation } from '@parkops/simulators/simulation.ts';
import { em310Udl, em500Swl, ldds75, nwave, vs133Totals } from '@parkops/simulators/lorawan/encoders.ts';
import { ChirpStackNetworkServer, demoPlan, planCsv } from '@parkops/simulators/lorawan/network-server.ts';

const site = loadSite();

function decode(codec: string, kind: 'bay' | 'level' | 'venue', params: object, fPort: number, bytes: Uint8Array, counters = new Map<string, CounterState>(), ts = 1000) {
  const c = CODECS.get(codec)!;
  const p = c.parseParams(params, kind);
  if (!p.ok) throw new Error(p.message);
  return c.decode({ fPort, bytes, decoded: undefined, ts }, { kind, params: p.params, counters: { get: (k) => counters.get(k), set: (k, v) => void counters.set(k, v) } });
}

describe('encoders decode with the ParkOps codecs to what went in', () => {
  it.each([0, 1, 250, 1499.6])('milesight-em310-udl at %s mm', (mm) => {
    expect(decode('milesight-em310-udl', 'level', { mountMm: 1500 }, 85, em310Udl(1500 - mm, 87))).toEqual({ ok: true, fields: { mm: Math.round(mm) }, telemetry: { battery: 87 } });
  });
  it('milesight-em500-swl in whole centimetres', () => {
    expect(decode('milesight-em500-swl', 'level', {}, 85, em500Swl(43.2, 64))).toEqual({ ok: true, fields: { mm: 430 }, telemetry: { battery: 64 } });
  });
  it('dragino-ldds75', () => {
    expect(decode('dragino-ldds75', 'level', { mountMm: 3000 }, 2, ldds75(2799, 3387))).toEqual({ ok: true, fields: { mm: 201 }, telemetry: { batteryMv: 3387 } });
  });
  it('nwave-nps status and heartbeat', () => {
    for (const occupied of [true, false]) {
      for (const kind of ['status', 'heartbeat'] as const) {
        const f = nwave(occupied, kind, 200);
        expect(decode('nwave-nps', 'bay', {}, f.fPort, f.bytes)).toMatchObject({ ok: true, fields: { occupied } });
      }
    }
  });
  it('milesight-vs133 totals become deltas', () => {
    const counters = new Map<string, CounterState>();
    decode('milesight-vs133', 'venue', { line: 2 }, 85, vs133Totals(2, 70_000, 69_990), counters, 1000);
    expect(decode('milesight-vs133', 'venue', { line: 2 }, 85, vs133Totals(2, 70_004, 69_991), counters, 2000)).toMatchObject({ fields: { in: 4, out: 1 } });
  });
});

describe('the simulated ChirpStack network server', () => {
  const plan = demoPlan(site);
  const topics = new UplinkTopics({ chirpstack: 'application/+/device/+/event/up', tts: null });

  it('plans the last zone, both level sensors and the first venue, with fixed DevEUIs, and writes them as an import file', () => {
    expect(plan.filter((p) => p.codec === 'nwave-nps')).toHaveLength(site.zones.at(-1)!.bays.length);
    expect(plan.filter((p) => p.codec !== 'nwave-nps').map((p) => [p.deviceId, p.codec, p.params])).toEqual([
      ['L1', 'milesight-em310-udl', { mountMm: 1500 }],
      ['L2', 'milesight-em500-swl', {}],
      ['gym', 'milesight-vs133', { line: 1 }],
    ]);
    expect(new Set(plan.map((p) => p.devEui)).size).toBe(plan.length);
    expect(demoPlan(site)).toEqual(plan);
    const csv = planCsv(plan).split('\n');
    expect(csv[0]).toBe('deviceId,devEui,codec,line,mountMm');
    expect(csv).toContain('L1,24E1247100000001,milesight-em310-udl,,1500');
  });

  it("turns the park's messages into ChirpStack uplinks with real bytes, keeps other devices on JSON, and drops LoRaWAN devices' status", () => {
    const sim = createSimulation({ site, seed: 7, startAt: Date.parse('2026-07-21T06:00:00Z') });
    const ns = new ChirpStackNetworkServer(site, plan, { seed: 7 });
    const out = sim.advance(30 * 60_000).flatMap((m) => ns.translate(m));
    const uplinks = out.filter((m) => m.topic.startsWith('application/'));
    expect(uplinks.length).toBeGreaterThan(10);
    expect(out.some((m) => m.topic === 'park/devices/L1/status')).toBe(false);
    expect(out.some((m) => m.topic.startsWith('park/flood/b1-power/pumps/'))).toBe(true);
    const levels: number[] = [];
    for (const m of uplinks) {
      const where = topics.parse(m.topic)!;
      const parsed = parseUplink(where, new TextEncoder().encode(m.payload));
      if (!parsed.ok) throw new Error(parsed.rejection.reason);
      expect(parsed.uplink.time).toBe(m.at);
      expect(parsed.uplink.rssi).toBeLessThan(-50);
      const binding = plan.find((p) => p.devEui === parsed.uplink.devEui)!;
      if (binding.codec === 'milesight-em310-udl') {
        const r = decode(binding.codec, 'level', binding.params, parsed.uplink.fPort, Buffer.from(parsed.uplink.data!, 'base64'));
        if (r.ok && r.fields) levels.push(r.fields.mm as number);
      }
    }
    expect(levels.length).toBeGreaterThan(0);
    for (const mm of levels) expect(mm).toBeGreaterThanOrEqual(-100);
  });

  it('sends a counter baseline before its first counts, so the first report is counted', () => {
    const ns = new ChirpStackNetworkServer(site, plan, { seed: 1 });
    const first = ns.translate({ topic: 'park/venues/gym/counts', payload: '{"in":12,"out":2,"ts":5000}', qos: 1, retain: false, at: 5000, kind: 'venue', device: 'gym-counter' });
    expect(first).toHaveLength(2);
    const counters = new Map<string, CounterState>();
    const results = first.map((m) => {
      const up = parseUplink(topics.parse(m.topic)!, new TextEncoder().encode(m.payload));
      if (!up.ok) throw new Error(up.rejection.reason);
      return decode('milesight-vs133', 'venue', { line: 1 }, up.uplink.fPort, Buffer.from(up.uplink.data!, 'base64'), counters, up.uplink.time);
    });
    expect(results.map((r) => (r.ok ? r.fields : null))).toEqual([{ in: 0, out: 0 }, { in: 12, out: 2 }]);
  });
});
