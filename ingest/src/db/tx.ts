/**
 * One transaction over several owners' tables (the ingest batch: readings, live state, rollup marks,
 * uplink counters and telemetry, the InfluxDB outbox). Ownership stays with the owners: each one
 * contributes a participant method that writes its own rows given the opaque `Tx` handle; the unit of
 * work (which participant writes what, in which order) is written once, as a generator that yields
 * each participant call, and a runner drives it:
 *
 * - SQLite (`SqliteTransactions`): synchronously between BEGIN and COMMIT. Nothing awaits inside the
 *   transaction, so no other module's statement on the same connection can slip into it, and a
 *   rollback never drops someone else's write. A participant that answered with a Promise here is a
 *   bug, and the transaction is rolled back with an error saying so.
 * - PostgreSQL (later): the same unit driven asynchronously on one client, awaiting each yielded call.
 */
import type { Db } from '../store/db.ts';

declare const txBrand: unique symbol;
/** An open transaction, opaque to participants (SQLite: the connection that runs it; PostgreSQL: its client). */
export interface Tx {
  readonly [txBrand]: true;
}

/** The write was refused because this process is not (or no longer) the leader. Nothing was changed. */
export class FencedOut extends Error {
  constructor(what: string) {
    super(`not the leader: ${what} was not written (another ParkOps process holds the lease)`);
    this.name = 'FencedOut';
  }
}

export type Awaitable<T> = T | Promise<T>;

/**
 * A unit of work: yields each participant call's result (a value, or a Promise on an asynchronous
 * engine) and receives it back resolved. `(yield p.write(tx, x)) as boolean`.
 */
export type Unit<T> = (tx: Tx) => Generator<unknown, T, unknown>;

export interface TransactionRunner {
  /** Runs `unit` in one transaction; commits when it returns, rolls back when it throws. */
  run<T>(unit: Unit<T>): Awaitable<T>;
  /** True when results come back synchronously (SQLite), so callers can stay synchronous too. */
  readonly synchronous: boolean;
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** The SQLite runner: the whole unit between BEGIN and COMMIT, synchronously. */
export class SqliteTransactions implements TransactionRunner {
  readonly synchronous = true;
  private readonly tx: Tx;

  constructor(private readonly db: Db) {
    this.tx = { db } as unknown as Tx;
  }

  run<T>(unit: Unit<T>): T {
    return this.db.transaction((): T => {
      const gen = unit(this.tx);
      let next = gen.next();
      while (!next.done) {
        if (isPromise(next.value)) {
          // Swallow the stray promise's own outcome: the transaction is already failing.
          next.value.then(undefined, () => undefined);
          gen.return(undefined as T);
          throw new Error('a transaction participant answered asynchronously inside a SQLite transaction; SQLite participants must write synchronously');
        }
        next = gen.next(next.value);
      }
      return next.value;
    })();
  }
}

/** The database handle of a SQLite `Tx` (for SQLite participants; asserts the transaction is open). */
export function sqliteOf(tx: Tx): Db {
  const db = (tx as unknown as { db?: Db }).db;
  if (!db || !db.inTransaction) throw new Error('a SQLite participant was called outside its transaction');
  return db;
}
