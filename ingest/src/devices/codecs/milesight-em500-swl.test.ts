/**
 * Vectors: Milesight-IoT/SensorDecoders em-series/em500-swl/README.md, "Example":
 *   017564 03770200 -> battery 100, water level 2 (cm)
 * and Ursalink "EM500-SWL Payload Structure" V1.0: 03 77 02 00 -> 2 cm; 01 75 64 -> 100 %.
 */
import { describe, expect, it } from 'vitest';
import { run } from './testing.ts';

describe('milesight-em500-swl', () => {
  it("reads Milesight's example uplink: battery 100 %, 2 cm of water", () => {
    expect(run('milesight-em500-swl', 'level', {}, { fPort: 85, payload: '017564 03770200' })).toEqual({ ok: true, fields: { mm: 20 }, telemetry: { battery: 100 } });
  });

  it("reads the payload-structure document's frames one at a time: level, then battery alone (no reading)", () => {
    expect(run('milesight-em500-swl', 'level', { offsetMm: 50 }, { fPort: 85, payload: '03 77 02 00' })).toEqual({ ok: true, fields: { mm: 70 }, telemetry: {} });
    expect(run('milesight-em500-swl', 'level', {}, { fPort: 85, payload: '01 75 64' })).toMatchObject({ ok: true, fields: null, telemetry: { battery: 100 } });
  });

  it('skips historical records and reads the current level after them', () => {
    expect(run('milesight-em500-swl', 'level', {}, { fPort: 85, payload: '20ce 5ac46365 0a00 03771e00' })).toMatchObject({ ok: true, fields: { mm: 300 } });
  });

  it('a level cut short is payload_too_short', () => {
    expect(run('milesight-em500-swl', 'level', {}, { fPort: 85, payload: '037702' })).toMatchObject({ ok: false, rejection: { code: 'payload_too_short' } });
  });
});
