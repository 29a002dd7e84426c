/**
 * `npm run restore` checks before it replaces anything (real SQLite files): the file must be a whole
 * ParkOps database whose schema this code knows; the replaced database is kept aside and still opens.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../ingest/src/store/db.ts';
import { migrateDatabase } from '../../ingest/src/db/migrations.ts';
import { SCHEMAS } from '../../ingest/src/db/schemas.ts';
import { backupDataFolder, lastBackup, restoreInto } from '../../ingest/src/ops/backup.ts';
import { markRunning } from '../../ingest/src/ops/data-lock.ts';

const root = mkdtempSync(join(tmpdir(), 'parkops-restore-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const folder = (): string => join(root, `f${++n}`);

/** A data folder with a migrated database and one audit entry saying `marker`. */
function parkopsFolder(marker: string): string {
  const dir = folder();
  const db = openDatabase(dir);
  migrateDatabase(db, SCHEMAS, { complete: true });
  db.prepare("INSERT INTO audit_log (at, actor, action) VALUES ('2026-01-01T00:00:00.000Z', 'test', ?)").run(marker);
  db.close();
  return dir;
}
const marker = (file: string): string => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT action FROM audit_log').pluck().get() as string;
  } finally {
    db.close();
  }
};

describe('restore checks', () => {
  it('restores a backup over a stopped folder and keeps the replaced database aside, whole', async () => {
    const src = parkopsFolder('from-backup');
    const file = join(root, 'good.db');
    const b = await backupDataFolder(src, file);
    expect(lastBackup(src)).toMatchObject({ file, bytes: b.bytes });
    const target = parkopsFolder('was-here');
    const r = restoreInto(target, file);
    expect(marker(r.restored)).toBe('from-backup');
    expect(r.replacedKeptAt).not.toBeNull();
    expect(marker(r.replacedKeptAt!)).toBe('was-here');
    expect(r.versions.timeseries).toBe(2);
    expect(readdirSync(target).filter((f) => f.includes('.restoring'))).toEqual([]);
  });

  it('refuses a file that is not SQLite, an SQLite file that is not ParkOps, a damaged one, and a newer schema, changing nothing', async () => {
    const target = parkopsFolder('untouched');
    const junk = join(root, 'junk.db');
    writeFileSync(junk, 'not a database at all, just text'.repeat(200));
    expect(() => restoreInto(target, junk)).toThrow(/junk\.db is not an SQLite database/);

    const other = join(root, 'other.db');
    const o = new Database(other);
    o.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    o.close();
    expect(() => restoreInto(target, other)).toThrow(/other\.db is an SQLite database but not a ParkOps one/);

    const src = parkopsFolder('newer');
    const newer = join(root, 'newer.db');
    await backupDataFolder(src, newer);
    const w = new Database(newer);
    w.prepare("UPDATE schema_versions SET version = 99 WHERE module = 'alerts'").run();
    w.close();
    const alertsKnown = Math.max(...SCHEMAS.find((m) => m.module === 'alerts')!.migrations.map((m) => m.version));
    expect(() => restoreInto(target, newer)).toThrow(new RegExp(`newer ParkOps.*module "alerts" is at schema version 99, this ParkOps knows up to version ${alertsKnown}`));

    // A page of a real database overwritten with garbage.
    const damaged = join(root, 'damaged.db');
    await backupDataFolder(parkopsFolder('damaged'), damaged);
    const buf = (await import('node:fs')).readFileSync(damaged);
    buf.fill(0x5a, 4096 * 2, 4096 * 3);
    writeFileSync(damaged, buf);
    expect(() => restoreInto(target, damaged)).toThrow(/damaged|malformed|not an SQLite database/);

    expect(marker(join(target, 'parkops.db'))).toBe('untouched');
    expect(readdirSync(target).filter((f) => f.includes('.replaced-') || f.includes('.restoring'))).toEqual([]);
  });

  it('refuses while a live ParkOps process holds the folder (its pid file), and not after it is gone', () => {
    const target = parkopsFolder('held');
    const src = join(root, 'held-src.db');
    copyFileSync(join(target, 'parkops.db'), src);
    // The pid of this test's parent (a live node process, not this one) stands in for a running server.
    writeFileSync(join(target, 'parkops.pid'), `${process.ppid}\n`);
    expect(() => restoreInto(target, src)).toThrow(/ParkOps is running on .* \(pid \d+\): stop it first/);
    // A pid file left by a crash (no such process) does not block.
    writeFileSync(join(target, 'parkops.pid'), '999999999\n');
    expect(restoreInto(target, src).restored).toMatch(/parkops\.db$/);
    // This process's own mark is not "another ParkOps".
    const release = markRunning(target);
    expect(restoreInto(target, src).replacedKeptAt).not.toBeNull();
    release();
    // Every replaced database is still there: none was written over another.
    expect(readdirSync(target).filter((f) => /\.replaced-\d{4}-\d{2}-\d{2}T[\d.]+Z(-\d+)?$/.test(f))).toHaveLength(2);
  });
});
