/**
 * A fresh database per test on one harness PostgreSQL (test/harness/postgres.ts), migrated with the
 * PostgreSQL schema lists, for the behaviour suites.
 */
import { migratePg, openPool, PgDatabase, type Fence, type PgModuleSchema } from '../../ingest/src/db/pg.ts';
import type { PostgresServer } from '../harness/postgres.ts';

let n = 0;

export interface FreshDb {
  url: string;
  db: PgDatabase;
  close(): Promise<void>;
  /** A new pool on the same database (a restart of the process). */
  reopen(): FreshDb;
}

export async function freshDatabase(server: PostgresServer, schemas: readonly PgModuleSchema[], fence?: Fence): Promise<FreshDb> {
  const name = `t${process.pid}_${++n}`;
  server.admin(`CREATE DATABASE ${name} OWNER parkops`);
  const url = server.url.replace(/\/parkops$/, `/${name}`);
  const open = (): FreshDb => {
    const pool = openPool(url, { max: 4 });
    const db = new PgDatabase(pool, fence);
    let closed = false;
    return {
      url,
      db,
      close: async () => {
        if (closed) return;
        closed = true;
        await pool.end();
      },
      reopen: open,
    };
  };
  const first = open();
  await migratePg(first.db.pool, schemas);
  return first;
}
