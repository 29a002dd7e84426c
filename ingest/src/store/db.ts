/**
 * The embedded SQLite database (better-sqlite3 12, WAL). It always holds live state, accounts, alerts,
 * the audit log and (in InfluxDB mode) the outbox; in SQLite mode also the time series.
 *
 * Durability: ParkOps runs it with synchronous=FULL (PARKOPS_SQLITE_SYNC, default full): the WAL
 * is fsynced at every commit, so an acknowledged reading survives power loss and OS crashes too.
 * With ingest committing in batches that costs no measurable rate (docs/benchmarks.md).
 * synchronous=NORMAL (this function's default, and PARKOPS_SQLITE_SYNC=normal) survives a crash or
 * SIGKILL of the process but can lose the last transactions on power loss.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

export function openDatabase(dataDir: string, opts: { file?: string; synchronous?: 'normal' | 'full' } = {}): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, opts.file ?? 'parkops.db'));
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
