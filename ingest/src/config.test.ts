import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const load = (env: Record<string, string>) => loadConfig(env, { dotenv: false });

describe('settings', () => {
  it('has the defaults of CONTRACT.md section 5', () => {
    const c = load({});
    expect(c).toMatchObject({ PORT: 3000, MQTT_PORT: 1883, MQTT_TOPIC_PREFIX: 'park', PARKOPS_DATA_DIR: './data', PARKOPS_STORE: 'sqlite', PARKOPS_SIMULATE: false });
    expect(c.MQTT_URL).toBeUndefined();
    expect(c.PARKOPS_ADMIN_PASSWORD).toBeUndefined();
  });
  it.each([
    [{ PORT: 'eighty' }, /PORT: .*port number/],
    [{ PORT: '70000' }, /PORT: must be a port number/],
    [{ MQTT_URL: 'http://broker' }, /MQTT_URL: must be a URL starting with mqtt:\/\//],
    [{ PARKOPS_STORE: 'postgres' }, /PARKOPS_STORE: must be sqlite or influxdb/],
    [{ PARKOPS_SIMULATE: 'maybe' }, /PARKOPS_SIMULATE: must be true or false/],
    [{ MQTT_TOPIC_PREFIX: 'park/#' }, /MQTT_TOPIC_PREFIX: must be one or more topic levels/],
    [{ PARKOPS_ADMIN_PASSWORD: 'short' }, /PARKOPS_ADMIN_PASSWORD: must be at least 10 characters/],
    [{ PARKOPS_STORE: 'influxdb' }, /INFLUX_URL, INFLUX_DATABASE: required when PARKOPS_STORE=influxdb/],
    [{ LORAWAN_MQTT_URL: 'https://ns.example' }, /LORAWAN_MQTT_URL: must be a URL starting with mqtt:\/\//],
    [{ LORAWAN_CHIRPSTACK_TOPIC: 'application/#/up' }, /LORAWAN_CHIRPSTACK_TOPIC: must be an MQTT topic filter/],
    [{ LORAWAN_TTS_TOPIC: '#' }, /LORAWAN_TTS_TOPIC: must not cover ParkOps' own topics/],
    [{ LORAWAN_CHIRPSTACK_TOPIC: 'park/lorawan/+/up' }, /LORAWAN_CHIRPSTACK_TOPIC: must not cover ParkOps' own topics under park\//],
    [{ MQTT_URL: 'mqtt://b:1883', LORAWAN_MQTT_URL: 'mqtt://b:1883', LORAWAN_MQTT_CLIENT_ID: 'parkops-ingest' }, /LORAWAN_MQTT_CLIENT_ID: must differ from MQTT_CLIENT_ID/],
    [{ PARKOPS_SIM_LORAWAN: 'tts' }, /PARKOPS_SIM_LORAWAN: must be off or chirpstack/],
  ])('rejects %o naming the setting', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });
  it('reads LoRaWAN uplinks on the ParkOps broker from both network servers by default; off switches one off', () => {
    expect(load({})).toMatchObject({ LORAWAN_CHIRPSTACK_TOPIC: 'application/+/device/+/event/up', LORAWAN_TTS_TOPIC: 'v3/+/devices/+/up', LORAWAN_MQTT_CLIENT_ID: 'parkops-lorawan', PARKOPS_SIM_LORAWAN: 'off' });
    expect(load({}).LORAWAN_MQTT_URL).toBeUndefined();
    expect(load({ LORAWAN_TTS_TOPIC: 'off' }).LORAWAN_TTS_TOPIC).toBeNull();
  });
  it('treats empty values as unset, as compose files write them', () => {
    expect(load({ MQTT_URL: '', PORT: '' }).PORT).toBe(3000);
  });
});
