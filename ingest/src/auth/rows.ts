/**
 * The auth tables' rows as both engines return them, and the views and records made of them (one
 * mapping for SQLite and PostgreSQL). Booleans are stored as 0/1 in both.
 */
import type { Role, UserRole } from '@parkops/contract/api.ts';
import type { AuditEntry, KioskStart, TokenView, UserView } from '@parkops/contract/auth.ts';
import type { SessionRecord, StoredUser, UserChanges } from './repository.ts';

/** Table bodies that read the same on both engines (SQLite's migrations 2 and 3 create them; PostgreSQL at once). */
export const TABLE_BODIES = {
  tokens: `(
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('feed', 'viewer', 'responder', 'manager', 'admin')),
  token_hash TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT
)`,
  kiosks: `(
  name TEXT PRIMARY KEY,
  start_page TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT
)`,
};

export interface UserRow {
  username: string;
  role: UserRole;
  password_hash: string;
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
  must_change_password: number;
}
export interface TokenRow {
  name: string;
  role: Role;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
}
export interface KioskRow {
  name: string;
  start_page: KioskStart;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
}
export interface SessionRow {
  id_hash: string;
  username: string | null;
  kiosk: string | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  role: UserRole | null;
  disabled_at: string | null;
  must_change_password: number | null;
}
export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  detail: string | null;
}

export const userView = (r: UserRow): UserView => ({
  username: r.username,
  role: r.role,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  ...(r.disabled_at !== null ? { disabledAt: r.disabled_at } : {}),
  ...(r.must_change_password ? { mustChangePassword: true } : {}),
});
export const tokenView = (r: TokenRow): TokenView => ({ name: r.name, role: r.role, createdBy: r.created_by, createdAt: r.created_at, lastUsedAt: r.last_used_at });
export const kioskView = (r: KioskRow) => ({ name: r.name, start: r.start_page, createdBy: r.created_by, createdAt: r.created_at, lastUsedAt: r.last_used_at });


export const storedUser = (r: UserRow): StoredUser => ({ username: r.username, role: r.role, passwordHash: r.password_hash, createdAt: r.created_at, updatedAt: r.updated_at, disabledAt: r.disabled_at, mustChangePassword: r.must_change_password === 1 });

/** A session row joined with its user: the session as a request sees it, or undefined for one whose owner is gone. */
export function sessionRecord(r: SessionRow): SessionRecord | undefined {
  if (r.kiosk !== null) {
    return { idHash: r.id_hash, username: `kiosk:${r.kiosk}`, role: 'viewer', kiosk: r.kiosk, disabled: false, mustChangePassword: false, createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at };
  }
  if (r.username === null || r.role === null) return undefined;
  return {
    idHash: r.id_hash,
    username: r.username,
    role: r.role,
    kiosk: null,
    disabled: r.disabled_at !== null,
    mustChangePassword: r.must_change_password === 1,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
  };
}

export const auditEntry = (r: AuditRow): AuditEntry => ({ ...r, detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>) });

/** The session columns a request needs, with its user's (a LEFT JOIN: wall screens have none). */
export const SESSION_SELECT = `SELECT s.id_hash, s.username, s.kiosk, s.created_at, s.last_seen_at, s.expires_at, u.role, u.disabled_at, u.must_change_password
  FROM auth_sessions s LEFT JOIN auth_users u ON u.username = s.username`;

/**
 * The audit filter as SQL conditions with `?` placeholders (newest first, paged by id).
 */
export function auditQuery(q: { limit: number; before?: number | undefined; actor?: string | undefined; action?: string | undefined; target?: string | undefined; from?: string | undefined; to?: string | undefined }): { sql: string; args: (string | number)[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  const add = (sql: string, ...values: (string | number)[]) => {
    where.push(sql);
    args.push(...values);
  };
  if (q.before !== undefined) add('id < ?', q.before);
  if (q.actor !== undefined) add('actor = ?', q.actor);
  if (q.action !== undefined) {
    if (q.action.includes('.')) add('action = ?', q.action);
    else add("(action = ? OR action LIKE ? ESCAPE '\\')", q.action, `${escapeLike(q.action)}.%`);
  }
  if (q.target !== undefined) add('target = ?', q.target);
  if (q.from !== undefined) add('at >= ?', q.from);
  if (q.to !== undefined) add('at <= ?', q.to);
  return { sql: `SELECT id, at, actor, action, target, ip, detail FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`, args: [...args, q.limit] };
}
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The UPDATE of a user's changes with `?` placeholders, or null when nothing changes. */
export function userUpdate(username: string, changes: UserChanges, at: string): { sql: string; args: (string | number | null)[] } | null {
  const cols: Array<[string, string | number | null]> = [];
  if (changes.role !== undefined) cols.push(['role', changes.role]);
  if (changes.passwordHash !== undefined) cols.push(['password_hash', changes.passwordHash]);
  if (changes.mustChangePassword !== undefined) cols.push(['must_change_password', changes.mustChangePassword ? 1 : 0]);
  if (changes.disabledAt !== undefined) cols.push(['disabled_at', changes.disabledAt]);
  if (cols.length === 0) return null;
  const set = cols.map(([c]) => `${c} = ?`).join(', ');
  return { sql: `UPDATE auth_users SET ${set}, updated_at = ? WHERE username = ?`, args: [...cols.map(([, v]) => v), at, username] };
}

/** Does the change take an enabled admin away (so that the guard must count the others)? */
export function removesAnAdmin(user: UserRow, changes: { role?: UserRole | undefined; disabledAt?: string | null | undefined } | 'delete'): boolean {
  if (user.role !== 'admin' || user.disabled_at !== null) return false;
  return changes === 'delete' || (changes.role !== undefined && changes.role !== 'admin') || (changes.disabledAt !== undefined && changes.disabledAt !== null);
}
