/**
 * Schema versions and ordered migrations. Every module that owns tables declares its migrations as an
 * ordered list (`ModuleSchema`); `schema_versions` holds, per module, the version its tables are at.
 *
 * At start the controller hands every module's list to `migrateDatabase` at once:
 * - first it only reads: if any module's stored version is newer than this code knows (or a module is
 *   stored that this code does not know at all), start-up stops with `SchemaTooNew`, naming the module
 *   and both versions, and nothing in the file has been changed;
 * - otherwise every pending migration of every module runs in ONE transaction, in module order and
 *   version order, and the versions are written in the same transaction: all or nothing. A failing
 *   step rolls back every step before it, so a database is never half migrated.
 *
 * A repository opened on its own (tests, the admin CLI) calls `migrateDatabase` with just its module's
 * list; on a database the controller already migrated that is one read and nothing pending.
 *
 * `planMigrations` is pure (stored versions in, steps out) so that another engine's runner (the
 * PostgreSQL one) decides exactly as this one does.
 */
import type { Db } from '../store/db.ts';

export interface Migration {
  /** Versions of one module increase strictly along its list; they need not start at 1. */
  version: number;
  /** One line for the log: what this step changes. */
  description: string;
  /** SQL statements, or a function, run inside the migration transaction. */
  up: string | ((db: Db) => void);
}

export interface ModuleSchema {
  /** The name in `schema_versions` (stable: renaming it would make the stored version unknown). */
  module: string;
  migrations: readonly Migration[];
}

export interface PlannedStep<M extends { version: number } = Migration> {
  module: string;
  migration: M;
}

export interface NewerModule {
  module: string;
  stored: number;
  /** 0 when this code does not know the module at all */
  known: number;
}

export interface MigrationPlan<M extends { version: number } = Migration> {
  pending: PlannedStep<M>[];
  newer: NewerModule[];
}

/** What planning needs of a module's list, whatever the engine (the PostgreSQL lists hold SQL only). */
export interface SchemaList<M extends { version: number } = { version: number }> {
  module: string;
  migrations: readonly M[];
}

/** The database was written by a newer ParkOps: nothing was changed. */
export class SchemaTooNew extends Error {
  constructor(
    readonly modules: NewerModule[],
    where: string,
  ) {
    super(
      `this database was written by a newer ParkOps (${where}): ${modules
        .map((m) => (m.known === 0 ? `module "${m.module}" is at schema version ${m.stored}, which this ParkOps does not know at all` : `module "${m.module}" is at schema version ${m.stored}, this ParkOps knows up to version ${m.known}`))
        .join('; ')}. Nothing was changed: run the newer release, or restore a backup made by this one.`,
    );
    this.name = 'SchemaTooNew';
  }
}

/** The newest version a module's list knows (0 for an empty list). */
export function knownVersion(schema: SchemaList): number {
  return schema.migrations.at(-1)?.version ?? 0;
}

function checkDeclarations(schemas: readonly SchemaList[]): void {
  const seen = new Set<string>();
  for (const s of schemas) {
    if (seen.has(s.module)) throw new Error(`schema of module "${s.module}" is declared twice`);
    seen.add(s.module);
    let last = 0;
    for (const m of s.migrations) {
      if (!Number.isInteger(m.version) || m.version <= last) throw new Error(`migrations of module "${s.module}" must have increasing whole versions (${m.version} after ${last})`);
      last = m.version;
    }
  }
}

/**
 * What must run, given the stored versions. `complete`: `schemas` is every module this code has, so a
 * stored module missing from it was made by a newer release.
 */
export function planMigrations<M extends { version: number } = Migration>(stored: ReadonlyMap<string, number>, schemas: readonly SchemaList<M>[], opts: { complete: boolean }): MigrationPlan<M> {
  checkDeclarations(schemas);
  const newer: NewerModule[] = [];
  const pending: PlannedStep<M>[] = [];
  const declared = new Set(schemas.map((s) => s.module));
  for (const s of schemas) {
    const at = stored.get(s.module) ?? 0;
    const known = knownVersion(s);
    if (at > known) newer.push({ module: s.module, stored: at, known });
    else for (const m of s.migrations) if (m.version > at) pending.push({ module: s.module, migration: m });
  }
  if (opts.complete) {
    for (const [module, version] of stored) if (!declared.has(module) && version > 0) newer.push({ module, stored: version, known: 0 });
  }
  return { pending: newer.length > 0 ? [] : pending, newer };
}

function storedVersions(db: Db): Map<string, number> {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'").get() !== undefined;
  if (!exists) return new Map();
  const rows = db.prepare('SELECT module, version FROM schema_versions').all() as Array<{ module: string; version: number }>;
  return new Map(rows.map((r) => [r.module, r.version]));
}

export interface MigrationLog {
  info(obj: object, msg: string): void;
}

/**
 * Brings the listed modules' tables to the versions this code knows. Throws `SchemaTooNew` (changing
 * nothing) for a module stored at a newer version; a failing step throws with the module and version
 * named, after rolling everything back. Returns the steps it ran.
 */
export function migrateDatabase(db: Db, schemas: readonly ModuleSchema[], opts: { complete?: boolean; log?: MigrationLog; where?: string } = {}): PlannedStep[] {
  const plan = planMigrations(storedVersions(db), schemas, { complete: opts.complete ?? false });
  if (plan.newer.length > 0) throw new SchemaTooNew(plan.newer, opts.where ?? db.name);
  if (plan.pending.length === 0) return [];
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
    const setVersion = db.prepare('INSERT INTO schema_versions (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version');
    for (const step of plan.pending) {
      try {
        if (typeof step.migration.up === 'string') db.exec(step.migration.up);
        else step.migration.up(db);
      } catch (err) {
        throw new Error(`migration ${step.module} ${step.migration.version} (${step.migration.description}) failed: ${(err as Error).message}; nothing was changed`, { cause: err });
      }
      setVersion.run(step.module, step.migration.version);
    }
  })();
  opts.log?.info({ steps: plan.pending.map((s) => `${s.module} ${s.migration.version}: ${s.migration.description}`) }, 'database schema migrated');
  return plan.pending;
}
