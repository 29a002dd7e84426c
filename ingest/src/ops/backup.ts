/**
 * Backups and restores of the embedded SQLite database (docs/operations.md).
 *
 * A backup is SQLite's online backup API (better-sqlite3 `db.backup()`), which copies pages under a
 * read transaction: the copy is the database as of one commit, while ParkOps keeps writing (WAL lets
 * readers and the writer go on side by side). Two ways in:
 * - `npm run backup -- <file>` runs in a process of its own on the same data folder, and copies every
 *   page in ONE backup step: one read snapshot, so no write of the server can restart the copy (the
 *   API restarts a step-wise copy when another connection writes between steps). It needs no login
 *   and works while the server is busy or its HTTP side is down.
 * - the admin page (`POST /api/admin/backup`) runs inside the server on the server's own connection,
 *   step by step between ingest's transactions: a write on the same connection is applied to the copy
 *   as it goes (SQLite's rule), so it stays consistent and ingest never waits for the whole copy.
 * Both write `<file>.partial` and rename it when complete, so a file with the final name is whole,
 * and note the backup in `<data>/backups/last-backup.json` for /metrics and the admin page.
 *
 * A restore (`npm run restore -- <file>`) goes into a STOPPED data folder only (the pid file of a
 * running ParkOps refuses it), checks that the file is a ParkOps database (integrity_check and
 * `schema_versions`) whose schema this code knows, and keeps the database it replaces aside.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Db } from '../store/db.ts';
import { DB_FILE } from '../store/db.ts';
import { planMigrations, SchemaTooNew } from '../db/migrations.ts';
import { SCHEMAS } from '../db/schemas.ts';
import { runningParkOps } from './data-lock.ts';

export class BackupError extends Error {}

export interface BackupResult {
  /** absolute path of the copy */
  file: string;
  bytes: number;
  ms: number;
  /** when the copy's snapshot was taken (epoch ms; the start of the copy) */
  at: number;
}

/** The backups/ folder of a data folder (the admin page writes there). */
export const backupsDir = (dataDir: string): string => join(dataDir, 'backups');
const lastFile = (dataDir: string): string => join(backupsDir(dataDir), 'last-backup.json');

/** A timestamped name for a backup made now: `parkops-2026-11-30T031500.123Z.db` (UTC). */
export function backupName(now: number): string {
  return `parkops-${new Date(now).toISOString().slice(0, 23).replace(/:/g, '')}Z.db`;
}

/** Names the admin page may offer for download: only what `backupName` makes. */
export const BACKUP_NAME = /^parkops-\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z\.db$/;

function noteLast(dataDir: string, r: BackupResult): void {
  mkdirSync(backupsDir(dataDir), { recursive: true });
  writeFileSync(lastFile(dataDir), JSON.stringify({ at: new Date(r.at).toISOString(), file: r.file, bytes: r.bytes, ms: Math.round(r.ms) }) + '\n');
}

/** The last backup noted in this data folder (by either way in), or null. */
export function lastBackup(dataDir: string): { at: number; file: string; bytes: number } | null {
  try {
    const j = JSON.parse(readFileSync(lastFile(dataDir), 'utf8')) as { at?: string; file?: string; bytes?: number };
    const at = Date.parse(j.at ?? '');
    if (!Number.isFinite(at) || typeof j.file !== 'string' || typeof j.bytes !== 'number') return null;
    return { at, file: j.file, bytes: j.bytes };
  } catch {
    return null;
  }
}

/**
 * Copies `db` to `dest`. `pagesPerStep`: Infinity for one step (one snapshot; the CLI), or a number
 * of pages per step with the event loop free in between (the server, on its own connection).
 */
export async function backupTo(db: Db, dest: string, opts: { dataDir: string; pagesPerStep: number; now?: () => number }): Promise<BackupResult> {
  const now = opts.now ?? Date.now;
  const file = resolve(dest);
  if (!existsSync(dirname(file))) throw new BackupError(`cannot write the backup: folder ${dirname(file)} does not exist`);
  if (existsSync(file)) throw new BackupError(`cannot write the backup: ${file} exists already (give a new file name)`);
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  const at = now();
  const t0 = performance.now();
  const rate = Number.isFinite(opts.pagesPerStep) ? Math.max(1, Math.round(opts.pagesPerStep)) : 0x7fffffff;
  try {
    await db.backup(partial, { progress: () => rate });
  } catch (err) {
    rmSync(partial, { force: true });
    throw new BackupError(`the backup failed: ${(err as Error).message}`);
  }
  renameSync(partial, file);
  const r: BackupResult = { file, bytes: statSync(file).size, ms: performance.now() - t0, at };
  noteLast(opts.dataDir, r);
  return r;
}

