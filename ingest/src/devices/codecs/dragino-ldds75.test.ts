/**
 * Vectors: Dragino's example uplinks in TheThingsNetwork/lorawan-devices
 *   vendor/dragino/ldds75-114-codec.yaml: FPort 2, 0D 3B 0A EF 00 00 00 01 ->
 *     Bat 3.387 (V), Distance "2799 mm", Interrupt_flag 0, TempC_DS18B20 "0.00", Sensor_flag 1
 *   vendor/dragino/ldds75-codec.yaml: FPort 2, 0E 1C 0B 05 -> distance "No Sensor"
 *   both files: the same bytes on FPort 42 -> error "unknown FPort"
 */
import { describe, expect, it } from 'vitest';
import { run } from './testing.ts';

describe('dragino-ldds75', () => {
  it("reads Dragino's example uplink: 3387 mV, 2799 mm", () => {
    expect(run('dragino-ldds75', 'level', { mountMm: 3000 }, { fPort: 2, payload: '0D3B0AEF00000001' })).toEqual({ ok: true, fields: { mm: 201 }, telemetry: { batteryMv: 3387 } });
  });

  it("refuses the 4-byte example for which Dragino's decoder gives no distance: too short for the 8-byte format", () => {
    expect(run('dragino-ldds75', 'level', { mountMm: 3000 }, { fPort: 2, payload: '0E1C0B05' })).toMatchObject({ ok: false, rejection: { code: 'payload_too_short', reason: expect.stringMatching(/needs 8 bytes .* got 4/) } });
  });

  it('refuses FPort 42 as the examples do', () => {
    expect(run('dragino-ldds75', 'level', { mountMm: 3000 }, { fPort: 42, payload: '0D3B0AEF00000001' })).toMatchObject({ ok: false, rejection: { code: 'unknown_fport' } });
  });

  it('makes no level of a missing probe or a zero distance, and says why', () => {
    expect(run('dragino-ldds75', 'level', { mountMm: 3000 }, { fPort: 2, payload: '0D3B0AEF00000000' })).toMatchObject({ ok: true, fields: null, telemetry: { problem: expect.stringMatching(/no ultrasonic probe/) } });
    expect(run('dragino-ldds75', 'level', { mountMm: 3000 }, { fPort: 2, payload: '0D3B000000000001' })).toMatchObject({ ok: true, fields: null, telemetry: { problem: expect.stringMatching(/distance 0/) } });
  });

  it('inside the 280 mm blind zone the level is the lowest the water can be, never lower', () => {
    expect(run('dragino-ldds75', 'level', { mountMm: 1200 }, { fPort: 2, payload: '0D3B009600000001' })).toMatchObject({ ok: true, fields: { mm: 1200 - 280 }, telemetry: { problem: expect.stringMatching(/blind zone/) } });
  });

  it('the device-status uplink on FPort 5 is no reading', () => {
    expect(run('dragino-ldds75', 'level', { mountMm: 1200 }, { fPort: 5, payload: '0C0104FF0100 0D3B' })).toMatchObject({ ok: true, fields: null });
  });
});
