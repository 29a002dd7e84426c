/**
 * The demo path under `npm start`: PARKOPS_SIM_LORAWAN=chirpstack makes part of the simulated park
 * speak as a ChirpStack v4 network server on the embedded broker, with bindings ParkOps makes for it.
 * The readings arrive through the codecs (battery, RSSI and SNR from the uplinks); an admin's own
 * binding is never replaced. Then the CLI's --lorawan chirpstack against a real Mosquitto and
 * ParkOps, with the bindings imported from --lorawan-bindings.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeviceView, FloodResponse, VenueView } from '@parkops/contract/index.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi } from '../support/api.ts';
import { eventually } from '../support/mqtt.ts';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('simulators speaking as a ChirpStack network server', () => {
  let sys: ParkOpsProcess | undefined;
  let mosquitto: MosquittoServer | undefined;
  afterAll(async () => {
    await sys?.stop();
    await mosquitto?.stop();
  });

  it('under npm start (PARKOPS_SIM_LORAWAN=chirpstack): bindings made, readings through the codecs, telemetry kept', async () => {
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', PARKOPS_SIMULATE: 'true', PARKOPS_SIM_LORAWAN: 'chirpstack', PARKOPS_SIM_SEED: '3' } });
    const api = await adminApi(sys);
    const devices = await eventually(async () => {
      const { body } = await api.get<DeviceView[]>('/api/devices');
      const l1 = body.find((d) => d.id === 'L1');
      const e1 = body.find((d) => d.id === 'E-001');
      return l1?.rssi !== undefined && e1?.rssi !== undefined ? body : undefined;
    }, 30_000, 'uplink telemetry for L1 and E-001');
    const l1 = devices.find((d) => d.id === 'L1')!;
    expect(l1).toMatchObject({ binding: { codec: 'milesight-em310-udl', params: { mountMm: 1500 } }, stale: false });
    expect(l1.battery).toBeGreaterThanOrEqual(60);
    expect(l1.rssi).toBeLessThan(-50);
    expect(devices.filter((d) => d.binding?.codec === 'nwave-nps')).toHaveLength(100);
    expect(devices.find((d) => d.id === 'A-001')!.binding).toBeUndefined();
    const gym = devices.find((d) => d.id === 'gym')!;
    expect(gym.binding).toMatchObject({ codec: 'milesight-vs133' });
    await eventually(async () => (await api.get<VenueView[]>('/api/venues')).body.find((v) => v.id === 'gym')!.ts !== null, 30_000, 'the gym counter through the VS133 codec');
    // Nothing the simulated network server sends is refused.
    const metrics = await (await fetch(`${sys.baseUrl}/metrics`)).text();
    expect(metrics.split('\n').filter((l) => l.startsWith('parkops_messages_rejected_total{') && !l.endsWith(' 0'))).toEqual([]);
    const audit = (await api.get<Array<{ action: string; actor: string }>>('/api/audit?limit=50')).body;
    expect(audit.find((a) => a.action === 'device.bindings_seeded')).toMatchObject({ actor: 'simulator' });
    // An admin's binding stays across a restart that seeds again.
    expect((await api.put('/api/devices/L2/binding', { devEui: 'A84041000181C3D1', codec: 'dragino-ldds75', params: { mountMm: 2000 } })).status).toBe(200);
    await sys.restart();
    const after = await adminApi(sys);
    expect((await after.get<DeviceView[]>('/api/devices')).body.find((d) => d.id === 'L2')!.binding).toMatchObject({ devEui: 'A84041000181C3D1', codec: 'dragino-ldds75' });
    await sys.stop();
    sys = undefined;
  });

  it('the CLI: --lorawan-bindings imported, then --lorawan chirpstack against Mosquitto', async () => {
    mosquitto = await startMosquitto();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', MQTT_URL: mosquitto.url } });
    const api = await adminApi(sys);
    const { stdout: csv } = await exec(process.execPath, ['--import', 'tsx', 'simulators/src/cli.ts', '--lorawan-bindings'], { cwd: ROOT });
    expect(await api.send('/api/devices/bindings.csv', csv, 'text/csv')).toMatchObject({ status: 200, body: { created: 103 } });
    const { stderr } = await exec(process.execPath, ['--import', 'tsx', 'simulators/src/cli.ts', '--mqtt', mosquitto.url, '--lorawan', 'chirpstack', '--from', '-20m', '--to', '-15m', '--seed', '5', '--quiet'], { cwd: ROOT, timeout: 120_000 });
    expect(stderr).toMatch(/lorawan: [1-9][\d,]* ChirpStack v4 uplinks/);
    await eventually(async () => (await api.get<DeviceView[]>('/api/devices')).body.find((d) => d.id === 'L2' && d.lastSeen !== undefined && d.battery !== undefined), 20_000, 'L2 through the EM500-SWL codec');
    // The back-filled uplinks are stamped with their own (simulated, past) time.
    const l2 = (await api.get<FloodResponse>('/api/flood')).body.rooms[0]!.levels.find((l) => l.id === 'L2')!;
    expect(Date.parse(l2.ts!)).toBeLessThan(Date.now() - 14 * 60_000);
    expect((await api.get<unknown[]>('/api/devices/unbound')).body).toEqual([]);
  });
});
