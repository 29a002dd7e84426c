/**
 * The deployment path end to end: ParkOps started as `npm start` runs it with
 * PARKOPS_STORE=influxdb, devices publishing QoS 1 through a real Mosquitto, a real influxd 1.6.7
 * behind it. InfluxDB goes down mid-stream: ingest keeps acknowledging, /api/health turns degraded
 * with the outbox depth and age, and once InfluxDB is back every reading is in it exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site/index.ts';
import { startInfluxd, type InfluxdServer } from '../harness/influxd.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { connect, eventually } from '../support/mqtt.ts';

const site = loadSite();
const room = site.rooms[0]!;
const sensor = room.levels[0]!;
const T0 = Date.now() - 3_600_000;

let influx: InfluxdServer;
let mosquitto: MosquittoServer;
let sys: ParkOpsProcess;
beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  sys = await startParkOps({
    env: {
      PARKOPS_STORE: 'influxdb',
      INFLUX_URL: influx.url,
      INFLUX_DATABASE: influx.database,
      MQTT_URL: mosquitto.url,
      PARKOPS_NODE_RED: 'false',
    },
  });
});
afterAll(async () => {
  await sys?.stop();
  await Promise.all([mosquitto?.stop(), influx?.destroy()]);
});

interface Health {
  status: string;
  store: string;
  outbox?: { depth: number; oldestAgeSec: number | null };
}
const health = async (): Promise<{ code: number; body: Health }> => {
  const res = await fetch(`${sys.baseUrl}/api/health`);
  return { code: res.status, body: (await res.json()) as Health };
};
const storedCount = async (): Promise<number> => {
  const res = (await influx.query('SELECT count("mm") FROM "flood_level"', 'GET')) as { results: Array<{ series?: Array<{ values: number[][] }> }> };
  return res.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
};

describe('ParkOps with PARKOPS_STORE=influxdb', () => {
  it('rides out an InfluxDB outage: acknowledged readings wait in the outbox, then arrive exactly once', async () => {
    const device = await connect(mosquitto.url, { clientId: 'outbox-system-device' });
    const topic = `park/flood/${room.id}/levels/${sensor.id}`;
    let sent = 0;
    const publishSome = async (n: number) => {
      await Promise.all(
        Array.from({ length: n }, () => {
          const i = sent++;
          return device.publishAsync(topic, JSON.stringify({ mm: i, ts: T0 + i * 1000 }), { qos: 1 });
        }),
      );
    };

    await publishSome(200);
    await eventually(async () => (await storedCount()) === 200, 20_000, '200 readings in InfluxDB');
    expect((await health()).code).toBe(200);

    await influx.stop();
    await publishSome(300);
    // The ingest acknowledged them (PUBACKs arrived), so they are durable in the outbox.
    const degraded = await eventually(async () => {
      const h = await health();
      return h.code === 503 && (h.body.outbox?.depth ?? 0) >= 300 ? h : undefined;
    }, 20_000, 'health degraded with the outbox depth');
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.store).toMatch(/^influxdb/);
    expect(degraded.body.outbox!.oldestAgeSec).not.toBeNull();
    // /metrics exports the same: the depth and age of the outbox, and that sending fails.
    const metricsText = await (await fetch(`${sys.baseUrl}/metrics`)).text();
    expect(Number(/^parkops_outbox_depth (\d+)/m.exec(metricsText)?.[1])).toBeGreaterThanOrEqual(300);
    expect(Number(/^parkops_outbox_oldest_age_seconds ([\d.]+)/m.exec(metricsText)?.[1])).toBeGreaterThan(0);
    expect(metricsText).toMatch(/^parkops_outbox_failing 1$/m);

    await influx.start();
    await publishSome(100);
    await eventually(async () => (await health()).code === 200, 30_000, 'health ok again');
    await eventually(async () => (await storedCount()) === 600, 30_000, '600 readings in InfluxDB');
    expect((await health()).body.outbox).toEqual({ depth: 0, oldestAgeSec: null });

    const res = (await influx.query(`SELECT "mm" FROM "flood_level" WHERE "sensor" = '${sensor.id}'`, 'GET')) as { results: Array<{ series: Array<{ values: Array<[string, number]> }> }> };
    const values = res.results[0]!.series[0]!.values.map((v) => v[1]);
    expect(values).toEqual(Array.from({ length: 600 }, (_, i) => i));
    await device.endAsync();
  });
});
