/**
 * Live state's tables on PostgreSQL (PARKOPS_DATABASE_URL): `latest` and `recent_gate_scans`, written
 * inside the ingest transaction like the SQLite twin in live-state.ts.
 */
import type { GateScanRow, LatestRow, LiveRepository } from './live-state.ts';
import type { Reading } from '@parkops/contract/index.ts';
import { pgOf, type PgDatabase, type PgModuleSchema } from './db/pg.ts';
import type { Tx } from './db/tx.ts';

export const PG_LIVE_SCHEMA: PgModuleSchema = {
  module: 'live',
  migrations: [
    {
      version: 1,
      description: 'newest state per subject and recent gate scans',
      up: `CREATE TABLE IF NOT EXISTS latest (subject TEXT PRIMARY KEY, kind TEXT NOT NULL, ts BIGINT NOT NULL, changed_at BIGINT NOT NULL, seen_at BIGINT NOT NULL, data JSONB NOT NULL);
CREATE TABLE IF NOT EXISTS recent_gate_scans (id BIGSERIAL PRIMARY KEY, gate_id TEXT NOT NULL, event TEXT NOT NULL, pass TEXT NOT NULL, ts BIGINT NOT NULL);`,
    },
  ],
};

export class PgLiveRepository implements LiveRepository {
  private scanInserts = 0;

  constructor(private readonly db: PgDatabase) {}

  readonly participant = {
    putLatest: async (tx: Tx, rows: readonly LatestRow[]): Promise<void> => {
      if (rows.length === 0) return;
      const client = pgOf(tx);
      // One statement for the batch; a subject twice in one batch would make ON CONFLICT fail, so the
      // last row per subject wins here (rows come in reading order).
      const bySubject = new Map<string, LatestRow>();
      for (const r of rows) bySubject.set(r.subject, r);
      const list = [...bySubject.values()];
      await client.query(
        `INSERT INTO latest (subject, kind, ts, changed_at, seen_at, data)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::jsonb[])
         ON CONFLICT (subject) DO UPDATE SET ts = excluded.ts, changed_at = excluded.changed_at, seen_at = excluded.seen_at, data = excluded.data`,
        [list.map((r) => r.subject), list.map((r) => r.kind), list.map((r) => r.ts), list.map((r) => r.changedAt), list.map((r) => r.seenAt), list.map((r) => JSON.stringify(r.data))],
      );
    },
    addScans: async (tx: Tx, scans: readonly GateScanRow[], keep: number): Promise<void> => {
      const client = pgOf(tx);
      for (const g of scans) {
        await client.query('INSERT INTO recent_gate_scans (gate_id, event, pass, ts) VALUES ($1, $2, $3, $4)', [g.gateId, g.event, g.pass, g.ts]);
        if (++this.scanInserts % keep === 0) await client.query('DELETE FROM recent_gate_scans WHERE id <= (SELECT max(id) FROM recent_gate_scans) - $1', [keep * 4]);
      }
    },
  };

  async load(scans: number): Promise<{ latest: LatestRow[]; scans: GateScanRow[] }> {
    const rows = (await this.db.query('SELECT subject, kind, ts, changed_at, seen_at, data FROM latest')).rows as Array<{ subject: string; kind: Reading['kind']; ts: number; changed_at: number; seen_at: number; data: unknown }>;
    const recent = (await this.db.query('SELECT gate_id, event, pass, ts FROM recent_gate_scans ORDER BY ts DESC, id DESC LIMIT $1', [scans])).rows as Array<{ gate_id: string; event: 'entry' | 'exit'; pass: string; ts: number }>;
    return {
      latest: rows.map((r) => ({ subject: r.subject, kind: r.kind, ts: r.ts, changedAt: r.changed_at, seenAt: r.seen_at, data: r.data })),
      scans: recent.map((r) => ({ gateId: r.gate_id, event: r.event, pass: r.pass, ts: r.ts })),
    };
  }
}
