/**
 * Storage of the warnings module: the CAP messages received (parsed, and as sent), what they mean
 * for the site, which Update or Cancel superseded which, and each room's storm-mode state (so a
 * restart neither announces a storm mode again nor forgets to end one).
 *
 * The interface speaks warnings, not SQL, so a PostgreSQL implementation can follow; the SQLite one
 * owns the tables `warnings`, `warning_references` and `warning_storm_state`.
 */
import type { Db } from '../store/db.ts';
import { migrateDatabase, type ModuleSchema } from '../db/migrations.ts';
import type { CapAlert } from './cap.ts';
import type { Judgement } from './relevance.ts';

export type WarningVia = 'http' | 'mqtt' | 'feed';

export interface StoredWarning {
  id: string;
  alert: CapAlert;
  /** the document as received */
  xml: string;
  /** epoch ms */
  receivedAt: number;
  via: WarningVia;
  /** who or what delivered it: `token:<name>`, a topic, a feed URL */
  origin: string;
  judgement: Judgement;
  supersededBy: string | null;
  supersededAt: number | null;
}

export interface StormState {
  active: boolean;
  /** epoch ms of the last change */
  since: number;
  /** the warning that started (or last kept) storm mode */
  warningId: string | null;
}

export interface WarningRepository {
  /**
   * Stores a warning and marks `supersedes` as superseded by it, in one step. Returns false, changing
   * nothing, when a warning with the same sender and identifier is already stored (CAP identifiers
   * are unique per sender, CAP 1.2 section 3.2.1).
   */
  insert(w: StoredWarning, supersedes: readonly string[]): Promise<boolean>;
  get(id: string): Promise<StoredWarning | undefined>;
  byKey(sender: string, identifier: string): Promise<StoredWarning | undefined>;
  /** Stored messages whose references name this sender and identifier, oldest first. */
  referencing(sender: string, identifier: string): Promise<StoredWarning[]>;
  /** Newest first (by sent, then receipt); `inForceAt` keeps only those in force then. */
  list(q: { limit: number; inForceAt?: number | undefined }): Promise<StoredWarning[]>;
  /** Not superseded, and with a window that ends after `now`: those that are or will be in force. */
  current(now: number): Promise<StoredWarning[]>;
  /** Received since `since` (epoch ms), oldest first: re-judged at start when the site file changed. */
  receivedSince(since: number): Promise<StoredWarning[]>;
  updateJudgement(id: string, judgement: Judgement): Promise<void>;
  stormStates(): Promise<Map<string, StormState>>;
  saveStormState(roomId: string, state: StormState): Promise<void>;
}

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS warnings (
  id TEXT PRIMARY KEY,
  sender TEXT NOT NULL,
  identifier TEXT NOT NULL,
  sent INTEGER NOT NULL,           -- epoch ms
  status TEXT NOT NULL,
  msg_type TEXT NOT NULL,
  received_at INTEGER NOT NULL,    -- epoch ms
  via TEXT NOT NULL,
  origin TEXT NOT NULL,
  relevant INTEGER NOT NULL,
  storm INTEGER NOT NULL,
  in_force_from INTEGER,           -- epoch ms; NULL: never in force
  in_force_until INTEGER,
  superseded_by TEXT,
  superseded_at INTEGER,
  alert TEXT NOT NULL,             -- the parsed CAP alert, JSON
  judgement TEXT NOT NULL,         -- JSON
  xml TEXT NOT NULL,
  UNIQUE (sender, identifier)
);
CREATE INDEX IF NOT EXISTS warnings_newest ON warnings (sent DESC, received_at DESC);
CREATE INDEX IF NOT EXISTS warnings_until ON warnings (in_force_until);
CREATE INDEX IF NOT EXISTS warnings_received ON warnings (received_at);
CREATE TABLE IF NOT EXISTS warning_references (
  warning_id TEXT NOT NULL REFERENCES warnings(id) ON DELETE CASCADE,
  sender TEXT NOT NULL,
  identifier TEXT NOT NULL,
  PRIMARY KEY (warning_id, sender, identifier)
);
CREATE INDEX IF NOT EXISTS warning_references_target ON warning_references (sender, identifier);
CREATE TABLE IF NOT EXISTS warning_storm_state (
  room_id TEXT PRIMARY KEY,
  active INTEGER NOT NULL,
  since INTEGER NOT NULL,
  warning_id TEXT
);
`;

/** The warnings module's migrations (db/migrations.ts). */
export const WARNINGS_SCHEMA: ModuleSchema = { module: 'warnings', migrations: [{ version: 1, description: 'CAP warnings, their references and storm-mode state', up: SCHEMA_V1 }] };

interface Row {
  id: string;
  received_at: number;
  via: WarningVia;
  origin: string;
  superseded_by: string | null;
  superseded_at: number | null;
  alert: string;
  judgement: string;
  xml: string;
}

const fromRow = (r: Row): StoredWarning => ({
  id: r.id,
  alert: JSON.parse(r.alert) as CapAlert,
  xml: r.xml,
  receivedAt: r.received_at,
  via: r.via,
  origin: r.origin,
  judgement: JSON.parse(r.judgement) as Judgement,
  supersededBy: r.superseded_by,
  supersededAt: r.superseded_at,
});

export class SqliteWarningRepository implements WarningRepository {
  constructor(private readonly db: Db) {
    migrateDatabase(db, [WARNINGS_SCHEMA]);
  }

  async insert(w: StoredWarning, supersedes: readonly string[]): Promise<boolean> {
    return this.db.transaction((): boolean => {
      const a = w.alert;
      const j = w.judgement;
      const r = this.db
        .prepare(
          `INSERT INTO warnings (id, sender, identifier, sent, status, msg_type, received_at, via, origin, relevant, storm, in_force_from, in_force_until,
             superseded_by, superseded_at, alert, judgement, xml)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        )
        .run(w.id, a.sender, a.identifier, a.sent, a.status, a.msgType, w.receivedAt, w.via, w.origin, j.relevant ? 1 : 0, j.storm ? 1 : 0, j.from, j.until,
          w.supersededBy, w.supersededAt, JSON.stringify(a), JSON.stringify(j), w.xml);
      if (r.changes === 0) return false;
      const ref = this.db.prepare('INSERT INTO warning_references (warning_id, sender, identifier) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
      for (const x of a.references) ref.run(w.id, x.sender, x.identifier);
      const mark = this.db.prepare('UPDATE warnings SET superseded_by = ?, superseded_at = ? WHERE id = ? AND superseded_by IS NULL');
      for (const id of supersedes) mark.run(w.id, w.receivedAt, id);
      return true;
    })();
  }

  async get(id: string): Promise<StoredWarning | undefined> {
    const row = this.db.prepare('SELECT * FROM warnings WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async byKey(sender: string, identifier: string): Promise<StoredWarning | undefined> {
    const row = this.db.prepare('SELECT * FROM warnings WHERE sender = ? AND identifier = ?').get(sender, identifier) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async referencing(sender: string, identifier: string): Promise<StoredWarning[]> {
    const rows = this.db
      .prepare('SELECT w.* FROM warning_references r JOIN warnings w ON w.id = r.warning_id WHERE r.sender = ? AND r.identifier = ? ORDER BY w.received_at, w.id')
      .all(sender, identifier) as Row[];
    return rows.map(fromRow);
  }

  async list(q: { limit: number; inForceAt?: number | undefined }): Promise<StoredWarning[]> {
    const rows =
      q.inForceAt === undefined
        ? (this.db.prepare('SELECT * FROM warnings ORDER BY sent DESC, received_at DESC LIMIT ?').all(q.limit) as Row[])
        : (this.db
            .prepare('SELECT * FROM warnings WHERE superseded_by IS NULL AND in_force_from <= ? AND in_force_until > ? ORDER BY sent DESC, received_at DESC LIMIT ?')
            .all(q.inForceAt, q.inForceAt, q.limit) as Row[]);
    return rows.map(fromRow);
  }

  async current(now: number): Promise<StoredWarning[]> {
    const rows = this.db.prepare('SELECT * FROM warnings WHERE superseded_by IS NULL AND in_force_until > ? ORDER BY received_at').all(now) as Row[];
    return rows.map(fromRow);
  }

  async receivedSince(since: number): Promise<StoredWarning[]> {
    return (this.db.prepare('SELECT * FROM warnings WHERE received_at >= ? ORDER BY received_at').all(since) as Row[]).map(fromRow);
  }

  async updateJudgement(id: string, j: Judgement): Promise<void> {
    this.db
      .prepare('UPDATE warnings SET relevant = ?, storm = ?, in_force_from = ?, in_force_until = ?, judgement = ? WHERE id = ?')
      .run(j.relevant ? 1 : 0, j.storm ? 1 : 0, j.from, j.until, JSON.stringify(j), id);
  }

  async stormStates(): Promise<Map<string, StormState>> {
    const rows = this.db.prepare('SELECT room_id, active, since, warning_id FROM warning_storm_state').all() as Array<{ room_id: string; active: number; since: number; warning_id: string | null }>;
    return new Map(rows.map((r) => [r.room_id, { active: r.active === 1, since: r.since, warningId: r.warning_id }]));
  }

  async saveStormState(roomId: string, s: StormState): Promise<void> {
    this.db
      .prepare('INSERT INTO warning_storm_state (room_id, active, since, warning_id) VALUES (?, ?, ?, ?) ON CONFLICT(room_id) DO UPDATE SET active = excluded.active, since = excluded.since, warning_id = excluded.warning_id')
      .run(roomId, s.active ? 1 : 0, s.since, s.warningId);
  }
}
