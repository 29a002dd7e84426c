/**
 * The `decoded` codec reads the network server's own decoded object. Wrong types are refused, never
 * stored: the strings come from Dragino's published decoder outputs (TheThingsNetwork/lorawan-devices
 * vendor/dragino/ldds75-114-codec.yaml: `'Distance': "2799 mm"`, `'TempC_DS18B20': "0.00"`; the issue's
 * "2116 mm" is Milesight's EM310-UDL example distance rendered the same way).
 */
import { describe, expect, it } from 'vitest';
import { CODECS } from './index.ts';
import { run } from './testing.ts';

describe('decoded', () => {
  it('passes the section-1 fields of a decoded object through, renamed by params.fields (dotted paths too)', () => {
    expect(run('decoded', 'level', { fields: { mm: 'water_level' } }, { fPort: 1, decoded: { water_level: 412, battery: 88 } })).toEqual({ ok: true, fields: { mm: 412 }, telemetry: { battery: 88 } });
    expect(run('decoded', 'bay', {}, { fPort: 1, decoded: { occupied: true, battery: 77, rssi: -90 } })).toEqual({ ok: true, fields: { occupied: true, battery: 77 }, telemetry: { battery: 77 } });
    expect(run('decoded', 'venue', { fields: { in: 'counts.in', out: 'counts.out' } }, { fPort: 1, decoded: { counts: { in: 3, out: 1 } } })).toMatchObject({ fields: { in: 3, out: 1 } });
    expect(run('decoded', 'pump', {}, { fPort: 1, decoded: { running: false } })).toMatchObject({ fields: { running: false } });
    expect(run('decoded', 'gate', {}, { fPort: 1, decoded: { event: 'entry', pass: 'QR-1' } })).toMatchObject({ fields: { event: 'entry', pass: 'QR-1' } });
  });

  it.each([
    ['"2799 mm" for the distance', 'level', { fields: { mm: 'Distance' } }, { Bat: 3.387, Distance: '2799 mm' }, /decoded field "Distance" \(read as "mm"\) is the string "2799 mm"/],
    ['"2116 mm"', 'level', { fields: { mm: 'distance' } }, { distance: '2116 mm' }, /is the string "2116 mm"/],
    ['a numeric string', 'level', {}, { mm: '412' }, /is the string "412"; "mm" must be a number/],
    ['1 for occupied', 'bay', {}, { occupied: 1 }, /"occupied" must be true or false/],
    ['"occupied" for occupied', 'bay', {}, { occupied: 'occupied' }, /is the string "occupied"/],
    ['a fractional count', 'venue', {}, { in: 1.5, out: 0 }, /"in" must be a whole number/],
    ['a string battery on a bay', 'bay', {}, { occupied: true, battery: '92%' }, /"battery" must be a number/],
  ])('refuses %s with a reason naming the decoded field', (_what, kind, params, decoded, reason) => {
    const r = run('decoded', kind as 'level', params, { fPort: 2, decoded });
    expect(r).toMatchObject({ ok: false, rejection: { code: 'wrong_type' } });
    expect(r.ok ? '' : r.rejection.reason).toMatch(reason);
  });

  it('refuses a missing field and an uplink without a decoded object', () => {
    expect(run('decoded', 'level', {}, { fPort: 1, decoded: { distance: 12 } })).toMatchObject({ ok: false, rejection: { code: 'missing_field', reason: expect.stringMatching(/decoded field "mm" is missing/) } });
    expect(run('decoded', 'level', {}, { fPort: 1 })).toMatchObject({ ok: false, rejection: { code: 'missing_field' } });
  });

  it('drops a wrong battery on a non-bay device from telemetry without losing the reading', () => {
    expect(run('decoded', 'level', {}, { fPort: 1, decoded: { mm: 10, battery: '92 %' } })).toEqual({ ok: true, fields: { mm: 10 }, telemetry: {} });
  });

  it('names the field for params that do not fit the device kind', () => {
    expect(CODECS.get('decoded')!.parseParams({ fields: { distance: 'x' } }, 'level')).toEqual({ ok: false, field: 'params.fields.distance', message: expect.stringMatching(/not a field of a level reading/) });
    expect(CODECS.get('decoded')!.parseParams({ rename: {} }, 'level')).toEqual({ ok: false, field: 'params.rename', message: 'not a parameter of decoded' });
  });
});
