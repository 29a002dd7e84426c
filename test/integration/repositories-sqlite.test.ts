/** The repository behaviour suites on SQLite (a real database file in a temp folder). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteAlertRepository } from '../../ingest/src/alerts/alert-repository.ts';
import { SqliteIncidentRepository } from '../../ingest/src/alerts/incident-repository.ts';
import { SqliteLiveRepository } from '../../ingest/src/live-state.ts';
import { SqliteTransactions } from '../../ingest/src/db/tx.ts';
import { openDatabase } from '../../ingest/src/store/db.ts';
import { repositoriesSuite, type ReposUnderTest } from './repositories-suite.ts';

const root = mkdtempSync(join(tmpdir(), 'parkops-repos-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function openAt(dir: string): ReposUnderTest {
  const db = openDatabase(dir);
  return {
    alerts: new SqliteAlertRepository(db),
    incidents: new SqliteIncidentRepository(db),
    live: new SqliteLiveRepository(db),
    transactions: new SqliteTransactions(db),
    close: async () => {
      if (db.open) db.close();
    },
    reopen: async () => {
      if (db.open) db.close();
      return openAt(dir);
    },
  };
}

repositoriesSuite('sqlite', async () => openAt(join(root, `db-${++n}`)));
