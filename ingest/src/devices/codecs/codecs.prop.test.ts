/**
 * Property-based tests (fast-check) of the codecs and the uplink path:
 * - whatever bytes arrive on whatever FPort, each codec ends in a reading or a rejection with a
 *   known code and a reason, never a throw;
 * - flood safety: a level codec reports the level its distance or depth says, exactly (mountMm −
 *   distance, or depth + offset, tilted or not), and inside the LDDS75 blind zone the lowest level
 *   the water can then be; so a level at or above a band reaches the alert engine as such;
 * - a people counter's deltas are never negative, add up to the counted people when totals only
 *   grow, and a reset never brings more people than the counter's new total;
 * - the registry's translation of arbitrary uplink JSON never throws.
 * FUZZ_RUNS and FUZZ_SEED as in contract/decode.prop.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REJECTION_CODES, UPLINK_REJECTION_CODES } from '@parkops/contract/reasons.ts';
import { Topics, UplinkTopics } from '@parkops/contract/topics.ts';
import type { LiveState } from '../../live-state.ts';
import { createLogger } from '../../log.ts';
import { loadSite, type DeviceKind } from '@parkops/contract/site/index.ts';
import { DeviceRegistry } from '../registry.ts';
import type { DevicesRepository } from '../repository.ts';
import { CODECS } from './index.ts';
import { MemoryCounters } from './testing.ts';
import type { CodecResult } from './types.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) };
const timeout = Math.max(30_000, RUNS * 5);
const CODES = [...REJECTION_CODES, ...UPLINK_REJECTION_CODES] as string[];

function sound(r: CodecResult): void {
  if (r.ok) {
    if (r.fields !== null) for (const v of Object.values(r.fields)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    return;
  }
  expect(CODES).toContain(r.rejection.code);
  expect(r.rejection.reason.startsWith(`${r.rejection.code}: `)).toBe(true);
}

const KINDS: Record<string, { kind: DeviceKind; params: unknown }> = {
  decoded: { kind: 'level', params: {} },
  'milesight-em310-udl': { kind: 'level', params: { mountMm: 1500 } },
  'milesight-em500-swl': { kind: 'level', params: { offsetMm: 40 } },
  'dragino-ldds75': { kind: 'level', params: { mountMm: 1500 } },
  'nwave-nps': { kind: 'bay', params: {} },
  'milesight-vs133': { kind: 'venue', params: {} },
};

const run = (codec: string, fPort: number, bytes: Uint8Array, decoded?: Record<string, unknown>, counters = new MemoryCounters(), ts = 1000): CodecResult => {
  const c = CODECS.get(codec)!;
  const { kind, params: raw } = KINDS[codec]!;
  const p = c.parseParams(raw, kind);
  if (!p.ok) throw new Error(p.message);
  return c.decode({ fPort, bytes, decoded, ts }, { kind, params: p.params, counters });
};

describe('codecs never throw', () => {
  it.each([...CODECS.keys()])('%s: any bytes on any FPort', (codec) => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 64 }), fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }))), (fPort, bytes, decoded) => {
        sound(run(codec, fPort, bytes, (decoded ?? undefined)));
      }),
      params,
    );
  }, timeout);
});

describe('level codecs report the level the device measured', () => {
  it('milesight-em310-udl: level = mountMm − distance, exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 100 }), fc.boolean(), (distance, battery, tilt) => {
        const bytes = Uint8Array.from([0x01, 0x75, battery, 0x03, 0x82, distance & 0xff, distance >> 8, 0x04, 0x00, tilt ? 1 : 0]);
        const r = run('milesight-em310-udl', 85, bytes);
        expect(r).toMatchObject({ ok: true, fields: { mm: 1500 - distance } });
      }),
      params,
    );
  });
  it('milesight-em500-swl: level = depth + offsetMm, exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (cm) => {
        expect(run('milesight-em500-swl', 85, Uint8Array.from([0x03, 0x77, cm & 0xff, cm >> 8]))).toMatchObject({ ok: true, fields: { mm: cm * 10 + 40 } });
      }),
      params,
    );
  });
  it('dragino-ldds75: mountMm − distance, at least mountMm − 280 inside the blind zone, nothing for 0', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (distance) => {
        const r = run('dragino-ldds75', 2, Uint8Array.from([0x0d, 0x3b, distance >> 8, distance & 0xff, 0, 0, 0, 1]));
        if (distance === 0) {
          expect(r).toMatchObject({ ok: true, fields: null });
          return;
        }
        // In range, exactly what was measured; inside the blind zone the water is at least that high.
        expect(r).toMatchObject({ ok: true, fields: { mm: 1500 - Math.max(distance, 280) } });
      }),
      params,
    );
  });
});

describe('people counter deltas', () => {
  const totals = (i: number, o: number) => {
    const b = new Uint8Array(12);
    const v = new DataView(b.buffer);
    b.set([0x03, 0xd2], 0);
    v.setUint32(2, i, true);
    b.set([0x04, 0xd2], 6);
    v.setUint32(8, o, true);
    return b;
  };
  it('are never negative, add up when totals grow, and a reset never brings more than the new total', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(100_000), fc.nat(100_000)), { minLength: 1, maxLength: 30 }), (seq) => {
        const counters = new MemoryCounters();
        let prev: [number, number] | null = null;
        let ts = 1000;
        for (const [i, o] of seq) {
          const r = run('milesight-vs133', 85, totals(i, o), undefined, counters, (ts += 1000));
          if (!r.ok || r.fields === null) throw new Error('expected counts');
          const f = r.fields as { in: number; out: number };
          expect(f.in).toBeGreaterThanOrEqual(0);
          expect(f.out).toBeGreaterThanOrEqual(0);
          if (prev === null) expect(f).toEqual({ in: 0, out: 0 });
          else {
            expect(f.in).toBe(i >= prev[0] ? i - prev[0] : i);
            expect(f.out).toBe(o >= prev[1] ? o - prev[1] : o);
          }
          prev = [i, o];
        }
      }),
      params,
    );
  });
});

describe('the uplink translator', () => {
  const site = loadSite();
  const memory = (): DevicesRepository => {
    const bindings = [{ deviceId: 'L1', devEui: '0101010101010101', codec: 'milesight-em310-udl', params: { mountMm: 1500 }, updatedAt: 0, updatedBy: 'test' }];
    return {
      participant: { putCounters: () => undefined, putTelemetry: () => undefined },
      bindings: async () => bindings,
      applyBindings: async () => undefined,
      deleteBinding: async () => true,
      unbound: async () => [],
      seenUnbound: async () => undefined,
      telemetry: async () => [],
      counters: async () => [],
      saveUplinkState: async () => undefined,
    };
  };
  it('never throws on arbitrary uplink JSON, bound or not', async () => {
    const registry = new DeviceRegistry({
      site,
      topics: new Topics(),
      uplinkTopics: new UplinkTopics({ chirpstack: 'application/+/device/+/event/up', tts: 'v3/+/devices/+/up' }),
      live: null as unknown as LiveState,
      log: createLogger('silent'),
      audit: () => undefined,
      repository: memory(),
    });
    await registry.start();
    const anyUplink = fc.record(
      {
        deviceInfo: fc.oneof(fc.record({ devEui: fc.oneof(fc.constant('0101010101010101'), fc.string()) }), fc.jsonValue()),
        time: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.jsonValue()),
        fPort: fc.oneof(fc.integer({ min: -2, max: 300 }), fc.jsonValue()),
        data: fc.oneof(fc.base64String(), fc.string(), fc.jsonValue()),
        object: fc.jsonValue(),
        rxInfo: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(anyUplink.map((u) => JSON.stringify(u)), fc.string()), fc.constantFrom('application/a/device/0101010101010101/event/up', 'v3/app/devices/d/up'), (body, topic) => {
        const t = registry.translate(topic, new TextEncoder().encode(body), 1_700_000_000_000);
        expect(t).not.toBeNull();
        expect(['reading', 'rejected', 'handled']).toContain(t!.kind);
        if (t!.kind === 'rejected') {
          expect(CODES).toContain(t!.rejection.code);
          expect(t!.rejection.reason).not.toMatch(/could not be translated/);
        }
      }),
      params,
    );
  }, timeout);
});
