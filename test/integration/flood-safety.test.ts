/**
 * Flood safety end to end, once through a real Mosquitto and once through the embedded broker: the bug
 * where a level sensor's old `offline` status blinded the flood room. Both level sensors publish a
 * retained `offline` on `park/devices/{id}/status`, then read 800 and 805 mm (critical is 700): a critical
 * `flood.level` alert and an incident open, `GET /api/flood` shows the room critical with the sensors
 * fresh, and `/api/stream` carries the room's judged level. Then ParkOps restarts: Mosquitto replays the
 * retained `offline` when ParkOps subscribes again, and that must not blind the room either.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, FloodResponse, RoomEvent } from '@parkops/contract/index.ts';
import type { IncidentSummary } from '../../ingest/src/alerts/index.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { connect, eventually, publish } from '../support/mqtt.ts';

const BROKERS = ['mosquitto', 'embedded'] as const;
const ROOM = 'b1-power';

interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads `/api/stream` in the background into `events`. */
async function openStream(baseUrl: string, cookie: string): Promise<{ events: SseEvent[]; close(): void }> {
  const ac = new AbortController();
  const res = await fetch(`${baseUrl}/api/stream`, { headers: { cookie }, signal: ac.signal });
  if (res.status !== 200) throw new Error(`stream: ${res.status}`);
  const events: SseEvent[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return { events, close: () => ac.abort() };
}

describe.each(BROKERS)('flood safety through %s', (broker) => {
  let mosquitto: MosquittoServer | undefined;
  let sys: ParkOpsProcess;
  let api: Api;
  let device: MqttClient;

  const flood = async () => (await api.get<FloodResponse>('/api/flood')).body.rooms.find((r) => r.id === ROOM)!;
  const active = async () => (await api.get<Alert[]>('/api/alerts?state=active')).body;
  const levels = async (a: number, b: number): Promise<void> => {
    const ts = Date.now();
    await publish(device, `park/flood/${ROOM}/levels/L1`, { mm: a, ts });
    await publish(device, `park/flood/${ROOM}/levels/L2`, { mm: b, ts });
  };

  beforeAll(async () => {
    if (broker === 'mosquitto') mosquitto = await startMosquitto();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', ...(mosquitto ? { MQTT_URL: mosquitto.url } : {}) } });
    api = await adminApi(sys);
    device = await connect(sys.mqttUrl);
  });

  afterAll(async () => {
    await device?.endAsync(true);
    await sys?.stop();
    await mosquitto?.stop();
  });

  it('retained offline, then 800 and 805 mm: a critical level alert, an incident, the room critical, the sensors fresh', async () => {
    const stream = await openStream(sys.baseUrl, api.cookie);
    try {
      await levels(100, 104);
      await eventually(async () => (await flood()).level?.mm === 104, 10_000, 'the first level');
      for (const id of ['L1', 'L2']) await publish(device, `park/devices/${id}/status`, 'offline', 1, true);
      const blind = await eventually(async () => {
        const r = await flood();
        return r.levels.every((l) => l.stale && l.online === false) ? r : undefined;
      }, 10_000, 'both sensors offline');
      expect(blind.level).toBeNull();

      await levels(800, 805);
      // L1's 800 mm alone is critical at once (L2 is still offline, so L1 is the only fresh sensor); L2's
      // 805 mm follows a moment later and raises the room's level to it.
      const level = await eventually(async () => (await active()).find((a) => a.rule === 'flood.level' && a.state === 'firing' && a.value === 805), 10_000, 'a flood.level alert at 805 mm');
      expect(level).toMatchObject({ severity: 'critical', subject: `flood/${ROOM}/levels`, room: ROOM });
      expect((await active()).filter((a) => a.rule === 'flood.level')).toHaveLength(1);
      expect(level.message).not.toMatch(/\d{4}-\d\d-\d\dT/);
      const room = await flood();
      expect(room.level).toMatchObject({ mm: 805, band: 'critical', from: 'L2', sensors: ['L1', 'L2'] });
      expect(room.levels.map((l) => [l.id, l.mm, l.stale, l.online])).toEqual([
        ['L1', 800, false, true],
        ['L2', 805, false, true],
      ]);
      const incidents = (await api.get<IncidentSummary[]>(`/api/incidents?room=${ROOM}`)).body;
      expect(incidents.filter((i) => i.state === 'open')).toHaveLength(1);
      // Offline raised "device silent" alerts; the readings resolved them.
      expect((await active()).filter((a) => a.rule === 'device.stale' && a.state !== 'resolved')).toEqual([]);

      const judged = await eventually(() => stream.events.find((e): e is { event: 'room'; data: RoomEvent } => e.event === 'room' && (e.data as RoomEvent).level?.mm === 805), 10_000, 'a room event');
      expect(judged.data).toMatchObject({ room: ROOM, band: 'critical', level: { mm: 805, band: 'critical' } });
      // Before any reading the snapshot had no level; then the stream carried each judgement in turn.
      const snapshot = stream.events.find((e) => e.event === 'snapshot')!.data as { flood: FloodResponse };
      expect(snapshot.flood.rooms[0]).toMatchObject({ level: null, band: 'normal' });
      const rooms = stream.events.filter((e) => e.event === 'room').map((e) => e.data as RoomEvent);
      expect(rooms.some((r) => r.level?.mm === 104 && r.band === 'normal')).toBe(true);
      expect(rooms.some((r) => r.level === null)).toBe(true);
    } finally {
      stream.close();
    }
  });

  it('after a restart the room is still critical, with the same alert, and the replayed offline blinds nothing', async () => {
    const before = (await active()).find((a) => a.rule === 'flood.level')!;
    await device.endAsync(true);
    await sys.restart();
    api = await adminApi(sys);
    device = await connect(sys.mqttUrl);
    const stream = await openStream(sys.baseUrl, api.cookie);
    try {
      // Mosquitto sent ParkOps the retained `offline` of both sensors again when it subscribed (it is in
      // the status history: stored, not applied); the embedded broker keeps no retained messages across
      // a restart. The room keeps its band and its sensors their freshness (engine downtime is not silence).
      const statusRows = (): number => {
        const db = new Database(join(sys.dataDir, 'parkops.db'), { readonly: true, fileMustExist: true });
        try {
          return (db.prepare("SELECT count(*) n FROM device_status d JOIN series s ON s.id = d.series_id WHERE s.subject = 'devices/L1/status'").get() as { n: number }).n;
        } finally {
          db.close();
        }
      };
      if (broker === 'mosquitto') await eventually(() => statusRows() === 2, 10_000, 'the replayed retained offline');
      else expect(statusRows()).toBe(1);
      const room = await flood();
      expect(room.band).toBe('critical');
      expect(room.levels.map((l) => [l.id, l.stale, l.online])).toEqual([
        ['L1', false, true],
        ['L2', false, true],
      ]);
      await levels(810, 815);
      await eventually(async () => (await flood()).level?.mm === 815, 10_000, 'the new level');
      const after = await active();
      expect(after.filter((a) => a.rule === 'flood.level' && a.state !== 'resolved').map((a) => [a.id, a.severity])).toEqual([[before.id, 'critical']]);
      expect(after.filter((a) => a.rule === 'device.stale' && a.state !== 'resolved')).toEqual([]);
      // No device-silent alert opened at any point after the restart.
      expect(stream.events.filter((e) => e.event === 'alert' && (e.data as Alert).rule === 'device.stale')).toEqual([]);
      const judged = await eventually(() => stream.events.find((e) => e.event === 'room' && (e.data as RoomEvent).level?.mm === 815), 10_000, 'a room event after the restart');
      expect(judged.data).toMatchObject({ room: ROOM, band: 'critical' });
    } finally {
      stream.close();
    }
  });
});
