/**
 * The repository behaviour suites on PostgreSQL, and fencing: a write by a process that lost the
 * leader lease is refused and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAlertRepository, PgIncidentRepository, PG_ALERTS_SCHEMA } from '../../ingest/src/alerts/pg-repositories.ts';
import { PgLiveRepository, PG_LIVE_SCHEMA } from '../../ingest/src/live-state-pg.ts';
import { PgDevicesRepository, PG_DEVICES_SCHEMA } from '../../ingest/src/devices/pg-repository.ts';
import { PgAuthRepository, PG_AUTH_SCHEMA } from '../../ingest/src/auth/pg-repository.ts';
import { authRepositorySuite } from './auth-repository.suite.ts';
import { FencedOut, PgDatabase, PgTransactions } from '../../ingest/src/db/pg.ts';
import { LeaderElection, PG_LEADER_SCHEMA } from '../../ingest/src/ha/leader.ts';
import { startPostgres, type PostgresServer } from '../harness/postgres.ts';
import { freshDatabase, type FreshDb } from '../support/pg.ts';
import { alert, alertRepositorySuite, devicesRepositorySuite, incidentRepositorySuite, liveRepositorySuite, type RepoFactory, type RepoUnderTest } from './repositories.suite.ts';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

const SCHEMAS = [PG_LEADER_SCHEMA, PG_LIVE_SCHEMA, PG_ALERTS_SCHEMA, PG_DEVICES_SCHEMA, PG_AUTH_SCHEMA];

/** A factory of `make` on a fresh database per test; `reopen` ends the pool and opens a new one on the same database. */
function pg<R>(make: (db: PgDatabase) => R): RepoFactory<R> {
  const on = (fresh: FreshDb): RepoUnderTest<R> => ({
    repo: make(fresh.db),
    transactions: new PgTransactions(fresh.db),
    close: () => fresh.close(),
    reopen: async () => {
      await fresh.close();
      return on(fresh.reopen());
    },
  });
  return async () => on(await freshDatabase(server, SCHEMAS));
}

alertRepositorySuite('postgresql', pg((db) => new PgAlertRepository(db)));
incidentRepositorySuite('postgresql', pg((db) => ({ incidents: new PgIncidentRepository(db), alerts: new PgAlertRepository(db) })));
liveRepositorySuite('postgresql', pg((db) => new PgLiveRepository(db)));
devicesRepositorySuite('postgresql', pg((db) => new PgDevicesRepository(db)));
authRepositorySuite('postgresql', pg((db) => new PgAuthRepository(db)));

describe('accounts shared by several processes on PostgreSQL', () => {
  it('two admins demoting each other at the same moment (two pools, as two processes) leave one admin', async () => {
    const fresh = await freshDatabase(server, SCHEMAS);
    const other = fresh.reopen();
    const [a, b] = [new PgAuthRepository(fresh.db), new PgAuthRepository(other.db)];
    const at = '2026-11-25T08:00:00.000Z';
    try {
      for (const username of ['ann', 'bob']) expect(await a.insertUser({ username, role: 'admin', passwordHash: `$scrypt$${username}`, mustChangePassword: false, at })).toBe(true);
      for (let round = 0; round < 5; round++) {
        const outcomes = await Promise.all([a.updateUser('bob', { role: 'viewer' }, at), b.updateUser('ann', { role: 'viewer' }, at)]);
        expect(outcomes.sort()).toEqual(['last_admin', 'ok']);
        expect((await b.listUsers()).filter((u) => u.role === 'admin')).toHaveLength(1);
        // Both admins again for the next round.
        for (const username of ['ann', 'bob']) expect(await a.updateUser(username, { role: 'admin' }, at)).toBe('ok');
      }
    } finally {
      await other.close();
      await fresh.close();
    }
  });
});

const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, child: () => silentLog } as unknown as import('../../ingest/src/log.ts').Logger;

