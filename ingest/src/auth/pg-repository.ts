/**
 * The auth module's tables on PostgreSQL (PARKOPS_DATABASE_URL): the twin of sqlite-repository.ts,
 * passing the same behaviour suite with the same row mappings (rows.ts). Every process of the system
 * signs people in, so accounts, sessions, tokens, wall-screen links and the audit log are shared, and
 * none of these writes is fenced: an admin may work on a standby.
 *
 * The last-admin guard locks the enabled admins' rows (FOR UPDATE) before it counts them, so two
 * admins demoting each other on two processes at once cannot leave the system without one.
 */
import type { Role, UserRole } from '@parkops/contract/api.ts';
import type { AuditEntry, KioskStart, KioskView, TokenView, UserView } from '@parkops/contract/auth.ts';
import { numbered, type PgClient, type PgDatabase, type PgModuleSchema } from '../db/pg.ts';
import type { AuditFilter, AuthRepository, GuardedChange, IdleCutoffs, NewSession, SessionRecord, StoredUser, UserChanges } from './repository.ts';
import { auditEntry, auditQuery, kioskView, removesAnAdmin, TABLE_BODIES, userUpdate, SESSION_SELECT, sessionRecord, storedUser, tokenView, userView, type AuditRow, type KioskRow, type SessionRow, type TokenRow, type UserRow } from './rows.ts';

/** The SQLite list's versions 1-3 end in these tables; PostgreSQL starts at that point. */
export const PG_AUTH_SCHEMA: PgModuleSchema = {
  module: 'auth',
  migrations: [
    {
      version: 3,
      description: 'users, sessions, API tokens, wall-screen links and the audit log',
      up: `
CREATE TABLE IF NOT EXISTS auth_users (
  username TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'manager', 'admin')),
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  disabled_at TEXT,
  must_change_password INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS auth_tokens ${TABLE_BODIES.tokens};
CREATE TABLE IF NOT EXISTS auth_kiosks ${TABLE_BODIES.kiosks};
CREATE TABLE IF NOT EXISTS auth_sessions (
  id_hash TEXT PRIMARY KEY,
  username TEXT REFERENCES auth_users(username) ON DELETE CASCADE,
  kiosk TEXT REFERENCES auth_kiosks(name) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  ip TEXT,
  CHECK ((username IS NULL) <> (kiosk IS NULL))
);
CREATE INDEX IF NOT EXISTS auth_sessions_username ON auth_sessions(username);
CREATE INDEX IF NOT EXISTS auth_sessions_kiosk ON auth_sessions(kiosk);
CREATE INDEX IF NOT EXISTS auth_sessions_expires ON auth_sessions(expires_at);
CREATE TABLE IF NOT EXISTS audit_log (id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT, ip TEXT, detail TEXT);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log(action, id);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log(actor, id);
CREATE INDEX IF NOT EXISTS audit_log_target ON audit_log(target, id);`,
    },
  ],
};

/** A person's session is valid while used within its idle limit (an admin's is shorter); a wall screen's has none. $1 now, $2 before, $3 adminBefore. */
const LIVE_SESSION = `s.expires_at > $1 AND (s.kiosk IS NOT NULL OR (s.last_seen_at > $2 AND (u.role <> 'admin' OR s.last_seen_at > $3)))`;
const UNFENCED = { fenced: false };

export class PgAuthRepository implements AuthRepository {
  constructor(private readonly db: PgDatabase) {}

  /** The schema is migrated with every PostgreSQL module's at start (controller). */
  async init(): Promise<void> {}

  private async rows<R extends object>(sql: string, args: unknown[] = []): Promise<R[]> {
    return (await this.db.query(sql, args)).rows as R[];
  }
  private async changes(sql: string, args: unknown[]): Promise<number> {
    return (await this.db.query(sql, args)).rowCount ?? 0;
  }

  // --- users

  async countUsers(): Promise<number> {
    return (await this.rows<{ n: number }>('SELECT COUNT(*)::int AS n FROM auth_users'))[0]!.n;
  }
  async findUser(username: string): Promise<StoredUser | undefined> {
    const r = (await this.rows<UserRow>('SELECT * FROM auth_users WHERE username = $1', [username]))[0];
    return r ? storedUser(r) : undefined;
  }
  async listUsers(): Promise<UserView[]> {
    return (await this.rows<UserRow>('SELECT * FROM auth_users ORDER BY username COLLATE "C"')).map(userView);
  }
  async insertUser(u: { username: string; role: UserRole; passwordHash: string; mustChangePassword: boolean; at: string }): Promise<boolean> {
    const sql = 'INSERT INTO auth_users (username, role, password_hash, created_at, updated_at, must_change_password) VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (username) DO NOTHING';
    return (await this.changes(sql, [u.username, u.role, u.passwordHash, u.at, u.mustChangePassword ? 1 : 0])) === 1;
  }

