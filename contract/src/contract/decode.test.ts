import { describe, expect, it } from 'vitest';
import { loadSite } from '../site/index.ts';
import { decodeMessage, type DecodeResult } from './decode.ts';
import { REJECTION_CODES, type RejectionCode } from './reasons.ts';
import { Topics } from './topics.ts';

const site = loadSite();
const topics = new Topics('park');
const NOW = Date.parse('2026-07-21T08:00:00Z');
const dec = (topic: string, payload: string | Uint8Array): DecodeResult =>
  decodeMessage(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, { topics, site, receivedAt: NOW });
const code = (r: DecodeResult): RejectionCode | 'ok' => (r.ok ? 'ok' : r.rejection.code);

describe('decodeMessage accepts every device topic docs/api.md lists', () => {
  it('bay with ISO time, battery and extra diagnostic fields', () => {
    const r = dec('park/parking/bays/B-001', '{"occupied":true,"ts":"2026-07-21T15:59:00+08:00","battery":87.5,"rssi":-71}');
    expect(r).toEqual({ ok: true, reading: { kind: 'bay', subject: 'parking/bays/B-001', bayId: 'B-001', zoneId: 'B', occupied: true, battery: 87.5, ts: Date.parse('2026-07-21T07:59:00Z') } });
  });
  it('gate, level, pump, venue and status', () => {
    expect(dec('park/parking/gates/north-in', '{"event":"entry","pass":"QR-8841"}')).toMatchObject({ ok: true, reading: { kind: 'gate', event: 'entry', pass: 'QR-8841', ts: NOW } });
    expect(dec('park/flood/b1-power/levels/L2', `{"mm":-12.5,"ts":${NOW - 1000}}`)).toMatchObject({ ok: true, reading: { kind: 'level', roomId: 'b1-power', sensorId: 'L2', mm: -12.5, ts: NOW - 1000, subject: 'flood/b1-power/levels/L2' } });
    expect(dec('park/flood/b1-power/pumps/P1', '{"running":true,"amps":6.2}')).toMatchObject({ ok: true, reading: { kind: 'pump', running: true, amps: 6.2 } });
    expect(dec('park/venues/gym/counts', '{"in":3,"out":0}')).toMatchObject({ ok: true, reading: { kind: 'venue', venueId: 'gym', in: 3, out: 0 } });
    expect(dec('park/devices/L1/status', 'offline')).toMatchObject({ ok: true, reading: { kind: 'status', deviceId: 'L1', online: false } });
    expect(dec('park/devices/gym-counter/status', 'online')).toMatchObject({ ok: true, reading: { kind: 'status', online: true } });
  });
  it('a time exactly 5 minutes ahead is still accepted (clock skew allowance)', () => {
    expect(code(dec('park/flood/b1-power/levels/L1', `{"mm":1,"ts":${NOW + 5 * 60_000}}`))).toBe('ok');
  });
});

describe('decodeMessage rejects, with a reason, every rejection docs/api.md lists for device messages', () => {
  const cases: Array<[RejectionCode, string, string | Uint8Array]> = [
    ['payload_too_large', 'park/parking/bays/A-001', `{"occupied":true,"pad":"${'x'.repeat(4100)}"}`],
    ['invalid_utf8', 'park/parking/bays/A-001', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
    ['invalid_json', 'park/parking/bays/A-001', '{"occupied":tru'],
    ['not_an_object', 'park/parking/bays/A-001', '[true]'],
    ['missing_field', 'park/parking/bays/A-001', '{"battery":50}'],
    ['wrong_type', 'park/parking/bays/A-001', '{"occupied":"yes"}'],
    ['out_of_range', 'park/flood/b1-power/levels/L1', '{"mm":10001}'],
    ['invalid_time', 'park/flood/b1-power/levels/L1', '{"mm":1,"ts":"2026-07-21T08:00:00"}'],
    ['future_time', 'park/flood/b1-power/levels/L1', `{"mm":1,"ts":${NOW + 5 * 60_000 + 1}}`],
    ['unknown_topic', 'park/parking/spaces/A-001', '{"occupied":true}'],
    ['unknown_id', 'park/parking/bays/Z-999', '{"occupied":true}'],
    ['invalid_status', 'park/devices/L1/status', 'maybe'],
  ];
  it.each(cases)('%s', (expected, topic, payload) => {
    const r = dec(topic, payload);
    expect(code(r)).toBe(expected);
    if (!r.ok) expect(r.rejection.reason).toMatch(new RegExp(`^${expected}: .+`));
  });
  it('covers every rejection code', () => {
    expect(new Set(cases.map((c) => c[0]))).toEqual(new Set(REJECTION_CODES));
  });
  it.each([
    ['negative battery', 'park/parking/bays/A-001', '{"occupied":true,"battery":-1}', 'out_of_range'],
    ['fractional people count', 'park/venues/gym/counts', '{"in":1.5,"out":0}', 'wrong_type'],
    ['negative amps', 'park/flood/b1-power/pumps/P1', '{"running":true,"amps":-0.1}', 'out_of_range'],
    ['empty pass', 'park/parking/gates/north-in', '{"event":"entry","pass":""}', 'out_of_range'],
    ['65-char pass', 'park/parking/gates/north-in', `{"event":"entry","pass":"${'p'.repeat(65)}"}`, 'out_of_range'],
    ['unknown gate event', 'park/parking/gates/north-in', '{"event":"reverse","pass":"x"}', 'wrong_type'],
    ['null field', 'park/parking/bays/A-001', '{"occupied":null}', 'wrong_type'],
    ['pump in another room', 'park/flood/b2-store/pumps/P1', '{"running":true}', 'unknown_id'],
    ['level sensor id of a pump', 'park/flood/b1-power/levels/P1', '{"mm":1}', 'unknown_id'],
    ['bad id characters', 'park/parking/bays/A 001', '{"occupied":true}', 'unknown_topic'],
    ['too many levels', 'park/venues/gym/counts/extra', '{"in":1,"out":0}', 'unknown_topic'],
    ['outside the prefix', 'other/parking/bays/A-001', '{"occupied":true}', 'unknown_topic'],
    ['reserved alerts topic', 'park/alerts/x', '{}', 'unknown_topic'],
    ['huge number becomes Infinity', 'park/flood/b1-power/levels/L1', '{"mm":1e400}', 'wrong_type'],
    ['NaN as a string', 'park/flood/b1-power/levels/L1', '{"mm":"NaN"}', 'wrong_type'],
    ['negative epoch', 'park/flood/b1-power/levels/L1', '{"mm":1,"ts":-5}', 'invalid_time'],
    ['unknown device status', 'park/devices/nobody/status', 'online', 'unknown_id'],
  ])('%s', (_name, topic, payload, expected) => {
    expect(code(dec(topic, payload))).toBe(expected);
  });
});
