/**
 * The SQLite transaction runner on a real file: a unit of participant calls commits together or not at
 * all, runs synchronously between BEGIN and COMMIT, and refuses a participant that answers with a
 * Promise (rolling the batch back), since an await inside would let other statements into it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../store/db.ts';
import { SqliteTransactions, sqliteOf, type Tx } from './tx.ts';

let dir: string;
let db: Db;
let runner: SqliteTransactions;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parkops-tx-'));
  db = openDatabase(dir);
  db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  runner = new SqliteTransactions(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const put = (tx: Tx, v: number): number => sqliteOf(tx).prepare('INSERT INTO t (v) VALUES (?)').run(v).changes;
const values = (): number[] => db.prepare('SELECT v FROM t ORDER BY v').pluck().all() as number[];

describe('SqliteTransactions', () => {
  it('runs the unit synchronously in one transaction and hands each result back to it', () => {
    const result = runner.run(function* (tx) {
      const a = (yield put(tx, 1)) as number;
      expect(db.inTransaction).toBe(true);
      const b = (yield put(tx, 2)) as number;
      return a + b;
    });
    expect(result).toBe(2);
    expect(values()).toEqual([1, 2]);
    expect(db.inTransaction).toBe(false);
  });

  it('rolls every write back when the unit throws', () => {
    expect(() =>
      runner.run(function* (tx) {
        yield put(tx, 1);
        yield put(tx, 2);
        throw new Error('later step failed');
      }),
    ).toThrow('later step failed');
    expect(values()).toEqual([]);
  });

  it('refuses a participant that answers asynchronously, and rolls back what the unit wrote', async () => {
    let settled = false;
    const late = new Promise<number>((resolve) => setTimeout(() => resolve(1), 1)).finally(() => (settled = true));
    expect(() =>
      runner.run(function* (tx) {
        yield put(tx, 1);
        yield late;
      }),
    ).toThrow('a transaction participant answered asynchronously inside a SQLite transaction');
    expect(values()).toEqual([]);
    await late;
    expect(settled).toBe(true);
  });

  it('a SQLite participant called outside its transaction is an error', () => {
    let kept: Tx | undefined;
    runner.run(function* (tx) {
      kept = tx;
      yield undefined;
    });
    expect(() => put(kept!, 1)).toThrow('a SQLite participant was called outside its transaction');
  });
});