  /** Would the change take away the last enabled admin? Counts the admins the caller locked. */
  private async leavesNoAdmin(c: PgClient, user: UserRow, changes: UserChanges | 'delete'): Promise<boolean> {
    if (!removesAnAdmin(user, changes)) return false;
    return ((await c.query<{ n: number }>("SELECT COUNT(*)::int AS n FROM auth_users WHERE role = 'admin' AND disabled_at IS NULL")).rows[0]?.n ?? 0) <= 1;
  }

  /** The user's row, locked, with the admins' guard checked first (the same lock order everywhere). */
  private async lockedUser(c: PgClient, username: string, changes: UserChanges | 'delete'): Promise<UserRow | GuardedChange> {
    await c.query("SELECT 1 FROM auth_users WHERE role = 'admin' AND disabled_at IS NULL FOR UPDATE");
    const user = (await c.query<UserRow>('SELECT * FROM auth_users WHERE username = $1 FOR UPDATE', [username])).rows[0];
    if (!user) return 'not_found';
    return (await this.leavesNoAdmin(c, user, changes)) ? 'last_admin' : user;
  }

  async updateUser(username: string, changes: UserChanges, at: string): Promise<GuardedChange> {
    return this.db.transaction(
      `user ${username}`,
      async (c): Promise<GuardedChange> => {
        const user = await this.lockedUser(c, username, changes);
        if (typeof user === 'string') return user;
        const update = userUpdate(username, changes, at);
        if (update) await c.query(numbered(update.sql), update.args);
        return 'ok';
      },
      UNFENCED,
    );
  }

  async deleteUser(username: string): Promise<GuardedChange> {
    return this.db.transaction(
      `user ${username}`,
      async (c): Promise<GuardedChange> => {
        const user = await this.lockedUser(c, username, 'delete');
        if (typeof user === 'string') return user;
        // Sessions go with the account (ON DELETE CASCADE).
        await c.query('DELETE FROM auth_users WHERE username = $1', [username]);
        return 'ok';
      },
      UNFENCED,
    );
  }

  // --- sessions

  async insertSession(s: NewSession): Promise<void> {
    const username = 'username' in s.owner ? s.owner.username : null;
    const kiosk = 'kiosk' in s.owner ? s.owner.kiosk : null;
    await this.db.query('INSERT INTO auth_sessions (id_hash, username, kiosk, created_at, last_seen_at, expires_at, ip) VALUES ($1, $2, $3, $4, $4, $5, $6)', [s.idHash, username, kiosk, s.createdAt, s.expiresAt, s.ip]);
  }
  async findSession(idHash: string, now: number): Promise<SessionRecord | undefined> {
    const r = (await this.rows<SessionRow>(`${SESSION_SELECT} WHERE s.id_hash = $1 AND s.expires_at > $2`, [idHash, now]))[0];
    return r ? sessionRecord(r) : undefined;
  }
  async touchSession(idHash: string, lastSeenAt: number): Promise<void> {
    await this.db.query('UPDATE auth_sessions SET last_seen_at = $1 WHERE id_hash = $2 AND last_seen_at < $1', [lastSeenAt, idHash]);
  }
  async deleteSession(idHash: string): Promise<void> {
    await this.db.query('DELETE FROM auth_sessions WHERE id_hash = $1', [idHash]);
  }
  async deleteSessionsOf(username: string, exceptIdHash?: string): Promise<number> {
    return this.changes('DELETE FROM auth_sessions WHERE username = $1 AND id_hash IS DISTINCT FROM $2', [username, exceptIdHash ?? null]);
  }
  async deleteExpiredSessions(now: number, idle: IdleCutoffs): Promise<number> {
    return this.changes(`DELETE FROM auth_sessions WHERE id_hash IN (SELECT s.id_hash FROM auth_sessions s LEFT JOIN auth_users u ON u.username = s.username WHERE NOT (${LIVE_SESSION}))`, [
      now,
      idle.before,
      idle.adminBefore,
    ]);
  }
  async pruneExpiredSessions(nowMs: number, limit: number): Promise<number> {
    return this.changes('DELETE FROM auth_sessions WHERE id_hash IN (SELECT id_hash FROM auth_sessions WHERE expires_at <= $1 LIMIT $2)', [nowMs, limit]);
  }
  /** Ids grow with time, so the oldest entries go first. */
  async pruneAuditBefore(cutoffMs: number, limit: number): Promise<number> {
    return this.changes('DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY id LIMIT $2)', [new Date(cutoffMs).toISOString(), limit]);
  }
  async sessionCounts(now: number, idle: IdleCutoffs): Promise<Map<string, number>> {
    const rows = await this.rows<{ username: string; n: number }>(
      `SELECT s.username AS username, COUNT(*)::int AS n FROM auth_sessions s JOIN auth_users u ON u.username = s.username WHERE ${LIVE_SESSION} GROUP BY s.username`,
      [now, idle.before, idle.adminBefore],
    );
    return new Map(rows.map((r) => [r.username, r.n]));
  }

