/**
 * The embedded SQLite database (better-sqlite3 12, WAL). It always holds live state, accounts, alerts,
 * the audit log and (in InfluxDB mode) the outbox; in SQLite mode also the time series.
 *
 * Durability: WAL with synchronous=NORMAL survives a crash or SIGKILL of the process (the promise
 * ParkOps makes: an acknowledged reading is never lost to a process crash). It can lose the last
 * transactions on power loss or an OS crash; set PARKOPS_SQLITE_SYNC=full to survive that too, at a
 * cost in ingest rate (see docs/benchmarks.md).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/** The database's file name in the data folder. */
export const DB_FILE = 'parkops.db';

export function openDatabase(dataDir: string, opts: { file?: string; synchronous?: 'normal' | 'full' } = {}): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, opts.file ?? DB_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Keep the WAL from growing without bound under steady ingest.
  db.pragma('wal_autocheckpoint = 4000');
  // A 64 MB page cache and memory-mapped reads: the hot B-tree pages of every series stay in memory,
  // so a commit costs its WAL writes and not page reads (measured in bench/profile-ingest.ts).
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 268435456');
  return db;
}

/** Applies a module's schema once; modules own their tables (`CREATE TABLE IF NOT EXISTS`). */
export function migrate(db: Db, module: string, version: number, sql: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_versions WHERE module = ?').get(module) as { version: number } | undefined;
  if (row && row.version >= version) return;
  db.transaction(() => {
    db.exec(sql);
    db.prepare('INSERT INTO schema_versions (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version').run(module, version);
  })();
}
