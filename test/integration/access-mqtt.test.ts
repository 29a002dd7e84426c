/**
 * Access on MQTT: a real Mosquitto started with the project's own mosquitto.conf and mosquitto/acl
 * (listener and data paths made temporary by the harness, the password file made with the real
 * mosquitto_passwd) refuses anonymous clients and enforces the ACL. A device account publishing into
 * another family is dropped (MQTT 3.1.1: PUBACKed and dropped; MQTT 5: refused with reason 0x87),
 * and ParkOps connected as `parkops-ingest` stores nothing from it.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site/index.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi } from '../support/api.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PASSWORDS = {
  'parkops-ingest': 'ingest-pass-0001',
  'parking-devices': 'parking-pass-0001',
  'flood-devices': 'flood-pass-0001',
  'venue-devices': 'venue-pass-0001',
  dashboard: 'dashboard-pass-0001',
} as const;
type Account = keyof typeof PASSWORDS;

const site = loadSite();
const bay = site.bays[0]!.id;
const room = site.rooms[0]!;
const level = room.levels[0]!.id;

let dir: string;
let broker: MosquittoServer;
const clients: MqttClient[] = [];

beforeAll(async () => {
  // The deployment layout, as an operator builds it: mosquitto.conf next to mosquitto/{acl,passwd}.
  dir = mkdtempSync(join(tmpdir(), 'parkops-access-mqtt-'));
  mkdirSync(join(dir, 'mosquitto'));
  copyFileSync(join(ROOT, 'mosquitto.conf'), join(dir, 'mosquitto.conf'));
  copyFileSync(join(ROOT, 'mosquitto', 'acl'), join(dir, 'mosquitto', 'acl'));
  const passwd = join(dir, 'mosquitto', 'passwd');
  for (const [i, [user, pass]] of Object.entries(PASSWORDS).entries()) {
    execFileSync('mosquitto_passwd', [...(i === 0 ? ['-c'] : []), '-b', passwd, user, pass]);
  }
  broker = await startMosquitto({ configFile: join(dir, 'mosquitto.conf') });
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function connect(account?: Account, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(broker.url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...(account ? { username: account, password: PASSWORDS[account] } : {}),
      ...opts,
    });
    clients.push(client);
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/** A subscriber that records every topic it receives. */
async function listen(account: Account, filter: string): Promise<string[]> {
  const client = await connect(account);
  const topics: string[] = [];
  client.on('message', (topic) => topics.push(topic));
  await client.subscribeAsync(filter, { qos: 1 });
  return topics;
}

it('the project config keeps anonymous access off and a sized offline queue', () => {
  const conf = readFileSync(join(ROOT, 'mosquitto.conf'), 'utf8');
  expect(conf).toMatch(/^allow_anonymous false$/m);
  expect(conf).toMatch(/^password_file \/mosquitto\/config\/passwd$/m);
  expect(conf).toMatch(/^acl_file \/mosquitto\/config\/acl$/m);
  expect(conf).toMatch(/^persistence true$/m);
  const queued = Number(/^max_queued_messages (\d+)$/m.exec(conf)?.[1]);
  expect(queued).toBeGreaterThanOrEqual(200_000);
});

describe('a real Mosquitto with the project config', () => {
  it('refuses anonymous clients, wrong passwords and unknown accounts', async () => {
    await expect(connect()).rejects.toThrow(/Not authorized/);
    await expect(connect(undefined, { username: 'dashboard', password: 'wrong-password' })).rejects.toThrow(/Not authorized/);
    await expect(connect(undefined, { username: 'mallory', password: PASSWORDS.dashboard })).rejects.toThrow(/Not authorized/);
    // MQTT 5 clients get the same answer.
    await expect(connect(undefined, { protocolVersion: 5 })).rejects.toThrow(/Not authorized/);
  });

  it('drops a device account publishing into another family; its own family gets through', async () => {
    const ingest = await listen('parkops-ingest', 'park/#');
    const parking = await connect('parking-devices');
    // MQTT 3.1.1 has no way to refuse a PUBLISH: Mosquitto acknowledges it and drops it.
    await parking.publishAsync(`park/flood/${room.id}/levels/${level}`, '{"mm":9999}', { qos: 1 });
    await parking.publishAsync(`park/venues/${site.venues[0]!.id}/counts`, '{"in":500,"out":0}', { qos: 1 });
    await parking.publishAsync('park/alerts/forged', '{"state":"resolved"}', { qos: 1 });
    await parking.publishAsync(`park/parking/bays/${bay}`, '{"occupied":true}', { qos: 1 });
    // Messages from one client arrive in order, so once its allowed message is here the others would have been.
    await expect.poll(() => ingest).toContain(`park/parking/bays/${bay}`);
    expect(ingest).toEqual([`park/parking/bays/${bay}`]);

    // MQTT 5 carries the refusal back: PUBACK reason 0x87 "not authorized".
    const flood5 = await connect('flood-devices', { protocolVersion: 5 });
    await expect(flood5.publishAsync(`park/parking/bays/${bay}`, '{"occupied":false}', { qos: 1 })).rejects.toMatchObject({ code: 135 });
  });

  it('lets each family publish its own topics and device status, nothing else', async () => {
    const ingest = await listen('parkops-ingest', 'park/#');
    const cases: [Account, string, boolean][] = [
      ['flood-devices', `park/flood/${room.id}/pumps/${room.pumps[0]!.id}`, true],
      ['flood-devices', `park/devices/${level}/status`, true],
      ['venue-devices', `park/venues/${site.venues[0]!.id}/counts`, true],
      ['venue-devices', `park/flood/${room.id}/levels/${level}`, false],
      ['dashboard', `park/parking/bays/${bay}`, false],
      ['parkops-ingest', `park/parking/bays/${bay}`, false],
      ['parkops-ingest', 'park/rejected', true],
      ['parkops-ingest', 'park/ops/status', true],
    ];
    for (const [account, topic] of cases) {
      const c = await connect(account);
      await c.publishAsync(topic, '{}', { qos: 1 });
      await c.endAsync();
    }
    const marker = await connect('parkops-ingest');
    await marker.publishAsync('park/alerts/marker', '{}', { qos: 1 });
    await expect.poll(() => ingest).toContain('park/alerts/marker');
    expect(ingest.slice(0, -1)).toEqual(cases.filter(([, , allowed]) => allowed).map(([, topic]) => topic));
  });

  it('gives the read-only account everything under park/ and nothing outside it', async () => {
    const dashboard = await listen('dashboard', '#');
    const ingest = await connect('parkops-ingest');
    await ingest.publishAsync('park/alerts/a-1', '{"id":"a-1"}', { qos: 1 });
    await expect.poll(() => dashboard).toContain('park/alerts/a-1');
    // Devices may not read: a stolen sensor credential cannot watch alerts or other devices.
    const deviceView = await listen('flood-devices', 'park/#');
    await ingest.publishAsync('park/alerts/a-2', '{"id":"a-2"}', { qos: 1 });
    await expect.poll(() => dashboard).toContain('park/alerts/a-2');
    expect(deviceView).toEqual([]);
  });
});