  // --- tokens

  async insertToken(t: { name: string; role: Role; tokenHash: string; createdBy: string; at: string }): Promise<boolean> {
    return (await this.changes('INSERT INTO auth_tokens (name, role, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING', [t.name, t.role, t.tokenHash, t.createdBy, t.at])) === 1;
  }
  async findToken(tokenHash: string): Promise<TokenView | undefined> {
    const row = (await this.rows<TokenRow>('SELECT name, role, created_by, created_at, last_used_at FROM auth_tokens WHERE token_hash = $1', [tokenHash]))[0];
    return row ? tokenView(row) : undefined;
  }
  async touchToken(name: string, at: string): Promise<void> {
    await this.db.query('UPDATE auth_tokens SET last_used_at = $1 WHERE name = $2', [at, name]);
  }
  async listTokens(): Promise<TokenView[]> {
    return (await this.rows<TokenRow>('SELECT name, role, created_by, created_at, last_used_at FROM auth_tokens ORDER BY name COLLATE "C"')).map(tokenView);
  }
  async deleteToken(name: string): Promise<boolean> {
    return (await this.changes('DELETE FROM auth_tokens WHERE name = $1', [name])) === 1;
  }

  // --- wall-screen links

  async insertKiosk(k: { name: string; start: KioskStart; tokenHash: string; createdBy: string; at: string }): Promise<boolean> {
    return (await this.changes('INSERT INTO auth_kiosks (name, start_page, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING', [k.name, k.start, k.tokenHash, k.createdBy, k.at])) === 1;
  }
  async findKiosk(tokenHash: string): Promise<Omit<KioskView, 'sessions'> | undefined> {
    const row = (await this.rows<KioskRow>('SELECT name, start_page, created_by, created_at, last_used_at FROM auth_kiosks WHERE token_hash = $1', [tokenHash]))[0];
    return row ? kioskView(row) : undefined;
  }
  async touchKiosk(name: string, at: string): Promise<void> {
    await this.db.query('UPDATE auth_kiosks SET last_used_at = $1 WHERE name = $2', [at, name]);
  }
  async listKiosks(now: number): Promise<KioskView[]> {
    const rows = await this.rows<KioskRow & { sessions: number }>(
      'SELECT k.name, k.start_page, k.created_by, k.created_at, k.last_used_at, (SELECT COUNT(*)::int FROM auth_sessions s WHERE s.kiosk = k.name AND s.expires_at > $1) AS sessions FROM auth_kiosks k ORDER BY k.name COLLATE "C"',
      [now],
    );
    return rows.map((r) => ({ ...kioskView(r), sessions: r.sessions }));
  }
  async deleteKiosk(name: string): Promise<boolean> {
    // Its wall screens' sessions go with it (ON DELETE CASCADE).
    return (await this.changes('DELETE FROM auth_kiosks WHERE name = $1', [name])) === 1;
  }

  // --- audit

  async appendAudit(e: { at: string; actor: string; action: string; target?: string | undefined; ip?: string | undefined; detail?: object | undefined }): Promise<void> {
    await this.db.query('INSERT INTO audit_log (at, actor, action, target, ip, detail) VALUES ($1, $2, $3, $4, $5, $6)', [e.at, e.actor, e.action, e.target ?? null, e.ip ?? null, e.detail === undefined ? null : JSON.stringify(e.detail)]);
  }
  async listAudit(q: AuditFilter): Promise<AuditEntry[]> {
    const { sql, args } = auditQuery(q);
    return (await this.rows<AuditRow>(numbered(sql), args)).map(auditEntry);
  }
}
