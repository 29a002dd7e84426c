/**
 * The durable outbox against a real influxd 1.6.7 ("InfluxDB down"): influxd is stopped
 * mid-stream for several seconds while readings keep arriving, and ParkOps itself is restarted while
 * InfluxDB is still down. Afterwards every reading is in InfluxDB exactly once. Lines InfluxDB
 * rejects as invalid are set aside with its reason, and the valid lines around them still arrive.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '@parkops/contract/index.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../../ingest/src/store/db.ts';
import { InfluxStore, toLine } from '../../ingest/src/store/influx-store.ts';
import { startInfluxd, type InfluxdServer } from '../harness/influxd.ts';
import { SqliteTransactions } from '../../ingest/src/db/tx.ts';

const site = loadSite();
const room = site.rooms[0]!;
const sensors = room.levels.map((l) => l.id);
const T0 = Date.UTC(2026, 0, 5);

let influx: InfluxdServer;
const root = mkdtempSync(join(tmpdir(), 'parkops-outbox-'));
beforeAll(async () => {
  influx = await startInfluxd();
});
afterAll(async () => {
  await influx?.destroy();
  rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InfluxDB outbox', () => {
  let db: Db | undefined;
  let store: InfluxStore | undefined;
  afterEach(async () => {
    await store?.stop();
    db?.close();
    store = undefined;
    db = undefined;
    await influx.start(); // in case a test failed during an outage
  });

  const open = async (dir: string, database: string, gzip = false) => {
    db = openDatabase(dir);
    store = new InfluxStore({ db, site, url: influx.url, database, outbox: { batchSize: 1_000, lingerMs: 5, minRetryDelayMs: 50, maxRetryDelayMs: 400, gzip } });
    await store.start();
    return store;
  };

  it('loses nothing and duplicates nothing while influxd is down, across a ParkOps restart', async () => {
    const dir = join(root, 'outage');
    let s = await open(dir, 'outage');
    const N = 12_000;
    const CHUNK = 300;
    const reading = (i: number): Reading => {
      const sensorId = sensors[i % sensors.length]!;
      return { kind: 'level', subject: `flood/${room.id}/levels/${sensorId}`, ts: T0 + i * 1000, roomId: room.id, sensorId, mm: i };
    };
    let written = 0;
    const writeChunk = () => {
      // One SQLite transaction per chunk, as ingest commits a batch of MQTT messages.
      const store = s;
      new SqliteTransactions(db!).run(function* (tx) {
        for (let k = 0; k < CHUNK && written < N; k++) expect((yield store.participant.write(tx, reading(written++))) as boolean).toBe(true);
      });
    };

    for (let c = 0; c < 8; c++) {
      writeChunk();
      await sleep(20);
    }
    await influx.stop();
    // Outage: writes keep being acknowledged (queued durably), health turns degraded.
    for (let c = 0; c < 12; c++) {
      writeChunk();
      await sleep(300);
    }
    expect((await s.health()).ok).toBe(false);
    expect((await s.health()).outbox!.depth).toBeGreaterThan(0);
    expect((await s.metrics()).lastError).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);

    // ParkOps restarts while InfluxDB is still down: the queue is on disk.
    const depthBefore = (await s.metrics()).depth;
    await s.stop();
    db!.close();
    db = openDatabase(dir);
    await influx.start();
    s = store = new InfluxStore({ db, site, url: influx.url, database: 'outage', outbox: { batchSize: 1_000, lingerMs: 5, minRetryDelayMs: 50, maxRetryDelayMs: 400 } });
    expect((await s.metrics()).depth).toBe(depthBefore);
    await s.start();
    // The redeliveries that follow a restart (unacknowledged MQTT messages) are recognised.
    expect(await s.write(reading(written - 1))).toBe(false);
    while (written < N) {
      writeChunk();
      await sleep(10);
    }
    await s.drained(60_000);

    expect(await s.health()).toMatchObject({ ok: true, outbox: { depth: 0, rejected: 0 } });
    expect(await s.metrics()).toMatchObject({ depth: 0, rejectedTotal: 0, rejectedHeld: 0, lastError: null });
    expect((await s.counts()).level).toBe(N);
    const got = new Map<number, number>();
    for (const sensorId of sensors) {
      for (const r of await s.readings(`flood/${room.id}/levels/${sensorId}`, { from: T0, to: T0 + N * 1000 }, N)) {
        expect(got.has(r.ts)).toBe(false);
        got.set(r.ts, (r as Extract<Reading, { kind: 'level' }>).mm);
      }
    }
    expect(got.size).toBe(N);
    for (let i = 0; i < N; i++) expect(got.get(T0 + i * 1000)).toBe(i);
  });

  it('sets lines InfluxDB rejects aside with its reason and delivers the rest', async () => {
    const s = await open(join(root, 'bad'), 'bad');
    const good = (i: number): Reading => ({ kind: 'level', subject: `flood/${room.id}/levels/${sensors[0]}`, ts: T0 + i * 1000, roomId: room.id, sensorId: sensors[0]!, mm: i });
    // Establish mm as a float field first, so a string mm later is a type conflict.
    await s.write(good(0));
    await s.drained();
    const typeConflict = `flood_level,room=${room.id},sensor=${sensors[0]} mm="deep" ${T0 + 500}`;
    const unparsable = 'flood_level,room=x mm=';
    for (let i = 1; i <= 500; i++) {
      await s.write(good(i));
      if (i === 123) await s.outbox.write(typeConflict);
      if (i === 400) await s.outbox.write(unparsable);
    }
    await s.drained();

    expect((await s.counts()).level).toBe(501);
    const rejected = await s.outbox.rejected();
    expect(rejected.map((r) => r.line).sort()).toEqual([typeConflict, unparsable].sort());
    expect(rejected.find((r) => r.line === typeConflict)!.reason).toMatch(/^HTTP 400: .*field type conflict/);
    expect(rejected.find((r) => r.line === unparsable)!.reason).toMatch(/^HTTP 400: .*unable to parse/);
    expect(await s.metrics()).toMatchObject({ depth: 0, rejectedTotal: 2, rejectedHeld: 2, lastError: null });
    expect(await s.health()).toMatchObject({ ok: true, outbox: { depth: 0, rejected: 2 } });
    // A good line written after the rejects goes through on its own.
    await s.write(good(1000));
    await s.drained();
    expect((await s.counts()).level).toBe(502);
    // Retrying the set-aside lines: still invalid, so they are set aside again, with their reasons.
    expect(await s.outbox.retryRejected()).toBe(2);
    await s.drained();
    expect(await s.metrics()).toMatchObject({ depth: 0, rejectedTotal: 4, rejectedHeld: 2 });
    expect((await s.outbox.rejected()).map((r) => r.line).sort()).toEqual([typeConflict, unparsable].sort());
  });

  it('escapes what it writes: passes with line-protocol specials round-trip (gzip bodies)', async () => {
    const s = await open(join(root, 'escape'), 'escape', true);
    const pass = 'a "quoted", pass=with\\backslash and space\nand a newline';
    const r: Reading = { kind: 'gate', subject: `parking/gates/${site.gates[0]!.id}`, ts: T0, gateId: site.gates[0]!.id, event: 'entry', pass };
    expect(toLine(r)).toContain('pass="a \\"quoted\\", pass=with\\\\backslash and space\nand a newline"');
    await s.write(r);
    await s.drained();
    expect(await s.readings(r.subject, { from: T0, to: T0 + 1 })).toEqual([r]);
  });
});
