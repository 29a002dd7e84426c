/**
 * Network-server uplinks end to end (docs/api.md, LoRaWAN), once through a real Mosquitto and once
 * through the embedded broker: bindings through the API, uplinks shaped exactly like ChirpStack's and
 * The Things Stack's documentation samples (test/fixtures/lorawan), the same durable path as section 1
 * (stored once when redelivered, rejections on park/rejected naming the uplink topic), the unbound
 * list, per-device telemetry, the people counter's persisted totals across a restart, the CSV import.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BindingView, DeviceView, FloodResponse, ParkingResponse, UnboundDeviceView, VenueView } from '@parkops/contract/index.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { chirpstackUp, ttsUp } from '../support/lorawan.ts';
import { collect, connect, eventually, publish, type Collector } from '../support/mqtt.ts';

const BROKERS = ['mosquitto', 'embedded'] as const;

/** VS133 line-1 totals as the device sends them (channel 0x03/0x04, type 0xd2, UINT32 little-endian). */
const vs133 = (inCount: number, outCount: number): string => {
  const le = (n: number) => Buffer.from(new Uint32Array([n]).buffer).toString('hex');
  return `03d2${le(inCount)}04d2${le(outCount)}`;
};

describe.each(BROKERS)('LoRaWAN uplinks through %s', (broker) => {
  let mosquitto: MosquittoServer | undefined;
  let sys: ParkOpsProcess;
  let api: Api;
  let ns: MqttClient;
  let rejected: Collector;
  const count = (sql: string, ...args: unknown[]): number => {
    const d = new Database(join(sys.dataDir, 'parkops.db'), { readonly: true, fileMustExist: true });
    try {
      return (d.prepare(sql).get(...args) as { n: number }).n;
    } finally {
      d.close();
    }
  };
  const device = async (id: string): Promise<DeviceView> => (await api.get<DeviceView[]>('/api/devices')).body.find((d) => d.id === id)!;
  const send = (m: { topic: string; payload: string }) => publish(ns, m.topic, m.payload);

  beforeAll(async () => {
    if (broker === 'mosquitto') mosquitto = await startMosquitto();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', ...(mosquitto ? { MQTT_URL: mosquitto.url } : {}) } });
    api = await adminApi(sys);
    // The network server publishes its integration events as any MQTT client does.
    ns = await connect(sys.mqttUrl, { clientId: `chirpstack-${broker}` });
    rejected = await collect(sys.mqttUrl, 'park/rejected');
  });

  afterAll(async () => {
    await rejected?.close();
    await ns?.endAsync();
    await sys?.stop();
    await mosquitto?.stop();
  });

  it('binds a DevEUI given in any case, stores it normalized, and reads a ChirpStack uplink into the level sensor', async () => {
    const put = await api.put<BindingView>('/api/devices/L1/binding', { devEui: '24e124710b423527', codec: 'milesight-em310-udl', params: { mountMm: 2500 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ deviceId: 'L1', devEui: '24E124710B423527', codec: 'milesight-em310-udl', params: { mountMm: 2500 }, updatedBy: 'admin' });
    const time = Date.now() - 60_000;
    const sentAt = Date.now();
    // Milesight's EM310-UDL example uplink: battery 92 %, distance 2116 mm, position tilt.
    await send(chirpstackUp({ devEui: '24e124710b423527', time, fPort: 85, hex: '01755C 03824408 040001', rssi: -97, snr: 7.25 }));
    const level = await eventually(async () => (await api.get<FloodResponse>('/api/flood')).body.rooms[0]!.levels.find((l) => l.id === 'L1' && l.mm === 384));
    expect(level).toMatchObject({ mm: 384, ts: new Date(time).toISOString() });
    expect(await device('L1')).toMatchObject({
      kind: 'level',
      name: 'Level sensor 1 (radar)',
      parent: 'b1-power',
      // Last seen is when ParkOps received the uplink; the reading itself is stamped with the uplink's time.
      lastSeen: expect.toSatisfy((t: string) => Date.parse(t) >= sentAt),
      battery: 92,
      rssi: -97,
      snr: 7.25,
      binding: { devEui: '24E124710B423527', codec: 'milesight-em310-udl', params: { mountMm: 2500 } },
      problem: expect.stringMatching(/tilted/),
    });
  });

  it('stores a redelivered uplink once: the reading is stamped with the uplink time', async () => {
    const time = Date.now() - 50_000;
    const up = chirpstackUp({ devEui: '24E124710B423527', time, fPort: 85, hex: '03826400' });
    for (let i = 0; i < 3; i++) await send(up);
    await eventually(() => count("SELECT count(*) n FROM level_readings r JOIN series s ON s.id = r.series_id WHERE s.subject = 'flood/b1-power/levels/L1' AND r.ts = ?", time) === 1, 10_000, 'one row for the uplink');
    await eventually(async () => (await api.get<FloodResponse>('/api/flood')).body.rooms[0]!.levels.find((l) => l.id === 'L1' && l.mm === 2400));
    // The two redeliveries are counted as duplicates once they have been handled (in order, after the first).
    const duplicates = async () => Number(/parkops_messages_duplicate_total (\d+)/.exec(await (await fetch(`${sys.baseUrl}/metrics`)).text())?.[1] ?? 0);
    await eventually(async () => (await duplicates()) >= 2, 10_000, 'the two redeliveries counted as duplicates');
    expect(count("SELECT count(*) n FROM level_readings r JOIN series s ON s.id = r.series_id WHERE s.subject = 'flood/b1-power/levels/L1' AND r.ts = ?", time)).toBe(1);
  });

  it('reads both The Things Stack samples: received_at, or the gateway time when the message has none', async () => {
    expect((await api.put('/api/devices/E-001/binding', { devEui: '0004A30B001C0530', codec: 'nwave-nps' })).status).toBe(200);
    const t1 = Date.now() - 40_000;
    await send(ttsUp({ devEui: '0004A30B001C0530', time: t1, fPort: 1, hex: '95', tenant: 'ttn' }));
    const bay = await eventually(async () => (await api.get<ParkingResponse>('/api/parking')).body.bays.find((b) => b.id === 'E-001' && b.occupied === true));
    expect(bay.since).toBe(new Date(t1).toISOString());
    const t2 = Date.now() - 30_000;
    const sentAt = Date.now();
    await send(ttsUp({ sample: 'mqtt', devEui: '0004a30b001c0530', time: t2, fPort: 2, hex: '00D3D800590B' }));
    const free = await eventually(async () => (await api.get<ParkingResponse>('/api/parking')).body.bays.find((b) => b.id === 'E-001' && b.occupied === false));
    expect(free.since).toBe(new Date(t2).toISOString());
    expect(await device('E-001')).toMatchObject({ rssi: -35, snr: 5, lastSeen: expect.toSatisfy((t: string) => Date.parse(t) >= sentAt), stale: false });
  });

  it('lists uplinks from DevEUIs without a binding as unbound, newest first, and that is not an error', async () => {
    const before = rejected.messages.length;
    await send(chirpstackUp({ devEui: 'A84041000181C3D1', fPort: 2, hex: '0D3B0AEF00000001' }));
    await send(chirpstackUp({ devEui: 'A84041000181C3D1', fPort: 2, hex: '0D3B0AEF00000001' }));
    await send(ttsUp({ devEui: '70B3D57ED0001234', deviceId: 'pit-sensor-7', fPort: 1, hex: '01' }));
    const list = await eventually(async () => {
      const { body } = await api.get<UnboundDeviceView[]>('/api/devices/unbound');
      return body.length >= 2 && body.find((u) => u.devEui === 'A84041000181C3D1')?.uplinks === 2 ? body : undefined;
    });
    expect(list[0]).toMatchObject({ devEui: '70B3D57ED0001234', network: 'tts', name: 'pit-sensor-7', uplinks: 1 });
    expect(list[1]).toMatchObject({ devEui: 'A84041000181C3D1', network: 'chirpstack', name: 'Test device', applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97', uplinks: 2 });
    expect(Date.parse(list[1]!.firstSeen)).toBeLessThanOrEqual(Date.parse(list[1]!.lastSeen));
    expect(rejected.messages.slice(before)).toEqual([]);
    // Binding it takes it off the list.
    expect((await api.put('/api/devices/L2/binding', { devEui: 'a84041000181c3d1', codec: 'dragino-ldds75', params: { mountMm: 3000 } })).status).toBe(200);
    expect((await api.get<UnboundDeviceView[]>('/api/devices/unbound')).body.map((u) => u.devEui)).not.toContain('A84041000181C3D1');
  });

  it('refuses each kind of bad uplink with a reason on park/rejected naming the uplink topic, and keeps the good ones around them', async () => {
    expect((await api.put('/api/devices/gym/binding', { devEui: '24E1240000000133', codec: 'milesight-vs133' })).status).toBe(200);
    expect((await api.put('/api/devices/P2/binding', { devEui: '24E1240000000E01', codec: 'decoded' })).status).toBe(200);
    const now = Date.now();
    const bad: Array<[string, { topic: string; payload: string }, string, RegExp]> = [
      ['bad base64', chirpstackUp({ devEui: 'A84041000181C3D1', time: now - 20_000, fPort: 2, data: 'not*base64' }), 'invalid_base64', /"data" is not base64/],
      ['unknown FPort', chirpstackUp({ devEui: 'A84041000181C3D1', time: now - 19_000, fPort: 42, hex: '0D3B0AEF00000001' }), 'unknown_fport', /FPort 42/],
      ['payload too short', chirpstackUp({ devEui: 'A84041000181C3D1', time: now - 18_000, fPort: 2, hex: '0E1C0B05' }), 'payload_too_short', /needs 8 bytes/],
      ['decoded wrong type', ttsUp({ devEui: '24E1240000000E01', time: now - 17_000, fPort: 2, object: { running: 'on', amps: '5.5 A' } }), 'wrong_type', /decoded field "running" is the string "on"/],
      ['level out of range after decoding', chirpstackUp({ devEui: '24E124710B423527', time: now - 16_000, fPort: 85, hex: '03828C0A' }), 'out_of_range', /"mm".*decoded from the uplink as park\/flood\/b1-power\/levels\/L1/],
      ['an uplink that is not JSON', { topic: 'application/x/device/24e1240000000133/event/up', payload: '\u0008\u0001protobuf' }, 'invalid_json', /JSON marshaler/],
      ['no DevEUI', { topic: 'v3/app1/devices/dev1/up', payload: '{"uplink_message":{}}' }, 'missing_field', /end_device_ids/],
    ];
    const before = rejected.messages.length;
    for (const [, up] of bad) await send(up);
    // Good uplinks after the bad ones: a Dragino level, then the people counter's first totals.
    await send(chirpstackUp({ devEui: 'A84041000181C3D1', time: now - 10_000, fPort: 2, hex: '0D3B0AEF00000001' }));
    await send(chirpstackUp({ devEui: '24E1240000000133', time: now - 9_000, fPort: 85, hex: vs133(5000, 4990) }));
    await eventually(async () => (await api.get<FloodResponse>('/api/flood')).body.rooms[0]!.levels.find((l) => l.id === 'L2' && l.mm === 201), 10_000, 'the good level after the bad uplinks');
    await eventually(() => rejected.messages.length - before >= bad.length, 10_000, `every rejection notice, got ${rejected.messages.slice(before).map((m) => m.payload).join('\n')}`);
    const notices = rejected.messages.slice(before).map((m) => JSON.parse(m.payload) as { topic: string; reason: string; code: string });
    bad.forEach(([what, up, code, reason], i) => {
      expect(notices[i], what).toMatchObject({ topic: up.topic, code });
      expect(notices[i]!.reason, what).toMatch(new RegExp(`^${code}: `));
      expect(notices[i]!.reason, what).toMatch(reason);
    });
    expect(count("SELECT count(*) n FROM pump_readings r JOIN series s ON s.id = r.series_id WHERE s.subject = 'flood/b1-power/pumps/P2'")).toBe(0);
  });

  it('turns the people counter totals into people in and out, and a restart keeps the last totals', async () => {
    const gym = async () => (await api.get<VenueView[]>('/api/venues')).body.find((v) => v.id === 'gym')!;
    await eventually(async () => (await gym()).ts !== null, 10_000, 'the baseline uplink');
    expect((await gym()).occupancy).toBe(0);
    const now = Date.now();
    await send(chirpstackUp({ devEui: '24E1240000000133', time: now - 8_000, fPort: 85, hex: vs133(5012, 4993) }));
    await eventually(async () => (await gym()).occupancy === 9, 10_000, '12 in, 3 out');
    await sys.restart();
    api = await adminApi(sys);
    await ns.endAsync();
    ns = await connect(sys.mqttUrl, { clientId: `chirpstack-${broker}` });
    // A counter reset after the restart: the new totals count since the reset, not a crowd.
    await send(chirpstackUp({ devEui: '24E1240000000133', time: now - 7_000, fPort: 85, hex: vs133(5020, 4993) }));
    await send(chirpstackUp({ devEui: '24E1240000000133', time: now - 6_000, fPort: 85, hex: vs133(2, 1) }));
    await eventually(async () => (await gym()).occupancy === 9 + 8 + 2 - 1, 15_000, 'deltas across the restart and the reset');
  });

  it('answers 404 for an unknown device, 409 for a DevEUI bound elsewhere, 400 naming the field, 204 on delete', async () => {
    expect(await api.put('/api/devices/NOPE-1/binding', { devEui: '24E1240000000001', codec: 'nwave-nps' })).toMatchObject({ status: 404, body: { error: expect.stringMatching(/NOPE-1/) } });
    expect(await api.put('/api/devices/E-002/binding', { devEui: '0004a30b001c0530', codec: 'nwave-nps' })).toMatchObject({ status: 409, body: { error: expect.stringMatching(/bound to device E-001/) } });
    // Nothing else changed: E-001 keeps its DevEUI, E-002 has none.
    expect((await device('E-001')).binding).toMatchObject({ devEui: '0004A30B001C0530' });
    expect((await device('E-002')).binding).toBeUndefined();
    expect((await device('E-001')).binding!.updatedBy).toBeUndefined();
    expect(await api.put('/api/devices/E-002/binding', { devEui: '24E1240000000002', codec: 'lora-magic' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^codec: unknown codec "lora-magic"/) } });
    expect(await api.put('/api/devices/E-002/binding', { devEui: '24E1240000000002', codec: 'milesight-em310-udl' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^codec: .*E-002 is a bay/) } });
    expect(await api.put('/api/devices/L2/binding', { devEui: '24E1240000000002', codec: 'milesight-em310-udl', params: { mountMm: 'high' } })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^params\.mountMm: /) } });
    expect(await api.put('/api/devices/L2/binding', { devEui: '24E12400', codec: 'milesight-em310-udl' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^devEui: must be 16 hex digits/) } });
    expect((await api.del('/api/devices/E-001/binding')).status).toBe(204);
    expect((await api.del('/api/devices/E-001/binding')).status).toBe(204);
    expect((await api.del('/api/devices/NOPE-1/binding')).status).toBe(404);
    expect((await device('E-001')).binding).toBeUndefined();
    // Unbinding applies at once: its next uplink is listed as unbound.
    await send(chirpstackUp({ devEui: '0004A30B001C0530', fPort: 1, hex: '01' }));
    await eventually(async () => (await api.get<UnboundDeviceView[]>('/api/devices/unbound')).body.some((u) => u.devEui === '0004A30B001C0530'));
    const audit = (await api.get<Array<{ action: string; target: string }>>('/api/audit?limit=200')).body;
    expect(audit.filter((a) => a.action.startsWith('device.')).map((a) => `${a.action} ${a.target}`)).toEqual(expect.arrayContaining(['device.binding_set L1', 'device.binding_set E-001', 'device.binding_deleted E-001']));
  });

  it('imports bindings from CSV all or nothing, naming every bad row', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => `D-${String(i + 1).padStart(3, '0')},24E12400000D${String(i + 1).padStart(4, '0')},nwave-nps`);
    const badFile = ['deviceId,devEui,codec,mountMm', ...rows.slice(0, 3).map((r) => `${r},`), 'D-099,24e12400000d0099,nwave-nps,', 'ZZ-1,24E12400000D1001,nwave-nps,', 'D-004,24E12400000D0001,nwave-nps,', 'L2,24E12400000D2001,dragino-ldds75,', 'D-005,24E1240000000133,nwave-nps,'].join('\n');
    const refused = await api.send<{ error: string; rows: Array<{ row: number; error: string }> }>('/api/devices/bindings.csv', badFile, 'text/csv');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('4 of 8 rows have problems; nothing was imported');
    expect(refused.body.rows).toEqual([
      { row: 6, error: expect.stringMatching(/no device "ZZ-1"/) },
      { row: 7, error: 'DevEUI 24E12400000D0001 is also in row 2' },
      { row: 8, error: expect.stringMatching(/^params\.mountMm: /) },
      { row: 9, error: 'DevEUI 24E1240000000133 is bound to device gym, which this file does not change' },
    ]);
    expect((await device('D-001')).binding).toBeUndefined();
    const file = `deviceId,devEui,codec\r\n${rows.join('\r\n')}\r\n`;
    expect(await api.send('/api/devices/bindings.csv?dryRun=true', file, 'text/csv')).toMatchObject({ status: 200, body: { dryRun: true, rows: 20, created: 20, updated: 0, unchanged: 0 } });
    expect((await device('D-001')).binding).toBeUndefined();
    expect(await api.send('/api/devices/bindings.csv', file, 'text/csv')).toMatchObject({ status: 200, body: { dryRun: false, rows: 20, created: 20 } });
    expect(await api.send('/api/devices/bindings.csv', file, 'text/csv')).toMatchObject({ status: 200, body: { created: 0, unchanged: 20 } });
    expect((await device('D-020')).binding).toMatchObject({ devEui: '24E12400000D0020', codec: 'nwave-nps' });
    await send(chirpstackUp({ devEui: '24E12400000D0007', fPort: 1, hex: '01' }));
    await eventually(async () => (await api.get<ParkingResponse>('/api/parking')).body.bays.find((b) => b.id === 'D-007' && b.occupied === true));
  });
});
