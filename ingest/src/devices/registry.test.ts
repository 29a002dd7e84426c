/**
 * The registry's own promises, on a real SQLite file: a translated reading that is not committed
 * (rejected later, or its transaction failed) leaves no trace in the counter totals; committed totals
 * and telemetry survive a restart; bindings are applied at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Topics, UplinkTopics } from '@parkops/contract/topics.ts';
import type { Translation } from '../ingest.ts';
import { LiveState } from '../live-state.ts';
import { createLogger } from '../log.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../store/db.ts';
import { SqliteTransactions } from '../db/tx.ts';
import { SqliteLiveRepository } from '../live-state.ts';
import { SqliteDevicesRepository } from './repository.ts';
import { DeviceRegistry, DevicesError } from './registry.ts';

const site = loadSite();
const log = createLogger('silent');
const uplinkTopics = new UplinkTopics({ chirpstack: 'application/+/device/+/event/up', tts: null });
const topic = (eui: string) => UplinkTopics.chirpstackUp('app', eui);
const up = (eui: string, time: number, hex: string, fPort = 85) =>
  Buffer.from(JSON.stringify({ time: new Date(time).toISOString(), deviceInfo: { devEui: eui }, fPort, data: Buffer.from(hex, 'hex').toString('base64'), rxInfo: [{ rssi: -80, snr: 4 }] }));
const totals = (i: number, o: number) => {
  const le = (n: number) => Buffer.from(new Uint32Array([n]).buffer).toString('hex');
  return `03d2${le(i)}04d2${le(o)}`;
};
/** The translator's part of an ingest transaction, run in one of its own. */
const commitIn = (db: Db, t: Extract<Translation, { kind: 'reading' }>, stored: boolean): void =>
  new SqliteTransactions(db).run(function* (tx) {
    yield t.commit(tx, stored);
  });
const payloadOf = (t: Translation | null): unknown => (t?.kind === 'reading' ? JSON.parse(Buffer.from(t.payload).toString()) : t);

