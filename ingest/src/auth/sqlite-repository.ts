/**
 * The auth module's tables in the embedded SQLite database: auth_users, auth_sessions, auth_tokens,
 * auth_kiosks and audit_log. Each statement runs synchronously inside its async method, so a write is
 * on disk when the method is called (better-sqlite3), and SQLite keeps its latency.
 */
import type { Role, UserRole } from '@parkops/contract/api.ts';
import type { AuditEntry, KioskStart, KioskView, TokenView, UserView } from '@parkops/contract/auth.ts';
import type { Db } from '../store/db.ts';
import { migrateDatabase, type ModuleSchema } from '../db/migrations.ts';
import { auditEntry, auditQuery, kioskView, removesAnAdmin, TABLE_BODIES, userUpdate, SESSION_SELECT, sessionRecord, storedUser, tokenView, userView, type AuditRow, type KioskRow, type SessionRow, type TokenRow, type UserRow } from './rows.ts';
import type { AuditFilter, AuthRepository, GuardedChange, IdleCutoffs, NewSession, SessionRecord, StoredUser, UserChanges } from './repository.ts';

/** The auth module's migrations, in order. Version 1 is the schema of release 0.1.0. */
export const AUTH_MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
CREATE TABLE IF NOT EXISTS auth_users (
  username TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'manager', 'admin')),
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_sessions (
  id_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES auth_users(username) ON DELETE CASCADE,
  created_at INTEGER NOT NULL, -- epoch ms
  expires_at INTEGER NOT NULL, -- epoch ms
  ip TEXT
);
CREATE INDEX IF NOT EXISTS auth_sessions_username ON auth_sessions(username);
CREATE INDEX IF NOT EXISTS auth_sessions_expires ON auth_sessions(expires_at);
CREATE TABLE IF NOT EXISTS auth_tokens (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'manager', 'admin')),
  token_hash TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT
);
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  ip TEXT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log(action, id);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log(actor, id);
`,
  },
  {
    // Tokens may have the `feed` role (warning feeds, docs/api.md, warnings and storm mode). SQLite cannot change a
    // CHECK constraint in place, so the table is copied into one with the wider constraint.
    version: 2,
    sql: `
CREATE TABLE auth_tokens_v2 ${TABLE_BODIES.tokens};
INSERT INTO auth_tokens_v2 (name, role, token_hash, created_by, created_at, last_used_at)
  SELECT name, role, token_hash, created_by, created_at, last_used_at FROM auth_tokens;
DROP TABLE auth_tokens;
ALTER TABLE auth_tokens_v2 RENAME TO auth_tokens;
`,
  },
  {
    // Disabled accounts and "choose your own password"; wall-screen links; sliding sessions (last use),
    // owned by a user or by a wall-screen link. Sessions made before keep their absolute end.
    version: 3,
    sql: `
ALTER TABLE auth_users ADD COLUMN disabled_at TEXT;
ALTER TABLE auth_users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
CREATE TABLE auth_kiosks ${TABLE_BODIES.kiosks};
CREATE TABLE auth_sessions_v3 (
  id_hash TEXT PRIMARY KEY,
  username TEXT REFERENCES auth_users(username) ON DELETE CASCADE,
  kiosk TEXT REFERENCES auth_kiosks(name) ON DELETE CASCADE,
  created_at INTEGER NOT NULL, -- epoch ms
  last_seen_at INTEGER NOT NULL, -- epoch ms
  expires_at INTEGER NOT NULL, -- epoch ms, the absolute end
  ip TEXT,
  CHECK ((username IS NULL) <> (kiosk IS NULL))
);
INSERT INTO auth_sessions_v3 (id_hash, username, kiosk, created_at, last_seen_at, expires_at, ip)
  SELECT id_hash, username, NULL, created_at, created_at, expires_at, ip FROM auth_sessions;
