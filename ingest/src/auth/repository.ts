/**
 * SQLite tables of the auth module: users, sessions, API tokens and the audit log. Session ids and
 * tokens are stored as SHA-256 hashes only: both are 256-bit random values, so a fast hash is enough
 * (no dictionary to attack), and a copy of the database lets nobody log in.
 */
import type { Db } from '../store/db.ts';
import { migrateDatabase, type ModuleSchema } from '../db/migrations.ts';
import type { Role } from '../contract/api.ts';
import type { AuditEntry, TokenView, UserView } from './types.ts';

const SCHEMA_V1 = `
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
`;

/**
 * Version 2: tokens may have the `feed` role (warning feeds, CONTRACT.md section 8). SQLite cannot
 * change a CHECK constraint in place, so the table is copied into one with the wider constraint.
 */
const SCHEMA_V2 = `
CREATE TABLE auth_tokens_v2 (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('feed', 'viewer', 'responder', 'manager', 'admin')),
  token_hash TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT
);
INSERT INTO auth_tokens_v2 (name, role, token_hash, created_by, created_at, last_used_at)
  SELECT name, role, token_hash, created_by, created_at, last_used_at FROM auth_tokens;
DROP TABLE auth_tokens;
ALTER TABLE auth_tokens_v2 RENAME TO auth_tokens;
`;

/** The auth module's migrations (db/migrations.ts). */
export const AUTH_SCHEMA: ModuleSchema = {
  module: 'auth',
  migrations: [
    { version: 1, description: 'users, sessions, API tokens and the audit log', up: SCHEMA_V1 },
    { version: 2, description: 'tokens may have the feed role', up: SCHEMA_V2 },
  ],
};

interface UserRow {
  username: string;
  role: Role;
  password_hash: string;
  created_at: string;
  updated_at: string;
}
interface TokenRow {
  name: string;
  role: Role;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
}
interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  detail: string | null;
}

const userView = (r: UserRow): UserView => ({ username: r.username, role: r.role, createdAt: r.created_at, updatedAt: r.updated_at });
const tokenView = (r: TokenRow): TokenView => ({ name: r.name, role: r.role, createdBy: r.created_by, createdAt: r.created_at, lastUsedAt: r.last_used_at });

export class AuthRepository {
  constructor(private readonly db: Db) {}

  migrate(): void {
    migrateDatabase(this.db, [AUTH_SCHEMA]);
  }

  // --- users

