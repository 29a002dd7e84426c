/**
 * The `storm` scenario (with `bad-devices`), accelerated ×1000, through a real Mosquitto into the real
 * ingest: the stored water levels cross warn, alarm and critical in that order, and every message the
 * simulators published is accounted for, stored or rejected for the reason it was broken; the CAP
 * rainstorm warning the scenario sends ahead of the rain is stored and puts the room into storm mode
 * before the first level alert.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site/index.ts';
import { MqttPublisher } from '../../simulators/src/publisher.ts';
import { SimulationRunner } from '../../simulators/src/runner.ts';
import { createSimulation } from '../../simulators/src/simulation.ts';
import { EXPECTED_REJECTION, type BadKind, type MessageKind, type SimMessage } from '../../simulators/src/types.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { collect, eventually, type Collector } from '../support/mqtt.ts';
import { apiWithCookie } from '../support/api.ts';
import type { Alert, FloodResponse, WarningView } from '@parkops/contract/api.ts';

const MIN = 60_000;
const TABLE: Record<Exclude<MessageKind, 'warning'>, string> = {
  bay: 'bay_readings',
  gate: 'gate_scans',
  level: 'level_readings',
  pump: 'pump_readings',
  venue: 'venue_counts',
  status: 'device_status',
};

function metric(text: string, name: string, label?: string): number {
  const re = new RegExp(`^${name}${label ? `\\{${label}\\}` : ''} (\\d+)$`, 'm');
  return Number(re.exec(text)?.[1] ?? 0);
}

describe('simulators: storm through Mosquitto into ParkOps', () => {
  const site = loadSite();
  const room = site.room('b1-power');
  let mosquitto: MosquittoServer;
  let sys: ParkOpsProcess;
  let rejected: Collector;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', MQTT_URL: mosquitto.url } });
    rejected = await collect(mosquitto.url, 'park/rejected');
  });

  afterAll(async () => {
    await rejected?.close();
    await sys?.stop();
    await mosquitto?.stop();
  });

  it('stores the rising and receding water in threshold order and accounts for every message', async () => {
    if (room === undefined) throw new Error('the bundled site has no b1-power room');
    // 4 h 10 min of park ending now, ×1000: about 15 s. Stamps stay in the past, as the contract wants.
    const span = 250 * MIN;
    const startAt = Date.now() - span;
    const sim = createSimulation({ site, seed: 5, scenarios: 'storm+bad-devices', startAt });
    const publisher = new MqttPublisher({ url: mosquitto.url, devices: sim.devices() });
    await publisher.connect();
    const published: SimMessage[] = [];
    const runner = new SimulationRunner({
      sim,
      pace: 1000,
      until: startAt + span,
      sink: (m) => {
        published.push(m);
        return publisher.publish(m);
      },
    });
    const summary = await runner.run();
    await publisher.flush();
    await publisher.close(false);

    const pub = publisher.stats();
    expect(summary.stoppedEarly).toBe(false);
    expect(pub.acked).toBe(published.length);
    expect(pub.failed).toBe(0);
    expect(pub.peakInFlight).toBeLessThanOrEqual(1000);

    // Every device message reached ParkOps (QoS 1 may deliver one twice: those count as duplicates).
    const devicePublished = published.filter((m) => m.kind !== 'warning');
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${sys.baseUrl}/metrics`)).text();
      return metric(text, 'parkops_messages_received_total') - metric(text, 'parkops_messages_duplicate_total') >= devicePublished.length ? text : undefined;
    }, 60_000, `ParkOps received all ${devicePublished.length} device messages`);

    const good = new Map<Exclude<MessageKind, 'warning'>, number>();
    const bad = new Map<BadKind, number>();
    for (const m of devicePublished) {
      if (m.bad === undefined) good.set(m.kind as Exclude<MessageKind, 'warning'>, (good.get(m.kind as Exclude<MessageKind, 'warning'>) ?? 0) + 1);
      else bad.set(m.bad, (bad.get(m.bad) ?? 0) + 1);
    }
    expect([...bad.keys()].sort()).toEqual(['future', 'malformed', 'out_of_range', 'unknown_id']);

    // Accepted by kind and rejected by reason: exactly what was sent good and broken.
    for (const [kind, n] of good) expect(metric(metrics, 'parkops_messages_accepted_total', `kind="${kind}"`), kind).toBe(n);
    for (const [kind, n] of bad) expect(metric(metrics, 'parkops_messages_rejected_total', `reason="${EXPECTED_REJECTION[kind]}"`), kind).toBe(n);
    const badTotal = [...bad.values()].reduce((a, b) => a + b, 0);
    await eventually(() => rejected.messages.length >= badTotal, 10_000, 'every rejection on park/rejected');
    const badTopics = new Set(published.filter((m) => m.bad !== undefined).map((m) => m.topic));
    expect(rejected.messages).toHaveLength(badTotal);
    expect(rejected.messages.every((r) => badTopics.has((JSON.parse(r.payload) as { topic: string }).topic))).toBe(true);

    // The weather service's CAP warning, sent first: stored from MQTT, relevant, a rainstorm warning
    // in force now (the room is in storm mode), and it arrived before the first flood alert opened.
    // (The lead in simulated time is measured in storm-mode-scenario.test.ts; here the run is ×1000.)
    const api = apiWithCookie(sys.baseUrl, await sys.adminCookie());
    expect(published.filter((m) => m.kind === 'warning')).toHaveLength(1);
    const warning = (await api.get<WarningView[]>('/api/warnings?state=all')).body.find((w) => w.via === 'mqtt' && w.msgType === 'Alert');
    expect(warning).toMatchObject({ relevant: true, storm: true, inForce: true, event: '暴雨' });
    expect((await api.get<FloodResponse>('/api/flood')).body.rooms[0]!.stormMode).toBe(true);
    const all = (await api.get<Alert[]>('/api/alerts?state=all&from=0')).body;
    // Storm mode is an alert of its own, opened as the warning arrived; the water's alerts come after it.
    expect(all.filter((a) => a.rule === 'flood.storm-mode').map((a) => a.severity)).toEqual(['info']);
    const floodAlerts = all.filter((a) => a.subject.startsWith('flood/') && a.rule !== 'flood.storm-mode');
    expect(floodAlerts.length).toBeGreaterThan(0);
    expect(Math.min(...floodAlerts.map((a) => Date.parse(a.startedAt)))).toBeGreaterThan(Date.parse(warning!.receivedAt));

    const db = new Database(join(sys.dataDir, 'parkops.db'), { readonly: true, fileMustExist: true });
    try {
      // Stored: one row per good message of each kind.
      for (const [kind, n] of good) {
        const rows = (db.prepare(`SELECT count(*) n FROM ${TABLE[kind]}`).get() as { n: number }).n;
        expect(rows, kind).toBe(n);
      }
      const l1 = db
        .prepare("SELECT r.ts, r.mm FROM level_readings r JOIN series s ON s.id = r.series_id WHERE s.subject = 'flood/b1-power/levels/L1' ORDER BY r.ts")
        .all() as Array<{ ts: number; mm: number }>;
      expect(l1.length).toBe(published.filter((m) => m.kind === 'level' && m.device === 'L1').length);
      const { warnMm, alarmMm, criticalMm, floorMm } = room.bands;
      const firstAbove = (mm: number): number => l1.find((r) => r.mm >= mm)?.ts ?? Infinity;
      expect(firstAbove(warnMm)).toBeLessThan(firstAbove(alarmMm));
      expect(firstAbove(alarmMm)).toBeLessThan(firstAbove(criticalMm));
      expect(firstAbove(criticalMm)).toBeLessThan(Infinity);
      expect(Math.max(...l1.map((r) => r.mm))).toBeLessThan(floorMm);
      // ... and recedes: the last stored half hour is back below warn.
      const last = l1.at(-1)?.ts ?? 0;
      expect(l1.filter((r) => r.ts > last - 30 * MIN).every((r) => r.mm < warnMm)).toBe(true);
      // The standby pump joined while the duty pump was running.
      const pumpRuns = (id: string): number =>
        (db.prepare(`SELECT min(r.ts) t FROM pump_readings r JOIN series s ON s.id = r.series_id WHERE s.subject = 'flood/b1-power/pumps/${id}' AND r.running = 1 AND r.ts > ?`).get(firstAbove(warnMm) - 30 * MIN) as { t: number | null }).t ?? Infinity;
      expect(pumpRuns('P1')).toBeLessThan(pumpRuns('P2'));
      expect(pumpRuns('P2')).toBeLessThan(firstAbove(criticalMm));
    } finally {
      db.close();
    }
  });
});
