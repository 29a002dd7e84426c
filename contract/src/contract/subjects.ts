/**
 * Subjects: what a reading, an alert or a report is about, as one string. A device's subject is its topic
 * without the prefix (`flood/b1-power/levels/L1`, the alert object's `subject` in docs/api.md); alerts and
 * reports also name groups (`flood/b1-power/levels` is the room's judged level, `parking/A` a zone,
 * `venues/gym` a venue). Every subject string is built and parsed here, nowhere else: the ingest, the
 * alert rules, the reports, the notifier and the dashboard all go through `subject()` and
 * `parseSubject()`.
 */
/** Every id in a subject or topic: `[A-Za-z0-9_-]{1,64}` (docs/api.md, "Ids"). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export type Subject =
  /** the whole car lot */
  | { kind: 'parking' }
  | { kind: 'zone'; zoneId: string }
  | { kind: 'bay'; bayId: string }
  | { kind: 'gate'; gateId: string }
  /** a flood room as a whole (incidents) */
  | { kind: 'room'; roomId: string }
  /** the room's level as the room judge combines its sensors (level, rise and disagreement alerts) */
  | { kind: 'room-level'; roomId: string }
  | { kind: 'level'; roomId: string; sensorId: string }
  | { kind: 'pump'; roomId: string; pumpId: string }
  /** a venue (occupancy alerts, reports) */
  | { kind: 'venue'; venueId: string }
  /** a venue's people counter readings */
  | { kind: 'venue-counts'; venueId: string }
  | { kind: 'device-status'; deviceId: string };

export type SubjectKind = Subject['kind'];

/** The subject string of a structured subject (the inverse of `parseSubject`). */
export function subject(s: Subject): string {
  switch (s.kind) {
    case 'parking':
      return 'parking';
    case 'zone':
      return `parking/${s.zoneId}`;
    case 'bay':
      return `parking/bays/${s.bayId}`;
    case 'gate':
      return `parking/gates/${s.gateId}`;
    case 'room':
      return `flood/${s.roomId}`;
    case 'room-level':
      return `flood/${s.roomId}/levels`;
    case 'level':
      return `flood/${s.roomId}/levels/${s.sensorId}`;
    case 'pump':
      return `flood/${s.roomId}/pumps/${s.pumpId}`;
    case 'venue':
      return `venues/${s.venueId}`;
    case 'venue-counts':
      return `venues/${s.venueId}/counts`;
    case 'device-status':
      return `devices/${s.deviceId}/status`;
  }
}

const id = (x: string | undefined): x is string => x !== undefined && ID_PATTERN.test(x);

/** A subject string back into its parts; null for anything that is not a ParkOps subject. */
export function parseSubject(text: string): Subject | null {
  const p = text.split('/');
  const [a, b, c, d] = p;
  switch (a) {
    case 'parking':
      if (p.length === 1) return { kind: 'parking' };
      if (p.length === 2 && id(b)) return { kind: 'zone', zoneId: b };
      if (p.length === 3 && b === 'bays' && id(c)) return { kind: 'bay', bayId: c };
      if (p.length === 3 && b === 'gates' && id(c)) return { kind: 'gate', gateId: c };
      return null;
    case 'flood':
      if (!id(b)) return null;
      if (p.length === 2) return { kind: 'room', roomId: b };
      if (p.length === 3 && c === 'levels') return { kind: 'room-level', roomId: b };
      if (p.length === 4 && c === 'levels' && id(d)) return { kind: 'level', roomId: b, sensorId: d };
      if (p.length === 4 && c === 'pumps' && id(d)) return { kind: 'pump', roomId: b, pumpId: d };
      return null;
    case 'venues':
      if (!id(b)) return null;
      if (p.length === 2) return { kind: 'venue', venueId: b };
      if (p.length === 3 && c === 'counts') return { kind: 'venue-counts', venueId: b };
      return null;
    case 'devices':
      return p.length === 3 && c === 'status' && id(b) ? { kind: 'device-status', deviceId: b } : null;
    default:
      return null;
  }
}

/** Shorthands for the subjects built most often. */
export const Subjects = {
  parking: (): string => subject({ kind: 'parking' }),
  zone: (zoneId: string): string => subject({ kind: 'zone', zoneId }),
  bay: (bayId: string): string => subject({ kind: 'bay', bayId }),
  gate: (gateId: string): string => subject({ kind: 'gate', gateId }),
  room: (roomId: string): string => subject({ kind: 'room', roomId }),
  roomLevel: (roomId: string): string => subject({ kind: 'room-level', roomId }),
  level: (roomId: string, sensorId: string): string => subject({ kind: 'level', roomId, sensorId }),
  pump: (roomId: string, pumpId: string): string => subject({ kind: 'pump', roomId, pumpId }),
  venue: (venueId: string): string => subject({ kind: 'venue', venueId }),
  venueCounts: (venueId: string): string => subject({ kind: 'venue-counts', venueId }),
  deviceStatus: (deviceId: string): string => subject({ kind: 'device-status', deviceId }),
} as const;

/** The flood room a subject belongs to, if any. */
export function roomOf(s: Subject | null): string | undefined {
  return s !== null && (s.kind === 'room' || s.kind === 'room-level' || s.kind === 'level' || s.kind === 'pump') ? s.roomId : undefined;
}
