/**
 * What the database costs, for /metrics and the admin page: the file and WAL sizes (read at each
 * scrape: two stat calls), rows per table, the oldest raw reading and the last backup.
 *
 * Counting rows means reading every page of the big reading tables (seconds for a year of the default
 * site), so it runs every few minutes in a worker thread with a connection of its own (WAL lets it
 * read beside the writer) and the figures are cached: a scrape never waits for a count, and ingest's
 * event loop never carries it. It counts tables by name from sqlite_master and reads none of their
 * columns: database-level facts, like the migration runner's.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.ts';
import { Gauge, type Metrics } from '../metrics.ts';
import type { Module } from '../module.ts';
import { DB_FILE } from '../store/db.ts';
import type { RawRetention } from '../store/types.ts';
import type { BackupFile, StorageResponse } from '@parkops/contract/ops.ts';
import { BACKUP_NAME, backupsDir, lastBackup } from './backup.ts';

export const COUNT_EVERY_MS = 5 * 60_000;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
try {
  db.pragma('query_only = ON');
  db.pragma('busy_timeout = 5000');
  const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
  const out = [];
  for (const name of names) out.push({ table: name, rows: db.prepare('SELECT count(*) FROM "' + name.replace(/"/g, '""') + '"').pluck().get() });
  parentPort.postMessage(out);
} finally {
  db.close();
}
`;

/** Rows per table of the database at `path`, counted in a worker thread. */
export function countRows(path: string): Promise<Array<{ table: string; rows: number }>> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: { driver, path } });
    let got: Array<{ table: string; rows: number }> | null = null;
    w.once('message', (m: Array<{ table: string; rows: number }>) => (got = m));
    w.once('error', reject);
    w.once('exit', (code) => (got ? resolve(got) : reject(new Error(`row count worker exited with code ${code}`))));
  });
}

export interface StorageStatsOptions {
  dataDir: string;
  retention: RawRetention | null;
  days: StorageResponse['retention'];
  log: Logger;
  metrics?: Metrics;
  countEveryMs?: number;
}

const size = (f: string): number => (existsSync(f) ? statSync(f).size : 0);
const iso = (ms: number): string => new Date(ms).toISOString();

export class StorageStats implements Module {
  readonly name = 'storage-stats';
  private tables: Array<{ table: string; rows: number }> = [];
  private countedAt: number | null = null;
  private oldest: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private counting: Promise<void> | null = null;
  private readonly path: string;

  constructor(private readonly o: StorageStatsOptions) {
    this.path = join(o.dataDir, DB_FILE);
    const m = o.metrics;
    if (m) {
      m.add(new Gauge('parkops_db_file_bytes', 'Size of the SQLite database file and its write-ahead log, bytes', () => [[{ file: 'db' }, size(this.path)], [{ file: 'wal' }, size(`${this.path}-wal`)]], ['file']));
      m.add(new Gauge('parkops_db_rows', `Rows per table (counted every ${Math.round((o.countEveryMs ?? COUNT_EVERY_MS) / 60_000)} minutes)`, () => this.tables.map((t): [Record<string, string>, number] => [{ table: t.table }, t.rows]), ['table']));
      m.add(new Gauge('parkops_db_rows_counted_seconds', 'When the row counts were last counted (unix seconds; 0: not yet)', () => (this.countedAt === null ? 0 : Math.round(this.countedAt / 1000))));
      m.add(new Gauge('parkops_oldest_reading_seconds', 'Time of the oldest raw reading under retention (unix seconds; 0: none, or kept by InfluxDB)', () => (this.oldest === null ? 0 : Math.round(this.oldest / 1000))));
      m.add(new Gauge('parkops_last_backup_seconds', 'When the last backup was taken (unix seconds; 0: none noted in this data folder)', () => Math.round((lastBackup(o.dataDir)?.at ?? 0) / 1000)));
      m.add(new Gauge('parkops_last_backup_bytes', 'Size of the last backup, bytes (0: none)', () => lastBackup(o.dataDir)?.bytes ?? 0));
    }
  }

  async start(): Promise<void> {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.o.countEveryMs ?? COUNT_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.counting;
  }

  /** Counts again (joins a count already running). Errors are logged, the last figures kept. */
  refresh(): Promise<void> {
    this.counting ??= (async () => {
      try {
        this.tables = await countRows(this.path);
        this.oldest = (await this.o.retention?.oldest()) ?? null;
        this.countedAt = Date.now();
      } catch (err) {
        this.o.log.warn({ module: 'storage-stats', err }, 'counting the database rows failed; keeping the last figures');
      } finally {
        this.counting = null;
      }
    })();
    return this.counting;
  }

  backups(): BackupFile[] {
    const dir = backupsDir(this.o.dataDir);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => BACKUP_NAME.test(n))
      .map((name) => {
        const st = statSync(join(dir, name));
        return { name, bytes: st.size, at: iso(st.mtimeMs), download: `/api/admin/backups/${name}` };
      })
      .sort((a, b) => (a.name < b.name ? 1 : -1));
  }

  figures(): StorageResponse {
    const last = lastBackup(this.o.dataDir);
    return {
      countedAt: this.countedAt === null ? null : iso(this.countedAt),
      fileBytes: size(this.path),
      walBytes: size(`${this.path}-wal`),
      tables: this.tables,
      oldestReading: this.oldest === null ? null : iso(this.oldest),
      lastBackup: last ? { at: iso(last.at), name: last.file.split('/').pop() ?? last.file, bytes: last.bytes } : null,
      backups: this.backups(),
      retention: this.o.days,
    };
  }
}