DROP TABLE auth_sessions;
ALTER TABLE auth_sessions_v3 RENAME TO auth_sessions;
CREATE INDEX auth_sessions_username ON auth_sessions(username);
CREATE INDEX auth_sessions_kiosk ON auth_sessions(kiosk);
CREATE INDEX auth_sessions_expires ON auth_sessions(expires_at);
CREATE INDEX audit_log_target ON audit_log(target, id);
`,
  },
];

const AUTH_STEPS: Record<number, string> = {
  1: 'users, sessions, API tokens and the audit log',
  2: 'tokens may have the feed role',
  3: 'disabled accounts, must-change passwords, wall-screen links, sliding sessions',
};

/** The auth module's migrations for the one migration runner (db/migrations.ts). */
export const AUTH_SCHEMA: ModuleSchema = {
  module: 'auth',
  migrations: AUTH_MIGRATIONS.map((m) => ({ version: m.version, description: AUTH_STEPS[m.version] ?? `auth schema ${m.version}`, up: m.sql })),
};

/** A person's session is valid while used within its idle limit (an admin's is shorter); a wall screen's has none. */
const LIVE_SESSION = `s.expires_at > @now AND (s.kiosk IS NOT NULL OR (s.last_seen_at > @before AND (u.role <> 'admin' OR s.last_seen_at > @adminBefore)))`;

export class SqliteAuthRepository implements AuthRepository {
  constructor(private readonly db: Db) {}

  async init(): Promise<void> {
    migrateDatabase(this.db, [AUTH_SCHEMA]);
  }

  // --- users

  async countUsers(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM auth_users').get() as { n: number }).n;
  }
  async findUser(username: string): Promise<StoredUser | undefined> {
    const r = this.db.prepare('SELECT * FROM auth_users WHERE username = ?').get(username) as UserRow | undefined;
    return r ? storedUser(r) : undefined;
  }
  async listUsers(): Promise<UserView[]> {
    return (this.db.prepare('SELECT * FROM auth_users ORDER BY username').all() as UserRow[]).map(userView);
  }
  async insertUser(u: { username: string; role: UserRole; passwordHash: string; mustChangePassword: boolean; at: string }): Promise<boolean> {
    const r = this.db
      .prepare('INSERT INTO auth_users (username, role, password_hash, created_at, updated_at, must_change_password) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(username) DO NOTHING')
      .run(u.username, u.role, u.passwordHash, u.at, u.at, u.mustChangePassword ? 1 : 0);
    return r.changes === 1;
  }

  /** Would the change take away the last enabled admin? Runs inside the caller's transaction. */
  private leavesNoAdmin(user: UserRow, changes: UserChanges | 'delete'): boolean {
    if (!removesAnAdmin(user, changes)) return false;
    return (this.db.prepare("SELECT COUNT(*) AS n FROM auth_users WHERE role = 'admin' AND disabled_at IS NULL").get() as { n: number }).n <= 1;
  }

  async updateUser(username: string, changes: UserChanges, at: string): Promise<GuardedChange> {
    return this.db.transaction((): GuardedChange => {
      const user = this.db.prepare('SELECT * FROM auth_users WHERE username = ?').get(username) as UserRow | undefined;
      if (!user) return 'not_found';
      if (this.leavesNoAdmin(user, changes)) return 'last_admin';
      const update = userUpdate(username, changes, at);
      if (update) this.db.prepare(update.sql).run(...update.args);
      return 'ok';
    })();
  }

  async deleteUser(username: string): Promise<GuardedChange> {
    return this.db.transaction((): GuardedChange => {
      const user = this.db.prepare('SELECT * FROM auth_users WHERE username = ?').get(username) as UserRow | undefined;
      if (!user) return 'not_found';
      if (this.leavesNoAdmin(user, 'delete')) return 'last_admin';
      // Sessions go with the account (ON DELETE CASCADE).
      this.db.prepare('DELETE FROM auth_users WHERE username = ?').run(username);
      return 'ok';
    })();
  }

  // --- sessions

  async insertSession(s: NewSession): Promise<void> {
    const username = 'username' in s.owner ? s.owner.username : null;
    const kiosk = 'kiosk' in s.owner ? s.owner.kiosk : null;
    this.db
      .prepare('INSERT INTO auth_sessions (id_hash, username, kiosk, created_at, last_seen_at, expires_at, ip) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(s.idHash, username, kiosk, s.createdAt, s.createdAt, s.expiresAt, s.ip);
  }
  async findSession(idHash: string, now: number): Promise<SessionRecord | undefined> {
    const r = this.db.prepare(`${SESSION_SELECT} WHERE s.id_hash = ? AND s.expires_at > ?`).get(idHash, now) as SessionRow | undefined;
    return r ? sessionRecord(r) : undefined;
  }
  async touchSession(idHash: string, lastSeenAt: number): Promise<void> {
    this.db.prepare('UPDATE auth_sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?').run(lastSeenAt, idHash, lastSeenAt);
  }
  async deleteSession(idHash: string): Promise<void> {
    this.db.prepare('DELETE FROM auth_sessions WHERE id_hash = ?').run(idHash);
  }
  async deleteSessionsOf(username: string, exceptIdHash?: string): Promise<number> {
    return this.db.prepare('DELETE FROM auth_sessions WHERE username = ? AND id_hash IS NOT ?').run(username, exceptIdHash ?? null).changes;
  }
  async deleteExpiredSessions(now: number, idle: IdleCutoffs): Promise<number> {
    return this.db
      .prepare(`DELETE FROM auth_sessions WHERE id_hash IN (SELECT s.id_hash FROM auth_sessions s LEFT JOIN auth_users u ON u.username = s.username WHERE NOT (${LIVE_SESSION}))`)
      .run({ now, before: idle.before, adminBefore: idle.adminBefore }).changes;
  }
  async pruneExpiredSessions(nowMs: number, limit: number): Promise<number> {
    return this.db.prepare('DELETE FROM auth_sessions WHERE id_hash IN (SELECT id_hash FROM auth_sessions WHERE expires_at <= ? LIMIT ?)').run(nowMs, limit).changes;
  }
  /** Ids grow with time, so the oldest entries go first. */
  async pruneAuditBefore(cutoffMs: number, limit: number): Promise<number> {
    const cutoff = new Date(cutoffMs).toISOString();
    return this.db.prepare('DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY id LIMIT ?)').run(cutoff, limit).changes;
  }
  async sessionCounts(now: number, idle: IdleCutoffs): Promise<Map<string, number>> {
    const rows = this.db
      .prepare(`SELECT s.username AS username, COUNT(*) AS n FROM auth_sessions s JOIN auth_users u ON u.username = s.username WHERE ${LIVE_SESSION} GROUP BY s.username`)
      .all({ now, before: idle.before, adminBefore: idle.adminBefore }) as { username: string; n: number }[];
    return new Map(rows.map((r) => [r.username, r.n]));
  }

  // --- tokens

  async insertToken(t: { name: string; role: Role; tokenHash: string; createdBy: string; at: string }): Promise<boolean> {
    const r = this.db
      .prepare('INSERT INTO auth_tokens (name, role, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING')
      .run(t.name, t.role, t.tokenHash, t.createdBy, t.at);
    return r.changes === 1;
  }
  async findToken(tokenHash: string): Promise<TokenView | undefined> {
    const row = this.db.prepare('SELECT name, role, created_by, created_at, last_used_at FROM auth_tokens WHERE token_hash = ?').get(tokenHash) as TokenRow | undefined;
    return row ? tokenView(row) : undefined;
  }
  async touchToken(name: string, at: string): Promise<void> {
    this.db.prepare('UPDATE auth_tokens SET last_used_at = ? WHERE name = ?').run(at, name);
  }
  async listTokens(): Promise<TokenView[]> {
    return (this.db.prepare('SELECT name, role, created_by, created_at, last_used_at FROM auth_tokens ORDER BY name').all() as TokenRow[]).map(tokenView);
  }
  async deleteToken(name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM auth_tokens WHERE name = ?').run(name).changes === 1;
  }

  // --- wall-screen links

  async insertKiosk(k: { name: string; start: KioskStart; tokenHash: string; createdBy: string; at: string }): Promise<boolean> {
    const r = this.db
      .prepare('INSERT INTO auth_kiosks (name, start_page, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING')
      .run(k.name, k.start, k.tokenHash, k.createdBy, k.at);
    return r.changes === 1;
  }
  async findKiosk(tokenHash: string): Promise<Omit<KioskView, 'sessions'> | undefined> {
    const row = this.db.prepare('SELECT name, start_page, created_by, created_at, last_used_at FROM auth_kiosks WHERE token_hash = ?').get(tokenHash) as KioskRow | undefined;
    return row ? kioskView(row) : undefined;
  }
  async touchKiosk(name: string, at: string): Promise<void> {
    this.db.prepare('UPDATE auth_kiosks SET last_used_at = ? WHERE name = ?').run(at, name);
  }
  async listKiosks(now: number): Promise<KioskView[]> {
    const rows = this.db
      .prepare('SELECT k.name, k.start_page, k.created_by, k.created_at, k.last_used_at, (SELECT COUNT(*) FROM auth_sessions s WHERE s.kiosk = k.name AND s.expires_at > ?) AS sessions FROM auth_kiosks k ORDER BY k.name')
      .all(now) as (KioskRow & { sessions: number })[];
    return rows.map((r) => ({ ...kioskView(r), sessions: r.sessions }));
  }
  async deleteKiosk(name: string): Promise<boolean> {
    // Its wall screens' sessions go with it (ON DELETE CASCADE).
    return this.db.prepare('DELETE FROM auth_kiosks WHERE name = ?').run(name).changes === 1;
  }

  // --- audit

  async appendAudit(e: { at: string; actor: string; action: string; target?: string | undefined; ip?: string | undefined; detail?: object | undefined }): Promise<void> {
    this.db
      .prepare('INSERT INTO audit_log (at, actor, action, target, ip, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.at, e.actor, e.action, e.target ?? null, e.ip ?? null, e.detail === undefined ? null : JSON.stringify(e.detail));
  }
  async listAudit(q: AuditFilter): Promise<AuditEntry[]> {
    const { sql, args } = auditQuery(q);
    return (this.db.prepare(sql).all(...args) as AuditRow[]).map(auditEntry);
  }
}
