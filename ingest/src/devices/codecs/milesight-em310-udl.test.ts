/**
 * Vectors: Milesight-IoT/SensorDecoders em-series/em310-udl/README.md, "Example":
 *   01755C 03824408 040001 -> battery 92, distance 2116 (mm), position tilt
 */
import { describe, expect, it } from 'vitest';
import { run } from './testing.ts';

describe('milesight-em310-udl', () => {
  it("reads Milesight's example uplink: battery 92 %, distance 2116 mm, tilted", () => {
    const r = run('milesight-em310-udl', 'level', { mountMm: 2500 }, { fPort: 85, payload: '01755C 03824408 040001' });
    expect(r).toEqual({ ok: true, fields: { mm: 2500 - 2116 }, telemetry: { battery: 92, problem: expect.stringMatching(/tilted 20° or more/) } });
  });

  it('a level sensor upright (position 0) has no problem', () => {
    const r = run('milesight-em310-udl', 'level', { mountMm: 1500 }, { fPort: 85, payload: '01755C 03824408 040000' });
    expect(r).toEqual({ ok: true, fields: { mm: 1500 - 2116 }, telemetry: { battery: 92 } });
  });

  it('device information (power on, versions) is no reading', () => {
    const r = run('milesight-em310-udl', 'level', { mountMm: 1500 }, { fPort: 85, payload: 'ff0bff ff0101 ff166329c42903640033 ff090100 ff0a0101 ff0f00' });
    expect(r).toMatchObject({ ok: true, fields: null });
  });

  it('a distance cut short is payload_too_short; an unknown channel before the distance is undecodable', () => {
    expect(run('milesight-em310-udl', 'level', { mountMm: 1500 }, { fPort: 85, payload: '01755C 038244' })).toMatchObject({ ok: false, rejection: { code: 'payload_too_short' } });
    expect(run('milesight-em310-udl', 'level', { mountMm: 1500 }, { fPort: 85, payload: '0967f800 03824408' })).toMatchObject({ ok: false, rejection: { code: 'undecodable_payload', reason: expect.stringMatching(/channel 0x09 type 0x67 at byte 0/) } });
  });

  it('keeps the distance when an unknown channel follows it', () => {
    expect(run('milesight-em310-udl', 'level', { mountMm: 2500 }, { fPort: 85, payload: '03824408 0967f800' })).toMatchObject({ ok: true, fields: { mm: 384 } });
  });

  it('reads any application port unless fPort narrows it', () => {
    expect(run('milesight-em310-udl', 'level', { mountMm: 2500 }, { fPort: 3, payload: '03824408' })).toMatchObject({ ok: true });
    expect(run('milesight-em310-udl', 'level', { mountMm: 2500, fPort: 85 }, { fPort: 3, payload: '03824408' })).toMatchObject({ ok: false, rejection: { code: 'unknown_fport' } });
    expect(run('milesight-em310-udl', 'level', { mountMm: 2500 }, { fPort: 224, payload: '03824408' })).toMatchObject({ ok: false, rejection: { code: 'unknown_fport' } });
  });
});