/** `npm run backup -- <file>`: opens the data folder's database in this process and copies it in one step. */
export async function backupDataFolder(dataDir: string, dest: string): Promise<BackupResult> {
  const path = join(dataDir, DB_FILE);
  if (!existsSync(path)) throw new BackupError(`no ParkOps database at ${path}: check PARKOPS_DATA_DIR`);
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return await backupTo(db, dest, { dataDir, pagesPerStep: Infinity });
  } finally {
    db.close();
  }
}

export interface CheckedDatabase {
  /** module -> stored schema version */
  versions: Record<string, number>;
}

/**
 * Is `path` a ParkOps database this code can run on? integrity_check must answer ok, it must have
 * `schema_versions`, and no module may be newer than this code knows (then the newer release must
 * restore it). Opens it read-write: a WAL database cannot be opened read-only without its -shm file.
 */
export function checkDatabaseFile(path: string, name = basename(path)): CheckedDatabase {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (err) {
    throw new BackupError(`${name} cannot be opened as an SQLite database: ${(err as Error).message}`);
  }
  try {
    let ok: unknown;
    try {
      ok = db.pragma('integrity_check', { simple: true });
    } catch (err) {
      throw new BackupError(`${name} is not an SQLite database: ${(err as Error).message}`);
    }
    if (ok !== 'ok') throw new BackupError(`${name} is damaged (integrity_check: ${String(ok).slice(0, 200)}); nothing was changed`);
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'").get() !== undefined;
    if (!has) throw new BackupError(`${name} is an SQLite database but not a ParkOps one (no schema_versions table); nothing was changed`);
    const rows = db.prepare('SELECT module, version FROM schema_versions').all() as Array<{ module: string; version: number }>;
    const plan = planMigrations(new Map(rows.map((r) => [r.module, r.version])), SCHEMAS, { complete: true });
    if (plan.newer.length > 0) throw new SchemaTooNew(plan.newer, name);
    return { versions: Object.fromEntries(rows.map((r) => [r.module, r.version])) };
  } finally {
    db.close();
  }
}

export interface RestoreResult {
  /** where the restored database now is */
  restored: string;
  /** where the database it replaced was moved (null when the folder had none) */
  replacedKeptAt: string | null;
  versions: Record<string, number>;
}

/** `npm run restore -- <file>` into a stopped data folder. */
export function restoreInto(dataDir: string, source: string, opts: { now?: () => number } = {}): RestoreResult {
  const now = opts.now ?? Date.now;
  const from = resolve(source);
  if (!existsSync(from)) throw new BackupError(`no such backup file: ${from}`);
  const running = runningParkOps(dataDir);
  if (running !== null) throw new BackupError(`ParkOps is running on ${dataDir} (pid ${running}): stop it first, then restore`);
  mkdirSync(dataDir, { recursive: true });
  const target = join(dataDir, DB_FILE);
  // Checked on a copy inside the data folder (same file system, so the final step is a rename).
  const staging = join(dataDir, `${DB_FILE}.restoring`);
  for (const f of [staging, `${staging}-wal`, `${staging}-shm`]) rmSync(f, { force: true });
  copyFileSync(from, staging);
  let checked: CheckedDatabase;
  try {
    checked = checkDatabaseFile(staging, from);
  } catch (err) {
    for (const f of [staging, `${staging}-wal`, `${staging}-shm`]) rmSync(f, { force: true });
    throw err;
  }
  let keptAt: string | null = null;
  if (existsSync(target)) {
    const stamp = new Date(now()).toISOString().slice(0, 23).replace(/:/g, '');
    // Never over an earlier kept database (two restores in one millisecond).
    for (let k = 0; keptAt === null || existsSync(keptAt); k++) keptAt = `${target}.replaced-${stamp}Z${k > 0 ? `-${k}` : ''}`;
    // The WAL may hold committed transactions not yet in the main file: it moves with it, named as
    // SQLite looks for it, so the kept database opens whole.
    renameSync(target, keptAt);
    for (const suffix of ['-wal', '-shm']) if (existsSync(`${target}${suffix}`)) renameSync(`${target}${suffix}`, `${keptAt}${suffix}`);
  }
  renameSync(staging, target);
  for (const f of [`${staging}-wal`, `${staging}-shm`]) rmSync(f, { force: true });
  return { restored: target, replacedKeptAt: keptAt, versions: checked.versions };
}
