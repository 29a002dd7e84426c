/**
 * MQTT topics of the ParkOps contract (shared/CONTRACT.md sections 1 and 2).
 * No other module builds a topic string by hand: devices, simulators, ingest and tests call these.
 */

/** Every id in a topic: `[A-Za-z0-9_-]{1,64}` (CONTRACT.md section 1). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const DEFAULT_TOPIC_PREFIX = 'park';

export type DeviceTopic =
  | { kind: 'bay'; bayId: string }
  | { kind: 'gate'; gateId: string }
  | { kind: 'level'; roomId: string; sensorId: string }
  | { kind: 'pump'; roomId: string; pumpId: string }
  | { kind: 'venue'; venueId: string }
  | { kind: 'status'; deviceId: string };

export type ReadingKind = DeviceTopic['kind'];

/** Topics ParkOps itself publishes under the prefix; ingest never treats them as device input. */
export type OwnTopic = { kind: 'alert'; alertId: string } | { kind: 'rejected' } | { kind: 'ops'; rest: string };

export type ParsedTopic = DeviceTopic | OwnTopic | { kind: 'unknown'; why: string } | { kind: 'foreign' };

export class Topics {
  readonly prefix: string;
  constructor(prefix: string = DEFAULT_TOPIC_PREFIX) {
    this.prefix = prefix;
  }

  bay(bayId: string): string {
    return `${this.prefix}/parking/bays/${bayId}`;
  }
  gate(gateId: string): string {
    return `${this.prefix}/parking/gates/${gateId}`;
  }
  level(roomId: string, sensorId: string): string {
    return `${this.prefix}/flood/${roomId}/levels/${sensorId}`;
  }
  pump(roomId: string, pumpId: string): string {
    return `${this.prefix}/flood/${roomId}/pumps/${pumpId}`;
  }
  venue(venueId: string): string {
    return `${this.prefix}/venues/${venueId}/counts`;
  }
  deviceStatus(deviceId: string): string {
    return `${this.prefix}/devices/${deviceId}/status`;
  }
  alert(alertId: string): string {
    return `${this.prefix}/alerts/${alertId}`;
  }
  get alerts(): string {
    return `${this.prefix}/alerts/#`;
  }
  get rejected(): string {
    return `${this.prefix}/rejected`;
  }
  get opsStatus(): string {
    return `${this.prefix}/ops/status`;
  }
  /** One wildcard for everything devices send: unknown topics under the prefix are rejected, not ignored. */
  get deviceSubscription(): string {
    return `${this.prefix}/#`;
  }

  /** Topic of a decoded device topic (the inverse of `parse`). */
  of(t: DeviceTopic): string {
    switch (t.kind) {
      case 'bay':
        return this.bay(t.bayId);
      case 'gate':
        return this.gate(t.gateId);
      case 'level':
        return this.level(t.roomId, t.sensorId);
      case 'pump':
        return this.pump(t.roomId, t.pumpId);
      case 'venue':
        return this.venue(t.venueId);
      case 'status':
        return this.deviceStatus(t.deviceId);
    }
  }

  /** Subject of a reading: its topic without the prefix, e.g. `flood/b1-power/levels/L1` (CONTRACT.md section 4). */
  subjectOf(t: DeviceTopic): string {
    return this.of(t).slice(this.prefix.length + 1);
  }

  /**
   * Exactly `parse(topic)` being an OwnTopic (alert, rejected, ops), without splitting the topic: ingest
   * asks this of every message, to pass over what ParkOps published itself.
   */
  isOwn(topic: string): boolean {
    const p = this.prefix.length + 1;
    if (topic.length <= p || topic.charCodeAt(p - 1) !== 0x2f || !topic.startsWith(this.prefix)) return false;
    const rest = topic.slice(p);
    if (rest === 'rejected' || rest === 'ops' || rest.startsWith('ops/')) return true;
    return rest.startsWith('alerts/') && rest.indexOf('/', 7) === -1;
  }

  parse(topic: string): ParsedTopic {
    if (!topic.startsWith(`${this.prefix}/`)) return { kind: 'foreign' };
    const parts = topic.slice(this.prefix.length + 1).split('/');
    const [a, b, c, d, ...rest] = parts;
    if (a === 'alerts' && b !== undefined && c === undefined) return { kind: 'alert', alertId: b };
    if (a === 'rejected' && b === undefined) return { kind: 'rejected' };
    if (a === 'ops') return { kind: 'ops', rest: parts.slice(1).join('/') };
    const bad = (why: string): ParsedTopic => ({ kind: 'unknown', why });
    const id = (s: string | undefined, what: string): string | null => (s !== undefined && ID_PATTERN.test(s) ? s : null);
    if (rest.length > 0) return bad('too many topic levels');
    if (a === 'parking' && (b === 'bays' || b === 'gates') && d === undefined) {
      const x = id(c, b);
      if (x === null) return bad(`${b === 'bays' ? 'bay' : 'gate'} id must match [A-Za-z0-9_-]{1,64}`);
      return b === 'bays' ? { kind: 'bay', bayId: x } : { kind: 'gate', gateId: x };
    }
    if (a === 'flood' && (c === 'levels' || c === 'pumps')) {
      const room = id(b, 'room');
      const dev = id(d, c);
      if (room === null || dev === null) return bad('room and device ids must match [A-Za-z0-9_-]{1,64}');
      return c === 'levels' ? { kind: 'level', roomId: room, sensorId: dev } : { kind: 'pump', roomId: room, pumpId: dev };
    }
    if (a === 'venues' && c === 'counts' && d === undefined) {
      const v = id(b, 'venue');
      if (v === null) return bad('venue id must match [A-Za-z0-9_-]{1,64}');
      return { kind: 'venue', venueId: v };
    }
    if (a === 'devices' && c === 'status' && d === undefined) {
      const dev = id(b, 'device');
      if (dev === null) return bad('device id must match [A-Za-z0-9_-]{1,64}');
      return { kind: 'status', deviceId: dev };
    }
    return bad('not a ParkOps device topic');
  }
}