  countUsers(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM auth_users').get() as { n: number }).n;
  }
  countAdmins(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM auth_users WHERE role = 'admin'").get() as { n: number }).n;
  }
  findUser(username: string): (UserView & { passwordHash: string }) | undefined {
    const row = this.db.prepare('SELECT * FROM auth_users WHERE username = ?').get(username) as UserRow | undefined;
    return row ? { ...userView(row), passwordHash: row.password_hash } : undefined;
  }
  listUsers(): UserView[] {
    return (this.db.prepare('SELECT * FROM auth_users ORDER BY username').all() as UserRow[]).map(userView);
  }
  /** false when the username is taken */
  insertUser(username: string, role: Role, passwordHash: string, at: string): boolean {
    const r = this.db
      .prepare('INSERT INTO auth_users (username, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(username) DO NOTHING')
      .run(username, role, passwordHash, at, at);
    return r.changes === 1;
  }
  updateUser(username: string, changes: { role?: Role; passwordHash?: string }, at: string): void {
    if (changes.role !== undefined) this.db.prepare('UPDATE auth_users SET role = ?, updated_at = ? WHERE username = ?').run(changes.role, at, username);
    if (changes.passwordHash !== undefined) this.db.prepare('UPDATE auth_users SET password_hash = ?, updated_at = ? WHERE username = ?').run(changes.passwordHash, at, username);
  }
  deleteUser(username: string): boolean {
    return this.db.prepare('DELETE FROM auth_users WHERE username = ?').run(username).changes === 1;
  }
  /** Runs fn in one transaction (better-sqlite3 transactions are synchronous). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // --- sessions

  insertSession(idHash: string, username: string, createdAt: number, expiresAt: number, ip: string): void {
    this.db.prepare('INSERT INTO auth_sessions (id_hash, username, created_at, expires_at, ip) VALUES (?, ?, ?, ?, ?)').run(idHash, username, createdAt, expiresAt, ip);
  }
  /** The session's user with the role as it is now (a demotion takes effect on the next request). */
  findSession(idHash: string, now: number): { username: string; role: Role; expiresAt: number } | undefined {
    const row = this.db
      .prepare('SELECT s.username AS username, u.role AS role, s.expires_at AS expiresAt FROM auth_sessions s JOIN auth_users u ON u.username = s.username WHERE s.id_hash = ? AND s.expires_at > ?')
      .get(idHash, now) as { username: string; role: Role; expiresAt: number } | undefined;
    return row;
  }
  deleteSession(idHash: string): void {
    this.db.prepare('DELETE FROM auth_sessions WHERE id_hash = ?').run(idHash);
  }
  deleteSessionsOf(username: string, exceptIdHash?: string): number {
    return this.db.prepare('DELETE FROM auth_sessions WHERE username = ? AND id_hash IS NOT ?').run(username, exceptIdHash ?? null).changes;
  }
  /** Retention: at most `limit` sessions that expired before `nowMs`. */
  async pruneExpiredSessions(nowMs: number, limit: number): Promise<number> {
    return this.db.prepare('DELETE FROM auth_sessions WHERE id_hash IN (SELECT id_hash FROM auth_sessions WHERE expires_at <= ? LIMIT ?)').run(nowMs, limit).changes;
  }
  /** Retention: at most `limit` audit entries older than `cutoffMs`, oldest first (ids grow with time). */
  async pruneAuditBefore(cutoffMs: number, limit: number): Promise<number> {
    const cutoff = new Date(cutoffMs).toISOString();
    return this.db.prepare('DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY id LIMIT ?)').run(cutoff, limit).changes;
  }
  deleteExpiredSessions(now: number): number {
    return this.db.prepare('DELETE FROM auth_sessions WHERE expires_at <= ?').run(now).changes;
  }

  // --- tokens

  insertToken(name: string, role: Role, tokenHash: string, createdBy: string, at: string): boolean {
    const r = this.db
      .prepare('INSERT INTO auth_tokens (name, role, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING')
      .run(name, role, tokenHash, createdBy, at);
    return r.changes === 1;
  }
  findToken(tokenHash: string): TokenView | undefined {
    const row = this.db.prepare('SELECT name, role, created_by, created_at, last_used_at FROM auth_tokens WHERE token_hash = ?').get(tokenHash) as TokenRow | undefined;
    return row ? tokenView(row) : undefined;
  }
  touchToken(name: string, at: string): void {
    this.db.prepare('UPDATE auth_tokens SET last_used_at = ? WHERE name = ?').run(at, name);
  }
  listTokens(): TokenView[] {
    return (this.db.prepare('SELECT name, role, created_by, created_at, last_used_at FROM auth_tokens ORDER BY name').all() as TokenRow[]).map(tokenView);
  }
  deleteToken(name: string): boolean {
    return this.db.prepare('DELETE FROM auth_tokens WHERE name = ?').run(name).changes === 1;
  }

  // --- audit

  appendAudit(e: { at: string; actor: string; action: string; target?: string | undefined; ip?: string | undefined; detail?: object | undefined }): void {
    this.db
      .prepare('INSERT INTO audit_log (at, actor, action, target, ip, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.at, e.actor, e.action, e.target ?? null, e.ip ?? null, e.detail === undefined ? null : JSON.stringify(e.detail));
  }
  listAudit(q: { limit: number; before?: number | undefined; actor?: string | undefined; action?: string | undefined }): AuditEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.before !== undefined) {
      where.push('id < ?');
      args.push(q.before);
    }
    if (q.actor !== undefined) {
      where.push('actor = ?');
      args.push(q.actor);
    }
    if (q.action !== undefined) {
      where.push('action = ?');
      args.push(q.action);
    }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit) as AuditRow[];
    return rows.map((r) => ({ ...r, detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>) }));
  }
}
