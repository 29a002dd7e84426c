/** Line protocol and credentials of the InfluxDB store (the server round-trip is in test/integration). */
import { describe, expect, it } from 'vitest';
import { authHeaders, toLine } from './influx-store.ts';

const ts = Date.UTC(2026, 0, 5, 8, 30);

describe('toLine', () => {
  it('writes one measurement per kind, ids as tags, values as typed fields, ms timestamps', () => {
    expect(toLine({ kind: 'bay', subject: 'parking/bays/A-001', ts, bayId: 'A-001', zoneId: 'A', occupied: true, battery: 87.5 })).toBe(`parking_bay,bay=A-001,zone=A battery=87.5,occupied=1i ${ts}`);
    expect(toLine({ kind: 'bay', subject: 'parking/bays/A-001', ts, bayId: 'A-001', zoneId: 'A', occupied: false })).toBe(`parking_bay,bay=A-001,zone=A occupied=0i ${ts}`);
    expect(toLine({ kind: 'gate', subject: 'parking/gates/north-in', ts, gateId: 'north-in', event: 'exit', pass: 'QR 7' })).toBe(`parking_gate,gate=north-in event="exit",pass="QR 7" ${ts}`);
    expect(toLine({ kind: 'level', subject: 'flood/r/levels/L1', ts, roomId: 'r', sensorId: 'L1', mm: -2 })).toBe(`flood_level,room=r,sensor=L1 mm=-2 ${ts}`);
    expect(toLine({ kind: 'pump', subject: 'flood/r/pumps/P1', ts, roomId: 'r', pumpId: 'P1', running: true, amps: 3.25 })).toBe(`flood_pump,pump=P1,room=r amps=3.25,running=1i ${ts}`);
    expect(toLine({ kind: 'venue', subject: 'venues/v/counts', ts, venueId: 'v', in: 4, out: 1, occupancy: 30 })).toBe(`venue_count,venue=v in=4i,occupancy=30i,out=1i ${ts}`);
    expect(toLine({ kind: 'status', subject: 'devices/A-001/status', ts, deviceId: 'A-001', online: false })).toBe(`device_status,device=A-001 online=0i ${ts}`);
  });

  it('escapes string fields so a pass cannot break the line', () => {
    const line = toLine({ kind: 'gate', subject: 'parking/gates/g', ts, gateId: 'g', event: 'entry', pass: 'a"b\\c\nd' });
    expect(line).toBe(`parking_gate,gate=g event="entry",pass="a\\"b\\\\c\nd" ${ts}`);
  });
});

describe('authHeaders', () => {
  it('sends a token with the Token scheme and user:password (InfluxDB 1.x) as Basic auth', () => {
    expect(authHeaders(undefined)).toEqual({});
    expect(authHeaders('')).toEqual({});
    expect(authHeaders('abc==')).toEqual({ authorization: 'Token abc==' });
    expect(authHeaders('parkops:s3cr:et')).toEqual({ authorization: `Basic ${Buffer.from('parkops:s3cr:et').toString('base64')}` });
  });
});
