/**
 * The spine end to end, once through a real Mosquitto and once through the embedded broker (one shared
 * behaviour suite for both brokers, as MQTT.js' abstract_client does): MQTT in, durable SQLite store,
 * live API and SSE out, rejections on `park/rejected`.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BayView, FloodResponse, ParkingResponse, VenueView } from '@parkops/contract/index.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { collect, connect, eventually, mosquittoPub, publish, type Collector } from '../support/mqtt.ts';

const BROKERS = ['mosquitto', 'embedded'] as const;

describe.each(BROKERS)('ingest through %s', (broker) => {
  let mosquitto: MosquittoServer | undefined;
  let sys: ParkOpsProcess;
  let api: Api;
  let device: MqttClient;
  let rejected: Collector;
  const db = () => new Database(join(sys.dataDir, 'parkops.db'), { readonly: true, fileMustExist: true });
  const count = (sql: string, ...args: unknown[]): number => {
    const d = db();
    try {
      return (d.prepare(sql).get(...args) as { n: number }).n;
    } finally {
      d.close();
    }
  };

  beforeAll(async () => {
    if (broker === 'mosquitto') mosquitto = await startMosquitto();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', ...(mosquitto ? { MQTT_URL: mosquitto.url } : {}) } });
    api = await adminApi(sys);
    device = await connect(sys.mqttUrl);
    rejected = await collect(sys.mqttUrl, 'park/rejected');
  });

  afterAll(async () => {
    await rejected?.close();
    await device?.endAsync();
    await sys?.stop();
    await mosquitto?.stop();
  });

  it('stores a bay reading from MQTT.js and shows it in /api/parking with its time', async () => {
    const ts = Date.now() - 1000;
    await publish(device, 'park/parking/bays/B-001', { occupied: true, ts, battery: 91 });
    const bay = await eventually(async () => {
      const { body } = await api.get<ParkingResponse>('/api/parking');
      return body.bays.find((b) => b.id === 'B-001' && b.occupied === true);
    });
    expect(bay).toMatchObject({ zone: 'B', occupied: true, since: new Date(ts).toISOString(), battery: 91, stale: false });
    const { body } = await api.get<ParkingResponse>('/api/parking');
    expect(body.total).toBe(600);
    expect(body.occupied).toBe(body.zones.reduce((n, z) => n + z.occupied, 0));
    expect(body.free).toBe(body.total - body.occupied);
  });

  it('stores readings from the mosquitto_pub command-line client', async () => {
    const ts = new Date(Date.now() - 2000).toISOString().replace('Z', '+00:00');
    await mosquittoPub(sys.mqttUrl, 'park/flood/b1-power/levels/L1', JSON.stringify({ mm: 123.5, ts }));
    await mosquittoPub(sys.mqttUrl, 'park/venues/gym/counts', '{"in":7,"out":2}');
    const flood = await eventually(async () => {
      const { body } = await api.get<FloodResponse>('/api/flood');
      return body.rooms[0]?.levels.find((l) => l.id === 'L1' && l.mm === 123.5) ? body : undefined;
    });
    expect(flood.rooms[0]!.thresholds).toEqual({ warnMm: 300, alarmMm: 500, criticalMm: 700, floorMm: 900 });
    const venues = await eventually(async () => (await api.get<VenueView[]>('/api/venues')).body.find((v) => v.id === 'gym' && v.occupancy === 5));
    expect(venues).toMatchObject({ capacity: 60, occupancy: 5 });
  });

  it('pairs gate scans into sessions', async () => {
    const t0 = Date.now() - 3_600_000;
    await publish(device, 'park/parking/gates/north-in', { event: 'entry', pass: 'QR-T1', ts: t0 });
    await publish(device, 'park/parking/gates/south-out', { event: 'exit', pass: 'QR-T1', ts: t0 + 3_600_000 });
    const sessions = await eventually(async () => {
      const { body } = await api.get<Array<{ pass: string; minutes?: number }>>('/api/parking/sessions');
      return body.find((s) => s.pass === 'QR-T1' && s.minutes !== undefined) ? body : undefined;
    });
    expect(sessions.find((s) => s.pass === 'QR-T1')).toEqual({ pass: 'QR-T1', gateIn: 'north-in', entryAt: new Date(t0).toISOString(), gateOut: 'south-out', exitAt: new Date(t0 + 3_600_000).toISOString(), minutes: 60 });
  });

  it('stores the same reading delivered twice once', async () => {
    const ts = Date.now() - 5000;
    for (let i = 0; i < 3; i++) await publish(device, 'park/flood/b1-power/pumps/P2', { running: true, amps: 5.5, ts });
    await publish(device, 'park/flood/b1-power/pumps/P2', { running: false, amps: 0, ts: ts + 1 });
    await eventually(() => count("SELECT count(*) n FROM pump_readings r JOIN series s ON s.id = r.series_id WHERE s.subject = 'flood/b1-power/pumps/P2'") === 2, 10_000, 'two pump rows');
    const metrics = await (await fetch(`${sys.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/parkops_messages_duplicate_total 2/);
  });

  it('stores a back-filled older reading without rolling live state back', async () => {
    const now = Date.now();
    await publish(device, 'park/parking/bays/C-010', { occupied: true, ts: now - 1000 });
    await publish(device, 'park/parking/bays/C-010', { occupied: false, ts: now - 3_600_000 });
    await eventually(() => count("SELECT count(*) n FROM bay_readings r JOIN series s ON s.id = r.series_id WHERE s.subject = 'parking/bays/C-010'") === 2, 10_000, 'both bay rows');
    const { body } = await api.get<ParkingResponse>('/api/parking');
    expect(body.bays.find((b) => b.id === 'C-010')).toMatchObject({ occupied: true, since: new Date(now - 1000).toISOString() });
  });

  it('rejects each kind of bad message with a reason on park/rejected, keeps the good ones around it, and keeps running', async () => {
    const bad: Array<[string, string | Buffer, string]> = [
      ['park/parking/bays/A-002', '{"occupied":tru', 'invalid_json'],
      ['park/parking/bays/A-002', Buffer.from([0xc3, 0x28]), 'invalid_utf8'],
      ['park/parking/bays/A-002', '42', 'not_an_object'],
      ['park/parking/bays/A-002', '{}', 'missing_field'],
      ['park/parking/bays/A-002', '{"occupied":1}', 'wrong_type'],
      ['park/flood/b1-power/levels/L2', '{"mm":20000}', 'out_of_range'],
      ['park/flood/b1-power/levels/L2', '{"mm":1,"ts":"yesterday"}', 'invalid_time'],
      ['park/flood/b1-power/levels/L2', `{"mm":1,"ts":${Date.now() + 3_600_000}}`, 'future_time'],
      ['park/parking/bays/NOPE-1', '{"occupied":true}', 'unknown_id'],
      ['park/lighting/lamp/7', '{"on":true}', 'unknown_topic'],
      ['park/parking/bays/A-002', `{"occupied":true,"pad":"${'x'.repeat(5000)}"}`, 'payload_too_large'],
      ['park/devices/L2/status', 'sleeping', 'invalid_status'],
    ];
    const before = await (await fetch(`${sys.baseUrl}/metrics`)).text();
    const base = Date.now() - 60_000;
    let i = 0;
    for (const [topic, payload] of bad) {
      await publish(device, 'park/parking/bays/A-003', { occupied: i % 2 === 0, ts: base + i * 10 });
      i++;
      await publish(device, topic, payload);
    }
    await publish(device, 'park/parking/bays/A-003', { occupied: true, ts: base + i * 10 });
    for (const [topic, , code] of bad) {
      const m = await rejected.waitFor((m) => m.topic === 'park/rejected' && JSON.parse(m.payload).topic === topic && JSON.parse(m.payload).reason.startsWith(`${code}:`));
      const notice = JSON.parse(m.payload) as { reason: string; at: string };
      expect(notice.reason.length).toBeGreaterThan(code.length + 3);
      expect(Number.isFinite(Date.parse(notice.at))).toBe(true);
      expect(m.retain).toBe(false);
    }
    await eventually(() => count("SELECT count(*) n FROM bay_readings r JOIN series s ON s.id = r.series_id WHERE s.subject = 'parking/bays/A-003'") === bad.length + 1, 10_000, 'every good reading');
    expect(count("SELECT count(*) n FROM series WHERE subject = 'parking/bays/A-002'")).toBe(0);
    const after = await (await fetch(`${sys.baseUrl}/metrics`)).text();
    const counter = (text: string, code: string): number => Number(new RegExp(`parkops_messages_rejected_total\\{reason="${code}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    for (const [, , code] of bad) expect(counter(after, code) - counter(before, code), code).toBe(1);
    const health = await fetch(`${sys.baseUrl}/api/health`);
    expect(health.status).toBe(200);
  });

  it('streams a snapshot and then deltas over SSE', async () => {
    const ac = new AbortController();
    const res = await fetch(`${sys.baseUrl}/api/stream`, { headers: { cookie: api.cookie }, signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (pred: (t: string) => boolean): Promise<void> => {
      while (!pred(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil((t) => t.includes('event: snapshot'));
    await publish(device, 'park/parking/bays/E-100', { occupied: true });
    await readUntil((t) => /event: bay\ndata: .*"E-100"/.test(t));
    const frame = /event: bay\ndata: (.*)\n/.exec(text.slice(text.indexOf('"E-100"') - 200))?.[1] ?? text.match(/event: bay\ndata: (.*)\n/)![1]!;
    expect(JSON.parse(frame) as BayView).toMatchObject({ id: 'E-100', zone: 'E', occupied: true });
    ac.abort();
  });

  it('keeps live state across a restart', async () => {
    const before = (await api.get<ParkingResponse>('/api/parking')).body;
    await sys.restart();
    const again = await adminApi(sys);
    const after = (await again.get<ParkingResponse>('/api/parking')).body;
    expect(after.occupied).toBe(before.occupied);
    // State, when it changed and the battery survive exactly; a heartbeat's last-seen time is written at
    // most once a minute (live-state.ts), so it may come back up to a minute early.
    const essentials = (bays: BayView[]) => bays.filter((b) => b.occupied !== null).map(({ id, occupied, since, battery }) => ({ id, occupied, since, battery }));
    expect(essentials(after.bays)).toEqual(essentials(before.bays));
    for (const b of after.bays.filter((x) => x.lastSeen !== null)) {
      const was = before.bays.find((x) => x.id === b.id)!;
      expect(Date.parse(was.lastSeen!) - Date.parse(b.lastSeen!)).toBeLessThan(60_000);
    }
    const venues = (await again.get<VenueView[]>('/api/venues')).body;
    expect(venues.find((v) => v.id === 'gym')?.occupancy).toBe(5);
    api = again;
  });
});
