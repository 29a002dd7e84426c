/**
 * The ingest's own MQTT subscriber (ingest/src/mqtt/ingest-subscriber.ts) against a real Mosquitto,
 * watched on the wire through a recording relay (test/support/mqtt-tap.ts): the window and its
 * backpressure, PUBACKs in the order received and only after the handler acknowledged, nothing
 * acknowledged on a connection for messages of an earlier one, keepalive while messages are held, a
 * failed commit, QoS 0 and 2, presence (Last Will), credentials, TLS and WebSocket.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import type { MqttClient } from 'mqtt';
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { createLogger } from '../../ingest/src/log.ts';
import { IngestSubscriber, type SubscriberOptions } from '../../ingest/src/mqtt/ingest-subscriber.ts';
import { startProjectMosquitto, type ProjectMosquitto } from '../chaos/support.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { freePort, sleep } from '../harness/ports.ts';
import { collect, connect, eventually } from '../support/mqtt.ts';
import { startTap, type Tap } from '../support/mqtt-tap.ts';

const log = createLogger('silent');

interface Got {
  topic: string;
  payload: string;
  ack: (err?: Error) => void;
}

let broker: MosquittoServer;
let tap: Tap;
let publisher: MqttClient;
const running: IngestSubscriber[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  tap = await startTap(broker.port);
  publisher = await connect(broker.url, { clientId: 'subscriber-test-publisher' });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop(200)));
});

afterAll(async () => {
  await publisher?.endAsync();
  await tap?.close();
  await broker?.stop();
});

/** A subscriber through the tap that records what it is handed; `auto` acknowledges at once. */
function subscriber(opts: Partial<SubscriberOptions> & { clientId: string; filters: string[] }, mode: { auto: boolean } = { auto: false }): { sub: IngestSubscriber; got: Got[]; mode: { auto: boolean } } {
  const got: Got[] = [];
  const sub = new IngestSubscriber({
    url: tap.url,
    window: 1000,
    log,
    reconnectMinMs: 50,
    onMessage: (topic, payload, _at, ack) => {
      got.push({ topic, payload: payload.toString(), ack });
      if (mode.auto) ack();
    },
    ...opts,
  });
  running.push(sub);
  return { sub, got, mode };
}

async function publishN(prefix: string, n: number, qos: 0 | 1 | 2 = 1): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => publisher.publishAsync(`${prefix}/${i}`, String(i), { qos })));
}

/** Packets of one tapped connection whose `cmd` matches, in wire order. */
function wire(conn: number, dir: 'up' | 'down', cmd: Packet['cmd']): Packet[] {
  return tap.packets.filter((p) => p.conn === conn && p.dir === dir && p.packet.cmd === cmd).map((p) => p.packet);
}
const publishes = (conn: number, prefix: string): IPublishPacket[] => (wire(conn, 'down', 'publish') as IPublishPacket[]).filter((p) => p.topic.startsWith(`${prefix}/`));
const pubackIds = (conn: number): number[] => wire(conn, 'up', 'puback').map((p) => p.messageId!);
/** The tapped connection the subscriber opened last (the tap numbers connections from 1). */
const currentConn = (): number => tap.connections();

