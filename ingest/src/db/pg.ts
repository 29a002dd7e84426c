/**
 * PostgreSQL underneath the repositories (PARKOPS_DATABASE_URL): the connection pool, the transaction
 * runner for the ingest batch, fenced writes for the leader, and the migration runner.
 *
 * Fencing. Several ParkOps processes share one database and one of them is the leader (ha/leader.ts,
 * the `leader_lease` row). Every leader-only write runs in a transaction that first takes
 * `SELECT … FROM leader_lease … FOR SHARE` and checks that the row still names this process, with the
 * epoch it won, and that the lease has not run out on the database's clock. The share lock holds off a
 * takeover (an UPDATE of that row) until this transaction ended, so a write either commits while its
 * writer still held the lease, or fails with `FencedOut` and changes nothing: a deposed leader cannot
 * write alerts, timers or readings.
 */
import pg from 'pg';
import { planMigrations, SchemaTooNew, type MigrationLog, type PlannedStep, type SchemaList } from './migrations.ts';
import { FencedOut, type TransactionRunner, type Tx, type Unit } from './tx.ts';

export { FencedOut };

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

/** Who may write: the lease holder and the epoch it won; null while this process is not the leader. */
export interface Fence {
  current(): { holder: string; epoch: number } | null;
}

/** A fence that lets every write through: a single process, tests of one repository. */
export const NO_FENCE: Fence = { current: () => ({ holder: '', epoch: 0 }) };

export function openPool(url: string, opts: { applicationName?: string; max?: number } = {}): PgPool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 8,
    application_name: opts.applicationName ?? 'parkops',
    // A server that stopped answering (cut off, restarting) must fail a query, not hang it: the
    // lease is renewed through this pool and a leader has to notice within its lease.
    connectionTimeoutMillis: 3000,
    query_timeout: 5000,
    keepAlive: true,
    // Server side: a lock wait or a statement that hangs fails (and is retried) instead of stalling
    // ingest, and a transaction left open by a process that died mid-way is ended by the server so its
    // locks cannot hold up the next leader.
    options: '-c lock_timeout=4000 -c statement_timeout=8000 -c idle_in_transaction_session_timeout=5000',
  });
  // An idle client whose server went away (restart, pg_terminate_backend) emits here; the pool drops
  // it and makes a new one on the next query. Without a listener node would treat it as fatal.
  pool.on('error', () => undefined);
  // BIGINT (epoch ms) as a JS number: every value ParkOps stores fits in 2^53.
  return pool;
}
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

/** The client of a PostgreSQL `Tx` (for PostgreSQL participants). */
export function pgOf(tx: Tx): PgClient {
  const client = (tx as unknown as { pg?: PgClient }).pg;
  if (!client) throw new Error('a PostgreSQL participant was called with a transaction of another engine');
  return client;
}

/**
 * The fence check, inside an open transaction. `expires_at > now()`: a leader whose lease ran out is
 * fenced even before anyone took over.
 */
async function checkFence(client: PgClient, fence: Fence, what: string): Promise<void> {
  const me = fence.current();
  if (me === null) throw new FencedOut(what);
  if (me.holder === '' && me.epoch === 0) return;
  const r = await client.query('SELECT 1 FROM leader_lease WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at > now() FOR SHARE', [me.holder, me.epoch]);
  if (r.rowCount !== 1) throw new FencedOut(what);
}

