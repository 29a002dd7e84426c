/**
 * Network-server uplinks for tests, built from the documentation samples in test/fixtures/lorawan:
 * only the fields a test names are replaced.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UplinkTopics } from '@parkops/contract/topics.ts';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/lorawan/${name}`, import.meta.url)), 'utf8')) as Record<string, unknown>;

export const CHIRPSTACK_APP = '17c82e96-be03-4f38-aef3-f83d48582d97';

export const hexToBase64 = (hex: string): string => Buffer.from(hex.replace(/\s/g, ''), 'hex').toString('base64');

export interface UplinkFields {
  devEui: string;
  /** epoch ms or ISO; the uplink's `time` / `received_at` */
  time?: number | string;
  fPort?: number;
  /** hex FRMPayload; `data` gives raw base64 text instead */
  hex?: string;
  data?: string;
  object?: Record<string, unknown>;
  fCnt?: number;
  rssi?: number;
  snr?: number;
}

const isoOf = (t: number | string): string => (typeof t === 'number' ? new Date(t).toISOString() : t);

/** A ChirpStack v4 `up` event shaped like the documentation's example, and its topic. */
export function chirpstackUp(f: UplinkFields): { topic: string; payload: string } {
  const up = fixture('chirpstack-v4-up.json') as {
    time: string;
    deviceInfo: { devEui: string };
    fPort?: number;
    fCnt?: number;
    data?: string;
    object?: unknown;
    rxInfo: Array<{ rssi: number; snr: number }>;
  };
  up.deviceInfo.devEui = f.devEui.toLowerCase();
  if (f.time !== undefined) up.time = isoOf(f.time);
  if (f.fPort !== undefined) up.fPort = f.fPort;
  if (f.fCnt !== undefined) up.fCnt = f.fCnt;
  if (f.hex !== undefined) up.data = hexToBase64(f.hex);
  if (f.data !== undefined) up.data = f.data;
  if (f.object !== undefined) up.object = f.object;
  if (f.rssi !== undefined) up.rxInfo[0]!.rssi = f.rssi;
  if (f.snr !== undefined) up.rxInfo[0]!.snr = f.snr;
  return { topic: UplinkTopics.chirpstackUp(CHIRPSTACK_APP, f.devEui.toLowerCase()), payload: JSON.stringify(up) };
}

/** A The Things Stack v3 uplink shaped like one of its documentation's examples, and its topic. */
export function ttsUp(f: UplinkFields & { sample?: 'data-formats' | 'mqtt'; deviceId?: string; tenant?: string }): { topic: string; payload: string } {
  const sample = f.sample ?? 'data-formats';
  const up = fixture(sample === 'mqtt' ? 'tts-v3-up-mqtt.json' : 'tts-v3-up-data-formats.json') as {
    end_device_ids: { dev_eui: string; device_id: string };
    received_at?: string;
    uplink_message: { f_port?: number; f_cnt?: number; frm_payload?: string; decoded_payload?: unknown; rx_metadata: Array<{ rssi: number; snr: number; time: string }> };
  };
  up.end_device_ids.dev_eui = f.devEui.toUpperCase();
  if (f.deviceId !== undefined) up.end_device_ids.device_id = f.deviceId;
  if (f.time !== undefined) {
    // The MQTT example has no `received_at`: its time is the gateway's.
    if (sample === 'mqtt') up.uplink_message.rx_metadata[0]!.time = isoOf(f.time);
    else up.received_at = isoOf(f.time);
  }
  if (f.fPort !== undefined) up.uplink_message.f_port = f.fPort;
  if (f.fCnt !== undefined) up.uplink_message.f_cnt = f.fCnt;
  if (f.hex !== undefined) up.uplink_message.frm_payload = hexToBase64(f.hex);
  if (f.data !== undefined) up.uplink_message.frm_payload = f.data;
  if (f.object !== undefined) up.uplink_message.decoded_payload = f.object;
  return { topic: UplinkTopics.ttsUp('app1', up.end_device_ids.device_id, f.tenant), payload: JSON.stringify(up) };
}
