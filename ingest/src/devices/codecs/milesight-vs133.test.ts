/**
 * Vectors: Milesight-IoT/SensorDecoders vs-series/vs133/README.md (and vs13x/README.md), "Example":
 *   03D248000000 04D2C8000000 06D200000000 07D200000000 09D200000000 0AD200000000 0CD2B4140000 0DD28D1A0000
 *     -> line_1_total_in 72, line_1_total_out 200, lines 2 and 3: 0, line_4_total_in 5300, line_4_total_out 6797
 *   05CC00000000 08CC00000000 0BCC00000000 0ECC05000700 -> period counts (line 4: 5 in, 7 out)
 *   0FE302100709 -> region counts; 10E40109101121 ... -> dwell times
 */
import { describe, expect, it } from 'vitest';
import { bytes, MemoryCounters, run } from './testing.ts';

const EXAMPLE = '03D248000000 04D2C8000000 06D200000000 07D200000000 09D200000000 0AD200000000 0CD2B4140000 0DD28D1A0000';

/** A VS133 uplink with line 1 totals. */
function totals(inCount: number, outCount: number): string {
  const le = (n: number) => Buffer.from(new Uint32Array([n]).buffer).toString('hex');
  return `03d2${le(inCount)} 04d2${le(outCount)}`;
}

describe('milesight-vs133', () => {
  it("takes Milesight's example totals as the baseline: no crowd arrives with a counter's lifetime totals", () => {
    const counters = new MemoryCounters();
    expect(run('milesight-vs133', 'venue', {}, { fPort: 85, payload: EXAMPLE, ts: 1000 }, counters)).toEqual({ ok: true, fields: { in: 0, out: 0 }, telemetry: {} });
    expect(counters.values.get('line1')).toEqual({ in: 72, out: 200, ts: 1000 });
    expect(counters.values.get('line4')).toEqual({ in: 5300, out: 6797, ts: 1000 });
  });

  it('turns later totals into the people since the previous uplink, for one line or all', () => {
    const all = new MemoryCounters();
    run('milesight-vs133', 'venue', {}, { fPort: 85, payload: EXAMPLE, ts: 1000 }, all);
    const next = '03D250000000 04D2C9000000 0CD2B6140000 0DD28D1A0000'; // line 1: 80 in, 201 out; line 4: 5302 in, 6797 out
    expect(run('milesight-vs133', 'venue', {}, { fPort: 85, payload: next, ts: 2000 }, all)).toMatchObject({ fields: { in: 8 + 2, out: 1 } });
    const four = new MemoryCounters();
    run('milesight-vs133', 'venue', { line: 4 }, { fPort: 85, payload: EXAMPLE, ts: 1000 }, four);
    expect(run('milesight-vs133', 'venue', { line: 4 }, { fPort: 85, payload: next, ts: 2000 }, four)).toMatchObject({ fields: { in: 2, out: 0 } });
  });

  it('a counter that goes backwards is a reset, not a crowd: the new total counts since the reset', () => {
    const c = new MemoryCounters();
    run('milesight-vs133', 'venue', {}, { fPort: 85, payload: totals(5000, 4990), ts: 1000 }, c);
    expect(run('milesight-vs133', 'venue', {}, { fPort: 85, payload: totals(3, 1), ts: 2000 }, c)).toMatchObject({ fields: { in: 3, out: 1 } });
    expect(run('milesight-vs133', 'venue', {}, { fPort: 85, payload: totals(10, 4), ts: 3000 }, c)).toMatchObject({ fields: { in: 7, out: 3 } });
  });

  it('a redelivered or late uplink moves nothing and keeps the newer totals', () => {
    const c = new MemoryCounters();
    run('milesight-vs133', 'venue', {}, { fPort: 85, payload: totals(100, 90), ts: 1000 }, c);
    run('milesight-vs133', 'venue', {}, { fPort: 85, payload: totals(110, 95), ts: 2000 }, c);
    expect(run('milesight-vs133', 'venue', {}, { fPort: 85, payload: totals(110, 95), ts: 2000 }, c)).toMatchObject({ fields: { in: 0, out: 0 } });
    expect(run('milesight-vs133', 'venue', {}, { fPort: 85, payload: totals(100, 90), ts: 1000 }, c)).toMatchObject({ fields: { in: 0, out: 0 } });
    expect(c.values.get('line1')).toEqual({ in: 110, out: 95, ts: 2000 });
  });

  it("period counts, regions and dwell times alone (Milesight's other examples) are no reading", () => {
    for (const p of ['05CC00000000 08CC00000000 0BCC00000000 0ECC05000700', '0FE302100709', '10E40109101121 10E40275217533 10E40381212389 10E40476001387']) {
      expect(run('milesight-vs133', 'venue', {}, { fPort: 85, payload: p })).toMatchObject({ ok: true, fields: null });
    }
  });

  it('a total cut short is payload_too_short', () => {
    expect(bytes('03D24800').length).toBe(4);
    expect(run('milesight-vs133', 'venue', {}, { fPort: 85, payload: '03D24800' })).toMatchObject({ ok: false, rejection: { code: 'payload_too_short' } });
  });
});
