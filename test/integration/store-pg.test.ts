/** The store behaviour suite on the PostgreSQL store (a real PostgreSQL 15 started by the harness). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore, PG_TIMESERIES_SCHEMA } from '../../ingest/src/store/pg-store.ts';
import { startPostgres, type PostgresServer } from '../harness/postgres.ts';
import { freshDatabase, type FreshDb } from '../support/pg.ts';
import { site, storeSuite, type StoreUnderTest } from './store-suite.ts';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

async function openOn(fresh: FreshDb): Promise<StoreUnderTest> {
  const store = new PgStore(fresh.db, site);
  await store.start();
  const close = async () => {
    await store.stop();
    await fresh.close();
  };
  return {
    store,
    settle: async () => undefined,
    close,
    reopen: async () => {
      await close();
      return openOn(fresh.reopen());
    },
  };
}

storeSuite('postgresql', async () => openOn(await freshDatabase(server, [PG_TIMESERIES_SCHEMA])));

describe('PostgreSQL store: monthly partitions', () => {
  const level = site.rooms[0]!.levels[0]!;
  const room = site.rooms[0]!;
  const reading = (ts: number, mm: number) => ({ kind: 'level' as const, subject: `flood/${room.id}/levels/${level.id}`, ts, roomId: room.id, sensorId: level.id, mm });

  it('creates the months around now at start, a back-filled month on demand, and drops whole months for retention', async () => {
    const now = Date.UTC(2026, 5, 15);
    const fresh = await freshDatabase(server, [PG_TIMESERIES_SCHEMA]);
    const store = new PgStore(fresh.db, site, () => now);
    try {
      await store.start();
      expect(await store.partitions('level_readings')).toEqual(['level_readings_2026_05', 'level_readings_2026_06', 'level_readings_2026_07', 'level_readings_2026_08']);
      // A back-fill from long before: its month is made, and the reading lands in it.
      expect(await store.write(reading(Date.UTC(2025, 10, 3, 12), 40))).toBe(true);
      expect(await store.write(reading(Date.UTC(2026, 5, 1, 0, 0, 0, 0), 41))).toBe(true);
      expect(await store.write(reading(Date.UTC(2026, 4, 31, 23, 59, 59, 999), 42))).toBe(true);
      expect(await store.partitions('level_readings')).toContain('level_readings_2025_11');
      const rows = await fresh.db.query("SELECT tableoid::regclass::text AS part, mm FROM level_readings ORDER BY ts");
      expect(rows.rows).toEqual([
        { part: 'level_readings_2025_11', mm: 40 },
        { part: 'level_readings_2026_05', mm: 42 },
        { part: 'level_readings_2026_06', mm: 41 },
      ]);
      // Retention: everything before June goes, as whole partitions of every reading table.
      const dropped = await store.dropMonthsBefore(Date.UTC(2026, 5, 1));
      expect(dropped).toContain('level_readings_2025_11');
      expect(dropped).toContain('level_readings_2026_05');
      expect(dropped).toContain('bay_readings_2026_05');
      expect(dropped).not.toContain('level_readings_2026_06');
      expect((await store.readings(reading(0, 0).subject, { from: 0, to: Date.UTC(2030, 0, 1) })).map((r) => (r.kind === 'level' ? r.mm : null))).toEqual([41]);
      // A back-fill into a dropped month makes the month again.
      expect(await store.write(reading(Date.UTC(2026, 4, 2), 43))).toBe(true);
    } finally {
      await store.stop();
      await fresh.close();
    }
  });
});
