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
    [{ MQTT_INGEST_WINDOW: '0' }, /MQTT_INGEST_WINDOW: must be a whole number 1\.\.65535/],
    [{ MQTT_INGEST_WINDOW: '70000' }, /MQTT_INGEST_WINDOW: must be a whole number 1\.\.65535 \(MQTT packet ids are 16-bit\)/],
    [{ MQTT_INGEST_WINDOW: 'lots' }, /MQTT_INGEST_WINDOW: must be a whole number/],
    [{ PARKOPS_TEST_CRASH_AFTER_COMMIT: '0' }, /PARKOPS_TEST_CRASH_AFTER_COMMIT: must be a whole number >= 1 \(test only\)/],
    [{ PARKOPS_TEST_CRASH_AFTER_COMMIT: 'yes' }, /PARKOPS_TEST_CRASH_AFTER_COMMIT: must be a whole number >= 1 \(test only\)/],
  ])('rejects %o naming the setting', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
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
});