describe('fencing on PostgreSQL', () => {
  it('lets only the lease holder write; a deposed leader is refused and changes nothing', async () => {
    const fresh = await freshDatabase(server, SCHEMAS);
    const events: string[] = [];
    const times = { leaseMs: 1500, renewMs: 300, marginMs: 500 };
    const a = new LeaderElection({ db: fresh.db, log: silentLog, times, holder: 'A', onElected: async (e) => void events.push(`A elected ${e}`), onLost: (why) => void events.push(`A lost: ${why}`) });
    const b = new LeaderElection({ db: fresh.db, log: silentLog, times, holder: 'B', onElected: async (e) => void events.push(`B elected ${e}`), onLost: () => void events.push('B lost') });
    const repoA = new PgAlertRepository(new PgDatabase(fresh.db.pool, a));
    const repoB = new PgAlertRepository(new PgDatabase(fresh.db.pool, b));
    try {
      await a.start();
      await b.start();
      expect([a.role, b.role]).toEqual(['leader', 'standby']);
      await repoA.save(alert('by-a'));
      await expect(repoB.save(alert('by-b', { rule: 'other' }))).rejects.toBeInstanceOf(FencedOut);
      // A stops renewing (as if frozen or cut off) without giving the lease back; B takes over once it ran out.
      await a.stop().catch(() => undefined);
      // stop() hands the lease on; to model a frozen leader, put the row back as A's with A's epoch.
      await fresh.db.query("UPDATE leader_lease SET holder = 'A', expires_at = now() + interval '1 second'");
      const deposed = new PgAlertRepository(new PgDatabase(fresh.db.pool, { current: () => ({ holder: 'A', epoch: 1 }) }));
      await deposed.save(alert('by-a-2', { rule: 'r2' }));
      while (b.role !== 'leader') await new Promise((r) => setTimeout(r, 100));
      expect(b.currentEpoch).toBe(2);
      await expect(deposed.save(alert('by-a-3', { rule: 'r3' }))).rejects.toBeInstanceOf(FencedOut);
      await repoB.save(alert('by-b', { rule: 'other' }));
      expect((await repoB.active()).map((x) => x.id).sort()).toEqual(['by-a', 'by-a-2', 'by-b']);
      expect(events).toContain('A elected 1');
      expect(events).toContain('B elected 2');
    } finally {
      await a.stop();
      await b.stop();
      await fresh.close();
    }
  });

  it('a leader that cannot renew stops acting before its lease runs out', async () => {
    const fresh = await freshDatabase(server, SCHEMAS);
    const times = { leaseMs: 2000, renewMs: 300, marginMs: 700 };
    let lostAt = 0;
    const a = new LeaderElection({ db: fresh.db, log: silentLog, times, holder: 'A', onElected: async () => undefined, onLost: () => void (lostAt = Date.now()) });
    try {
      await a.start();
      expect(a.role).toBe('leader');
      const expiresAt = async () => Number((await fresh.db.query<{ e: number }>('SELECT (extract(epoch FROM expires_at) * 1000)::float8 AS e FROM leader_lease')).rows[0]!.e);
      // The lease as last renewed: no renewal can succeed once the table is locked away below, so it
      // ends here (the database and this test share the machine's clock).
      const expiresBefore = await expiresAt();
      // Cut A off: every renewal now waits on a lock held by a transaction that does not end.
      const blocker = await fresh.db.pool.connect();
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE leader_lease IN ACCESS EXCLUSIVE MODE');
      while (lostAt === 0) await new Promise((r) => setTimeout(r, 50));
      await blocker.query('ROLLBACK');
      blocker.release();
      expect(a.role).toBe('standby');
      expect(a.current()).toBeNull();
      // It gave up while its lease was still running.
      expect(lostAt).toBeLessThan(expiresBefore);
    } finally {
      await a.stop();
      await fresh.close();
    }
  });
});
