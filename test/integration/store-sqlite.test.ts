/** The store behaviour suite on the embedded SQLite store (a real database file in a temp folder). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openDatabase } from '../../ingest/src/store/db.ts';
import { SqliteStore } from '../../ingest/src/store/sqlite-store.ts';
import { site, storeSuite, type StoreUnderTest } from './store-suite.ts';

const root = mkdtempSync(join(tmpdir(), 'parkops-store-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

async function openAt(dir: string): Promise<StoreUnderTest> {
  const db = openDatabase(dir);
  const store = new SqliteStore(db, site);
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
    settle: async () => undefined,
    close,
    reopen: async () => {
      await close();
      return openAt(dir);
    },
  };
}

storeSuite('sqlite', () => openAt(join(root, `db-${++n}`)));
