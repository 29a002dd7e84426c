/**
 * Network-server uplinks (docs/api.md, LoRaWAN) read into one shape, whichever server sent them:
 *
 * - ChirpStack v4, JSON marshaler: the `UplinkEvent` in the Protobuf JSON mapping. Proto3 leaves
 *   fields that hold their default value (0, false, "") out of the JSON, so an absent `fPort` or
 *   `fCnt` is 0, not an error (ChirpStack's own example uplink has no `fCnt`).
 * - The Things Stack v3: `end_device_ids`, `received_at` and `uplink_message`. Its documentation says
 *   empty fields are omitted too, and its MQTT example has no top-level `received_at`.
 *
 * Never throws: every problem is a Rejection naming the field.
 */
import { timeSchema } from '@parkops/contract/payloads.ts';
import { rejection, type Rejection } from '@parkops/contract/reasons.ts';
import type { UplinkNetwork, UplinkTopic } from '@parkops/contract/topics.ts';

export interface Uplink {
  network: UplinkNetwork;
  /** 16 upper-case hex digits. */
  devEui: string;
  /** When the network server received it, epoch ms; undefined when the uplink carries no time. */
  time: number | undefined;
  /** LoRaWAN FPort; 0 (MAC commands only) when absent. */
  fPort: number;
  fCnt: number;
  /** FRMPayload, base64 as sent; undefined when the uplink had none. */
  data: string | undefined;
  /** The network server's decoded payload (`object` / `decoded_payload`), when it has a codec. */
  decoded: Record<string, unknown> | undefined;
  /** Best reception over all gateways that heard it: dBm and dB. */
  rssi: number | undefined;
  snr: number | undefined;
  /** The network server's name for the device. */
  name: string | undefined;
  applicationId: string | undefined;
}

export type UplinkResult = { ok: true; uplink: Uplink } | { ok: false; rejection: Rejection };

/** Uplink JSON is larger than a section-1 payload: one rxInfo entry per gateway that heard the frame. */
export const MAX_UPLINK_BYTES = 64 * 1024;

const DEV_EUI = /^[0-9A-Fa-f]{16}$/;

/** A DevEUI as ParkOps stores it (16 upper-case hex digits), or null when it is not 16 hex digits. */
export function normalizeDevEui(value: unknown): string | null {
  return typeof value === 'string' && DEV_EUI.test(value) ? value.toUpperCase() : null;
}

/**
 * Protobuf's JSON mapping writes bytes as standard base64 with padding and accepts standard or
 * URL-safe, with or without padding, when reading; so does this. Null when it is not base64.
 */
export function decodeBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return null;
  const body = text.replace(/=+$/, '');
  if (body.length % 4 === 1) return null;
  if (text.length !== body.length && text.length % 4 !== 0) return null;
  return new Uint8Array(Buffer.from(body, 'base64'));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

type Field<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };
const bad = (code: Rejection['code'], detail: string): { ok: false; rejection: Rejection } => ({ ok: false, rejection: rejection(code, detail) });

function optionalUint(obj: Record<string, unknown>, key: string, path: string, max: number): Field<number> {
  const v = obj[key];
  if (v === undefined || v === null) return { ok: true, value: 0 };
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) return bad('wrong_type', `"${path}" must be a whole number 0..${max}, got ${JSON.stringify(v).slice(0, 40)}`);
  return { ok: true, value: v };
}

function optionalString(obj: Record<string, unknown>, key: string, path: string): Field<string | undefined> {
  const v = obj[key];
  if (v === undefined || v === null) return { ok: true, value: undefined };
  if (typeof v !== 'string') return bad('wrong_type', `"${path}" must be a string, got ${typeof v}`);
  return { ok: true, value: v };
}

function optionalObject(obj: Record<string, unknown>, key: string, path: string): Field<Record<string, unknown> | undefined> {
  const v = obj[key];
  if (v === undefined || v === null) return { ok: true, value: undefined };
  if (!isObject(v)) return bad('wrong_type', `"${path}" must be a JSON object`);
  return { ok: true, value: v };
}

function time(value: unknown, path: string): Field<number | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  const parsed = timeSchema.safeParse(value);
  const ms = parsed.success ? (typeof parsed.data === 'number' ? parsed.data : Date.parse(parsed.data)) : NaN;
  if (!Number.isFinite(ms)) return bad('invalid_time', `"${path}": ${JSON.stringify(value).slice(0, 60)} is not an ISO 8601 time with a zone offset`);
  return { ok: true, value: ms };
}

/** Best RSSI and SNR over the gateways' reception records; entries without numbers are skipped. */
function reception(list: unknown): { rssi: number | undefined; snr: number | undefined } {
  let rssi: number | undefined;
  let snr: number | undefined;
  if (!Array.isArray(list)) return { rssi, snr };
  for (const rx of list) {
    if (!isObject(rx)) continue;
    if (typeof rx.rssi === 'number' && Number.isFinite(rx.rssi)) rssi = rssi === undefined ? rx.rssi : Math.max(rssi, rx.rssi);
    if (typeof rx.snr === 'number' && Number.isFinite(rx.snr)) snr = snr === undefined ? rx.snr : Math.max(snr, rx.snr);
  }
  return { rssi, snr };
}

