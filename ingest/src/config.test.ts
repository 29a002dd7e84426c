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
    [{ PARKOPS_CAP_FEED_URL: 'ftp://weather.example/cap' }, /PARKOPS_CAP_FEED_URL: must be a URL starting with http:\/\/ or https:\/\//],
    [{ PARKOPS_CAP_FEED_INTERVAL_SEC: '5' }, /PARKOPS_CAP_FEED_INTERVAL_SEC: must be a number of seconds 15\.\.86400/],
    [{ PARKOPS_CAP_FEED_INTERVAL_SEC: 'often' }, /PARKOPS_CAP_FEED_INTERVAL_SEC: must be a number of seconds/],
    [{ LORAWAN_MQTT_URL: 'https://ns.example' }, /LORAWAN_MQTT_URL: must be a URL starting with mqtt:\/\//],
    [{ LORAWAN_CHIRPSTACK_TOPIC: 'application/#/up' }, /LORAWAN_CHIRPSTACK_TOPIC: must be an MQTT topic filter/],
    [{ LORAWAN_TTS_TOPIC: '#' }, /LORAWAN_TTS_TOPIC: must not cover ParkOps' own topics/],
    [{ LORAWAN_CHIRPSTACK_TOPIC: 'park/lorawan/+/up' }, /LORAWAN_CHIRPSTACK_TOPIC: must not cover ParkOps' own topics under park\//],
    [{ MQTT_URL: 'mqtt://b:1883', LORAWAN_MQTT_URL: 'mqtt://b:1883', LORAWAN_MQTT_CLIENT_ID: 'parkops-ingest' }, /LORAWAN_MQTT_CLIENT_ID: must differ from MQTT_CLIENT_ID/],
    [{ PARKOPS_SIM_LORAWAN: 'tts' }, /PARKOPS_SIM_LORAWAN: must be off or chirpstack/],
    [{ PARKOPS_DINGTALK_SECRET: 'SECabc' }, /PARKOPS_DINGTALK_SECRET: set PARKOPS_DINGTALK_URL too/],
    [{ PARKOPS_FEISHU_SECRET: 'abc' }, /PARKOPS_FEISHU_SECRET: set PARKOPS_FEISHU_URL too/],
    [{ PARKOPS_FEISHU_URL: 'open.feishu.cn/open-apis/bot/v2/hook/x' }, /PARKOPS_FEISHU_URL: must be a URL starting with http:\/\/ or https:\/\//],
    [{ PARKOPS_VAPID_SUBJECT: 'mailto:' }, /PARKOPS_VAPID_SUBJECT: must be a mailto: address or an https:\/\/ URL/],
    [{ PARKOPS_DATABASE_URL: 'mysql://db/parkops', MQTT_URL: 'mqtt://b:1883' }, /PARKOPS_DATABASE_URL: must be a URL starting with postgres:\/\/ or postgresql:\/\//],
    [{ PARKOPS_DATABASE_URL: 'postgres://parkops:pw@db/parkops' }, /MQTT_URL: required when PARKOPS_DATABASE_URL is set/],
  ])('rejects %o naming the setting', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });
  it('runs the embedded broker on 127.0.0.1 unless a password file makes it authenticated', () => {
    expect(load({}).MQTT_BIND).toBe('127.0.0.1');
    expect(load({ MQTT_PASSWORD_FILE: '/etc/parkops/passwd' }).MQTT_BIND).toBe('0.0.0.0');
    expect(load({ MQTT_BIND: '::1' }).MQTT_BIND).toBe('::1');
    expect(load({ MQTT_BIND: '127.0.0.2' }).MQTT_BIND).toBe('127.0.0.2');
    expect(load({ MQTT_BIND: '0.0.0.0', MQTT_PASSWORD_FILE: '/etc/parkops/passwd' }).MQTT_BIND).toBe('0.0.0.0');
    // An external broker: MQTT_BIND does not apply.
    expect(load({ MQTT_BIND: '0.0.0.0', MQTT_URL: 'mqtt://broker:1883' }).MQTT_URL).toBe('mqtt://broker:1883');
  });
  it.each(['0.0.0.0', '192.168.1.20', '::', 'parkops.local'])('refuses anonymous access on %s, naming MQTT_BIND and MQTT_PASSWORD_FILE', (bind) => {
    expect(() => load({ MQTT_BIND: bind })).toThrow(ConfigError);
    expect(() => load({ MQTT_BIND: bind })).toThrow(/^bad setting: MQTT_BIND: .* set MQTT_PASSWORD_FILE \(a mosquitto_passwd file, ideally with MQTT_ACL_FILE\)/);
  });
  it('polls no CAP feed unless asked, every 120 s when asked', () => {
    expect(load({}).PARKOPS_CAP_FEED_URL).toBeUndefined();
    expect(load({ PARKOPS_CAP_FEED_URL: 'https://weather.example/cap/rss.xml' })).toMatchObject({ PARKOPS_CAP_FEED_URL: 'https://weather.example/cap/rss.xml', PARKOPS_CAP_FEED_INTERVAL_SEC: 120 });
  });
  it('reads LoRaWAN uplinks on the ParkOps broker from both network servers by default; off switches one off', () => {
    expect(load({})).toMatchObject({ LORAWAN_CHIRPSTACK_TOPIC: 'application/+/device/+/event/up', LORAWAN_TTS_TOPIC: 'v3/+/devices/+/up', LORAWAN_MQTT_CLIENT_ID: 'parkops-lorawan', PARKOPS_SIM_LORAWAN: 'off' });
    expect(load({}).LORAWAN_MQTT_URL).toBeUndefined();
    expect(load({ LORAWAN_TTS_TOPIC: 'off' }).LORAWAN_TTS_TOPIC).toBeNull();
  });
  it('takes a PostgreSQL URL with an external broker; unset keeps the embedded SQLite default', () => {
    expect(load({}).PARKOPS_DATABASE_URL).toBeUndefined();
    expect(load({ PARKOPS_DATABASE_URL: 'postgresql://parkops:pw@db:5432/parkops', MQTT_URL: 'mqtt://b:1883' }).PARKOPS_DATABASE_URL).toBe('postgresql://parkops:pw@db:5432/parkops');
  });
  it('treats empty values as unset, as compose files write them', () => {
    expect(load({ MQTT_URL: '', PORT: '' }).PORT).toBe(3000);
  });
});
