/**
 * MQTT topics of the ParkOps contract (docs/api.md, MQTT).
 * No other module builds a topic string by hand: devices, simulators, ingest and tests call these.
 */

import { ID_PATTERN, Subjects } from './subjects.ts';

export { ID_PATTERN };

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

/**
 * Official weather warnings (CAP 1.2 XML) that a feed bridge publishes for ParkOps (docs/api.md,
 * official warnings): `{prefix}/warnings/{source}`, source a name of the feed such as `cma`. Input, but not
 * device input: the warnings module takes them, not ingest.
 */
export type WarningTopic = { kind: 'warning'; source: string };

export type ParsedTopic = DeviceTopic | OwnTopic | WarningTopic | { kind: 'unknown'; why: string } | { kind: 'foreign' };

export class Topics {
  readonly prefix: string;
  constructor(prefix: string = DEFAULT_TOPIC_PREFIX) {
    this.prefix = prefix;
  }

  bay(bayId: string): string {
    return `${this.prefix}/${Subjects.bay(bayId)}`;
  }
  gate(gateId: string): string {
    return `${this.prefix}/${Subjects.gate(gateId)}`;
  }
  level(roomId: string, sensorId: string): string {
    return `${this.prefix}/${Subjects.level(roomId, sensorId)}`;
  }
  pump(roomId: string, pumpId: string): string {
    return `${this.prefix}/${Subjects.pump(roomId, pumpId)}`;
  }
  venue(venueId: string): string {
    return `${this.prefix}/${Subjects.venueCounts(venueId)}`;
  }
  deviceStatus(deviceId: string): string {
    return `${this.prefix}/${Subjects.deviceStatus(deviceId)}`;
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
  warning(source: string): string {
    return `${this.prefix}/warnings/${source}`;
  }
  /** A cheap test for the dispatcher in front of ingest: is this a warnings topic (valid or not)? */
  isWarning(topic: string): boolean {
    return topic.startsWith(`${this.prefix}/warnings/`);
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

  /** Subject of a reading: its topic without the prefix, e.g. `flood/b1-power/levels/L1` (docs/api.md, the alert object). */
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

  /** Exactly `parse(topic)` being `foreign` (outside the prefix: e.g. a network server's uplink), cheaply. */
  isForeign(topic: string): boolean {
    return !topic.startsWith(`${this.prefix}/`);
  }

  parse(topic: string): ParsedTopic {
    if (!topic.startsWith(`${this.prefix}/`)) return { kind: 'foreign' };
    const parts = topic.slice(this.prefix.length + 1).split('/');
    const [a, b, c, d, ...rest] = parts;
    if (a === 'alerts' && b !== undefined && c === undefined) return { kind: 'alert', alertId: b };
    if (a === 'rejected' && b === undefined) return { kind: 'rejected' };
    if (a === 'ops') return { kind: 'ops', rest: parts.slice(1).join('/') };
    const bad = (why: string): ParsedTopic => ({ kind: 'unknown', why });
    if (a === 'warnings') {
      if (b === undefined || c !== undefined) return bad('a warnings topic is {prefix}/warnings/{source}');
      return ID_PATTERN.test(b) ? { kind: 'warning', source: b } : bad('warning source must match [A-Za-z0-9_-]{1,64}');
    }
    const id = (s: string | undefined, _what: string): string | null => (s !== undefined && ID_PATTERN.test(s) ? s : null);
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

// ---------------------------------------------------------------------------------------------
// LoRaWAN network-server uplinks (docs/api.md, LoRaWAN). These topics belong to the network server,
// not to ParkOps' prefix; ParkOps only reads them.

export type UplinkNetwork = 'chirpstack' | 'tts';

/** ChirpStack v4's default MQTT integration `event_topic` (chirpstack.toml), for the `up` event. */
export const CHIRPSTACK_UPLINK_FILTER = 'application/+/device/+/event/up';
/** The Things Stack v3 MQTT server: `v3/{application id}@{tenant id}/devices/{device id}/up`. */
export const TTS_UPLINK_FILTER = 'v3/+/devices/+/up';

export interface UplinkTopic {
  network: UplinkNetwork;
  /** From the topic, when it has the network server's default layout. */
  applicationId?: string;
  tenantId?: string;
  /** ChirpStack puts the DevEUI in the topic; The Things Stack its own device id. */
  devEui?: string;
  deviceId?: string;
}

/** MQTT topic-filter matching [MQTT-4.7.1]: `+` is one level, a trailing `#` the rest (and its parent). */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  // [MQTT-4.7.2-1]: wildcards at the first level do not match topics starting with `$`.
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Why a subscription filter is not valid MQTT, or null when it is [MQTT-4.7.1-2], [MQTT-4.7.1-3]. */
export function filterProblem(filter: string): string | null {
  if (filter.length === 0 || filter.length > 512) return 'must be 1 to 512 characters';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return '"#" must be a whole level and the last one';
    if (level.includes('+') && level !== '+') return '"+" must be a whole level';
  }
  return null;
}

export class UplinkTopics {
  constructor(readonly filters: { chirpstack: string | null; tts: string | null }) {}

  /** What to subscribe to: one filter per network that is not switched off. */
  get subscriptions(): string[] {
    return [this.filters.chirpstack, this.filters.tts].filter((f): f is string => f !== null);
  }

  /** The network an uplink topic belongs to, or null when it is not one of the uplink subscriptions. */
  parse(topic: string): UplinkTopic | null {
    const { chirpstack, tts } = this.filters;
    if (chirpstack !== null && topicMatchesFilter(chirpstack, topic)) {
      const p = topic.split('/');
      const found: UplinkTopic = { network: 'chirpstack' };
      if (p.length === 6 && p[0] === 'application' && p[2] === 'device' && p[4] === 'event' && p[5] === 'up') {
        found.applicationId = p[1]!;
        found.devEui = p[3]!;
      }
      return found;
    }
    if (tts !== null && topicMatchesFilter(tts, topic)) {
      const p = topic.split('/');
      const found: UplinkTopic = { network: 'tts' };
      if (p.length === 5 && p[0] === 'v3' && p[2] === 'devices' && p[4] === 'up') {
        const [app, tenant] = p[1]!.split('@');
        found.applicationId = app!;
        if (tenant !== undefined) found.tenantId = tenant;
        found.deviceId = p[3]!;
      }
      return found;
    }
    return null;
  }

  /** The topic ChirpStack v4 publishes an uplink on with its default event topic template. */
  static chirpstackUp(applicationId: string, devEui: string): string {
    return `application/${applicationId}/device/${devEui}/event/up`;
  }

  /** The topic The Things Stack v3 publishes an uplink on (`@tenant` only on multi-tenant clusters). */
  static ttsUp(applicationId: string, deviceId: string, tenantId?: string): string {
    return `v3/${applicationId}${tenantId === undefined ? '' : `@${tenantId}`}/devices/${deviceId}/up`;
  }
}
