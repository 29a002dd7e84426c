/**
 * Vectors: Nwave's example uplinks in TheThingsNetwork/lorawan-devices
 *   vendor/nwave/nps405-codec.yaml: FPort 1 [0x95] -> parking_status, occupied true;
 *     FPort 2 [00 D3 D8 00 59 0B] -> heartbeat, occupied false;
 *     FPort 3 [02 04 09 02 00] -> startup; FPort 10 [D1 20 1F 34 56 78] -> user_registration
 *   vendor/nwave/nps310sm-codec.yaml: FPort 1 [1] -> occupied true; FPort 2 [0] -> occupied false
 * and Nwave's "LoRaWAN Parking Sensor - Getting Started", 4.2: occupancy is bit 0 of byte 0.
 */
import { describe, expect, it } from 'vitest';
import { run } from './testing.ts';

describe('nwave-nps', () => {
  it.each([
    ['NPS405 parking status', 1, '95', true],
    ['NPS405 heartbeat', 2, '00D3D800590B', false],
    ['NPS310 parking status', 1, '01', true],
    ['NPS310 heartbeat', 2, '00', false],
  ])('%s -> occupied %s', (_what, fPort, payload, occupied) => {
    expect(run('nwave-nps', 'bay', undefined, { fPort, payload })).toMatchObject({ ok: true, fields: { occupied } });
  });

  it('startup and tag registration are no reading', () => {
    expect(run('nwave-nps', 'bay', {}, { fPort: 3, payload: '0204090200' })).toMatchObject({ ok: true, fields: null, note: 'startup uplink' });
    expect(run('nwave-nps', 'bay', {}, { fPort: 10, payload: 'D1201F345678' })).toMatchObject({ ok: true, fields: null });
  });

  it('refuses other FPorts and an empty status', () => {
    expect(run('nwave-nps', 'bay', {}, { fPort: 7, payload: '01' })).toMatchObject({ ok: false, rejection: { code: 'unknown_fport' } });
    expect(run('nwave-nps', 'bay', {}, { fPort: 1, payload: '' })).toMatchObject({ ok: false, rejection: { code: 'payload_too_short' } });
  });
});
