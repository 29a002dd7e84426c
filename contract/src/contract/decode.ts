/**
 * The payload decoder: bytes on a topic in, exactly one of a valid reading or a rejection out.
 * It never throws (the fuzz suite holds it to that), so the MQTT adapter can stay dumb.
 */
import type { z } from 'zod';
import { bayPayload, gatePayload, levelPayload, MAX_FUTURE_MS, MAX_PAYLOAD_BYTES, pumpPayload, statusPayload, venuePayload } from './payloads.ts';
import type { Reading } from './readings.ts';
import { rejection, type Rejection } from './reasons.ts';
import type { DeviceTopic, Topics } from './topics.ts';

/** What the decoder needs to know of the site: which ids exist. `Site` satisfies it. */
export interface SiteIds {
  bay(id: string): { zone: string } | undefined;
  gate(id: string): unknown;
  levelSensor(roomId: string, sensorId: string): unknown;
  pump(roomId: string, pumpId: string): unknown;
  venue(id: string): unknown;
  device(id: string): unknown;
  room(id: string): unknown;
}

export type DecodeResult = { ok: true; reading: Reading } | { ok: false; rejection: Rejection };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function reject(code: Rejection['code'], detail: string): DecodeResult {
  return { ok: false, rejection: rejection(code, detail) };
}

function zodRejection(error: z.ZodError, input: Record<string, unknown>): DecodeResult {
  const issue = error.issues[0];
  if (issue === undefined) return reject('wrong_type', 'payload does not match the schema');
  const field = issue.path.length > 0 ? issue.path.join('.') : 'payload';
  if (field === 'ts' && Object.hasOwn(input, 'ts')) return reject('invalid_time', `"ts": must be an ISO 8601 time with a zone offset or non-negative epoch milliseconds`);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.path.length === 1 && !Object.hasOwn(input, String(issue.path[0]))) return reject('missing_field', `"${field}" is required`);
      return reject('wrong_type', `"${field}": ${issue.message}`);
    case 'too_big':
    case 'too_small':
      return reject('out_of_range', `"${field}": ${issue.message}`);
    case 'invalid_value':
      return reject('wrong_type', `"${field}": ${issue.message}`);
    case 'invalid_format':
      return reject(field === 'ts' ? 'invalid_time' : 'wrong_type', `"${field}": ${issue.message}`);
    case 'invalid_union':
      return reject(field === 'ts' ? 'invalid_time' : 'wrong_type', `"${field}": must be an ISO 8601 time with offset or epoch milliseconds`);
    default:
      return reject(field === 'ts' ? 'invalid_time' : 'wrong_type', `"${field}": ${issue.message}`);
  }
}

function parseTime(ts: number | string | undefined, receivedAt: number): number | Rejection {
  if (ts === undefined) return receivedAt;
  const ms = typeof ts === 'number' ? ts : Date.parse(ts);
  if (!Number.isFinite(ms)) return rejection('invalid_time', `"ts": ${JSON.stringify(ts)} is not a valid time`);
  if (ms > receivedAt + MAX_FUTURE_MS) {
    // Past the end of the Date range (8.64e15 ms) toISOString throws: name the raw value instead.
    const when = ms <= 8.64e15 ? new Date(ms).toISOString() : JSON.stringify(ts);
    return rejection('future_time', `"ts" ${when} is more than 5 minutes ahead of the server clock`);
  }
  return ms;
}

/** Checks that every id in the topic exists in the site configuration. */
function unknownId(t: DeviceTopic, site: SiteIds): string | null {
  switch (t.kind) {
    case 'bay':
      return site.bay(t.bayId) ? null : `bay "${t.bayId}" is not in the site configuration`;
    case 'gate':
      return site.gate(t.gateId) ? null : `gate "${t.gateId}" is not in the site configuration`;
    case 'level':
      if (!site.room(t.roomId)) return `flood room "${t.roomId}" is not in the site configuration`;
      return site.levelSensor(t.roomId, t.sensorId) ? null : `level sensor "${t.sensorId}" is not in room "${t.roomId}"`;
    case 'pump':
      if (!site.room(t.roomId)) return `flood room "${t.roomId}" is not in the site configuration`;
      return site.pump(t.roomId, t.pumpId) ? null : `pump "${t.pumpId}" is not in room "${t.roomId}"`;
    case 'venue':
      return site.venue(t.venueId) ? null : `venue "${t.venueId}" is not in the site configuration`;
    case 'status':
      return site.device(t.deviceId) ? null : `device "${t.deviceId}" is not in the site configuration`;
  }
}