describe('ParkOps behind the project Mosquitto', () => {
  let sys: ParkOpsProcess;
  beforeAll(async () => {
    const u = new URL(broker.url);
    u.username = 'parkops-ingest';
    u.password = PASSWORDS['parkops-ingest'];
    sys = await startParkOps({ env: { MQTT_URL: u.toString(), MQTT_CLIENT_ID: 'parkops-access-test' } });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('stores nothing a device account published into another family', async () => {
    const api = await adminApi(sys);
    const parking = await connect('parking-devices');
    await parking.publishAsync(`park/flood/${room.id}/levels/${level}`, '{"mm":8888}', { qos: 1 });
    const flood = await connect('flood-devices');
    await flood.publishAsync(`park/flood/${room.id}/levels/${room.levels[1]!.id}`, '{"mm":42}', { qos: 1 });

    type Flood = { rooms: { id: string; levels: { id: string; mm: number | null }[] }[] };
    const levels = async () => (await api.get<Flood>('/api/flood')).body.rooms.find((r) => r.id === room.id)!.levels;
    await expect.poll(async () => (await levels()).find((l) => l.id === room.levels[1]!.id)?.mm).toBe(42);
    expect((await levels()).find((l) => l.id === level)?.mm).toBeNull();
  });
});

describe('the embedded broker with the same password file and ACL', () => {
  let sys: ParkOpsProcess;
  beforeAll(async () => {
    sys = await startParkOps({ env: { MQTT_PASSWORD_FILE: join(dir, 'mosquitto', 'passwd'), MQTT_ACL_FILE: join(dir, 'mosquitto', 'acl') } });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const connectEmbedded = (account?: Account, password?: string) =>
    new Promise<MqttClient>((resolve, reject) => {
      const client = mqtt.connect(sys.mqttUrl, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...(account ? { username: account, password: password ?? PASSWORDS[account] } : {}),
      });
      clients.push(client);
      client.once('connect', () => resolve(client));
      client.once('error', reject);
    });

  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(connectEmbedded()).rejects.toThrow(/Not authorized/);
    await expect(connectEmbedded('flood-devices', 'not-the-password')).rejects.toThrow(/Not authorized/);
  });

  it('stores a device reading in its own family and nothing from another family', async () => {
    const api = await adminApi(sys);
    const parking = await connectEmbedded('parking-devices');
    const closed = new Promise<void>((resolve) => parking.once('close', () => resolve()));
    void parking.publishAsync(`park/flood/${room.id}/levels/${level}`, '{"mm":7777}', { qos: 1 }).catch(() => undefined);
    await closed; // the embedded broker closes the connection instead of acknowledging [MQTT-3.3.5-2]
    const flood = await connectEmbedded('flood-devices');
    await flood.publishAsync(`park/flood/${room.id}/levels/${room.levels[1]!.id}`, '{"mm":24}', { qos: 1 });

    type Flood = { rooms: { id: string; levels: { id: string; mm: number | null }[] }[] };
    const levels = async () => (await api.get<Flood>('/api/flood')).body.rooms.find((r) => r.id === room.id)!.levels;
    await expect.poll(async () => (await levels()).find((l) => l.id === room.levels[1]!.id)?.mm).toBe(24);
    expect((await levels()).find((l) => l.id === level)?.mm).toBeNull();
  });

  it('lets the read-only account read what ParkOps publishes', async () => {
    const dashboard = await connectEmbedded('dashboard');
    const seen: string[] = [];
    dashboard.on('message', (topic) => seen.push(topic));
    await dashboard.subscribeAsync('park/#', { qos: 1 });
    // ParkOps publishes its own retained status in-process, needing no account.
    await expect.poll(() => seen).toContain('park/ops/status');
  });
});
