/** Uplink parsing against the network servers' documentation samples (test/fixtures/lorawan). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { filterProblem, topicMatchesFilter, UplinkTopics } from '@parkops/contract/topics.ts';
import { decodeBase64, normalizeDevEui, parseUplink } from './uplinks.ts';

const sample = (name: string): string => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/lorawan/${name}`, import.meta.url)), 'utf8');
const bytes = (s: string) => new TextEncoder().encode(s);
const topics = new UplinkTopics({ chirpstack: 'application/+/device/+/event/up', tts: 'v3/+/devices/+/up' });

describe('uplink topics', () => {
  it('match MQTT filters as [MQTT-4.7.1] says', () => {
    expect(topicMatchesFilter('application/+/device/+/event/up', 'application/a/device/0101/event/up')).toBe(true);
    expect(topicMatchesFilter('application/+/device/+/event/up', 'application/a/device/0101/event/join')).toBe(false);
    expect(topicMatchesFilter('application/#', 'application')).toBe(true);
    expect(topicMatchesFilter('v3/+/devices/+/up', 'v3/app1@ttn/devices/dev1/up')).toBe(true);
    expect(topicMatchesFilter('+/x', '$SYS/x')).toBe(false);
    expect(filterProblem('a/#/b')).toMatch(/last/);
    expect(filterProblem('a/b+')).toMatch(/whole level/);
  });
  it('name the network, and the ids when the layout is the default one', () => {
    expect(topics.parse('application/17c8/device/0101010101010101/event/up')).toEqual({ network: 'chirpstack', applicationId: '17c8', devEui: '0101010101010101' });
    expect(topics.parse('v3/app1@tenant1/devices/dev1/up')).toEqual({ network: 'tts', applicationId: 'app1', tenantId: 'tenant1', deviceId: 'dev1' });
    expect(topics.parse('v3/app1/devices/dev1/join')).toBeNull();
    expect(new UplinkTopics({ chirpstack: null, tts: 'v3/+/devices/+/up' }).parse('application/a/device/b/event/up')).toBeNull();
  });
});

describe('parseUplink', () => {
  it("reads ChirpStack's documentation example (no fCnt: proto3 leaves the default 0 out)", () => {
    const r = parseUplink({ network: 'chirpstack', devEui: '0101010101010101' }, bytes(sample('chirpstack-v4-up.json')));
    expect(r).toEqual({
      ok: true,
      uplink: { network: 'chirpstack', devEui: '0101010101010101', time: Date.parse('2022-07-18T09:34:15.775Z'), fPort: 1, fCnt: 0, data: 'qg==', decoded: undefined, rssi: -36, snr: 10.5, name: 'Test device', applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97' },
    });
  });

  it("reads The Things Stack's data-formats example: received_at, and the decoded payload", () => {
    const r = parseUplink({ network: 'tts' }, bytes(sample('tts-v3-up-data-formats.json')));
    expect(r).toMatchObject({ ok: true, uplink: { network: 'tts', devEui: '0004A30B001C0530', time: Date.parse('2020-02-12T15:15:46.014Z'), fPort: 0, fCnt: 1, data: 'gkHe', decoded: { temperature: 1, luminosity: 0.64 }, rssi: -35, snr: 5, name: 'dev1', applicationId: 'app1' } });
  });

  it("takes the gateway time from The Things Stack's MQTT example, which has no received_at", () => {
    const r = parseUplink({ network: 'tts' }, bytes(sample('tts-v3-up-mqtt.json')));
    expect(r).toMatchObject({ ok: true, uplink: { devEui: '4200000000000000', time: Date.parse('2019-01-29T13:02:34.981Z'), fPort: 15, fCnt: 0 } });
  });

  it('keeps the best RSSI and SNR over several gateways', () => {
    const up = JSON.parse(sample('chirpstack-v4-up.json')) as { rxInfo: object[] };
    up.rxInfo.push({ gatewayId: 'b', rssi: -20, snr: 3 }, { gatewayId: 'c', rssi: 'loud' });
    expect(parseUplink({ network: 'chirpstack' }, bytes(JSON.stringify(up)))).toMatchObject({ uplink: { rssi: -20, snr: 10.5 } });
  });

  it.each([
    ['chirpstack', '{"deviceInfo":{"devEui":"0101"}}', 'wrong_type', /deviceInfo.devEui" must be 16 hex digits/],
    ['chirpstack', '{"time":"2022-07-18T09:34:15Z"}', 'missing_field', /"deviceInfo" is required/],
    ['chirpstack', '{"deviceInfo":{"devEui":"0101010101010101"},"fPort":"1"}', 'wrong_type', /"fPort" must be a whole number/],
    ['chirpstack', '{"deviceInfo":{"devEui":"0101010101010101"},"time":"yesterday"}', 'invalid_time', /"time"/],
    ['chirpstack', '{"deviceInfo":{"devEui":"0101010101010101"},"object":"{}"}', 'wrong_type', /"object" must be a JSON object/],
    ['tts', '{"end_device_ids":{"dev_eui":"0004A30B001C0530"}}', 'missing_field', /"uplink_message" is required/],
    ['tts', '[1]', 'not_an_object', /JSON object/],
    ['tts', '{"end_device_ids"', 'invalid_json', /not valid JSON/],
  ] as const)('%s %s -> %s', (network, json, code, reason) => {
    const r = parseUplink({ network }, bytes(json));
    expect(r).toMatchObject({ ok: false, rejection: { code } });
    expect(r.ok ? '' : r.rejection.reason).toMatch(reason);
  });

  it('refuses a DevEUI that disagrees with the topic, and an uplink too large or not UTF-8', () => {
    expect(parseUplink({ network: 'chirpstack', devEui: '0202020202020202' }, bytes(sample('chirpstack-v4-up.json')))).toMatchObject({ ok: false, rejection: { code: 'unknown_topic' } });
    expect(parseUplink({ network: 'chirpstack' }, new Uint8Array(70_000))).toMatchObject({ ok: false, rejection: { code: 'payload_too_large' } });
    expect(parseUplink({ network: 'chirpstack' }, new Uint8Array([0x7b, 0xff]))).toMatchObject({ ok: false, rejection: { code: 'invalid_utf8' } });
  });
});

describe('base64 and DevEUIs', () => {
  it('reads standard and URL-safe base64, padded or not, as the protobuf JSON mapping allows', () => {
    expect([...decodeBase64('qg==')!]).toEqual([0xaa]);
    expect([...decodeBase64('qg')!]).toEqual([0xaa]);
    expect([...decodeBase64('-_8=')!]).toEqual([0xfb, 0xff]);
    expect([...decodeBase64('+/8=')!]).toEqual([0xfb, 0xff]);
    expect(decodeBase64('')!.length).toBe(0);
    for (const bad of ['not*base64', 'q', 'qg=', 'qg===', 'q g=']) expect(decodeBase64(bad), bad).toBeNull();
  });
  it('normalizes DevEUIs to upper case and refuses anything but 16 hex digits', () => {
    expect(normalizeDevEui('24e124710b423527')).toBe('24E124710B423527');
    for (const bad of ['24-E1-24', '24e124710b42352', '24e124710b4235270', 24, null]) expect(normalizeDevEui(bad)).toBeNull();
  });
});
