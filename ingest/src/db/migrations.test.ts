/**
 * The migration runner on real SQLite files: pending steps of every module in one transaction, a failing
 * step rolls back every step before it (never half migrated), a newer database is refused before
 * anything is written, and the plan is the same pure decision another engine's runner will use.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../store/db.ts';
import { knownVersion, migrateDatabase, planMigrations, SchemaTooNew, type ModuleSchema } from './migrations.ts';
import { SCHEMAS } from './schemas.ts';

const a: ModuleSchema = {
  module: 'a',
  migrations: [
    { version: 1, description: 'table a', up: 'CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL);' },
    { version: 2, description: 'a.note', up: 'ALTER TABLE a ADD COLUMN note TEXT;' },
  ],
};
const b: ModuleSchema = {
  module: 'b',
  migrations: [
    { version: 1, description: 'table b', up: 'CREATE TABLE b (k TEXT PRIMARY KEY);' },
    { version: 2, description: 'seed b', up: (db) => void db.prepare("INSERT INTO b (k) VALUES ('x')").run() },
  ],
};

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parkops-migrations-'));
  db = openDatabase(dir);
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const versions = (d: Db): Record<string, number> => Object.fromEntries((d.prepare('SELECT module, version FROM schema_versions').all() as { module: string; version: number }[]).map((r) => [r.module, r.version]));
const tables = (d: Db): string[] => (d.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

describe('migrateDatabase', () => {
  it('runs every pending step of every module, in order, and records the versions', () => {
    const ran = migrateDatabase(db, [a, b], { complete: true });
    expect(ran.map((s) => `${s.module}${s.migration.version}`)).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(versions(db)).toEqual({ a: 2, b: 2 });
    expect(db.prepare('SELECT k FROM b').all()).toEqual([{ k: 'x' }]);
    // Nothing pending the second time: one read, no step.
    expect(migrateDatabase(db, [a, b], { complete: true })).toEqual([]);
  });

  it('runs only the steps above the stored version', () => {
    migrateDatabase(db, [{ module: 'a', migrations: a.migrations.slice(0, 1) }]);
    db.prepare("INSERT INTO a (name) VALUES ('kept')").run();
    expect(migrateDatabase(db, [a]).map((s) => s.migration.version)).toEqual([2]);
    expect(db.prepare('SELECT name, note FROM a').all()).toEqual([{ name: 'kept', note: null }]);
  });

  it('rolls back every step when one fails, naming the module and version: never half migrated', () => {
    migrateDatabase(db, [{ module: 'a', migrations: a.migrations.slice(0, 1) }]);
    const broken: ModuleSchema = { module: 'c', migrations: [{ version: 1, description: 'bad', up: 'CREATE TABLE c (x); INSERT INTO nowhere VALUES (1);' }] };
    expect(() => migrateDatabase(db, [a, b, broken], { complete: true })).toThrow(/migration c 1 \(bad\) failed: .*no such table: nowhere.*nothing was changed/);
    expect(versions(db)).toEqual({ a: 1 });
    expect(tables(db)).toEqual(['a', 'schema_versions']);
    expect(db.prepare("SELECT count(*) AS n FROM pragma_table_info('a') WHERE name = 'note'").get()).toEqual({ n: 0 });
  });

  it('refuses a database with a module newer than this code, before changing anything', () => {
    migrateDatabase(db, [a, b]);
    db.prepare("UPDATE schema_versions SET version = 5 WHERE module = 'b'").run();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const file = join(dir, 'parkops.db');
    const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
    db = openDatabase(dir);
    const withPending: ModuleSchema = { module: 'a', migrations: [...a.migrations, { version: 3, description: 'a.more', up: 'ALTER TABLE a ADD COLUMN more TEXT;' }] };
    let err: unknown;
    try {
      migrateDatabase(db, [withPending, b], { complete: true, where: 'the test file' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaTooNew);
    expect((err as SchemaTooNew).modules).toEqual([{ module: 'b', stored: 5, known: 2 }]);
    expect((err as Error).message).toBe(
      'this database was written by a newer ParkOps (the test file): module "b" is at schema version 5, this ParkOps knows up to version 2. Nothing was changed: run the newer release, or restore a backup made by this one.',
    );
    // Module a's pending step did not run either.
    expect(versions(db)).toEqual({ a: 2, b: 5 });
    db.close();
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(hash);
  });

  it('when given every module, refuses a stored module this code does not know at all', () => {
    migrateDatabase(db, [a, b]);
    // A repository opened on its own (complete: false) does not judge other modules.
    expect(migrateDatabase(db, [a])).toEqual([]);
    expect(() => migrateDatabase(db, [a], { complete: true })).toThrow('module "b" is at schema version 2, which this ParkOps does not know at all');
  });

  it('rejects lists whose versions do not increase, and a module declared twice', () => {
    expect(() => migrateDatabase(db, [{ module: 'x', migrations: [a.migrations[1]!, a.migrations[0]!] }])).toThrow('migrations of module "x" must have increasing whole versions (1 after 2)');
    expect(() => migrateDatabase(db, [a, a])).toThrow('schema of module "a" is declared twice');
    expect(tables(db)).toEqual([]);
  });
});

describe('planMigrations', () => {
  it('is a pure decision over stored versions (the same for every engine)', () => {
    expect(planMigrations(new Map([['a', 1]]), [a, b], { complete: false }).pending.map((s) => `${s.module}${s.migration.version}`)).toEqual(['a2', 'b1', 'b2']);
    expect(planMigrations(new Map([['a', 3]]), [a, b], { complete: false })).toEqual({ pending: [], newer: [{ module: 'a', stored: 3, known: 2 }] });
    expect(knownVersion(a)).toBe(2);
  });
});

describe("ParkOps' own schemas", () => {
  it('build a fresh database in one pass, each module at its newest version', () => {
    migrateDatabase(db, SCHEMAS, { complete: true });
    expect(versions(db)).toEqual(Object.fromEntries(SCHEMAS.map((s) => [s.module, knownVersion(s)])));
    expect(tables(db)).not.toContain('alert_notifications');
    expect(migrateDatabase(db, SCHEMAS, { complete: true })).toEqual([]);
  });
});