describe('DeviceRegistry', () => {
  let dir: string;
  let db: Db;
  const audit: Array<{ action: string; target?: string }> = [];
  const open = async (): Promise<DeviceRegistry> => {
    const live = new LiveState(new SqliteLiveRepository(db), site);
    await live.load();
    const r = new DeviceRegistry({ repository: new SqliteDevicesRepository(db), site, topics: new Topics(), uplinkTopics, live, log, audit: (e) => audit.push(e) });
    await r.start();
    return r;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parkops-registry-'));
    db = openDatabase(dir);
    audit.length = 0;
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('translates a bound uplink into the section-1 topic and payload, stamped with the uplink time', async () => {
    const r = await open();
    await r.setBinding('admin', '127.0.0.1', 'L1', { devEui: '24e124710b423527', codec: 'milesight-em310-udl', params: { mountMm: 2500 } });
    const t = r.translate(topic('24e124710b423527'), up('24e124710b423527', 1_700_000_000_000, '03824408'), 0);
    expect(t).toMatchObject({ kind: 'reading', topic: 'park/flood/b1-power/levels/L1' });
    expect(payloadOf(t)).toEqual({ mm: 384, ts: 1_700_000_000_000 });
    expect(r.translate('park/parking/bays/A-001', Buffer.from('{}'), 0)).toBeNull();
    expect(audit).toEqual([expect.objectContaining({ action: 'device.binding_set', target: 'L1' })]);
  });

  it('undo puts the counter totals back, so a redelivery of an uncommitted uplink still counts its people', async () => {
    const r = await open();
    await r.setBinding('admin', undefined, 'gym-counter', { devEui: '24E1240000000133', codec: 'milesight-vs133' });
    expect(r.binding('gym')).toMatchObject({ deviceId: 'gym' });
    const first = r.translate(topic('24E1240000000133'), up('24E1240000000133', 1000, totals(100, 90)), 0);
    if (first?.kind !== 'reading') throw new Error('expected a reading');
    commitIn(db, first, true);
    const second = r.translate(topic('24E1240000000133'), up('24E1240000000133', 2000, totals(110, 95)), 0);
    expect(payloadOf(second)).toEqual({ in: 10, out: 5, ts: 2000 });
    if (second?.kind !== 'reading') throw new Error('expected a reading');
    second.undo();
    // The broker redelivers the uplink that was not acknowledged: the same people again, not zero.
    expect(payloadOf(r.translate(topic('24E1240000000133'), up('24E1240000000133', 2000, totals(110, 95)), 0))).toEqual({ in: 10, out: 5, ts: 2000 });
  });

  it('keeps committed totals and telemetry across a restart, and not uncommitted ones', async () => {
    const r = await open();
    await r.setBinding('admin', undefined, 'gym', { devEui: '24E1240000000133', codec: 'milesight-vs133' });
    const t = r.translate(topic('24E1240000000133'), up('24E1240000000133', 1000, totals(100, 90)), 0);
    if (t?.kind !== 'reading') throw new Error('expected a reading');
    commitIn(db, t, true);
    r.translate(topic('24E1240000000133'), up('24E1240000000133', 2000, totals(200, 190)), 0); // never committed
    const again = await open();
    expect(payloadOf(again.translate(topic('24E1240000000133'), up('24E1240000000133', 3000, totals(103, 91)), 0))).toEqual({ in: 3, out: 1, ts: 3000 });
    expect(again.devices().find((d) => d.id === 'gym')).toMatchObject({ rssi: -80, snr: 4, lastSeen: new Date(1000).toISOString(), binding: { devEui: '24E1240000000133' } });
  });

  it('lists unbound DevEUIs and forgets them once bound; refuses a DevEUI bound twice', async () => {
    const r = await open();
    const broken = JSON.stringify({ deviceInfo: { devEui: 'A84041000181C3D9' }, fPort: 2, data: 'not*base64' });
    expect(r.translate(topic('A84041000181C3D9'), Buffer.from(broken), 0)).toMatchObject({ kind: 'rejected', rejection: { code: 'invalid_base64' } });
    expect(r.translate(topic('A84041000181C3D1'), up('A84041000181C3D1', 1000, '0D3B0AEF00000001', 2), 5000)).toEqual({ kind: 'handled' });
    expect(await r.unbound()).toEqual([{ devEui: 'A84041000181C3D1', network: 'chirpstack', applicationId: 'app', firstSeen: new Date(5000).toISOString(), lastSeen: new Date(5000).toISOString(), uplinks: 1 }]);
    await r.setBinding('admin', undefined, 'L2', { devEui: 'A84041000181C3D1', codec: 'dragino-ldds75', params: { mountMm: 3000 } });
    expect(await r.unbound()).toEqual([]);
    await expect(r.setBinding('admin', undefined, 'L1', { devEui: 'a84041000181c3d1', codec: 'dragino-ldds75', params: { mountMm: 3000 } })).rejects.toThrow(DevicesError);
    // Moving L2 to another DevEUI frees the old one for L1.
    await r.setBinding('admin', undefined, 'L2', { devEui: 'A84041000181C3D2', codec: 'dragino-ldds75', params: { mountMm: 3000 } });
    expect(await r.setBinding('admin', undefined, 'L1', { devEui: 'A84041000181C3D1', codec: 'dragino-ldds75', params: { mountMm: 2800 } })).toMatchObject({ deviceId: 'L1' });
    expect(payloadOf(r.translate(topic('A84041000181C3D1'), up('A84041000181C3D1', 1000, '0D3B0AEF00000001', 2), 0))).toEqual({ mm: 1, ts: 1000 });
  });

  it('rejects the uplinks of a binding whose codec refuses them, with the codec reason', async () => {
    const r = await open();
    await r.setBinding('admin', undefined, 'E-001', { devEui: '0004A30B001C0530', codec: 'nwave-nps' });
    expect(r.translate(topic('0004A30B001C0530'), up('0004A30B001C0530', 1000, '01', 9), 0)).toMatchObject({ kind: 'rejected', rejection: { code: 'unknown_fport' } });
    expect(r.translate(topic('0004A30B001C0530'), up('0004A30B001C0530', 1000, '0204090200', 3), 0)).toEqual({ kind: 'handled' });
  });
});
