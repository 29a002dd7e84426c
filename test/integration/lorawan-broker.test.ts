/**
 * LORAWAN_MQTT_URL: uplinks read from the network server's own Mosquitto, a second real broker next to
 * ParkOps' one. ParkOps keeps a persistent session there and acknowledges after the commit, so uplinks
 * published while ParkOps is down are read when it comes back; ParkOps' own broker no longer carries
 * uplinks; a broker that is down shows in /api/health.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FloodResponse, HealthResponse, UnboundDeviceView } from '@parkops/contract/index.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { chirpstackUp, ttsUp } from '../support/lorawan.ts';
import { connect, eventually, publish } from '../support/mqtt.ts';

describe('uplinks from a separate network-server broker (LORAWAN_MQTT_URL)', () => {
  let parkBroker: MosquittoServer;
  let nsBroker: MosquittoServer;
  let sys: ParkOpsProcess;
  let api: Api;
  // Our own data folder: a graceful stop of ParkOps keeps it (the harness removes only folders it made).
  const dataDir = mkdtempSync(join(tmpdir(), 'parkops-lorawan-broker-'));
  const level = async (id: string) => (await api.get<FloodResponse>('/api/flood')).body.rooms[0]!.levels.find((l) => l.id === id)!;
  const sendTo = async (url: string, m: { topic: string; payload: string }) => {
    const c = await connect(url);
    await publish(c, m.topic, m.payload);
    await c.endAsync();
  };

  beforeAll(async () => {
    parkBroker = await startMosquitto();
    nsBroker = await startMosquitto();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', MQTT_URL: parkBroker.url, LORAWAN_MQTT_URL: nsBroker.url }, dataDir });
    api = await adminApi(sys);
    expect((await api.put('/api/devices/L1/binding', { devEui: '24E124710B423527', codec: 'milesight-em310-udl', params: { mountMm: 1500 } })).status).toBe(200);
    expect((await api.put('/api/devices/L2/binding', { devEui: '24E124710B423528', codec: 'milesight-em500-swl' })).status).toBe(200);
  });

  afterAll(async () => {
    await sys?.stop();
    await nsBroker?.stop();
    await parkBroker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads uplinks on the network server broker, and not on ParkOps\' own', async () => {
    const t = Date.now() - 60_000;
    await sendTo(nsBroker.url, chirpstackUp({ devEui: '24E124710B423527', time: t, fPort: 85, hex: '03826400' }));
    await eventually(async () => (await level('L1')).mm === 1400, 10_000, 'the level from the network server broker');
    await sendTo(parkBroker.url, chirpstackUp({ devEui: '24E124710B423527', time: t + 1000, fPort: 85, hex: '0382C800' }));
    await sendTo(parkBroker.url, chirpstackUp({ devEui: '70B3D57ED0009999', time: t + 1000, fPort: 1, hex: '01' }));
    // A marker through the network server broker: once it is read, anything sent earlier to ParkOps' broker would have been too.
    await sendTo(nsBroker.url, ttsUp({ devEui: '24E124710B423528', time: t + 2000, fPort: 85, hex: '03771e00' }));
    await eventually(async () => (await level('L2')).mm === 300, 10_000, 'the marker');
    expect((await level('L1')).mm).toBe(1400);
    expect((await api.get<UnboundDeviceView[]>('/api/devices/unbound')).body).toEqual([]);
  });

  it('keeps a persistent session on the network server broker: uplinks sent while ParkOps is down arrive when it is back', async () => {
    await sys.stop();
    const t = Date.now() - 30_000;
    for (let i = 0; i < 20; i++) await sendTo(nsBroker.url, chirpstackUp({ devEui: '24E124710B423527', time: t + i * 100, fPort: 85, hex: `0382${(500 + i).toString(16).padStart(4, '0').replace(/(..)(..)/, '$2$1')}` }));
    await sys.restart();
    api = await adminApi(sys);
    await eventually(async () => (await level('L1')).mm === 1500 - 519, 15_000, 'the last uplink sent while ParkOps was down');
    const db = new Database(join(dataDir, 'parkops.db'), { readonly: true });
    try {
      const rows = db.prepare("SELECT count(*) n FROM level_readings r JOIN series s ON s.id = r.series_id WHERE s.subject = 'flood/b1-power/levels/L1' AND r.ts BETWEEN ? AND ?").get(t, t + 1900) as { n: number };
      expect(rows.n).toBe(20);
    } finally {
      db.close();
    }
  });

  it('reports a network server broker that is down as a problem in /api/health', async () => {
    await nsBroker.kill();
    try {
      const h = await eventually(async () => {
        const res = await fetch(`${sys.baseUrl}/api/health`);
        const body = (await res.json()) as HealthResponse;
        return res.status === 503 && body.problems?.some((p) => p.startsWith('lorawan mqtt:')) ? body : undefined;
      }, 20_000, 'a degraded health');
      expect(h.status).toBe('degraded');
    } finally {
      await nsBroker.restart();
    }
    await eventually(async () => (await fetch(`${sys.baseUrl}/api/health`)).status === 200, 20_000, 'healthy again');
  });
});
