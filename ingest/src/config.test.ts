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
    [{ PARKOPS_DINGTALK_SECRET: 'SECabc' }, /PARKOPS_DINGTALK_SECRET: set PARKOPS_DINGTALK_URL too/],
    [{ PARKOPS_FEISHU_SECRET: 'abc' }, /PARKOPS_FEISHU_SECRET: set PARKOPS_FEISHU_URL too/],
    [{ PARKOPS_FEISHU_URL: 'open.feishu.cn/open-apis/bot/v2/hook/x' }, /PARKOPS_FEISHU_URL: must be a URL starting with http:\/\/ or https:\/\//],
    [{ PARKOPS_VAPID_SUBJECT: 'mailto:' }, /PARKOPS_VAPID_SUBJECT: must be a mailto: address or an https:\/\/ URL/],
  ])('rejects %o naming the setting', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });
  it('treats empty values as unset, as compose files write them', () => {
    expect(load({ MQTT_URL: '', PORT: '' }).PORT).toBe(3000);
  });
});
