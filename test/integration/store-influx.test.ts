/**
 * The store behaviour suite on the InfluxDB store against a real influxd 1.6.7 (test harness), with
 * its outbox in a real SQLite file. Each test gets its own database on one server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/ports.ts';
import { startInfluxd, type InfluxdServer } from '../harness/influxd.ts';
import { openDatabase } from '../../ingest/src/store/db.ts';
import { InfluxStore } from '../../ingest/src/store/influx-store.ts';
import { site, storeSuite, type StoreUnderTest } from './store-suite.ts';

let influx: InfluxdServer;
const root = mkdtempSync(join(tmpdir(), 'parkops-store-influx-'));
beforeAll(async () => {
  influx = await startInfluxd();
});
afterAll(async () => {
  await influx?.destroy();
  rmSync(root, { recursive: true, force: true });
});
let n = 0;

async function openAt(dir: string, database: string): Promise<StoreUnderTest> {
  const db = openDatabase(dir);
  // The database does not exist yet: start() creates it (1.x allows that without credentials).
  const store = new InfluxStore({ db, site, url: influx.url, database, outbox: { lingerMs: 5 } });
  await store.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await store.stop();
    db.close();
  };
  return {
    store,
    settle: () => store.drained(30_000),
    close,
    reopen: async () => {
      await close();
      return openAt(dir, database);
    },
  };
}

storeSuite('influxdb', () => {
  const i = ++n;
  return openAt(join(root, `db-${i}`), `suite_${i}`);
});

describe('InfluxStore redelivery window', () => {
  it('stores a duplicate older than the window once, although write() no longer recognises it', async () => {
    let s = await openAt(join(root, 'window'), 'window');
    const sensor = site.rooms[0]!.levels[0]!;
    const subject = `flood/${site.rooms[0]!.id}/levels/${sensor.id}`;
    const T0 = Date.UTC(2026, 0, 5);
    const old = { kind: 'level' as const, subject, ts: T0, roomId: site.rooms[0]!.id, sensorId: sensor.id, mm: 5 };
    const recent = { ...old, ts: T0 + 4 * 86_400_000, mm: 6 };
    expect(await s.store.write(old)).toBe(true);
    expect(await s.store.write(recent)).toBe(true);
    await s.settle();
    s = await s.reopen(); // start() prunes keys more than 3 days older than the newest
    expect(await s.store.write(recent)).toBe(false);
    expect(await s.store.write(old)).toBe(true);
    await s.settle();
    expect(await s.store.readings(subject, { from: T0, to: T0 + 5 * 86_400_000 })).toEqual([old, recent]);
    await s.close();
  });
});

describe('InfluxStore start-up against a real influxd', () => {
  it('says clearly when the server is unreachable', async () => {
    const db = openDatabase(join(root, 'unreachable'));
    const port = await freePort(); // nothing listens there
    const store = new InfluxStore({ db, site, url: `http://127.0.0.1:${port}`, database: 'x' });
    await expect(store.start()).rejects.toThrow(`InfluxDB at http://127.0.0.1:${port} is unreachable (ECONNREFUSED`);
    await expect(store.start()).rejects.toThrow(/check INFLUX_URL/);
    db.close();
  });

  describe('with authentication on (1.x user:password)', () => {
    let secured: InfluxdServer;
    beforeAll(async () => {
      secured = await startInfluxd({ database: 'parkops', auth: { username: 'parkops', password: 'correct horse' } });
    });
    afterAll(() => secured?.destroy());

    it('refuses to start with wrong credentials, naming INFLUX_TOKEN', async () => {
      for (const token of [undefined, 'parkops:wrong', 'not-a-1x-token']) {
        const db = openDatabase(join(root, `auth-${token ?? 'none'}`));
        const store = new InfluxStore({ db, site, url: secured.url, database: 'parkops', token });
        await expect(store.start()).rejects.toThrow(`InfluxDB at ${secured.url} refused the credentials (HTTP 401): check INFLUX_TOKEN`);
        db.close();
      }
    });

    it('writes and reads with user:password', async () => {
      const db = openDatabase(join(root, 'auth-ok'));
      const store = new InfluxStore({ db, site, url: secured.url, database: 'parkops', token: secured.token, outbox: { lingerMs: 5 } });
      await store.start();
      const bay = site.bays[0]!;
      const r = { kind: 'bay' as const, subject: `parking/bays/${bay.id}`, ts: Date.UTC(2026, 0, 5), bayId: bay.id, zoneId: bay.zone, occupied: true };
      expect(await store.write(r)).toBe(true);
      await store.drained(30_000);
      expect(await store.readings(r.subject, { from: r.ts, to: r.ts + 1 })).toEqual([r]);
      await store.stop();
      db.close();
    });
  });
});