export interface DecodeContext {
  topics: Topics;
  site: SiteIds;
  /** Server clock at receipt, epoch ms. */
  receivedAt: number;
}

/** Decodes one device message. Topics ParkOps itself publishes (alerts, rejected, ops) must be filtered out before. */
export function decodeMessage(topic: string, payload: Uint8Array, ctx: DecodeContext): DecodeResult {
  try {
    return decodeUnsafe(topic, payload, ctx);
  } catch (err) {
    // Defence in depth: the decoder is written not to throw; if it ever does, the message is still rejected, not lost in a crash.
    return reject('wrong_type', `payload could not be decoded (${err instanceof Error ? err.name : 'error'})`);
  }
}

function decodeUnsafe(topic: string, payload: Uint8Array, ctx: DecodeContext): DecodeResult {
  const parsed = ctx.topics.parse(topic);
  if (parsed.kind === 'foreign') return reject('unknown_topic', `topic is not under the prefix "${ctx.topics.prefix}/"`);
  if (parsed.kind === 'unknown') return reject('unknown_topic', parsed.why);
  if (parsed.kind === 'alert' || parsed.kind === 'rejected' || parsed.kind === 'ops') {
    return reject('unknown_topic', 'topic is reserved for messages ParkOps publishes');
  }
  if (parsed.kind === 'warning') return reject('unknown_topic', 'warnings topics carry CAP XML for the warnings module, not device readings');
  if (payload.byteLength > MAX_PAYLOAD_BYTES) return reject('payload_too_large', `${payload.byteLength} bytes, the limit is ${MAX_PAYLOAD_BYTES}`);
  const missing = unknownId(parsed, ctx.site);
  if (missing !== null) return reject('unknown_id', missing);

  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return reject('invalid_utf8', 'payload is not valid UTF-8');
  }
  const subject = ctx.topics.subjectOf(parsed);

  if (parsed.kind === 'status') {
    const word = text.trim();
    // Devices send the bare word; a JSON string "online" is accepted too, since some firmware JSON-encodes everything.
    const unquoted = word.length >= 2 && word.startsWith('"') && word.endsWith('"') ? word.slice(1, -1) : word;
    const status = statusPayload.safeParse(unquoted);
    if (!status.success) return reject('invalid_status', `status must be the string online or offline, got ${JSON.stringify(word.slice(0, 40))}`);
    return { ok: true, reading: { kind: 'status', subject, deviceId: parsed.deviceId, online: status.data === 'online', ts: ctx.receivedAt } };
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return reject('invalid_json', 'payload is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return reject('not_an_object', `payload must be a JSON object, got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : typeof json}`);
  }

  const withTime = <T extends { ts?: number | string | undefined }>(schema: z.ZodType<T>, build: (p: T, ts: number) => Reading): DecodeResult => {
    const r = schema.safeParse(json);
    if (!r.success) return zodRejection(r.error, json as Record<string, unknown>);
    const ts = parseTime(r.data.ts, ctx.receivedAt);
    if (typeof ts !== 'number') return { ok: false, rejection: ts };
    return { ok: true, reading: build(r.data, ts) };
  };

  switch (parsed.kind) {
    case 'bay': {
      const zoneId = ctx.site.bay(parsed.bayId)?.zone ?? '';
      return withTime(bayPayload, (p, ts) => ({ kind: 'bay', subject, ts, bayId: parsed.bayId, zoneId, occupied: p.occupied, battery: p.battery }));
    }
    case 'gate':
      return withTime(gatePayload, (p, ts) => ({ kind: 'gate', subject, ts, gateId: parsed.gateId, event: p.event, pass: p.pass }));
    case 'level':
      return withTime(levelPayload, (p, ts) => ({ kind: 'level', subject, ts, roomId: parsed.roomId, sensorId: parsed.sensorId, mm: p.mm }));
    case 'pump':
      return withTime(pumpPayload, (p, ts) => ({ kind: 'pump', subject, ts, roomId: parsed.roomId, pumpId: parsed.pumpId, running: p.running, amps: p.amps }));
    case 'venue':
      return withTime(venuePayload, (p, ts) => ({ kind: 'venue', subject, ts, venueId: parsed.venueId, in: p.in, out: p.out }));
  }
}