function devEuiFrom(value: unknown, path: string): Field<string> {
  if (value === undefined || value === null) return bad('missing_field', `"${path}" is required`);
  const eui = normalizeDevEui(value);
  if (eui === null) return bad('wrong_type', `"${path}" must be 16 hex digits, got ${JSON.stringify(value).slice(0, 40)}`);
  return { ok: true, value: eui };
}

/** Reads a ChirpStack v4 `UplinkEvent` (JSON marshaler). */
function chirpstack(json: Record<string, unknown>, topic: UplinkTopic): UplinkResult {
  const info = optionalObject(json, 'deviceInfo', 'deviceInfo');
  if (!info.ok) return info;
  if (info.value === undefined) return bad('missing_field', '"deviceInfo" is required (is the integration set to the JSON marshaler?)');
  const eui = devEuiFrom(info.value.devEui, 'deviceInfo.devEui');
  if (!eui.ok) return eui;
  if (topic.devEui !== undefined && topic.devEui.toUpperCase() !== eui.value) {
    return bad('unknown_topic', `the topic names DevEUI ${topic.devEui} but deviceInfo.devEui is ${eui.value}`);
  }
  const t = time(json.time, 'time');
  if (!t.ok) return t;
  const fPort = optionalUint(json, 'fPort', 'fPort', 255);
  if (!fPort.ok) return fPort;
  const fCnt = optionalUint(json, 'fCnt', 'fCnt', 0xffffffff);
  if (!fCnt.ok) return fCnt;
  const data = optionalString(json, 'data', 'data');
  if (!data.ok) return data;
  const object = optionalObject(json, 'object', 'object');
  if (!object.ok) return object;
  const name = typeof info.value.deviceName === 'string' ? info.value.deviceName : undefined;
  const applicationId = typeof info.value.applicationId === 'string' ? info.value.applicationId : topic.applicationId;
  return {
    ok: true,
    uplink: { network: 'chirpstack', devEui: eui.value, time: t.value, fPort: fPort.value, fCnt: fCnt.value, data: data.value, decoded: object.value, ...reception(json.rxInfo), name, applicationId },
  };
}

/** Reads a The Things Stack v3 uplink message. */
function tts(json: Record<string, unknown>, topic: UplinkTopic): UplinkResult {
  const ids = optionalObject(json, 'end_device_ids', 'end_device_ids');
  if (!ids.ok) return ids;
  if (ids.value === undefined) return bad('missing_field', '"end_device_ids" is required');
  const eui = devEuiFrom(ids.value.dev_eui, 'end_device_ids.dev_eui');
  if (!eui.ok) return eui;
  const up = optionalObject(json, 'uplink_message', 'uplink_message');
  if (!up.ok) return up;
  if (up.value === undefined) return bad('missing_field', '"uplink_message" is required (only `up` messages carry readings)');
  const msg = up.value;
  // The Application Server's `received_at`; when a frontend leaves it out, the Network Server's, then the gateway's.
  const settings = isObject(msg.settings) ? msg.settings : {};
  const firstRx = Array.isArray(msg.rx_metadata) && isObject(msg.rx_metadata[0]) ? msg.rx_metadata[0] : {};
  const [stamp, path] =
    json.received_at !== undefined
      ? [json.received_at, 'received_at']
      : msg.received_at !== undefined
        ? [msg.received_at, 'uplink_message.received_at']
        : settings.time !== undefined
          ? [settings.time, 'uplink_message.settings.time']
          : [firstRx.time, 'uplink_message.rx_metadata[0].time'];
  const t = time(stamp, path);
  if (!t.ok) return t;
  const fPort = optionalUint(msg, 'f_port', 'uplink_message.f_port', 255);
  if (!fPort.ok) return fPort;
  const fCnt = optionalUint(msg, 'f_cnt', 'uplink_message.f_cnt', 0xffffffff);
  if (!fCnt.ok) return fCnt;
  const data = optionalString(msg, 'frm_payload', 'uplink_message.frm_payload');
  if (!data.ok) return data;
  const decoded = optionalObject(msg, 'decoded_payload', 'uplink_message.decoded_payload');
  if (!decoded.ok) return decoded;
  const appIds = isObject(ids.value.application_ids) ? ids.value.application_ids : {};
  const name = typeof ids.value.device_id === 'string' ? ids.value.device_id : topic.deviceId;
  const applicationId = typeof appIds.application_id === 'string' ? appIds.application_id : topic.applicationId;
  return {
    ok: true,
    uplink: { network: 'tts', devEui: eui.value, time: t.value, fPort: fPort.value, fCnt: fCnt.value, data: data.value, decoded: decoded.value, ...reception(msg.rx_metadata), name, applicationId },
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses an uplink message body: bytes in, an Uplink or a Rejection out. */
export function parseUplink(topic: UplinkTopic, payload: Uint8Array): UplinkResult {
  if (payload.byteLength > MAX_UPLINK_BYTES) return bad('payload_too_large', `${payload.byteLength} bytes, the limit for an uplink is ${MAX_UPLINK_BYTES}`);
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return bad('invalid_utf8', 'payload is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return bad('invalid_json', `payload is not valid JSON${topic.network === 'chirpstack' ? ' (set the ChirpStack MQTT integration to the JSON marshaler: json=true)' : ''}`);
  }
  if (!isObject(json)) return bad('not_an_object', 'an uplink must be a JSON object');
  switch (topic.network) {
    case 'chirpstack':
      return chirpstack(json, topic);
    case 'tts':
      return tts(json, topic);
  }
}
