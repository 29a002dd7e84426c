/**
 * docs/api.md, ParkOps to clients on a real Mosquitto, through the production MQTT adapter: `park/alerts/{id}` is
 * retained while the alert is not resolved; on resolution the resolved object goes out once, not
 * retained, and the retained message is cleared, so a client connecting later sees no stale alert.
 * Readings go on the bus as ingest puts them; the engine's clock is injected to skip the clear hold.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEngine, SqliteAlertRepository, SqliteIncidentRepository } from '../../ingest/src/alerts/index.ts';
import { testSiteFile } from '../../ingest/src/alerts/testing.ts';
import { EventBus } from '../../ingest/src/bus.ts';
import type { Alert } from '@parkops/contract/api.ts';
import { Topics } from '@parkops/contract/topics.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { MqttClientLink } from '../../ingest/src/mqtt/client-link.ts';
import { parseSite } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../../ingest/src/store/db.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { collect, publish, type Collector } from '../support/mqtt.ts';

let broker: MosquittoServer;
let link: MqttClientLink;
let engine: AlertEngine;
let db: Db;
let dir: string;
const bus = new EventBus(createLogger('silent'));
const clock = { t: Date.parse('2026-07-15T06:00:00Z'), now: () => clock.t };
const topics = new Topics('park');

function levels(mm: number): void {
  for (const sensorId of ['L1', 'L2']) {
    bus.emit('reading.accepted', { reading: { kind: 'level', subject: `flood/b1/levels/${sensorId}`, ts: clock.t, roomId: 'b1', sensorId, mm }, applied: true, duplicate: false, receivedAt: clock.t });
  }
}

/** What a client subscribing now gets as retained on park/alerts/#: everything before a marker published after the SUBACK. */
async function retainedNow(): Promise<Collector['messages']> {
  const c = await collect(broker.url, topics.alerts);
  await c.client.subscribeAsync('test/marker', { qos: 1 });
  await publish(c.client, 'test/marker', 'm', 1);
  await c.waitFor((m) => m.topic === 'test/marker');
  await c.close();
  return c.messages.filter((m) => m.topic !== 'test/marker');
}

beforeAll(async () => {
  broker = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'parkops-alerts-mqtt-'));
  db = openDatabase(dir);
  const log = createLogger('silent');
  link = new MqttClientLink({ url: broker.url, clientId: 'alerts-mqtt-test', topics, bus, log, onMessage: (_t, _p, _at, ack) => ack() });
  await link.start();
  engine = new AlertEngine({ repo: new SqliteAlertRepository(db), incidents: new SqliteIncidentRepository(db), bus, site: parseSite(testSiteFile()), topics, publisher: link, log, clock });
  await engine.start();
});

afterAll(async () => {
  await engine?.stop();
  await link?.stop();
  db?.close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('park/alerts/{id} on Mosquitto', () => {
  it('is retained while open, follows the acknowledgement, and is cleared after resolution', async () => {
    const live = await collect(broker.url, topics.alerts);
    levels(100);
    levels(720);
    const alert = engine.active().find((a) => a.rule === 'flood.level')!;
    const topic = topics.alert(alert.id);

    const opened = await live.waitFor((m) => m.topic === topic);
    expect(JSON.parse(opened.payload)).toMatchObject({ id: alert.id, state: 'firing', severity: 'critical', rule: 'flood.level', subject: 'flood/b1/levels' });

    // A client connecting now gets it as a retained message.
    await engine.settled();
    const late = (await retainedNow()).filter((m) => m.topic === topic);
    expect(late).toHaveLength(1);
    expect(late[0]!.retain).toBe(true);
    expect(JSON.parse(late[0]!.payload) as Alert).toMatchObject({ id: alert.id, state: 'firing' });

    await engine.acknowledge(alert.id, { username: 'wang.li' }, 'on it');
    await engine.settled();
    const acked = (await retainedNow()).filter((m) => m.topic === topic);
    expect(JSON.parse(acked[0]!.payload)).toMatchObject({ state: 'acknowledged', ackedBy: 'wang.li', ackNote: 'on it' });

    // The water goes down and stays down past clearHoldSec (120 s).
    levels(100);
    clock.t += 121_000;
    levels(100);
    expect((await engine.get(alert.id))!.state).toBe('resolved');
    await engine.settled();

    // Live subscribers: the resolved object once, then the empty payload that clears the retained message.
    const cleared = await live.waitFor((m) => m.topic === topic && m.payload === '');
    const mine = live.messages.filter((m) => m.topic === topic);
    const resolvedMsgs = mine.filter((m) => m.payload !== '' && (JSON.parse(m.payload) as Alert).state === 'resolved');
    expect(resolvedMsgs).toHaveLength(1);
    expect(mine.indexOf(resolvedMsgs[0]!)).toBeLessThan(mine.indexOf(cleared));
    await live.close();

    // A client connecting now gets nothing for it.
    expect((await retainedNow()).filter((m) => m.topic === topic)).toEqual([]);
  });
});
