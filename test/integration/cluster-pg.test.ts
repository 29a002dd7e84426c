/**
 * What several ParkOps processes on one PostgreSQL share besides alerts and readings (docs/api.md,
 * several processes): accounts, sessions and API tokens, and LoRaWAN bindings. Two processes on one
 * database and one Mosquitto, all real.
 *
 * - A user and a token made on one process work on the other; a session is valid on both, and
 *   signing out on one ends it on both.
 * - A binding made on the standby is taken by the leader at once (NOTIFY parkops_devices); the leader
 *   translates the uplinks and both processes serve the reading; after the leader is killed the new
 *   leader translates with the same bindings; a binding removed on one process is gone on the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceView, FloodResponse, HealthResponse, UnboundDeviceView } from '@parkops/contract/index.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startPostgres, type PostgresServer } from '../harness/postgres.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { chirpstackUp } from '../support/lorawan.ts';
import { connect, eventually, publish } from '../support/mqtt.ts';

const EUI = '24E124710B423527';
/** EM310-UDL distance frames (channel 03, type 82, little-endian mm): 100 mm and 300 mm below the sensor. */
const DISTANCE_100 = '03826400';
const DISTANCE_300 = '03822c01';

describe('two ParkOps processes on PostgreSQL share accounts and LoRaWAN bindings', () => {
  let server: PostgresServer;
  let mosq: MosquittoServer;
  const procs: ParkOpsProcess[] = [];

  const roleOf = async (p: ParkOpsProcess): Promise<string | undefined> => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return undefined;
    try {
      return ((await (await fetch(`${p.baseUrl}/api/health`, { signal: AbortSignal.timeout(2000) })).json()) as HealthResponse & { role?: string }).role;
    } catch {
      return undefined;
    }
  };
  const withRole = (role: string, among: ParkOpsProcess[] = procs): Promise<ParkOpsProcess> =>
    eventually(async () => {
      for (const p of among) if ((await roleOf(p)) === role) return p;
      return undefined;
    }, 30_000, `a ${role}`);
  const levelOn = async (api: Api, id: string): Promise<number | null | undefined> => (await api.get<FloodResponse>('/api/flood')).body.rooms[0]!.levels.find((l) => l.id === id)?.mm;
  const uplink = async (hex: string, time: number): Promise<void> => {
    const c = await connect(mosq.url);
    const m = chirpstackUp({ devEui: EUI, time, fPort: 85, hex });
    await publish(c, m.topic, m.payload);
    await c.endAsync();
  };

  beforeAll(async () => {
    server = await startPostgres();
    mosq = await startMosquitto();
    const env = { MQTT_URL: mosq.url, PARKOPS_DATABASE_URL: server.url, PARKOPS_NODE_RED: 'false' };
    procs.push(await startParkOps({ env }), await startParkOps({ env }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop().catch(() => undefined)));
    await mosq?.stop();
    await server?.stop();
  });

  it('a user, a session and a token made on one process work on the other; signing out ends the session on both', async () => {
    const [a, b] = procs as [ParkOpsProcess, ParkOpsProcess];
    const adminA = await adminApi(a);
    const created = await adminA.post('/api/users', { username: 'duty', password: 'night-shift-pass-1', role: 'responder' });
    expect(created.status).toBe(201);
    const token = await adminA.post<{ token: string }>('/api/tokens', { name: 'bms', role: 'viewer' });
    expect(token.status).toBe(201);

    const login = await fetch(`${b.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: b.baseUrl }, body: JSON.stringify({ username: 'duty', password: 'night-shift-pass-1' }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const me = async (base: string, headers: Record<string, string>) => fetch(`${base}/api/auth/me`, { headers });
    // The session made on b is valid on a; the token made on a is valid on b.
    expect(((await (await me(a.baseUrl, { cookie })).json()) as { username: string; role: string })).toMatchObject({ username: 'duty', role: 'responder' });
    expect((await me(b.baseUrl, { authorization: `Bearer ${token.body.token}` })).status).toBe(200);
    // Signing out on a ends the session everywhere.
    expect((await fetch(`${a.baseUrl}/api/auth/logout`, { method: 'POST', headers: { cookie, origin: a.baseUrl } })).status).toBe(204);
    expect((await me(b.baseUrl, { cookie })).status).toBe(401);
    // Revoking the token on b revokes it on a.
    expect((await (await adminApi(b)).del('/api/tokens/bms')).status).toBe(204);
    expect((await me(a.baseUrl, { authorization: `Bearer ${token.body.token}` })).status).toBe(401);
  });

  it('a binding made on the standby is used by the leader, kept over a failover, and removed everywhere', async () => {
    const leader = await withRole('leader');
    const standby = await withRole('standby');
    const [leaderApi, standbyApi] = [await adminApi(leader), await adminApi(standby)];

    const put = await standbyApi.put<DeviceView>('/api/devices/L1/binding', { devEui: EUI, codec: 'milesight-em310-udl', params: { mountMm: 1500 } });
    expect(put.status).toBe(200);
    // The leader took it without a restart: its own view lists the binding.
    await eventually(async () => (await leaderApi.get<DeviceView[]>('/api/devices')).body.find((d) => d.id === 'L1')?.binding?.devEui === EUI, 10_000, 'the binding on the leader');
    // A DevEUI bound on one process cannot be bound to a second device on the other.
    expect((await leaderApi.put('/api/devices/L2/binding', { devEui: EUI, codec: 'milesight-em310-udl', params: { mountMm: 1500 } })).status).toBe(409);

    const t = Date.now() - 60_000;
    await uplink(DISTANCE_100, t);
    await eventually(async () => (await levelOn(standbyApi, 'L1')) === 1400, 15_000, 'the translated level on the standby');
    expect(await levelOn(leaderApi, 'L1')).toBe(1400);
    // The uplink's telemetry (RSSI, SNR) is stored once and served by the standby too.
    await eventually(async () => (await standbyApi.get<DeviceView[]>('/api/devices')).body.find((d) => d.id === 'L1')?.rssi !== undefined, 15_000, 'telemetry on the standby');

    // Failover: the standby leads and translates with the binding it reads from the database.
    await leader.kill();
    const next = await withRole('leader', [standby]);
    expect(next).toBe(standby);
    await uplink(DISTANCE_300, t + 1000);
    await eventually(async () => (await levelOn(standbyApi, 'L1')) === 1200, 20_000, 'the level translated by the new leader');

    // The old leader comes back (as a standby) and sees the binding; removing it there removes it on the leader.
    await leader.restart();
    expect(await withRole('standby', [leader])).toBe(leader);
    const back = await adminApi(leader);
    expect((await back.get<DeviceView[]>('/api/devices')).body.find((d) => d.id === 'L1')?.binding?.devEui).toBe(EUI);
    expect((await back.del('/api/devices/L1/binding')).status).toBe(204);
    await eventually(async () => (await standbyApi.get<DeviceView[]>('/api/devices')).body.find((d) => d.id === 'L1')?.binding === undefined, 10_000, 'the binding gone on the leader');
    await uplink(DISTANCE_100, t + 2000);
    await eventually(async () => (await standbyApi.get<UnboundDeviceView[]>('/api/devices/unbound')).body.some((u) => u.devEui === EUI), 15_000, 'the DevEUI listed as unbound');
    expect(await levelOn(standbyApi, 'L1')).toBe(1200);
  }, 180_000);
});