describe('the ingest subscriber on a real Mosquitto', () => {
  it('holds at most its window unacknowledged, stops reading above it, and loses nothing the broker kept meanwhile', async () => {
    const { sub, got, mode } = subscriber({ clientId: 'sub-window', filters: ['win/#'], window: 50 });
    await sub.start();
    const conn = currentConn();
    await publishN('win', 1000);
    await eventually(() => got.length === 50, 10_000, '50 messages handed over');
    // Every publish was accepted by the broker; give it time to push whatever it would.
    await sleep(300);
    expect(got.length).toBe(50);
    expect(sub.outstanding).toBe(50);
    expect(pubackIds(conn)).toEqual([]);
    mode.auto = true;
    for (const g of got) g.ack();
    await eventually(() => got.length === 1000 && pubackIds(conn).length === 1000, 20_000, 'all 1000 handed over and acknowledged');
    expect(got.map((g) => g.topic)).toEqual(Array.from({ length: 1000 }, (_, i) => `win/${i}`));
    const sent = publishes(conn, 'win');
    expect(sent.some((p) => p.dup)).toBe(false);
    expect(pubackIds(conn)).toEqual(sent.map((p) => p.messageId));
    expect(sub.connects).toBe(1);
  });

  it('pushes back to the broker through TCP while the window is full: the broker keeps what the socket does not take', async () => {
    const { sub, got, mode } = subscriber({ clientId: 'sub-backpressure', filters: ['bp/#'], window: 100 });
    await sub.start();
    const conn = currentConn();
    // Mosquitto may put all of them in flight at once (the shipped mosquitto.conf's max_inflight_messages
    // 8000 is more than all of them); at 20 KB each that is 40 MB, more than the socket buffers between it and the
    // subscriber hold, so TCP must stop it.
    const total = 2000;
    const pad = 'x'.repeat(20_000);
    for (let i = 0; i < total; i += 500) await Promise.all(Array.from({ length: 500 }, (_, k) => publisher.publishAsync(`bp/${i + k}`, pad, { qos: 1 })));
    await eventually(() => got.length === 100, 10_000, 'a full window');
    await sleep(300);
    const onTheWire = publishes(conn, 'bp').length;
    expect(got.length).toBe(100);
    console.log(`subscriber backpressure: ${onTheWire} of ${total} messages of 20 KB on the wire while the window of 100 was full`);
    expect(onTheWire).toBeLessThan(total / 2);
    mode.auto = true;
    for (const g of got) g.ack();
    await eventually(() => got.length === total && sub.outstanding === 0, 30_000, `all ${total} handed over`);
    expect(new Set(got.map((g) => g.topic)).size).toBe(total);
  });

  it('writes PUBACKs in the order the messages were received, whatever order ingest settles them in', async () => {
    const { sub, got } = subscriber({ clientId: 'sub-order', filters: ['ord/#'], window: 100 });
    await sub.start();
    const conn = currentConn();
    await publishN('ord', 100);
    await eventually(() => got.length === 100, 10_000, '100 messages handed over');
    // Settle back to front: nothing may be acknowledged until the first one is.
    for (let i = got.length - 1; i >= 1; i--) got[i]!.ack();
    await sleep(100);
    expect(pubackIds(conn)).toEqual([]);
    got[0]!.ack();
    await eventually(() => pubackIds(conn).length === 100, 10_000, '100 PUBACKs');
    expect(pubackIds(conn)).toEqual(publishes(conn, 'ord').map((p) => p.messageId));
  });

  it('never acknowledges an earlier connection’s messages on the next one: the broker redelivers them with DUP', async () => {
    const { sub, got } = subscriber({ clientId: 'sub-reconnect', filters: ['re/#'], window: 100 });
    await sub.start();
    const first = currentConn();
    await publishN('re', 20);
    await eventually(() => got.length === 20, 10_000, '20 messages on the first connection');
    const before = got.slice();
    tap.cut();
    await eventually(() => sub.connects === 2 && sub.connected && got.length === 40, 10_000, 'the 20 redelivered on a new connection');
    const second = currentConn();
    expect(second).toBe(first + 1);
    const again = publishes(second, 're');
    expect(again.map((p) => p.topic)).toEqual(before.map((g) => g.topic));
    expect(again.every((p) => p.dup)).toBe(true);
    // Ingest finishing the first connection's batch late must write nothing anywhere.
    for (const g of before) g.ack();
    await publisher.publishAsync('re/marker', 'm', { qos: 1 });
    await eventually(() => got.length === 41, 10_000, 'the marker');
    got[40]!.ack();
    await sleep(100);
    // The marker's PUBACK waits behind the unsettled redeliveries: nothing on the wire yet.
    expect(pubackIds(second)).toEqual([]);
    for (const g of got.slice(20, 40)) g.ack();
    await eventually(() => pubackIds(second).length === 21, 10_000, '21 PUBACKs on the second connection');
    expect(pubackIds(second)).toEqual(publishes(second, 're').map((p) => p.messageId));
    expect(pubackIds(first)).toEqual([]);
    // The session holds nothing more: a new subscriber with the same id gets only what comes next.
    await sub.stop(200);
    const { sub: next, got: nextGot } = subscriber({ clientId: 'sub-reconnect', filters: ['re/#'] }, { auto: true });
    await next.start();
    await publisher.publishAsync('re/after', 'a', { qos: 1 });
    await eventually(() => nextGot.length >= 1, 10_000, 'a message after the restart');
    expect(nextGot.map((g) => g.topic)).toEqual(['re/after']);
  });

  it('keeps the connection alive with PINGREQs while ingest holds a full window for longer than the keepalive', async () => {
    const { sub, got, mode } = subscriber({ clientId: 'sub-keepalive', filters: ['ka/#'], window: 10, keepaliveSec: 1 });
    await sub.start();
    const conn = currentConn();
    await publishN('ka', 30);
    await eventually(() => got.length === 10, 10_000, 'a full window');
    // Mosquitto drops a client that sends nothing for 1.5 keepalives; the hold lasts 3.5.
    await sleep(3500);
    expect(wire(conn, 'up', 'pingreq').length).toBeGreaterThanOrEqual(3);
    expect(sub.connects).toBe(1);
    expect(tap.connections()).toBe(conn);
    mode.auto = true;
    for (const g of got) g.ack();
    await eventually(() => got.length === 30 && pubackIds(conn).length === 30, 10_000, 'all 30 acknowledged');
    expect(publishes(conn, 'ka').some((p) => p.dup)).toBe(false);
    expect(sub.connects).toBe(1);
  });

  it('after a failed commit acknowledges nothing from that message on, drops the connection and gets the rest again', async () => {
    let failed = false;
    const got: Got[] = [];
    const sub = new IngestSubscriber({
      url: tap.url,
      clientId: 'sub-store-failure',
      filters: ['sf/#'],
      window: 100,
      log,
      storeRetryMs: 200,
      reconnectMinMs: 50,
      onMessage: (topic, payload, _at, ack) => {
        got.push({ topic, payload: payload.toString(), ack });
        if (topic === 'sf/5' && !failed) {
          failed = true;
          return ack(new Error('disk full'));
        }
        ack();
      },
    });
    running.push(sub);
    await sub.start();
    const first = currentConn();
    await publishN('sf', 10);
    await eventually(() => sub.connects === 2 && sub.connected, 10_000, 'a new connection after the failure');
    const second = currentConn();
    await eventually(() => pubackIds(second).length === 5, 10_000, 'the five redelivered acknowledged');
    const firstSent = publishes(first, 'sf');
    expect(pubackIds(first)).toEqual(firstSent.slice(0, 5).map((p) => p.messageId));
    const redelivered = publishes(second, 'sf');
    expect(redelivered.map((p) => p.topic)).toEqual(['sf/5', 'sf/6', 'sf/7', 'sf/8', 'sf/9']);
    expect(redelivered.every((p) => p.dup)).toBe(true);
    expect(new Set(got.map((g) => g.topic)).size).toBe(10);
  });

  it('takes QoS 0 without a PUBACK and QoS 2 at the granted QoS 1, on the same connection', async () => {
    const { sub, got } = subscriber({ clientId: 'sub-qos', filters: ['q/#'] }, { auto: true });
    await sub.start();
    const conn = currentConn();
    await publisher.publishAsync('q/zero', '0', { qos: 0 });
    await publisher.publishAsync('q/two', '2', { qos: 2 });
    await eventually(() => got.length === 2 && pubackIds(conn).length === 1, 10_000, 'both messages, one PUBACK');
    const sent = publishes(conn, 'q');
    expect(sent.map((p) => [p.topic, p.qos])).toEqual([
      ['q/zero', 0],
      ['q/two', 1],
    ]);
    expect(pubackIds(conn)).toEqual([sent[1]!.messageId]);
    expect(wire(conn, 'up', 'pubrec')).toEqual([]);
    expect(sub.connects).toBe(1);
  });
});

