/**
 * CAP warnings over MQTT on ParkOps' own topic `park/warnings/{source}` (docs/api.md, official warnings),
 * through a real Mosquitto and through the embedded broker: stored once, larger than a device
 * payload may be, bad CAP rejected on park/rejected with the reason, and device readings around it
 * still taken. With the embedded broker the PUBACK comes only after the warning is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FloodResponse, WarningView } from '@parkops/contract/api.ts';
import { at, buildCap, JINING_POLYGON, sample } from '../../ingest/src/warnings/testing.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { apiWithCookie, type Api } from '../support/api.ts';
import { collect, connect, eventually, publish, type Collector } from '../support/mqtt.ts';
import type { MqttClient } from 'mqtt';

describe.each([
  ['Mosquitto', true],
  ['the embedded broker', false],
] as const)('warnings over MQTT through %s', (_name, external) => {
  let mosquitto: MosquittoServer | undefined;
  let sys: ParkOpsProcess;
  let api: Api;
  let rejected: Collector;
  let feed: MqttClient;
  const warnings = async (): Promise<WarningView[]> => (await api.get<WarningView[]>('/api/warnings?state=all')).body;

  beforeAll(async () => {
    if (external) mosquitto = await startMosquitto();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', ...(mosquitto ? { MQTT_URL: mosquitto.url } : {}) } });
    api = apiWithCookie(sys.baseUrl, await sys.adminCookie());
    rejected = await collect(sys.mqttUrl, 'park/rejected');
    feed = await connect(sys.mqttUrl, { clientId: `cap-bridge-${external ? 'm' : 'e'}` });
  });
  afterAll(async () => {
    await feed?.endAsync();
    await rejected?.close();
    await sys?.stop();
    await mosquitto?.stop();
  });

  it('stores a CAP warning published on park/warnings/cma, once however often it is delivered', async () => {
    await publish(feed, 'park/warnings/cma', sample('cma-rainstorm-jining.xml'));
    if (!external) {
      // The embedded broker acknowledges only after the warning is stored: it is there at once.
      expect((await warnings()).map((w) => w.identifier)).toContain('37080041600000_20260708053000');
    }
    const stored = await eventually(async () => (await warnings()).find((w) => w.identifier === '37080041600000_20260708053000'), 10_000, 'the warning stored');
    expect(stored).toMatchObject({ via: 'mqtt', relevant: true, storm: true, event: '暴雨' });
    await publish(feed, 'park/warnings/cma', sample('cma-rainstorm-jining.xml'));
    await publish(feed, 'park/warnings/cma', sample('cma-rainstorm-jining.xml'), 1, true);
    await eventually(async () => {
      const m = await (await fetch(`${sys.baseUrl}/metrics`)).text();
      return /parkops_warnings_received_total\{via="mqtt",result="duplicate"\} 2/.test(m);
    }, 10_000, 'both redeliveries seen');
    expect((await warnings()).filter((w) => w.identifier === '37080041600000_20260708053000')).toHaveLength(1);
  });

  it('takes a warning far larger than the 4 KiB of a device payload, and puts the room into storm mode', async () => {
    const now = Date.now();
    const xml = buildCap({
      identifier: `BIG-${external ? 'M' : 'E'}`,
      sent: at(now, -5),
      infos: [{ polygon: JINING_POLYGON, language: 'zh-CN', event: '暴雨', onset: at(now, -1), expires: at(now, 60), description: '预计未来6小时有暴雨。'.repeat(800) }],
    });
    expect(Buffer.byteLength(xml)).toBeGreaterThan(20_000);
    await publish(feed, 'park/warnings/cma', xml);
    await eventually(async () => (await warnings()).some((w) => w.identifier === `BIG-${external ? 'M' : 'E'}`), 10_000, 'the large warning stored');
    expect((await api.get<FloodResponse>('/api/flood')).body.rooms[0]!.stormMode).toBe(true);
  });

  it('rejects bad CAP on park/rejected with the reason, and keeps taking device readings', async () => {
    const bad = buildCap({ identifier: 'BAD-1' }).replace(/<sender>.*<\/sender>/, '');
    await publish(feed, 'park/warnings/cma', bad);
    const notice = await rejected.waitFor((m) => (JSON.parse(m.payload) as { topic: string }).topic === 'park/warnings/cma');
    const body = JSON.parse(notice.payload) as { topic: string; reason: string; code: string; at: string };
    expect(body.code).toBe('invalid_cap');
    expect(body.reason).toMatch(/^invalid_cap: not valid CAP 1\.2: alert\/sender: is required/);
    expect((await warnings()).some((w) => w.identifier === 'BAD-1')).toBe(false);

    await publish(feed, 'park/warnings/cma', 'not xml at all');
    await rejected.waitFor((m) => /not well-formed XML/.test(m.payload));
    await publish(feed, 'park/warnings/a/b', sample('cma-rainstorm-jining.xml'));
    const wrongTopic = await rejected.waitFor((m) => (JSON.parse(m.payload) as { topic: string }).topic === 'park/warnings/a/b');
    expect(JSON.parse(wrongTopic.payload)).toMatchObject({ code: 'unknown_topic', reason: expect.stringMatching(/warnings topic is \{prefix\}\/warnings\/\{source\}/) });

    await publish(feed, 'park/flood/b1-power/levels/L1', { mm: 123 });
    await eventually(async () => (await api.get<FloodResponse>('/api/flood')).body.rooms[0]!.levels.find((l) => l.id === 'L1')?.mm === 123, 10_000, 'the level reading taken');
  });
});
