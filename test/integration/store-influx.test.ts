/**
 * The store behaviour suite on the InfluxDB store against a real influxd 1.6.7 (test harness), with
 * its outbox in a real SQLite file. Each test gets its own database on one server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
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