describe('presence and credentials on the project’s Mosquitto (accounts and ACL)', () => {
  let project: ProjectMosquitto;
  let projectTap: Tap;
  beforeAll(async () => {
    project = await startProjectMosquitto();
    projectTap = await startTap(project.broker.port);
  });
  afterAll(async () => {
    await projectTap?.close();
    await project?.stop();
  });

  it('refuses to start on a wrong password, with the reason', async () => {
    const url = project.urlFor('parkops-ingest').replace(/:[^:@/]+@/, ':wrong-password@');
    const sub = new IngestSubscriber({ url, clientId: 'presence-ingest', filters: ['park/#'], window: 100, log, onMessage: (_t, _p, _a, ack) => ack() });
    await expect(sub.start()).rejects.toThrow(/refused the connection \(MQTT_URL\): (bad user name or password|not authorised)/);
    expect(sub.connected).toBe(false);
    expect(/wrong-password/.test(sub.describe())).toBe(false);
  });

  it('publishes online on connect, leaves offline as its Last Will when the network fails, and offline on stop', async () => {
    const status = await collect(project.urlFor('dashboard'), 'park/ops/status');
    const seen = (): string[] => status.messages.map((m) => m.payload);
    const url = projectTap.url.replace('mqtt://', `mqtt://parkops-ingest:${encodeURIComponent(new URL(project.urlFor('parkops-ingest')).password)}@`);
    const sub = new IngestSubscriber({ url, clientId: 'presence-ingest', filters: ['park/#'], window: 100, log, reconnectMinMs: 50, onMessage: (_t, _p, _a, ack) => ack(), presence: { topic: 'park/ops/status', online: 'online', offline: 'offline' } });
    try {
      await sub.start();
      await eventually(() => seen().at(-1) === 'online', 10_000, 'online');
      projectTap.cut();
      await eventually(() => seen().includes('offline'), 10_000, 'the Last Will');
      await eventually(() => sub.connected && seen().at(-1) === 'online', 10_000, 'online again after the reconnect');
      await sub.stop();
      await eventually(() => seen().at(-1) === 'offline', 10_000, 'offline on stop');
      expect(seen()).toEqual(['online', 'offline', 'online', 'offline']);
    } finally {
      await sub.stop(200);
      await status.close();
    }
  });
});

