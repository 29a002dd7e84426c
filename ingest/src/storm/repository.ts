/**
 * Storage of the storm module: the readiness checklist's manual ticks (who ticked what, when, with
 * which note; kept as a log, cleared, not deleted, when the storm they were for ends) and each item's
 * last judged state (so a restart neither announces an unchanged state again nor loses since when an
 * item has been flagged).
 *
 * The interface speaks ticks and states (plain data, epoch ms), not SQL, and every method is async so a
 * PostgreSQL implementation can follow; the SQLite one owns `storm_checklist_ticks` and
 * `storm_checklist_state` and runs each statement before it returns.
 */
import type { ChecklistState } from '@parkops/contract/api.ts';
import type { Db } from '../store/db.ts';
import { migrateDatabase, type ModuleSchema } from '../db/migrations.ts';

export interface ChecklistTick {
  room: string;
  item: string;
  /** ticked (true) or unticked (false) */
  done: boolean;
  /** the username, or `token:<name>` */
  by: string;
  /** epoch ms */
  at: number;
  note: string | null;
}

export interface StoredItemState {
  room: string;
  item: string;
  state: ChecklistState;
  /** epoch ms: since when the item has been in this state */
  since: number;
}

export interface StormRepository {
  migrate(): Promise<void>;
  /** Appends a tick (or an untick) to the log. */
  addTick(t: ChecklistTick): Promise<void>;
  /** The newest tick of each item of the room that no storm end has cleared yet. */
  currentTicks(room: string): Promise<ChecklistTick[]>;
  /** Every tick of the room, oldest first, cleared ones included (the record of who did what). */
  tickLog(room: string): Promise<(ChecklistTick & { clearedAt: number | null })[]>;
  /** A storm mode ended: the room's ticks stop counting (they were for that storm). Returns how many. */
  clearTicks(room: string, at: number): Promise<number>;
  itemStates(): Promise<StoredItemState[]>;
  saveItemState(s: StoredItemState): Promise<void>;
}

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS storm_checklist_ticks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  room TEXT NOT NULL,
  item TEXT NOT NULL,
  done INTEGER NOT NULL,
  by_actor TEXT NOT NULL,
  at INTEGER NOT NULL,          -- epoch ms
  note TEXT,
  cleared_at INTEGER            -- epoch ms: the storm mode it was for ended
);
CREATE INDEX IF NOT EXISTS storm_checklist_ticks_room ON storm_checklist_ticks (room, cleared_at, item, seq);
CREATE TABLE IF NOT EXISTS storm_checklist_state (
  room TEXT NOT NULL,
  item TEXT NOT NULL,
  state TEXT NOT NULL,
  since INTEGER NOT NULL,       -- epoch ms
  PRIMARY KEY (room, item)
);
`;

/** The storm module's migrations (db/migrations.ts). */
export const STORM_SCHEMA: ModuleSchema = { module: 'storm', migrations: [{ version: 1, description: 'storm checklist ticks and item states', up: SCHEMA_V1 }] };

interface TickRow {
  seq: number;
  room: string;
  item: string;
  done: number;
  by_actor: string;
  at: number;
  note: string | null;
  cleared_at: number | null;
}

const tickOf = (r: TickRow): ChecklistTick => ({ room: r.room, item: r.item, done: r.done === 1, by: r.by_actor, at: r.at, note: r.note });

export class SqliteStormRepository implements StormRepository {
  constructor(private readonly db: Db) {}

  async migrate(): Promise<void> {
    migrateDatabase(this.db, [STORM_SCHEMA]);
  }

  async addTick(t: ChecklistTick): Promise<void> {
    this.db.prepare('INSERT INTO storm_checklist_ticks (room, item, done, by_actor, at, note) VALUES (?, ?, ?, ?, ?, ?)').run(t.room, t.item, t.done ? 1 : 0, t.by, t.at, t.note);
  }

  async currentTicks(room: string): Promise<ChecklistTick[]> {
    const rows = this.db
      .prepare(
        `SELECT t.* FROM storm_checklist_ticks t
         WHERE t.room = ? AND t.cleared_at IS NULL
           AND t.seq = (SELECT max(u.seq) FROM storm_checklist_ticks u WHERE u.room = t.room AND u.item = t.item AND u.cleared_at IS NULL)
         ORDER BY t.item`,
      )
      .all(room) as TickRow[];
    return rows.map(tickOf);
  }

  async tickLog(room: string): Promise<(ChecklistTick & { clearedAt: number | null })[]> {
    const rows = this.db.prepare('SELECT * FROM storm_checklist_ticks WHERE room = ? ORDER BY seq').all(room) as TickRow[];
    return rows.map((r) => ({ ...tickOf(r), clearedAt: r.cleared_at }));
  }

  async clearTicks(room: string, at: number): Promise<number> {
    return this.db.prepare('UPDATE storm_checklist_ticks SET cleared_at = ? WHERE room = ? AND cleared_at IS NULL').run(at, room).changes;
  }

  async itemStates(): Promise<StoredItemState[]> {
    return this.db.prepare('SELECT room, item, state, since FROM storm_checklist_state ORDER BY room, item').all() as StoredItemState[];
  }

  async saveItemState(s: StoredItemState): Promise<void> {
    this.db
      .prepare('INSERT INTO storm_checklist_state (room, item, state, since) VALUES (?, ?, ?, ?) ON CONFLICT(room, item) DO UPDATE SET state = excluded.state, since = excluded.since')
      .run(s.room, s.item, s.state, s.since);
  }
}
