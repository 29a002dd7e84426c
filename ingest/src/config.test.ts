import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const load = (env: Record<string, string>) => loadConfig(env, { dotenv: false });

describe('settings', () => {
  it('has the documented defaults (docs/api.md, settings)', () => {
    const c = load({});
    expect(c).toMatchObject({ PORT: 3000, MQTT_PORT: 1883, MQTT_TOPIC_PREFIX: 'park', PARKOPS_DATA_DIR: './data', PARKOPS_STORE: 'sqlite', PARKOPS_SIMULATE: false });
    expect(c.MQTT_URL).toBeUndefined();
    expect(c.PARKOPS_ADMIN_PASSWORD).toBeUndefined();
    // Sliding sessions: a responder's phone stays signed in for a month unused, at most 90 days in all.
    expect(c).toMatchObject({ PARKOPS_SESSION_IDLE_DAYS: 30, PARKOPS_SESSION_MAX_DAYS: 90, PARKOPS_ADMIN_SESSION_IDLE_HOURS: 12 });
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
    [{ PARKOPS_SESSION_HOURS: '12' }, /PARKOPS_SESSION_HOURS: sessions now slide; it was replaced by PARKOPS_SESSION_IDLE_DAYS/],
    [{ PARKOPS_SESSION_IDLE_DAYS: 'forever' }, /PARKOPS_SESSION_IDLE_DAYS: must be a number of days 0\.01\.\.400/],
    [{ PARKOPS_SESSION_MAX_DAYS: '500' }, /PARKOPS_SESSION_MAX_DAYS: must be a number of days 0\.01\.\.400/],
    [{ PARKOPS_SESSION_IDLE_DAYS: '60', PARKOPS_SESSION_MAX_DAYS: '30' }, /PARKOPS_SESSION_IDLE_DAYS: 60 is longer than PARKOPS_SESSION_MAX_DAYS \(30\)/],
    [{ PARKOPS_ADMIN_SESSION_IDLE_HOURS: '0' }, /PARKOPS_ADMIN_SESSION_IDLE_HOURS: must be a number of hours/],
    [{ MQTT_INGEST_WINDOW: '0' }, /MQTT_INGEST_WINDOW: must be a whole number 1\.\.65535/],
    [{ MQTT_INGEST_WINDOW: '70000' }, /MQTT_INGEST_WINDOW: must be a whole number 1\.\.65535 \(MQTT packet ids are 16-bit\)/],
    [{ MQTT_INGEST_WINDOW: 'lots' }, /MQTT_INGEST_WINDOW: must be a whole number/],
    [{ PARKOPS_TEST_CRASH_AFTER_COMMIT: '0' }, /PARKOPS_TEST_CRASH_AFTER_COMMIT: must be a whole number >= 1 \(test only\)/],
    [{ PARKOPS_TEST_CRASH_AFTER_COMMIT: 'yes' }, /PARKOPS_TEST_CRASH_AFTER_COMMIT: must be a whole number >= 1 \(test only\)/],
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
  it('sizes the ingest window at 4000, syncs every commit (FULL) by default, and leaves the test-only crash unset', () => {
    const c = load({});
    expect(c.MQTT_INGEST_WINDOW).toBe(4000);
    expect(c.PARKOPS_TEST_CRASH_AFTER_COMMIT).toBeUndefined();
    expect(c.PARKOPS_SQLITE_SYNC).toBe('full');
    expect(load({ MQTT_INGEST_WINDOW: '250', PARKOPS_TEST_CRASH_AFTER_COMMIT: '3' })).toMatchObject({ MQTT_INGEST_WINDOW: 250, PARKOPS_TEST_CRASH_AFTER_COMMIT: 3 });
  });
  it('treats empty values as unset, as compose files write them', () => {
    expect(load({ MQTT_URL: '', PORT: '' }).PORT).toBe(3000);
  });
  it('keeps raw readings 400 days, events 5 years and notification texts 30 days by default; 0 keeps for good; too short is refused by name', () => {
    const c = load({});
    expect([c.PARKOPS_RETENTION_DAYS, c.PARKOPS_RETENTION_EVENTS_DAYS, c.PARKOPS_RETENTION_NOTIFY_BODY_DAYS]).toEqual([400, 1825, 30]);
    expect(load({ PARKOPS_RETENTION_DAYS: '0', PARKOPS_RETENTION_EVENTS_DAYS: '0' }).PARKOPS_RETENTION_DAYS).toBe(0);
    expect(() => load({ PARKOPS_RETENTION_DAYS: '1' })).toThrow(/PARKOPS_RETENTION_DAYS: must be 0 \(keep for good\) or a whole number of days 2\.\.36500/);
    expect(() => load({ PARKOPS_RETENTION_EVENTS_DAYS: 'forever' })).toThrow(/PARKOPS_RETENTION_EVENTS_DAYS: must be 0/);
    expect(() => load({ PARKOPS_RETENTION_NOTIFY_BODY_DAYS: '2.5' })).toThrow(/PARKOPS_RETENTION_NOTIFY_BODY_DAYS: must be 0/);
  });
});
