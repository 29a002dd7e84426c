import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSubject, roomOf, subject, Subjects, type Subject } from './subjects.ts';
import { Topics } from './topics.ts';

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const anySubject: fc.Arbitrary<Subject> = fc.oneof(
  fc.constant<Subject>({ kind: 'parking' }),
  id.map((zoneId): Subject => ({ kind: 'zone', zoneId })),
  id.map((bayId): Subject => ({ kind: 'bay', bayId })),
  id.map((gateId): Subject => ({ kind: 'gate', gateId })),
  id.map((roomId): Subject => ({ kind: 'room', roomId })),
  id.map((roomId): Subject => ({ kind: 'room-level', roomId })),
  fc.tuple(id, id).map(([roomId, sensorId]): Subject => ({ kind: 'level', roomId, sensorId })),
  fc.tuple(id, id).map(([roomId, pumpId]): Subject => ({ kind: 'pump', roomId, pumpId })),
  id.map((venueId): Subject => ({ kind: 'venue', venueId })),
  id.map((venueId): Subject => ({ kind: 'venue-counts', venueId })),
  id.map((deviceId): Subject => ({ kind: 'device-status', deviceId })),
);

describe('subjects', () => {
  it('parse back to what built them, for every kind', () => {
    fc.assert(
      fc.property(anySubject, (s) => {
        expect(parseSubject(subject(s))).toEqual(s);
      }),
    );
  });

  it('are the device topics without the prefix', () => {
    const topics = new Topics('site/one');
    expect(topics.level('b1-power', 'L1')).toBe(`site/one/${Subjects.level('b1-power', 'L1')}`);
    expect(Subjects.level('b1-power', 'L1')).toBe('flood/b1-power/levels/L1');
    expect(topics.subjectOf({ kind: 'venue', venueId: 'gym' })).toBe(Subjects.venueCounts('gym'));
    expect(topics.subjectOf({ kind: 'status', deviceId: 'P2' })).toBe('devices/P2/status');
  });

  it('name the groups that alerts and reports use', () => {
    expect(Subjects.roomLevel('b1-power')).toBe('flood/b1-power/levels');
    expect(Subjects.zone('A')).toBe('parking/A');
    expect(Subjects.venue('gym')).toBe('venues/gym');
    expect(roomOf(parseSubject('flood/b1-power/pumps/P2'))).toBe('b1-power');
    expect(roomOf(parseSubject('venues/gym'))).toBeUndefined();
  });

  it('refuse what is not a subject', () => {
    for (const bad of ['', 'park/parking', 'parking/bays/', 'parking/A/B', 'flood', 'flood/r/levels/L1/x', 'flood/r/valves/V1', 'venues', 'venues/gym/doors', 'devices/P2', 'flood/bad id/levels', 'parking/' + 'x'.repeat(65)]) {
      expect(parseSubject(bad), bad).toBeNull();
    }
  });
});
