/** The repositories' behaviour suites on the SQLite implementations, each on a real database file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteAlertRepository } from '../../ingest/src/alerts/alert-repository.ts';
import { SqliteIncidentRepository } from '../../ingest/src/alerts/incident-repository.ts';
import { SqliteTransactions } from '../../ingest/src/db/tx.ts';
import { SqliteDevicesRepository } from '../../ingest/src/devices/repository.ts';
import { SqliteLiveRepository } from '../../ingest/src/live-state.ts';
import { openDatabase, type Db } from '../../ingest/src/store/db.ts';
import { SqliteSeenKeys } from '../../ingest/src/store/influx-store.ts';
import { SqliteOutboxRepository } from '../../ingest/src/store/outbox.ts';
import { SqliteWarningRepository } from '../../ingest/src/warnings/repository.ts';
import {
  alertRepositorySuite,
  devicesRepositorySuite,
  incidentRepositorySuite,
  liveRepositorySuite,
  outboxRepositorySuite,
  seenKeysRepositorySuite,
  warningRepositorySuite,
  type RepoFactory,
  type RepoUnderTest,
} from './repositories.suite.ts';

const root = mkdtempSync(join(tmpdir(), 'parkops-repositories-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A factory of `make` on a new database file per test; `reopen` closes the file and opens it again. */
function sqlite<R>(make: (db: Db) => R): RepoFactory<R> {
  const at = (dir: string): RepoUnderTest<R> => {
    const db = openDatabase(dir);
    let closed = false;
    return {
      repo: make(db),
      transactions: new SqliteTransactions(db),
      close: async () => {
        if (closed) return;
        closed = true;
        db.close();
      },
      reopen: async function (this: void) {
        if (!closed) {
          closed = true;
          db.close();
        }
        return at(dir);
      },
    };
  };
  return async () => at(join(root, `db-${++n}`));
}

alertRepositorySuite('sqlite', sqlite((db) => new SqliteAlertRepository(db)));
incidentRepositorySuite('sqlite', sqlite((db) => ({ incidents: new SqliteIncidentRepository(db), alerts: new SqliteAlertRepository(db) })));
liveRepositorySuite('sqlite', sqlite((db) => new SqliteLiveRepository(db)));
devicesRepositorySuite('sqlite', sqlite((db) => new SqliteDevicesRepository(db)));
warningRepositorySuite('sqlite', sqlite((db) => new SqliteWarningRepository(db)));
outboxRepositorySuite('sqlite', sqlite((db) => new SqliteOutboxRepository(db)));
seenKeysRepositorySuite('sqlite', sqlite((db) => new SqliteSeenKeys(db)));