/** One database for the repositories: reads on the pool, writes in (fenced) transactions. */
export class PgDatabase {
  constructor(
    readonly pool: PgPool,
    readonly fence: Fence = NO_FENCE,
  ) {}

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params);
  }

  /** Runs `fn` in one transaction on one client; with `fenced`, only while this process holds the lease. */
  async transaction<T>(what: string, fn: (c: PgClient) => Promise<T>, opts: { fenced?: boolean } = { fenced: true }): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A checked-out client whose server connection dies between two queries emits 'error' (the pool
    // listens only on idle ones); unheard it would end the process. The failed query reports it.
    const onError = (): void => void (broken = true);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      try {
        if (opts.fenced !== false) await checkFence(client, this.fence, what);
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw err;
      }
    } catch (err) {
      // A connection error leaves the client unusable: do not return it to the pool.
      if (!(err instanceof FencedOut) && isConnectionError(err)) broken = true;
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  if (typeof code === 'string' && /^(08|57P)/.test(code)) return true;
  return /terminat|Connection|ECONNRE|timeout/i.test((err as Error).message ?? '');
}

/**
 * The PostgreSQL runner of the ingest batch (db/tx.ts): the same unit of work as SQLite, driven
 * asynchronously on one client between BEGIN and COMMIT, each yielded participant call awaited. The
 * caller acknowledges the MQTT messages only after this resolved, i.e. after COMMIT.
 */
export class PgTransactions implements TransactionRunner {
  readonly synchronous = false;

  constructor(private readonly db: PgDatabase) {}

  run<T>(unit: Unit<T>): Promise<T> {
    return this.db.transaction('the ingest batch', async (client) => {
      const tx = { pg: client } as unknown as Tx;
      const gen = unit(tx);
      let next = gen.next();
      while (!next.done) next = gen.next(await next.value);
      return next.value;
    });
  }
}

/** One step of a PostgreSQL module's schema: SQL only. */
export interface PgMigration {
  version: number;
  description: string;
  up: string;
}
export type PgModuleSchema = SchemaList<PgMigration>;

/** Any number would do; it only has to be the same for every ParkOps process on the database. */
const MIGRATION_LOCK = 7_310_020;

/**
 * The PostgreSQL twin of `migrateDatabase` (db/migrations.ts), deciding with the same `planMigrations`:
 * a module stored at a newer version stops start-up with `SchemaTooNew` and nothing changed; otherwise
 * every pending step of every module runs in ONE transaction. An advisory lock makes several processes
 * starting at once migrate one after another (the second finds nothing pending).
 */
export async function migratePg(pool: PgPool, schemas: readonly PgModuleSchema[], opts: { complete?: boolean; log?: MigrationLog; where?: string } = {}): Promise<PlannedStep<PgMigration>[]> {
  const client = await pool.connect();
  const onError = (): void => undefined;
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const exists = (await client.query("SELECT to_regclass('schema_versions') IS NOT NULL AS e")).rows[0] as { e: boolean };
      const stored = new Map<string, number>();
      if (exists.e) for (const r of (await client.query('SELECT module, version FROM schema_versions')).rows as { module: string; version: number }[]) stored.set(r.module, r.version);
      const plan = planMigrations(stored, schemas, { complete: opts.complete ?? false });
      if (plan.newer.length > 0) throw new SchemaTooNew(plan.newer, opts.where ?? 'PostgreSQL');
      if (plan.pending.length > 0) {
        await client.query('CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
        for (const step of plan.pending) {
          try {
            await client.query(step.migration.up);
          } catch (err) {
            throw new Error(`migration ${step.module} ${step.migration.version} (${step.migration.description}) failed: ${(err as Error).message}; nothing was changed`, { cause: err });
          }
          await client.query('INSERT INTO schema_versions (module, version) VALUES ($1, $2) ON CONFLICT (module) DO UPDATE SET version = excluded.version', [step.module, step.migration.version]);
        }
      }
      await client.query('COMMIT');
      if (plan.pending.length > 0) opts.log?.info({ steps: plan.pending.map((s) => `${s.module} ${s.migration.version}: ${s.migration.description}`) }, 'database schema migrated (PostgreSQL)');
      return plan.pending;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.removeListener('error', onError);
    client.release();
  }
}

/** SQL written for both engines with `?` placeholders, numbered for PostgreSQL (`$1, $2, …`). */
export const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** PostgreSQL error code of a failed query, if it has one. */
export function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