describe('over TLS (mqtts://) with a self-signed certificate', () => {
  let tlsBroker: MosquittoServer;
  let dir: string;
  let tlsPort: number;
  let ca: Buffer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parkops-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
    ca = readFileSync(join(dir, 'cert.pem'));
    tlsPort = await freePort();
    tlsBroker = await startMosquitto({ extraConfig: `listener ${tlsPort} 127.0.0.1\ncertfile ${join(dir, 'cert.pem')}\nkeyfile ${join(dir, 'key.pem')}` });
  });
  afterAll(async () => {
    await tlsBroker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('receives and acknowledges through a verified TLS connection', async () => {
    const got: string[] = [];
    const sub = new IngestSubscriber({ url: `mqtts://127.0.0.1:${tlsPort}`, clientId: 'sub-tls', filters: ['tls/#'], window: 100, log, tls: { ca }, onMessage: (t, _p, _a, ack) => (got.push(t), ack()) });
    running.push(sub);
    await sub.start();
    const pub = await connect(tlsBroker.url, { clientId: 'tls-publisher' });
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => pub.publishAsync(`tls/${i}`, String(i), { qos: 1 })));
      await eventually(() => got.length === 200 && sub.outstanding === 0, 10_000, '200 over TLS');
      expect(got).toEqual(Array.from({ length: 200 }, (_, i) => `tls/${i}`));
    } finally {
      await pub.endAsync();
    }
  });

  it('does not connect when the certificate cannot be verified, and says why', async () => {
    const sub = new IngestSubscriber({ url: `mqtts://127.0.0.1:${tlsPort}`, clientId: 'sub-tls-untrusted', filters: ['tls/#'], window: 100, log, reconnectMinMs: 50, onMessage: (_t, _p, _a, ack) => ack() });
    const started = sub.start();
    started.catch(() => undefined);
    await eventually(() => /self[- ]signed certificate/i.test(sub.describe()), 10_000, 'a certificate error in the status');
    expect(sub.connected).toBe(false);
    await sub.stop(200);
    await expect(started).rejects.toThrow(/stopped before the MQTT broker/);
  });
});

describe('over WebSocket (ws://), against aedes', () => {
  let aedes: Aedes;
  let tcp: Server;
  let wss: WebSocketServer;
  beforeAll(async () => {
    aedes = await Aedes.createBroker({ id: 'subscriber-ws-test' });
    tcp = createServer(aedes.handle);
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws) => aedes.handle(createWebSocketStream(ws)));
  });
  afterAll(async () => {
    await new Promise<void>((r) => wss.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => tcp.close(() => r()));
  });

  it('receives and acknowledges MQTT over a WebSocket', async () => {
    const got: string[] = [];
    const wsPort = (wss.address() as { port: number }).port;
    const sub = new IngestSubscriber({ url: `ws://127.0.0.1:${wsPort}/mqtt`, clientId: 'sub-ws', filters: ['ws/#'], window: 50, log, onMessage: (t, _p, _a, ack) => (got.push(t), ack()) });
    running.push(sub);
    await sub.start();
    const pub = await connect(`mqtt://127.0.0.1:${(tcp.address() as { port: number }).port}`, { clientId: 'ws-publisher' });
    try {
      await Promise.all(Array.from({ length: 300 }, (_, i) => pub.publishAsync(`ws/${i}`, String(i), { qos: 1 })));
      await eventually(() => got.length === 300 && sub.outstanding === 0, 10_000, '300 over WebSocket');
      expect(got).toEqual(Array.from({ length: 300 }, (_, i) => `ws/${i}`));
    } finally {
      await pub.endAsync();
    }
  });
});
