import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aclAllows, BrokerAuthError, filtersIntersect, loadBrokerAuth, parseAclFile, parsePasswordFile, topicMatches, verifyMosquittoPassword } from './broker-auth.ts';

const PROJECT_ACL = fileURLToPath(new URL('../../../mosquitto/acl', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parkops-broker-auth-'));
const passwd = join(dir, 'passwd');

const ACCOUNTS = {
  'parkops-ingest': 'ingest-secret-1',
  'parking-devices': 'parking-secret-1',
  'flood-devices': 'flood-secret-1',
  'venue-devices': 'venue-secret-1',
  dashboard: 'dashboard-secret-1',
  'warnings-feed': 'warnings-secret-1',
  'network-server': 'network-server-secret-1',
} as const;

beforeAll(() => {
  // The real mosquitto_passwd, as an operator would run it (default $7$ PBKDF2-SHA512).
  execFileSync('mosquitto_passwd', ['-c', '-b', passwd, 'parkops-ingest', ACCOUNTS['parkops-ingest']]);
  for (const [user, pass] of Object.entries(ACCOUNTS).slice(1)) execFileSync('mosquitto_passwd', ['-b', passwd, user, pass]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('password file', () => {
  it('verifies $7$ hashes written by mosquitto_passwd and rejects wrong passwords', async () => {
    const users = parsePasswordFile(readFileSync(passwd, 'utf8'));
    expect([...users.keys()].sort()).toEqual(Object.keys(ACCOUNTS).sort());
    const entry = users.get('flood-devices')!;
    expect(entry.kind).toBe('pbkdf2-sha512');
    expect(await verifyMosquittoPassword(entry, Buffer.from('flood-secret-1'))).toBe(true);
    expect(await verifyMosquittoPassword(entry, Buffer.from('flood-secret-2'))).toBe(false);
    expect(await verifyMosquittoPassword(entry, Buffer.from(''))).toBe(false);
  });

  it('verifies legacy $6$ (salted SHA-512) hashes from mosquitto_passwd -H sha512', async () => {
    const legacy = join(dir, 'passwd-sha512');
    execFileSync('mosquitto_passwd', ['-H', 'sha512', '-c', '-b', legacy, 'old-device', 'old-secret-9']);
    const entry = parsePasswordFile(readFileSync(legacy, 'utf8')).get('old-device')!;
    expect(entry.kind).toBe('sha512');
    expect(await verifyMosquittoPassword(entry, Buffer.from('old-secret-9'))).toBe(true);
    expect(await verifyMosquittoPassword(entry, Buffer.from('old-secret-8'))).toBe(false);
  });

  it('refuses plain-text and malformed lines with the file and line number', () => {
    expect(() => parsePasswordFile('alice:$7$101$abc$def\nbob:plaintext\n', 'pw')).toThrow(/pw line 2: unsupported hash for "bob"/);
    expect(() => parsePasswordFile('no-colon-here', 'pw')).toThrow(BrokerAuthError);
  });
});

describe('ACL', () => {
  const acl = parseAclFile(readFileSync(PROJECT_ACL, 'utf8'));

  it.each([
    ['parking-devices', 'park/parking/bays/A-1', 'write', true],
    ['parking-devices', 'park/parking/gates/north-in', 'write', true],
    ['parking-devices', 'park/devices/A-1/status', 'write', true],
    ['parking-devices', 'park/flood/b1-power/levels/L1', 'write', false],
    ['parking-devices', 'park/alerts/x', 'write', false],
    ['parking-devices', 'park/parking/bays/A-1', 'read', false],
    ['flood-devices', 'park/flood/b1-power/pumps/P1', 'write', true],
    ['flood-devices', 'park/venues/gym/counts', 'write', false],
    ['venue-devices', 'park/venues/gym/counts', 'write', true],
    ['venue-devices', 'park/parking/bays/A-1', 'write', false],
    ['parkops-ingest', 'park/flood/b1-power/levels/L1', 'read', true],
    ['parkops-ingest', 'park/alerts/a1', 'write', true],
    ['parkops-ingest', 'park/rejected', 'write', true],
    ['parkops-ingest', 'park/ops/status', 'write', true],
    ['parkops-ingest', 'park/parking/bays/A-1', 'write', false],
    ['dashboard', 'park/alerts/a1', 'read', true],
    ['dashboard', 'park/alerts/a1', 'write', false],
    ['dashboard', 'other/topic', 'read', false],
    ['warnings-feed', 'park/warnings/cma', 'write', true],
    ['warnings-feed', 'park/flood/b1-power/levels/L1', 'write', false],
    ['warnings-feed', 'park/warnings/cma', 'read', false],
    ['flood-devices', 'park/warnings/cma', 'write', false],
    ['network-server', 'application/17c8/device/0101010101010101/event/up', 'write', true],
    ['network-server', 'v3/app1@ttn/devices/dev1/up', 'write', true],
    ['network-server', 'application/17c8/device/0101010101010101/event/join', 'write', false],
    ['network-server', 'park/parking/bays/A-1', 'write', false],
    ['parkops-ingest', 'application/17c8/device/0101010101010101/event/up', 'read', true],
    ['parkops-ingest', 'v3/app1@ttn/devices/dev1/up', 'read', true],
    ['parkops-ingest', 'application/17c8/device/0101010101010101/event/up', 'write', false],
    ['someone-else', 'park/parking/bays/A-1', 'read', false],
  ] as const)('%s %s %s -> %s', (user, topic, access, allowed) => {
    expect(aclAllows(acl, user, 'client-1', topic, access)).toBe(allowed);
  });

  it('applies deny before grants, and patterns with %u and %c', () => {
    const custom = parseAclFile('user a\ntopic readwrite x/#\ntopic deny x/secret\npattern write dev/%u/%c\n');
    expect(aclAllows(custom, 'a', 'c1', 'x/open', 'write')).toBe(true);
    expect(aclAllows(custom, 'a', 'c1', 'x/secret', 'read')).toBe(false);
    expect(aclAllows(custom, 'a', 'c1', 'dev/a/c1', 'write')).toBe(true);
    expect(aclAllows(custom, 'b', 'c1', 'dev/a/c1', 'write')).toBe(false);
    expect(aclAllows(custom, undefined, 'c1', 'dev//c1', 'write')).toBe(false);
  });

  it('rejects unknown keywords with the line number', () => {
    expect(() => parseAclFile('user a\nallow all\n', 'acl')).toThrow(/acl line 2/);
  });

  it('matches topics as MQTT does', () => {
    expect(topicMatches('park/#', 'park')).toBe(true);
    expect(topicMatches('park/+/status', 'park/x/status')).toBe(true);
    expect(topicMatches('park/+/status', 'park/x/y/status')).toBe(false);
    expect(topicMatches('#', '$SYS/broker')).toBe(false);
    expect(filtersIntersect('park/#', '#')).toBe(true);
    expect(filtersIntersect('park/flood/#', 'park/+/b1/levels/+')).toBe(true);
    expect(filtersIntersect('park/#', 'other/#')).toBe(false);
    expect(filtersIntersect('park/a', 'park/a/b')).toBe(false);
  });

  it('refuses an ACL without a password file', () => {
    expect(() => loadBrokerAuth(undefined, PROJECT_ACL)).toThrow(/needs MQTT_PASSWORD_FILE/);
    expect(() => loadBrokerAuth(join(dir, 'missing'), PROJECT_ACL)).toThrow(/cannot be read \(ENOENT\)/);
  });
});

describe('embedded aedes broker with the project files', () => {
  let broker: Aedes;
  let server: Server;
  let url: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const auth = loadBrokerAuth(passwd, PROJECT_ACL);
    broker = await Aedes.createBroker({
      authenticate: auth.authenticate,
      authorizePublish: auth.authorizePublish,
      authorizeSubscribe: auth.authorizeSubscribe,
      authorizeForward: auth.authorizeForward,
    });
    server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function connect(username?: string, password?: string): Promise<MqttClient> {
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(url, { username, password, reconnectPeriod: 0, protocolVersion: 4 });
      clients.push(client);
      client.once('connect', () => resolve(client));
      client.once('error', reject);
    });
  }

  it('refuses anonymous clients and wrong passwords with "not authorized"', async () => {
    await expect(connect()).rejects.toThrow(/Not authorized/);
    await expect(connect('dashboard', 'wrong-password')).rejects.toThrow(/Not authorized/);
    await expect(connect('nobody', 'dashboard-secret-1')).rejects.toThrow(/Not authorized/);
  });

  it('delivers a device publish in its own family, and never one into another family', async () => {
    const ingest = await connect('parkops-ingest', ACCOUNTS['parkops-ingest']);
    const received: string[] = [];
    ingest.on('message', (topic) => received.push(topic));
    await ingest.subscribeAsync('park/#', { qos: 1 });

    const parking = await connect('parking-devices', ACCOUNTS['parking-devices']);
    await parking.publishAsync('park/parking/bays/A-1', '{"occupied":true}', { qos: 1 });
    const closed = new Promise<void>((resolve) => parking.once('close', () => resolve()));
    // Not PUBACKed: the embedded broker closes the connection instead [MQTT-3.3.5-2].
    void parking.publishAsync('park/flood/b1-power/levels/L1', '{"mm":9000}', { qos: 1 }).catch(() => {});
    await closed;

    // A marker published after the refused message: once it arrives, anything before it would have too.
    const flood = await connect('flood-devices', ACCOUNTS['flood-devices']);
    await flood.publishAsync('park/flood/b1-power/levels/L2', '{"mm":5}', { qos: 1 });
    await expect.poll(() => received).toContain('park/flood/b1-power/levels/L2');
    expect(received).toEqual(['park/parking/bays/A-1', 'park/flood/b1-power/levels/L2']);
  });

  it('lets the read-only account read park/# and nothing else, and write nothing', async () => {
    const dashboard = await connect('dashboard', ACCOUNTS.dashboard);
    const granted = await dashboard.subscribeAsync('#', { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
    // A filter no read rule can serve is refused in the SUBACK (0x80, which MQTT.js reports as an error).
    await expect(dashboard.subscribeAsync('other/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    const received: string[] = [];
    dashboard.on('message', (topic) => received.push(topic));

    const ingest = await connect('parkops-ingest', ACCOUNTS['parkops-ingest']);
    // The ingest may not write device topics either: closed, nothing delivered.
    const closed = new Promise<void>((resolve) => ingest.once('close', () => resolve()));
    void ingest.publishAsync('park/parking/bays/A-2', '{"occupied":false}', { qos: 1 }).catch(() => {});
    await closed;
    const ingest2 = await connect('parkops-ingest', ACCOUNTS['parkops-ingest']);
    await ingest2.publishAsync('park/alerts/a1', '{}', { qos: 1 });
    await expect.poll(() => received).toContain('park/alerts/a1');
    expect(received).toEqual(['park/alerts/a1']);

    const closedDash = new Promise<void>((resolve) => dashboard.once('close', () => resolve()));
    void dashboard.publishAsync('park/alerts/a1', '{"state":"resolved"}', { qos: 1 }).catch(() => {});
    await closedDash;
  });

  it('keeps a will on a forbidden topic from being published, and publishes an allowed one', async () => {
    const ingest = await connect('parkops-ingest', ACCOUNTS['parkops-ingest']);
    const received: string[] = [];
    ingest.on('message', (topic) => received.push(topic));
    await ingest.subscribeAsync('park/#', { qos: 1 });
    const withWill = async (clientId: string, topic: string) => {
      const client = mqtt.connect(url, {
        clientId,
        username: 'venue-devices',
        password: ACCOUNTS['venue-devices'],
        reconnectPeriod: 0,
        will: { topic, payload: Buffer.from('offline'), qos: 1, retain: false },
      });
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      return client;
    };
    const forged = await withWill('forger', 'park/alerts/fake');
    const honest = await withWill('gym', 'park/devices/gym/status');
    const forgedGone = new Promise<void>((resolve) => broker.on('clientDisconnect', (c) => c.id === 'forger' && resolve()));
    forged.stream.destroy(); // an ungraceful drop fires the will
    await forgedGone;
    honest.stream.destroy();
    await expect.poll(() => received).toContain('park/devices/gym/status');
    expect(received).toEqual(['park/devices/gym/status']);
  });
});

it('the shipped ACL names exactly the six documented accounts', () => {
  const acl = parseAclFile(readFileSync(PROJECT_ACL, 'utf8'));
  expect([...acl.users.keys()].sort()).toEqual(Object.keys(ACCOUNTS).sort());
  expect(acl.anonymous).toEqual([]);
});
